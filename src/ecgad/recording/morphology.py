"""The template part: distances of each beat to the patient's dominant beat."""
from __future__ import annotations

import numpy as np

from ..data.beats import beat_windows, znormalise
from .settings import Settings


def _trimmed_median(z: np.ndarray, rounds: int = 2) -> np.ndarray:
    """The dominant beat: median of all, then of the half nearest to it (``rounds`` times)."""
    t = np.median(z, axis=0)
    for _ in range(rounds):
        d = ((z - t) ** 2).mean(axis=1)
        t = np.median(z[d <= np.quantile(d, 0.5)], axis=0)
    return t


def beat_shapes(x: np.ndarray, fs: float, peaks: np.ndarray, settings: Settings = Settings()
                ) -> tuple[np.ndarray, np.ndarray]:
    """z-normalised windows (``template_pre_s`` before to ``template_post_s`` after each R peak,
    ``template_length`` samples) of the beats with a usable one, and their indices into ``peaks``."""
    span = settings.template_pre_s + settings.template_post_s
    length = settings.template_length
    w, kept = beat_windows(x, peaks, fs, length, span_s=span, r_index=settings.template_pre_s / span * length)
    usable = np.ptp(w, axis=1) > 1e-6 if len(w) else np.zeros(0, bool)
    return znormalise(w[usable].astype(np.float64)), kept[usable]


def morphology_features(x: np.ndarray, fs: float, peaks: np.ndarray, settings: Settings = Settings(),
                        shapes: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """``template`` and ``qrs`` distances of each beat to the dominant beat of ``peaks``.

    ``x`` is band-passed signal, ``peaks`` R-peak indices into it (one dominant beat is
    made from all of them); ``shapes`` is ``beat_shapes(x, fs, peaks, settings)`` when
    already computed. NaN for a beat whose window runs off ``x`` or is flat."""
    out = {name: np.full(peaks.size, np.nan) for name in ("template", "qrs", "qrs_width")}
    z, kept = shapes if shapes is not None else beat_shapes(x, fs, peaks, settings)
    if kept.size == 0:
        return out
    t = _trimmed_median(z)
    d = np.sqrt(((z - t) ** 2).mean(axis=1))
    out["template"][kept] = np.log(np.maximum(d, 1e-6))
    dominant = kept[d <= np.quantile(d, 0.5)]

    shift = int(round(settings.qrs_shift_s * fs))
    core = int(round((settings.qrs_pre_s + settings.qrs_post_s) * fs))
    n = core + 2 * shift
    q, qk = beat_windows(x, peaks, fs, n, span_s=n / fs, r_index=settings.qrs_pre_s * fs + shift)
    dominant_q = np.isin(qk, dominant)
    if qk.size == 0 or not dominant_q.any():
        return out
    q = q.astype(np.float64)
    q -= np.median(q, axis=1, keepdims=True)
    tq = np.median(q[dominant_q, shift:shift + core], axis=0)
    best = np.full(qk.size, np.inf)
    for o in range(0, 2 * shift + 1, max(1, shift // 5)):
        best = np.minimum(best, ((q[:, o:o + core] - tq) ** 2).mean(axis=1))
    out["qrs"][qk] = np.log(np.maximum(np.sqrt(best) / max(float(np.ptp(tq)), 1e-6), 1e-6))

    n = 2 * int(round(settings.width_half_s * fs))
    w, wk = beat_windows(x, peaks, fs, n, span_s=n / fs, r_index=n / 2)
    slope = np.abs(np.diff(w.astype(np.float64), axis=1))
    width = (slope > settings.width_level * slope.max(axis=1, keepdims=True)).sum(axis=1) / fs
    dominant_w = np.isin(wk, dominant)
    if dominant_w.any():
        out["qrs_width"][wk] = np.maximum(np.log(np.maximum(width, 1 / fs) / np.median(width[dominant_w])), 0.0)
    return out
