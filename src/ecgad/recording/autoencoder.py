"""The autoencoder part: reconstruction error and latent distance to the median code."""
from __future__ import annotations

import numpy as np

from ..detector import LOG_FLOOR, Detector

MIN_DISTANCE = 1e-6  # floor of the latent distance before its log: the median beat itself stays finite


def autoencoder_features(detector: Detector, z: np.ndarray, batch: int = 512) -> dict[str, np.ndarray]:
    """``autoencoder`` (log reconstruction error) and ``latent`` (log distance of the latent code
    to the median code of all of ``z``, the dominant beat in the autoencoder's own terms) of
    z-normalised beats ``z`` (``(n, length)``) of the detector's length; each ``(n,)``.

    ``Detector.embed`` runs the beats ``batch`` at a time, the last batch padded: one input
    shape only, so the kernels torch caches per shape do not pile up over a long recording.
    Recording models have one member, whose code is the one used."""
    if len(z) == 0:
        return {"autoencoder": np.zeros(0), "latent": np.zeros(0)}
    embedding = detector.embed(z, batch=batch)
    code = embedding.codes[0].astype(np.float64)
    distance = np.sqrt(((code - np.median(code, axis=0)) ** 2).sum(axis=1))
    return {"autoencoder": np.log(np.maximum(embedding.errors, LOG_FLOOR)),
            "latent": np.log(np.maximum(distance, MIN_DISTANCE))}
