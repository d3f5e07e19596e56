"""The rhythm part: how premature a beat comes and the pause after it, from R-peak times."""
from __future__ import annotations

import numpy as np
from scipy.ndimage import median_filter

from ..data.beats import rr_intervals


def _rolling_median(v: np.ndarray, k: int) -> np.ndarray:
    if v.size == 0:
        return v.copy()
    pad = np.pad(v, (k, k), mode="reflect") if v.size > k else np.pad(v, (k, k), mode="edge")
    return median_filter(pad, size=2 * k + 1, mode="nearest")[k:k + v.size]


def rhythm_features(peaks: np.ndarray, fs: float, context: int = 16) -> dict[str, np.ndarray]:
    """``premature``, ``premature_local`` and ``pause`` of each beat, from its R-peak indices.

    The first beat borrows its next RR as previous RR and the last its previous as
    next (neither is premature nor followed by a pause)."""
    previous, following = rr_intervals(peaks, fs)
    if peaks.size < 2:
        zero = np.zeros(peaks.size)
        return {"premature": zero, "premature_local": zero.copy(), "pause": zero.copy()}
    previous[0] = previous[1]
    following[-1] = following[-2]
    local = _rolling_median(previous, context)
    ratio = np.log(previous / local)
    spread = 1.4826 * _rolling_median(np.abs(ratio), context) + 0.02
    return {"premature": -ratio, "premature_local": -ratio / spread, "pause": np.log(following / previous)}
