"""The latent neighbour search of the beat Detector, in numpy (no torch: the onnx backend uses it too)."""
from __future__ import annotations

import numpy as np


def with_norms(refs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(members, m, latent)`` reference codes in float64 and their squared norms ``(members, m)``."""
    refs = np.ascontiguousarray(refs, dtype=np.float64)
    return refs, np.einsum("kmc,kmc->km", refs, refs)


def nearest(queries: np.ndarray, refs: np.ndarray, ref_norms: np.ndarray, k: int) -> np.ndarray:
    """Per member, the ``k`` smallest Euclidean distances of each query, ascending: queries
    ``(members, q, c)``, refs ``(members, m, c)`` with squared norms ``(members, m)`` ->
    ``(members, q, k)``; by ``|a|^2 + |b|^2 - 2 a.b``, as torch's cdist computes it for many refs."""
    squared = np.matmul(queries, refs.transpose(0, 2, 1))
    squared *= -2.0
    squared += np.einsum("kqc,kqc->kq", queries, queries)[:, :, None]
    squared += ref_norms[:, None, :]
    if k < squared.shape[2]:
        squared = np.partition(squared, k - 1, axis=2)[:, :, :k]
    squared.sort(axis=2)
    return np.sqrt(np.maximum(squared, 0.0, out=squared), out=squared)
