"""The combination of the features into one score, its threshold and its calibration."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .. import calibration
from ..thresholds import choose_threshold
from .settings import DEFAULT_FEATURES, FEATURE_PARTS


def _fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3) -> tuple[np.ndarray, float]:
    """Class-balanced logistic regression with non-negative weights (L-BFGS-B).

    Fitted on standardised features; returns weights and bias on the raw features."""
    from scipy.optimize import minimize

    y = np.asarray(y, dtype=bool)
    mu, sd = x.mean(axis=0), x.std(axis=0)
    sd = np.where(sd > 1e-9, sd, 1.0)
    z = (x - mu) / sd
    weight = np.where(y, 0.5 / y.mean(), 0.5 / (1 - y.mean())) / len(y)
    p = x.shape[1]

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:p], theta[p]
        s = z @ w + b
        value = (weight * np.where(y, np.logaddexp(0, -s), np.logaddexp(0, s))).sum() + l2 * (w @ w)
        g = weight * (1 / (1 + np.exp(-s)) - y)
        return float(value), np.concatenate([z.T @ g + 2 * l2 * w, [g.sum()]])

    result = minimize(loss, np.zeros(p + 1), jac=True, method="L-BFGS-B", bounds=[(0, None)] * p + [(None, None)])
    w = result.x[:p] / sd
    return w, float(result.x[p] - (mu * w).sum())


@dataclass
class Combination:
    """``score = weights . features + bias``; threshold and calibration from training records."""

    features: tuple[str, ...]
    weights: np.ndarray
    bias: float
    normal_median: np.ndarray      # per feature, over training normal beats (stands in for missing values)
    threshold: float
    sigma: float                   # robust spread of the training normal beats' scores

    @classmethod
    def fit(cls, features: dict[str, np.ndarray], is_anomaly: np.ndarray,
            names: Sequence[str] = DEFAULT_FEATURES) -> Combination:
        names = tuple(names)
        y = np.asarray(is_anomaly, dtype=bool)
        if y.all() or not y.any():
            raise ValueError("fitting a combination needs both normal and abnormal beats")
        x = np.stack([np.asarray(features[n], dtype=np.float64) for n in names], axis=1)
        median = np.array([np.nanmedian(col[~y]) for col in x.T])
        x = np.where(np.isnan(x), median, x)
        w, b = _fit_logistic(x, y)
        scores = (x * w).sum(axis=1) + b  # as score() computes them
        normal = scores[~y]
        sigma = calibration.MAD_TO_SD * float(np.median(np.abs(normal - np.median(normal))))
        return cls(names, w, b, median, choose_threshold(scores, y), sigma if sigma > 1e-9 else 1.0)

    def _matrix(self, features: dict[str, np.ndarray]) -> np.ndarray:
        x = np.stack([np.asarray(features[n], dtype=np.float64) for n in self.features], axis=1)
        return np.where(np.isnan(x), self.normal_median, x)

    def score(self, features: dict[str, np.ndarray]) -> np.ndarray:
        # row by row (not a matrix product, whose rounding can depend on the number of rows):
        # a beat scores the same in a stream as in the whole recording
        return (self._matrix(features) * self.weights).sum(axis=1) + self.bias

    def parts(self, features: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        contrib = (self._matrix(features) - self.normal_median) * self.weights
        out = {}
        for j, name in enumerate(self.features):
            part = FEATURE_PARTS[name]
            out[part] = out.get(part, 0.0) + contrib[:, j]
        return out

    def confidence(self, scores: np.ndarray) -> np.ndarray:
        return calibration.confidence((np.asarray(scores, dtype=np.float64) - self.threshold) / self.sigma)

    def as_dict(self) -> dict:
        return {"features": list(self.features), "weights": [float(v) for v in self.weights], "bias": self.bias,
                "normal_median": [float(v) for v in self.normal_median], "threshold": self.threshold,
                "calibration": {"sigma": self.sigma}}

    @classmethod
    def from_dict(cls, d: dict) -> Combination:
        names = tuple(d["features"])
        unknown = [n for n in names if n not in FEATURE_PARTS]
        if unknown:
            raise ValueError(f"unknown features {unknown}")
        w, m = np.asarray(d["weights"], dtype=np.float64), np.asarray(d["normal_median"], dtype=np.float64)
        if w.shape != (len(names),) or m.shape != (len(names),):
            raise ValueError("weights and medians must have one value per feature")
        return cls(names, w, float(d["bias"]), m, float(d["threshold"]), float(d["calibration"]["sigma"]))
