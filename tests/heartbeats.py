"""Synthetic heartbeats and recordings for tests: a clean P-QRS-T shape made of Gaussian bumps.

``heartbeats``: single beats. Normal beats jitter the waves' positions and heights a little and
add noise. Abnormal beats have a widened QRS complex and an inverted T wave (as in a bundle
branch block with secondary repolarisation changes).

``synthetic_ecg`` (from ``ecgad.data.synthetic``): a continuous signal, one beat per letter: N normal,
A premature, W wide, V premature and wide (imported by tests/test_recording.py and the web and browser tests).
"""
from __future__ import annotations

import numpy as np

from ecgad.data.synthetic import synthetic_ecg  # noqa: F401 (the tests import it from here)

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


def labelled_file(path, normal: int, abnormal: int, *, seed: int = 0, length: int = 96,
                  labels: tuple[str, str] = ("N", "V"), sep: str = ",") -> None:
    """Write a labelled beat file as a user would: the label first (``labels`` = normal, abnormal
    names), then the beat's values; normal beats first."""
    rows = [(labels[0], b) for b in heartbeats(normal, seed=seed, length=length)]
    rows += [(labels[1], b) for b in heartbeats(abnormal, abnormal=True, seed=seed + 1, length=length)]
    with open(path, "w") as out:
        out.writelines(label + sep + sep.join(f"{x:.5f}" for x in beat) + "\n" for label, beat in rows)
