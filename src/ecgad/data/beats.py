"""Beats: the model-ready form of any heartbeat (fixed length, z-normalised)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MIN_BEAT_LENGTH = 16
BEAT_LENGTH = 140  # ECG5000's beat length; models default to it


def resample(beat: np.ndarray, length: int) -> np.ndarray:
    """Linear resampling: no ringing at the beat's edges, unlike an FFT resample."""
    if beat.shape[-1] == length:
        return beat
    old = np.linspace(0.0, 1.0, beat.shape[-1])
    new = np.linspace(0.0, 1.0, length)
    return np.interp(new, old, beat)


def znormalise(beats: np.ndarray) -> np.ndarray:
    mean = beats.mean(axis=-1, keepdims=True)
    std = beats.std(axis=-1, keepdims=True)
    return (beats - mean) / std


def prepare(beats: np.ndarray | Sequence, length: int = BEAT_LENGTH) -> np.ndarray:
    """Check, resample and z-normalise beats into a float32 ``(n, length)`` array.

    ``beats`` is one beat (1-D) or several: a 2-D array or a list of 1-D
    sequences of any lengths >= 16. A beat holding NaN or infinity, a constant
    beat or one shorter than 16 samples raises ``ValueError`` naming the beat.
    """
    if isinstance(beats, np.ndarray) and beats.ndim == 1:
        rows = [beats]
    elif isinstance(beats, np.ndarray) and beats.ndim == 2:
        rows = list(beats)
    elif isinstance(beats, np.ndarray):
        raise ValueError(f"beats must be a 1-D or 2-D array, got {beats.ndim} dimensions")
    else:
        rows = list(beats)
        if rows and np.ndim(rows[0]) == 0:  # a flat list of numbers is one beat
            rows = [rows]
    if not rows:
        raise ValueError("no beats given")
    out = np.empty((len(rows), length), dtype=np.float64)
    for i, row in enumerate(rows):
        try:
            beat = np.asarray(row, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"beat {i}: values must be numbers") from None
        if beat.ndim != 1:
            raise ValueError(f"beat {i}: must be a flat sequence of numbers")
        if beat.size < MIN_BEAT_LENGTH:
            raise ValueError(f"beat {i}: {beat.size} samples; a beat needs at least {MIN_BEAT_LENGTH}")
        if not np.all(np.isfinite(beat)):
            raise ValueError(f"beat {i}: contains NaN or infinite values")
        if np.ptp(beat) == 0 or beat.std() < 1e-12 * max(1.0, np.abs(beat).max()):
            raise ValueError(f"beat {i}: is constant (a flat line has no shape to score)")
        out[i] = resample(beat, length)
    return znormalise(out).astype(np.float32)
