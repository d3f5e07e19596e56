"""The rhythm part: how premature a beat comes and the pause after it, from R-peak times.

Causal: beat *i*'s values use the RR intervals of beats *i - context* to *i*, and the
next R peak for the pause, so a stream can give them one beat after the beat."""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..calibration import MAD_TO_SD
from ..data.order_stats import median

SPREAD_FLOOR = 0.02  # of the log RR ratio: a perfectly regular rhythm does not make every beat infinitely premature


def _median_before(v: np.ndarray, index: np.ndarray, k: int) -> np.ndarray:
    """``median(v[max(0, i - k):i])`` for each ``i`` in ``index`` (``v[0]`` itself for ``i = 0``)."""
    out = np.empty(index.size)
    full = index >= k
    if full.any():
        out[full] = median(sliding_window_view(v, k)[index[full] - k], axis=1)
    for j in np.flatnonzero(~full):
        i = int(index[j])
        out[j] = np.median(v[:i]) if i else v[0]
    return out


def rr_ratios(previous_rr: np.ndarray, context: int, index: np.ndarray | None = None) -> np.ndarray:
    """``log(RR_prev / RR_local)`` of the beats ``index`` (default: all), ``RR_local`` the median
    previous RR of the ``context`` beats before each; ``previous_rr`` (:func:`previous_rr`) in seconds."""
    index = np.arange(previous_rr.size) if index is None else np.asarray(index, dtype=np.int64)
    return np.log(previous_rr[index] / _median_before(previous_rr, index, context))


def rhythm_at(peaks: np.ndarray, fs: float, index: np.ndarray, ratios: np.ndarray, context: int = 16,
              ended: bool = True) -> dict[str, np.ndarray]:
    """``premature``, ``premature_local`` and ``pause`` of the beats ``index`` (each ``(len(index),)``).

    ``peaks`` are the R peaks so far (sample indices at ``fs`` Hz), ``ratios`` the
    :func:`rr_ratios` of at least the beats up to the last of ``index``. A beat needs the
    next peak for its pause, unless the signal has ``ended`` (the last beat: no pause)."""
    index = np.asarray(index, dtype=np.int64)
    n = peaks.size
    if n < 2:
        zero = np.zeros(index.size)
        return {"premature": zero, "premature_local": zero.copy(), "pause": zero.copy()}
    rr = np.diff(peaks) / float(fs)
    previous = np.where(index > 0, rr[np.maximum(index - 1, 0)], rr[0])
    last = index + 1 >= n
    if last.any() and not ended:
        raise ValueError("the pause of the last beat needs the next R peak")
    following = np.where(last, previous, rr[np.minimum(index, n - 2)])
    ratio = ratios[index]
    spread = MAD_TO_SD * _median_before(np.abs(ratios), index, context) + SPREAD_FLOOR
    spread[index == 0] = SPREAD_FLOOR
    return {"premature": -ratio, "premature_local": -ratio / spread, "pause": np.log(following / previous)}


def previous_rr(peaks: np.ndarray, fs: float) -> np.ndarray:
    """Each beat's previous RR interval in seconds, the first beat borrowing the second's."""
    rr = np.diff(np.asarray(peaks, dtype=np.float64)) / float(fs)
    return np.concatenate([rr[:1], rr]) if rr.size else np.ones(np.asarray(peaks).size)


def rhythm_features(peaks: np.ndarray, fs: float, context: int = 16) -> dict[str, np.ndarray]:
    """``premature``, ``premature_local`` and ``pause`` of every beat of a whole signal."""
    peaks = np.asarray(peaks, dtype=np.int64)
    ratios = rr_ratios(previous_rr(peaks, fs), context)
    return rhythm_at(peaks, fs, np.arange(peaks.size), ratios, context)
