"""The autoencoder part: each beat's reconstruction error, and its latent code's distance to
the median code of earlier beats (the dominant beat in the autoencoder's own terms)."""
from __future__ import annotations

import numpy as np

from ..calibration import floored_log
from ..data.order_stats import median
from ..detector import EMBED_BATCH, Detector
from .morphology import MIN_DISTANCE


def embed_beats(detector: Detector, z: np.ndarray, batch: int = EMBED_BATCH) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, errors)`` of z-normalised beats ``z`` ``(n, length)``: latent codes ``(n, c)`` and
    log reconstruction errors ``(n,)``; NaN for NaN rows (no usable window).

    ``Detector.embed`` runs the beats ``batch`` at a time, the last batch padded in torch: one
    input shape only, so the kernels torch caches per shape do not pile up over a long recording
    (onnxruntime needs no padding).
    Recording models have one member, whose code is the one used."""
    usable = ~np.isnan(z[:, 0]) if len(z) else np.zeros(0, bool)
    size = detector.spec.config.latent
    codes, errors = np.full((len(z), size), np.nan), np.full(len(z), np.nan)
    if usable.any():
        # a few beats (a stream) go through a small padded batch: a power of two, so few shapes
        embedding = detector.embed(z[usable], batch=min(batch, 1 << max(3, int(usable.sum() - 1).bit_length())))
        codes[usable] = embedding.codes[0]
        errors[usable] = floored_log(embedding.errors)
    return codes, errors


def median_code(codes: np.ndarray) -> np.ndarray | None:
    """The median latent code of the beats ``codes`` ``(n, c)`` with one (None if none has)."""
    codes = codes[~np.isnan(codes[:, 0])]
    return median(codes, axis=0) if len(codes) else None


def latent_distance(codes: np.ndarray, median: np.ndarray | None) -> np.ndarray:
    """``latent``: log distance of each code ``(n, c)`` to ``median`` ``(c,)``; ``(n,)``, NaN without one."""
    if median is None:
        return np.full(len(codes), np.nan)
    return np.log(np.maximum(np.sqrt(((codes - median) ** 2).sum(axis=1)), MIN_DISTANCE))
