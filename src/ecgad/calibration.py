"""How sure a verdict is: one formula for the beat detector and the recording detector.

Each detector turns a score into ``z``, its distance from the threshold in units of the spread
of its calibration scores; the confidence is then the same for both.
"""
from __future__ import annotations

import math

import numpy as np

MAD_TO_SD = 1.4826  # median absolute deviation -> standard deviation, for normally distributed values

LOG_FLOOR = 1e-12  # floor before a log: a zero error, distance or score stays finite


def floored_log(values):
    """``log`` of values floored at ``LOG_FLOOR``, arrays or floats alike."""
    return np.log(np.maximum(values, LOG_FLOOR))


def confidence(z) -> np.ndarray:
    """``|erf(z / sqrt(2))|`` in ``[0, 1]``, ``(n,)`` -> ``(n,)``: 0 at the threshold, near 1 far on
    either side (the share of a normal distribution within ``|z|`` of its centre). ``math.erf``
    element by element (about 0.1 s for a million): scipy.special's import alone costs more than
    scoring a beat."""
    z = np.asarray(z, dtype=np.float64)
    scaled = (z / math.sqrt(2)).ravel()
    return np.abs(np.fromiter(map(math.erf, scaled.tolist()), np.float64, len(scaled))).reshape(z.shape)
