"""Beats: the model-ready form of any heartbeat (fixed length, z-normalised)."""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

MIN_BEAT_LENGTH = 16
BEAT_LENGTH = 140  # ECG5000's beat length; models default to it
MAX_ABS_VALUE = 1e9  # larger samples are no ECG (mV, µV or ADC units alike) and overflow the normalisation


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
    sequences of any lengths >= 16. A beat holding NaN or infinity or values beyond
    ±``MAX_ABS_VALUE``, a constant beat or one shorter than 16 samples raises ``ValueError`` naming the beat
    (numbered from 1: ``beat 1:`` is the first).
    """
    if (isinstance(beats, np.ndarray) and beats.ndim in (1, 2) and beats.size and beats.dtype.kind in "fiu"
            and beats.shape[-1] >= MIN_BEAT_LENGTH):
        return _prepare_array(beats.reshape(-1, beats.shape[-1]), length)
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
        number = i + 1  # messages count beats from 1, as people (and the web pages) do
        try:
            beat = np.asarray(row, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"beat {number}: values must be numbers") from None
        if beat.ndim != 1:
            raise ValueError(f"beat {number}: must be a flat sequence of numbers")
        if beat.size < MIN_BEAT_LENGTH:
            raise ValueError(f"beat {number}: {beat.size} samples; a beat needs at least {MIN_BEAT_LENGTH}")
        if not np.all(np.isfinite(beat)):
            raise ValueError(f"beat {number}: contains NaN or infinite values")
        if np.abs(beat).max() > MAX_ABS_VALUE:
            raise ValueError(f"beat {number}: has values beyond ±{MAX_ABS_VALUE:.0e}, too large for a heartbeat")
        if np.ptp(beat) == 0 or beat.std() < 1e-12 * max(1.0, np.abs(beat).max()):
            raise ValueError(f"beat {number}: is constant (a flat line has no shape to score)")
        out[i] = resample(beat, length)
    return znormalise(out).astype(np.float32)


def _prepare_array(beats: np.ndarray, length: int) -> np.ndarray:
    """``prepare`` of a numeric ``(n, samples)`` array, the checks done on all rows at once: the same
    numbers and the same message for the first bad beat as the row-by-row path, without its loop."""
    beats = np.asarray(beats, dtype=np.float64)
    finite = np.isfinite(beats).all(axis=1)
    with np.errstate(all="ignore"):  # rows with NaN, infinity or huge values fail a check before these
        largest = np.abs(beats).max(axis=1)
        huge = largest > MAX_ABS_VALUE
        constant = (np.ptp(beats, axis=1) == 0) | (beats.std(axis=1) < 1e-12 * np.maximum(1.0, largest))
    bad = ~finite | huge | constant
    if bad.any():
        i = int(np.argmax(bad))
        if not finite[i]:
            raise ValueError(f"beat {i + 1}: contains NaN or infinite values")
        if huge[i]:
            raise ValueError(f"beat {i + 1}: has values beyond ±{MAX_ABS_VALUE:.0e}, too large for a heartbeat")
        raise ValueError(f"beat {i + 1}: is constant (a flat line has no shape to score)")
    if beats.shape[1] != length:
        beats = np.stack([resample(beat, length) for beat in beats])
    return znormalise(beats).astype(np.float32)


def prepare_one(beat: np.ndarray, length: int, out: np.ndarray) -> bool:
    """``prepare`` of one 1-D beat written into ``out`` (``(length,)`` float32), in fewer numpy calls
    (the single-beat path, ``ecgad.one_beat``): the same numbers. ``False``, and ``out`` left as it
    was, where a check fails: ``prepare`` then says which."""
    x = np.asarray(beat, dtype=np.float64)
    if x.ndim != 1 or x.shape[0] < MIN_BEAT_LENGTH:
        return False
    hi, lo = float(x.max()), float(x.min())  # NaN if any is
    largest = max(abs(hi), abs(lo))
    if not (math.isfinite(hi) and math.isfinite(lo)) or largest > MAX_ABS_VALUE or hi == lo:
        return False
    resampled = x.shape[0] != length
    if resampled:  # the constant check is on the beat as given
        if x.std() < 1e-12 * max(1.0, largest):
            return False
        x = resample(x, length)
    # mean and standard deviation as numpy's mean and std compute them (sum, then divide)
    deviation = x - x.sum() / length
    squares = deviation * deviation
    std = math.sqrt(squares.sum() / length)
    if not resampled and std < 1e-12 * max(1.0, largest):
        return False
    np.divide(deviation, std, out=out, casting="unsafe")
    return True


# ------------------------------------------------------------------ beats of a recording
#
# How ECG5000 beats are cut (measured on ../shared/data/ECG5000, all 5000 beats):
# ECG5000's beats come from BIDMC CHF record chf07 (250 Hz), cut from one R peak
# to the next and interpolated to 140 samples. Its lead shows the QRS inverted:
# the mean normal (class 1) beat has its deepest point, the R peak, at index 3
# (per beat: median 3, quartiles 3 and 4, 5-95% range 2 to 5), and the last
# samples already fall into the next beat's QRS (index 139 is back near the
# level of index 0). So a beat is one RR interval starting 3/140 of it before
# its R peak. The seconds it spans, from the QRS width: a normal QRS is 5.1
# samples wide at half depth in ECG5000 and about 23 ms in MIT-BIH normal beats
# (median over 14 DS1 records, MLII, 0.5-40 Hz), so an ECG5000 sample is about
# 4.5 ms and a beat about 0.6 s (chf07 near 95 bpm, plausible for heart
# failure; a wider chf07 QRS would mean a slower rate).
# MIT-BIH beats cut the same way (``beat_windows`` on the band-passed MLII of 11
# DS1 records) have their QRS at index 3, 3.1 to 5.9 samples wide at half height
# (median 4.2), and their mean beat correlates 0.55 to 0.74 with the *negated*
# ECG5000 normal mean (0.10 and 0.24 for 118 and 112, whose morphology
# differs): the same layout, opposite polarity. Windows keep the lead's
# polarity; z-normalisation keeps it too, so a model meant for both ECG5000
# and MLII recordings must see both (or the caller flips one).

R_INDEX = 3           # where ECG5000 puts the R peak in its 140 samples
MAX_SPAN_S = 2.0      # a window never spans more than this (a pause, a missed beat)


def beat_windows(samples: np.ndarray, peaks: np.ndarray, fs: float, length: int = BEAT_LENGTH, *,
                 span_s: float | None = None, r_index: float | None = None,
                 max_span_s: float = MAX_SPAN_S) -> tuple[np.ndarray, np.ndarray]:
    """Cut one window per R peak, aligned like ECG5000, resampled to ``length`` samples.

    Default (``span_s=None``), as ECG5000: a beat's window spans its RR interval
    to the next peak (at most ``max_span_s``), starting so that the R peak lands
    at index ``r_index`` (3 of 140: ``R_INDEX * length / 140`` when not given).
    With ``span_s`` every window spans that many seconds instead, the R peak at
    the same place. Values are linearly interpolated from ``samples``, which
    should already be band-passed (``ecgad.data.rpeaks.bandpass``); windows are
    not z-normalised (``prepare`` does that).

    Returns ``(windows, kept)``: a float32 ``(n, length)`` array and the int64
    indices into ``peaks`` of the beats kept. A peak is dropped when its window
    would run past either end of the signal, and, without ``span_s``, the last
    peak (it has no next one).
    """
    x = np.asarray(samples).reshape(-1)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    peaks = np.asarray(peaks, dtype=np.int64).reshape(-1)
    fs = float(fs)
    if length < MIN_BEAT_LENGTH:
        raise ValueError(f"length must be at least {MIN_BEAT_LENGTH}, got {length}")
    if not np.isfinite(fs) or fs <= 0:
        raise ValueError(f"fs must be a positive number, got {fs}")
    if peaks.size > 1 and np.any(np.diff(peaks) <= 0):
        raise ValueError("peaks must be strictly increasing sample indices")
    position = R_INDEX * length / BEAT_LENGTH if r_index is None else float(r_index)
    if not 0 <= position < length:
        raise ValueError(f"r_index must lie in [0, {length}), got {position}")
    if span_s is not None:
        if span_s <= 0:
            raise ValueError(f"span_s must be positive, got {span_s}")
        span = np.full(peaks.size, span_s * fs)
        index = np.arange(peaks.size)
    else:
        span = np.minimum(np.diff(peaks).astype(np.float64), max_span_s * fs)
        index = np.arange(peaks.size - 1) if peaks.size else np.arange(0)
    step = span / length                       # input samples per output sample
    start = peaks[index] - position * step
    end = start + (length - 1) * step          # the last grid point
    ok = (start >= 0) & (end <= x.size - 1)
    index, start, step = index[ok], start[ok], step[ok]
    grid = start[:, None] + step[:, None] * np.arange(length)[None, :]
    # linear interpolation by hand: np.interp would copy a long float32 signal to float64
    left = np.minimum(np.floor(grid).astype(np.int64), max(x.size - 2, 0))
    frac = grid - left
    right = np.minimum(left + 1, x.size - 1)
    windows = x[left] * (1.0 - frac) + x[right] * frac
    return windows.astype(np.float32), index.astype(np.int64)


def rr_intervals(peaks: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """(previous RR, next RR) of each peak in seconds; NaN where there is no neighbour."""
    peaks = np.asarray(peaks, dtype=np.float64).reshape(-1)
    rr = np.diff(peaks) / float(fs)
    previous = np.concatenate([[np.nan], rr]) if peaks.size else np.empty(0)
    following = np.concatenate([rr, [np.nan]]) if peaks.size else np.empty(0)
    return previous, following
