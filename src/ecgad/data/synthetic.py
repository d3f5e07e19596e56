"""Synthetic ECG made of Gaussian waves (P, Q, R, S, T): no patient's data, deterministic by seed.

``synthetic_ecg``: a short signal with one beat per letter, for tests.
``example_recording``: the live monitor's example, minutes long, with premature ventricular and
atrial beats, heart-rate variability, noise and baseline wander. It repeats seamlessly: every wave
and the wander wrap around its end, so sample ``i`` of an endless example is ``samples[i % n]``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _wave(t: np.ndarray, centre: float, height: float, width: float) -> np.ndarray:
    return height * np.exp(-0.5 * ((t - centre) / width) ** 2)


def synthetic_ecg(kinds: str, fs: float = 250.0, rr: float = 0.8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A signal with one beat per letter of ``kinds``: N normal, A premature with a normal
    shape (early, then a pause), W wide QRS and inverted T on time, V both. Returns
    (samples in mV, R-peak indices)."""
    rng = np.random.default_rng(seed)
    times, t = [], 1.0
    for i, k in enumerate(kinds):
        early = k in "AV"
        t += (0.6 * rr if early else rr) if i else 0.0
        if i and kinds[i - 1] in "AV":
            t += 0.4 * rr  # the compensatory pause after a premature beat
        times.append(t)
    x = np.arange(int((times[-1] + 1.5) * fs)) / fs
    y = rng.normal(0, 0.01, x.size)
    for k, r in zip(kinds, times, strict=True):
        wide = 3.0 if k in "WV" else 1.0
        y += _wave(x, r - 0.16, 0.12 if k not in "WV" else 0.0, 0.02)
        y += _wave(x, r - 0.025 * wide, -0.1, 0.008 * wide) + _wave(x, r, 1.0, 0.010 * wide)
        y += _wave(x, r + 0.03 * wide, -0.25, 0.010 * wide) + _wave(x, r + 0.25, -0.3 if k in "WV" else 0.3, 0.05)
    y += 0.05 * np.sin(2 * np.pi * 0.2 * x)  # baseline wander
    return y, np.round(np.asarray(times) * fs).astype(np.int64)


@dataclass(frozen=True)
class SyntheticRecording:
    """``samples`` (mV, float32) at ``fs`` Hz; each beat's R peak (``peaks``, sample indices) and kind
    (``kinds``: N normal, V premature ventricular, A premature atrial)."""

    samples: np.ndarray
    fs: float
    peaks: np.ndarray
    kinds: str

    @property
    def duration_s(self) -> float:
        return self.samples.size / self.fs


# Beat shapes, as (offset from the R peak in s, height in mV, width in s) per wave, Q R S then P and T.
_NORMAL = {"P": (-0.16, 0.12, 0.022), "Q": (-0.025, -0.10, 0.008), "R": (0.0, 1.0, 0.010),
           "S": (0.03, -0.25, 0.010), "T": (0.26, 0.30, 0.050)}
# A PVC: no P wave, a wide and tall QRS (about 140 ms), the T wave opposite to the QRS.
_PVC = {"Q": (-0.06, -0.15, 0.022), "R": (0.0, 1.35, 0.030), "S": (0.07, -0.45, 0.026),
        "T": (0.32, -0.40, 0.070)}
# A PAC: a normal QRS after a different, small and early P wave.
_PAC = {**_NORMAL, "P": (-0.12, -0.07, 0.018)}


def _beat_plan(n_beats: int, rng: np.random.Generator) -> str:
    """Beat kinds: normal, with a PVC every 8-20 beats and a PAC every 12-30; never two in a row,
    and the first 40 beats normal (a stream learns the patient's dominant beat from them)."""
    kinds = ["N"] * n_beats
    i = 40 + int(rng.integers(0, 8))
    while i < n_beats - 2:
        kinds[i] = "V"
        i += int(rng.integers(8, 21))
    i = 48 + int(rng.integers(0, 10))
    while i < n_beats - 2:
        if kinds[i - 1] == kinds[i] == kinds[i + 1] == "N":
            kinds[i] = "A"
        i += int(rng.integers(12, 31))
    return "".join(kinds)


def example_recording(duration_s: float = 180.0, fs: float = 360.0, seed: int = 0,
                      heart_rate_bpm: float = 72.0) -> SyntheticRecording:
    """About ``duration_s`` seconds of one lead at ``fs`` Hz that repeats seamlessly (see the module).

    Sinus rhythm at ``heart_rate_bpm`` with respiratory variation (±4 %) and a slow drift; a PVC comes
    at 55-65 % of the RR interval and is followed by a full compensatory pause (the two RR add up to
    two normal ones); a PAC at 62-72 %, followed by a normal interval (no compensatory pause). Noise:
    0.015 mV white plus 0.01 mV at 50 Hz; baseline wander of 0.08 mV (breathing, 0.25 Hz) and
    0.05 mV (slower)."""
    rng = np.random.default_rng(seed)
    rr0 = 60.0 / heart_rate_bpm
    n_beats = max(10, int(round(duration_s / rr0)))
    kinds = _beat_plan(n_beats, rng)
    times, t = [], 0.5
    drift = 0.0
    for k in kinds:
        drift = 0.9 * drift + rng.normal(0, 0.01)
        rr = rr0 * (1 + 0.04 * np.sin(2 * np.pi * 0.25 * t) + drift)
        if times and kinds[len(times) - 1] == "V":
            t += 2 * rr - (times[-1] - times[-2])  # compensatory pause: two RR from the beat before the PVC
        elif k == "V":
            t += rr * rng.uniform(0.55, 0.65) if times else 0.0
        elif k == "A":
            t += rr * rng.uniform(0.62, 0.72) if times else 0.0
        else:
            t += rr if times else 0.0
        times.append(t)
    length_s = times[-1] + rr0 - times[0]  # the interval across the wrap is a normal one
    n = int(round(length_s * fs))
    if float(fs).is_integer():  # whole periods of the 50-Hz hum too
        step = int(fs) // np.gcd(int(fs), 50)
        n = -(-n // step) * step
    length_s = n / fs
    x = np.arange(n) / fs
    y = rng.normal(0, 0.015, n)
    shapes = {"N": _NORMAL, "V": _PVC, "A": _PAC}
    for k, r in zip(kinds, times, strict=True):
        scale = rng.normal(1, 0.03)
        for offset, height, width in shapes[k].values():
            centre = r + offset
            d = (x - centre + length_s / 2) % length_s - length_s / 2  # around the wrap
            near = np.abs(d) < 6 * width
            y[near] += scale * _wave(d[near], 0.0, height, width)
    cycles = max(1, round(0.25 * length_s))  # whole cycles over the recording: it wraps smoothly
    y += 0.08 * np.sin(2 * np.pi * cycles / length_s * x) + 0.05 * np.sin(2 * np.pi * 2 / length_s * x + 1.0)
    y += 0.01 * np.sin(2 * np.pi * 50.0 * x)
    peaks = np.round(np.asarray(times) * fs).astype(np.int64)
    return SyntheticRecording(samples=y.astype(np.float32), fs=float(fs), peaks=peaks, kinds=kinds)
