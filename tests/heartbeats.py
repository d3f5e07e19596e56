"""Synthetic heartbeats for tests: a clean P-QRS-T shape made of Gaussian bumps.

Normal beats jitter the waves' positions and heights a little and add noise.
Abnormal beats have a widened QRS complex and an inverted T wave (as in a
bundle branch block with secondary repolarisation changes).
"""
from __future__ import annotations

import numpy as np

# (centre, height, width) as fractions of the beat, for P, Q, R, S, T.
WAVES = {"P": (0.20, 0.15, 0.025), "Q": (0.33, -0.12, 0.008), "R": (0.36, 1.0, 0.012),
         "S": (0.39, -0.25, 0.010), "T": (0.62, 0.30, 0.050)}


def heartbeats(n: int, *, abnormal: bool = False, length: int = 140, seed: int = 0) -> np.ndarray:
    """``(n, length)`` synthetic beats, in millivolt-like units (not normalised)."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, length)
    beats = np.zeros((n, length))
    for name, (centre, height, width) in WAVES.items():
        if abnormal and name in "QRS":
            width *= 3.5
        if abnormal and name == "T":
            height = -height
        c = centre + rng.normal(0, 0.008, (n, 1))
        h = height * rng.normal(1, 0.08, (n, 1))
        beats += h * np.exp(-0.5 * ((t - c) / width) ** 2)
    return beats + rng.normal(0, 0.02, beats.shape) + rng.normal(0, 0.05, (n, 1))
