"""Simple anomaly detectors to compare the autoencoders against.

All work on z-normalised beats (``ecgad.data.beats.prepare``), learn from normal
training beats only, and choose whatever they tune, and their threshold, on the
validation part: the test part is never looked at before scoring.
"""
from __future__ import annotations

import numpy as np
from sklearn.ensemble import IsolationForest as _SkIsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import NearestNeighbors

from ecgad.data.beats import prepare
from ecgad.detector import choose_threshold


class Baseline:
    """fit(train_normals, validation_values, validation_is_anomaly) / score(values), higher = more abnormal."""

    name = "baseline"

    def __init__(self) -> None:
        self.threshold: float | None = None

    def fit(self, train_normals: np.ndarray, validation_values: np.ndarray, validation_is_anomaly: np.ndarray,
            normal_share: float | None = None) -> Baseline:
        y = np.asarray(validation_is_anomaly, dtype=bool)
        validation = prepare(validation_values)
        self._fit(prepare(train_normals), validation, y)
        self.threshold = choose_threshold(self._score(validation), y, normal_share)
        return self

    def score(self, values: np.ndarray) -> np.ndarray:
        if self.threshold is None:
            raise RuntimeError(f"{self.name} is not fitted")
        return self._score(prepare(values))

    def _fit(self, normals: np.ndarray, validation: np.ndarray, validation_is_anomaly: np.ndarray) -> None:
        raise NotImplementedError

    def _score(self, beats: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class PCAReconstruction(Baseline):
    """Mean squared residual after projecting onto the first k principal components
    of the normal beats; k in 1..max_components, chosen by validation ROC AUC."""

    name = "PCA"

    def __init__(self, max_components: int = 20) -> None:
        super().__init__()
        self.max_components = max_components
        self.k: int | None = None

    def _residuals(self, beats: np.ndarray) -> np.ndarray:
        """(n, max_components): the score for every k, from one projection."""
        centred = beats.astype(np.float64) - self.mean
        total = (centred ** 2).sum(axis=1, keepdims=True)
        explained = np.cumsum((centred @ self.components.T) ** 2, axis=1)  # orthonormal rows
        return np.maximum(total - explained, 0.0) / beats.shape[1]

    def _fit(self, normals, validation, validation_is_anomaly):
        self.mean = normals.astype(np.float64).mean(axis=0)
        _, _, vt = np.linalg.svd(normals.astype(np.float64) - self.mean, full_matrices=False)
        self.components = vt[:min(self.max_components, len(vt))]
        per_k = self._residuals(validation)
        aucs = [roc_auc_score(validation_is_anomaly, per_k[:, j]) for j in range(per_k.shape[1])]
        self.k = int(np.argmax(aucs)) + 1

    def _score(self, beats):
        return self._residuals(beats)[:, self.k - 1]


class KNNDistance(Baseline):
    """Mean Euclidean distance to the k nearest normal training beats."""

    name = "5-NN"

    def __init__(self, k: int = 5) -> None:
        super().__init__()
        self.k = k
        self.name = f"{k}-NN"

    def _fit(self, normals, validation, validation_is_anomaly):
        self.index = NearestNeighbors(n_neighbors=self.k).fit(normals)

    def _score(self, beats):
        distances, _ = self.index.kneighbors(beats)
        return distances.mean(axis=1).astype(np.float64)


class IsolationForest(Baseline):
    """scikit-learn's isolation forest on normal beats; score = minus its normality score."""

    name = "Isolation Forest"

    def __init__(self, seed: int = 0, n_estimators: int = 200) -> None:
        super().__init__()
        self.forest = _SkIsolationForest(n_estimators=n_estimators, random_state=seed)

    def _fit(self, normals, validation, validation_is_anomaly):
        self.forest.fit(normals)

    def _score(self, beats):
        return -self.forest.score_samples(beats).astype(np.float64)
