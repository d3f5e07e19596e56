"""Every feature of every beat of one recording, computed chunk by chunk."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..data.beats import rr_intervals
from ..data.rpeaks import bandpass, detect_r_peaks_chunked
from ..detector import Detector
from .autoencoder import autoencoder_features
from .morphology import beat_shapes, morphology_features
from .rhythm import rhythm_features
from .settings import AUTOENCODER_FEATURES, Settings


def _chunks(peaks: np.ndarray, n_samples: int, fs: float, chunk_s: float) -> list[tuple[int, int]]:
    """``(first, end)`` beat index ranges of each chunk; a short last chunk joins the one before."""
    if peaks.size == 0:
        return []
    size = max(1, int(round(chunk_s * fs)))
    count = max(1, math.ceil(n_samples / size))
    if count > 1 and n_samples - (count - 1) * size < size / 2:
        count -= 1
    ids = np.minimum(peaks // size, count - 1)
    bounds = np.searchsorted(ids, np.arange(count + 1))
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]


def chunk_signals(samples: np.ndarray, fs: float, peaks: np.ndarray, settings: Settings,
                   progress: bool = False, desc: str = "scoring"):
    """``(first, end, lo, x)`` per chunk: its beats ``peaks[first:end]`` and the band-passed
    signal ``x`` from sample ``lo``, ``margin_s`` either side of the chunk's beats."""
    from tqdm.auto import tqdm

    margin = int(round(settings.margin_s * fs))
    chunks = _chunks(peaks, samples.size, fs, settings.chunk_s)
    for first, end in tqdm(chunks, desc=desc, unit="chunk", disable=not progress or len(chunks) < 2, leave=False):
        lo = max(0, int(peaks[first]) - margin)
        hi = min(samples.size, int(peaks[end - 1]) + margin)
        yield first, end, lo, bandpass(samples[lo:hi], fs)


@dataclass
class BeatTable:
    """The beats of one recording and their features (before combination)."""

    fs: float
    n_samples: int
    peaks: np.ndarray                      # R-peak sample indices, int64
    features: dict[str, np.ndarray]

    @property
    def rr_s(self) -> np.ndarray:
        return rr_intervals(self.peaks, self.fs)[0]


def beat_table(samples: np.ndarray, fs: float, beat_detector: Detector | None = None, *,
               settings: Settings = Settings(), peaks: np.ndarray | None = None,
               progress: bool = False, desc: str = "scoring") -> BeatTable:
    """Find the beats of one lead (``samples`` in mV at ``fs`` Hz) and compute their features.

    ``peaks`` skips R-peak detection. Without ``beat_detector`` there are no
    ``autoencoder`` and ``latent`` features."""
    samples = np.asarray(samples).reshape(-1)
    fs = float(fs)
    if peaks is None:
        peaks = detect_r_peaks_chunked(samples, fs, chunk_s=settings.peak_chunk_s)
    peaks = np.asarray(peaks, dtype=np.int64)
    features = rhythm_features(peaks, fs, settings.rr_context)
    names = ("template", "qrs", "qrs_width") + (AUTOENCODER_FEATURES if beat_detector is not None else ())
    features.update({name: np.full(peaks.size, np.nan) for name in names})
    if beat_detector is not None and beat_detector.length != settings.template_length:
        raise ValueError(f"the beat model reads {beat_detector.length} samples per beat, "
                         f"the settings cut {settings.template_length}")
    for first, end, lo, x in chunk_signals(samples, fs, peaks, settings, progress=progress, desc=desc):
        local = peaks[first:end] - lo
        z, kept = beat_shapes(x, fs, local, settings)
        for name, values in morphology_features(x, fs, local, settings, shapes=(z, kept)).items():
            features[name][first:end] = values
        if beat_detector is not None and kept.size:
            for name, values in autoencoder_features(beat_detector, z).items():
                features[name][first + kept] = values
    return BeatTable(fs=fs, n_samples=int(samples.size), peaks=peaks, features=features)
