"""Where a detector draws the line between normal and anomalous scores."""
from __future__ import annotations

import numpy as np

ACCURACY_TIE = 1e-12  # accuracies this close count as equally good cuts
EDGE_MARGIN = 1e-6  # a cut below the lowest or above the highest score lies this far out
NORMAL_QUANTILE = 0.99  # threshold from normal validation beats only: this quantile of their scores


def choose_threshold(scores: np.ndarray, is_anomaly: np.ndarray, normal_share: float | None = None) -> float:
    """The cut between sorted scores that maximises (class-weighted) accuracy, in the
    scores' units; ``scores`` and ``is_anomaly`` are ``(n,)`` each.

    ``normal_share`` re-weights the classes as if normals made up that share of
    the data (for validation sets whose mix differs from what is expected);
    ``None`` keeps plain accuracy. Among equally good cuts the middle one wins,
    and the cut lies midway between its two scores on a log scale where both are
    positive (reconstruction errors spread multiplicatively, as the calibration assumes).
    """
    scores = np.asarray(scores, dtype=np.float64)
    y = np.asarray(is_anomaly, dtype=bool)
    n_abn, n_norm = y.sum(), (~y).sum()
    if n_abn == 0 or n_norm == 0:
        raise ValueError("choosing a threshold needs both normal and abnormal beats")
    share = n_norm / len(y) if normal_share is None else normal_share
    w = np.where(y, (1 - share) / n_abn, share / n_norm)
    order = np.argsort(scores, kind="stable")
    s, yw, ys = scores[order], w[order], y[order]
    # Cut after position i: beats 0..i are called normal. Accuracy = normals below + abnormals above.
    normal_below = np.concatenate([[0.0], np.cumsum(np.where(ys, 0.0, yw))])
    abnormal_below = np.concatenate([[0.0], np.cumsum(np.where(ys, yw, 0.0))])
    accuracy = normal_below + (abnormal_below[-1] - abnormal_below)
    valid = np.concatenate([[True], s[1:] > s[:-1], [True]])  # only cut between distinct scores
    accuracy[~valid] = -np.inf
    best = np.flatnonzero(accuracy >= accuracy.max() - ACCURACY_TIE)
    cut = best[len(best) // 2]
    lo = s[cut - 1] if cut > 0 else s[0] - EDGE_MARGIN
    hi = s[cut] if cut < len(s) else s[-1] + EDGE_MARGIN
    return float(np.sqrt(lo * hi) if lo > 0 and hi > 0 else (lo + hi) / 2)
