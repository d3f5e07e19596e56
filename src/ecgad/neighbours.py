"""The latent neighbour search of the beat Detector, in numpy (no torch: the onnx backend uses it too).

``References`` holds a model's reference codes (the training normals', the data-fit check's) made
ready once; ``nearest`` gives each query's ``k`` smallest Euclidean distances, exact in float64.

Why it is fast: a full float64 search of the scored beats against 1751 training codes per member,
distances then a partition of every row, cost more than the network itself on a big batch (the
partition most). Here the distances are one float32 matrix product (codes augmented so that it
gives ``|r|^2 - 2 q.r`` directly); the references are cut into blocks, a block's minimum is an
elementwise minimum of contiguous slices, and only the ``k + 2`` blocks with the smallest minima
can hold a query's ``k`` nearest. Of their codes, the ``k + 2`` nearest by float32 get their
distances again in float64, by the full search's formula; where float32 rounding could have hidden
a nearer code (the check is a bound on that rounding), the query is searched again in full
float64. The result is the full search's to float64 rounding (near 1e-7 for a code equal to one
of the references, as in the full search and torch's cdist, whose formula it is).
"""
from __future__ import annotations

import numpy as np

MIN_BLOCKED = 64  # fewer reference codes than this: the full float64 search, the blocks save nothing
FEW_QUERIES = 16  # fewer queries than this: the full search too (a single beat: its few steps cost less)
F32_ERROR = 4e-6  # bound on float32's relative error in |r|^2 - 2 q.r, over |r|^2 + 2|q||r| (8 dims: ~5e-7)


def with_norms(refs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(members, m, latent)`` reference codes in float64 and their squared norms ``(members, m)``."""
    refs = np.ascontiguousarray(refs, dtype=np.float64)
    return refs, np.einsum("kmc,kmc->km", refs, refs)


def nearest_full(queries: np.ndarray, refs: np.ndarray, ref_norms: np.ndarray, k: int) -> np.ndarray:
    """Per member, the ``k`` smallest Euclidean distances of each query, ascending, in float64:
    queries ``(members, q, c)``, refs ``(members, m, c)`` with squared norms ``(members, m)`` ->
    ``(members, q, k)``; by ``|a|^2 + |b|^2 - 2 a.b``, as torch's cdist computes it for many refs."""
    squared = _squared_full(queries, refs, ref_norms, k)
    return np.sqrt(np.maximum(squared, 0.0, out=squared), out=squared)


def _squared_full(queries: np.ndarray, refs: np.ndarray, ref_norms: np.ndarray, k: int) -> np.ndarray:
    queries = np.asarray(queries, dtype=np.float64)
    squared = np.matmul(queries, refs.transpose(0, 2, 1))
    squared *= -2.0
    squared += np.einsum("kqc,kqc->kq", queries, queries)[:, :, None]
    squared += ref_norms[:, None, :]
    if k < squared.shape[2]:
        squared = np.partition(squared, k - 1, axis=2)[:, :, :k]
    squared.sort(axis=2)
    return squared


class References:
    """Reference codes ``(members, m, latent)`` made ready for ``nearest``: float64 and their
    squared norms (the full search), and the blocked float32 layout. Block ``b`` of ``nblocks``
    holds the codes ``b, b + nblocks, b + 2 nblocks, ...``, so the matrix product's columns
    reshaped ``(size, nblocks)`` give every block's minimum as a minimum over axis -2; the
    layout is padded to ``size * nblocks`` with codes at infinite distance."""

    def __init__(self, refs: np.ndarray, k_max: int = 8):
        self.refs64, self.norms = with_norms(refs)
        members, m, c = self.refs64.shape
        self.m, self.blocked = m, m >= MIN_BLOCKED
        if not self.blocked:
            return
        # blocks of about sqrt(m / (k + 2)) codes: the block minima (m of them read) and the
        # candidates' exact distances ((k + 2) * size) cost alike there
        self.size = max(4, int(round(np.sqrt(m / (k_max + 2)))))
        self.nblocks = -(-m // self.size)
        padded = self.size * self.nblocks
        order = np.arange(padded).reshape(self.nblocks, self.size).T.reshape(-1)  # column j*nblocks+b: code b*size+j
        real = order < m
        source = np.where(real, order, 0)
        self.codes64 = self.refs64[:, source]  # (members, padded, c): the candidates' codes, by column
        self.norms_by_column = np.where(real, self.norms[:, source], np.inf)  # (members, padded)
        augmented = np.empty((members, c + 1, padded), np.float32)
        augmented[:, :c] = -2.0 * self.codes64.transpose(0, 2, 1)
        augmented[:, c] = self.norms_by_column
        augmented[:, :c, ~real] = 0.0
        self.augmented = augmented
        self.max_norm = np.sqrt(self.norms.max(axis=1))  # (members,)

    def nearest(self, queries: np.ndarray, k: int) -> np.ndarray:
        """Per member, the ``k`` smallest Euclidean distances of each query, ascending: queries
        ``(members, q, c)`` -> ``(members, q, k)`` float64 (see the module docstring)."""
        if not self.blocked or k + 2 > self.nblocks or queries.shape[1] < FEW_QUERIES:
            return nearest_full(queries, self.refs64, self.norms, k)
        squared = self._squared(np.asarray(queries, dtype=np.float64), k)
        return np.sqrt(np.maximum(squared, 0.0, out=squared), out=squared)

    def _squared(self, q64: np.ndarray, k: int) -> np.ndarray:
        members, n, c = q64.shape
        keep = k + 2
        q32 = np.empty((members, n, c + 1), np.float32)
        q32[:, :, :c] = q64
        q32[:, :, c] = 1.0
        partial = np.matmul(q32, self.augmented)  # (members, n, padded): |r|^2 - 2 q.r
        minima = partial.reshape(members, n, self.size, self.nblocks).min(axis=2)
        blocks = np.argpartition(minima, keep - 1, axis=2)[:, :, :keep]
        # every code left out has |r|^2 - 2 q.r (float32) at least floor: in a block with a minimum at
        # least the keep-th smallest, or a candidate not among the keep smallest
        floor = np.take_along_axis(minima, blocks[:, :, keep - 1:], axis=2)[:, :, 0].astype(np.float64)
        columns = (blocks[:, :, None, :] + self.nblocks * np.arange(self.size)[None, None, :, None]).reshape(
            members, n, -1)
        # the keep nearest candidates by float32, then their exact distances in float64
        values = np.take_along_axis(partial, columns, axis=2)
        best = np.argpartition(values, keep - 1, axis=2)[:, :, :keep]
        floor = np.minimum(floor, np.take_along_axis(values, best[:, :, keep - 1:], axis=2)[:, :, 0])
        columns = np.take_along_axis(columns, best, axis=2)
        member = np.arange(members)[:, None, None]
        codes = self.codes64[member, columns]  # (members, n, keep, c)
        q_norms = np.einsum("knc,knc->kn", q64, q64)
        # the full search's formula, so that both give the same numbers (a code equal to the query's
        # comes out near 1e-7, not 0, as in torch's cdist)
        squared = np.einsum("kncd,knd->knc", codes, q64)
        squared *= -2.0
        squared += q_norms[:, :, None]
        squared += self.norms_by_column[member, columns]
        squared = np.partition(squared, k - 1, axis=2)[:, :, :k]
        squared.sort(axis=2)
        # exact unless a code left out could be nearer than the k-th found
        q_len = np.sqrt(q_norms)
        bound = F32_ERROR * (self.max_norm[:, None] ** 2 + 2.0 * q_len * self.max_norm[:, None]) + 1e-30
        unsure = ~(squared[:, :, k - 1] <= floor + q_norms - bound)
        if unsure.any():
            rows = np.flatnonzero(unsure.any(axis=0))
            squared[:, rows] = _squared_full(q64[:, rows], self.refs64, self.norms, k)
        return squared


def nearest(queries: np.ndarray, refs: np.ndarray, ref_norms: np.ndarray, k: int) -> np.ndarray:
    """``nearest_full`` (kept for callers holding plain arrays)."""
    return nearest_full(queries, refs, ref_norms, k)
