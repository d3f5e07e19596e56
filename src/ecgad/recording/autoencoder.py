"""The autoencoder part: reconstruction error and latent distance to the median code."""
from __future__ import annotations

import numpy as np

from ..detector import Detector


def autoencoder_features(detector: Detector, z: np.ndarray, batch: int = 512) -> dict[str, np.ndarray]:
    """``autoencoder`` (log reconstruction error) and ``latent`` (log distance of the latent code
    to the median code of all of ``z``, the dominant beat in the autoencoder's own terms) of
    z-normalised beats ``z`` of the detector's length.

    Beats go through the model ``batch`` at a time, the last batch padded: one input
    shape only, so the kernels torch caches per shape do not pile up over a long recording."""
    import torch

    detector._require_fitted()
    model = detector.model
    model.eval()
    members = getattr(model, "members", None)
    codes, errors = [], []
    with torch.inference_mode():
        for start in range(0, len(z), batch):
            part = detector._to_model(z[start:start + batch])
            n = len(part)
            if n < batch:
                part = np.concatenate([part, np.zeros((batch - n, part.shape[1]), part.dtype)])
            x = torch.from_numpy(np.ascontiguousarray(part, dtype=np.float32))
            code, _ = model.encode(x)
            recon = members[0].decoder(code) if members is not None and len(members) == 1 else model(x)
            codes.append(code[:n].numpy())
            errors.append(((recon - x) ** 2).mean(dim=1)[:n].numpy())
    if not codes:
        return {"autoencoder": np.zeros(0), "latent": np.zeros(0)}
    code = np.concatenate(codes).astype(np.float64)
    distance = np.sqrt(((code - np.median(code, axis=0)) ** 2).sum(axis=1))
    return {"autoencoder": np.log(np.maximum(np.concatenate(errors).astype(np.float64), 1e-12)),
            "latent": np.log(np.maximum(distance, 1e-6))}
