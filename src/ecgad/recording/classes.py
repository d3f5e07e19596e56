"""Beat classes (AAMI EC57: N, S, V, F, Q): what kind of beat each one is, with a confidence.

A small classifier on each beat's features: those of the anomaly score (template, QRS,
QRS width, prematurity, pause, the autoencoder's when the model has them) and the rhythm
context below. It runs in numpy only (the slim install has no torch, no scikit-learn):
standardised features through ``layers`` (dense, ReLU between them; none hidden is a
multinomial logistic regression), softmax over N, S, V, F. Q (unclassifiable) is given
by rule, to beats whose shape could not be measured (no usable window: the ``template``
feature missing), with confidence 0; DS1 has 5 Q beats, too few to learn.

Rhythm context (:func:`context_at`), causal as the rest (earlier beats and the next R peak
only, so a stream gives the whole signal's values): a cardiologist judges a beat early
against the underlying rhythm, not against the beat before it, and when premature beats
outnumber normal ones (bigeminy) the median RR is itself a premature one. The longer RR
intervals are the sinus ones or the pauses after ectopic beats, never the premature ones,
so the reference is the ``REFERENCE_QUANTILE`` of the previous RR of the ``CONTEXT_BEATS``
beats before (and including) this one:

``rr_prev``  log RR before the beat (s): the rate itself
``early_ref``  log(RR_prev / RR_ref): prematurity against the underlying rhythm
``next_ref``  log(RR_next / RR_ref): the pause after it, against the same rhythm
``accel``  log(RR_prev / RR_prevprev): a sudden shortening
``comp``  log((RR_prev + RR_next) / (2 RR_ref)): about 0 for a full compensatory pause (the
    ventricular kind), below 0 for a reset sinus node (the supraventricular kind)

Model file: the classifier's JSON (:meth:`BeatClassifier.as_dict`) sits in the recording
model's metadata, beside the combination (``ecgad-recording/3``; a /2 file, or a detector saved without a
classifier, has none, and its results carry no classes: ``result.classes`` is None).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .rhythm import previous_rr

#: every class, in output order; the classifier learns the first four
CLASSES = ("N", "S", "V", "F", "Q")
LEARNT = ("N", "S", "V", "F")
#: AAMI EC57 class of each MIT-BIH beat symbol
AAMI = {**{s: "N" for s in "NLRej"}, **{s: "S" for s in "AaJS"}, "V": "V", "E": "V", "F": "F",
        **{s: "Q" for s in "/fQ"}}

CONTEXT_FEATURES = ("rr_prev", "early_ref", "next_ref", "accel", "comp")
CONTEXT_BEATS = 64          # previous RRs that make the underlying rhythm
REFERENCE_QUANTILE = 0.75   # of those: the sinus or post-ectopic ones, never the premature ones


def aami_classes(symbols: np.ndarray) -> np.ndarray:
    """The AAMI class of each MIT-BIH beat symbol ('' for a symbol of no class, or none)."""
    return np.array([AAMI.get(str(s), "") for s in np.asarray(symbols).reshape(-1)], dtype="<U1")


def _quantile_before(v: np.ndarray, index: np.ndarray, k: int, q: float) -> np.ndarray:
    """``quantile(v[max(0, i - k + 1):i + 1], q)`` for each ``i`` in ``index``."""
    out = np.empty(index.size)
    full = index >= k - 1
    if full.any():
        out[full] = np.quantile(sliding_window_view(v, k)[index[full] - (k - 1)], q, axis=1)
    for j in np.flatnonzero(~full):
        out[j] = np.quantile(v[:int(index[j]) + 1], q)
    return out


def context_at(peaks: np.ndarray, fs: float, index: np.ndarray, ended: bool = True,
               first_beat: int = 0) -> dict[str, np.ndarray]:
    """The rhythm context (:data:`CONTEXT_FEATURES`) of the beats ``index`` of ``peaks``.

    ``peaks`` may be a slice of the signal's R peaks: its first is beat ``first_beat`` of the
    signal, and it must hold the ``CONTEXT_BEATS + 1`` peaks before each beat (or all there are)
    and the next one (unless the signal has ``ended``: the last beat has no next RR)."""
    peaks = np.asarray(peaks, dtype=np.int64)
    index = np.asarray(index, dtype=np.int64)
    n = peaks.size
    if n < 2:
        zero = np.zeros(index.size)
        return {name: zero.copy() for name in CONTEXT_FEATURES}
    rr = previous_rr(peaks, fs)   # the first peak of a slice gets the second's (only beat 0 reads it)
    if first_beat > 0:
        rr[0] = np.nan            # a slice: the RR before its first peak is unknown, and never read
    last = index + 1 >= n
    if last.any() and not ended:
        raise ValueError("the context of the last beat needs the next R peak")
    prev = rr[index]
    following = np.where(last, prev, rr[np.minimum(index + 1, n - 1)])
    before = np.where(index + first_beat > 0, rr[np.maximum(index - 1, 0)], prev)
    ref = _quantile_before(rr, index, CONTEXT_BEATS, REFERENCE_QUANTILE)
    return {"rr_prev": np.log(prev), "early_ref": np.log(prev / ref), "next_ref": np.log(following / ref),
            "accel": np.log(prev / before), "comp": np.log((prev + following) / (2 * ref))}


def context_features(peaks: np.ndarray, fs: float) -> dict[str, np.ndarray]:
    """The rhythm context of every beat of a whole signal."""
    peaks = np.asarray(peaks, dtype=np.int64)
    return context_at(peaks, fs, np.arange(peaks.size))


def context_window(first: int) -> int:
    """The first peak a slice must start at for :func:`context_at` of beats ``first`` on."""
    return max(0, first - CONTEXT_BEATS - 1)


def _rowwise(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``x @ w`` row by row: a beat's numbers do not depend on how many beats come with it (a
    matrix product's rounding can), so a stream classifies as the whole recording."""
    return (x[:, :, None] * w[None, :, :]).sum(axis=1)


@dataclass
class BeatClassifier:
    """Standardised features -> dense layers (ReLU between) -> softmax over ``LEARNT``."""

    features: tuple[str, ...]
    fill: np.ndarray                         # per feature: the training median, for a missing value
    mean: np.ndarray
    scale: np.ndarray
    layers: list[tuple[np.ndarray, np.ndarray]]  # (weights (in, out), bias (out,))
    info: dict

    def probabilities(self, features: dict[str, np.ndarray]) -> np.ndarray:
        """``(n, 4)``: the probability of N, S, V, F for each beat."""
        x = np.stack([np.asarray(features[f], dtype=np.float64) for f in self.features], axis=1)
        h = (np.where(np.isfinite(x), x, self.fill) - self.mean) / self.scale
        for i, (w, b) in enumerate(self.layers):
            h = _rowwise(h, w) + b
            if i < len(self.layers) - 1:
                h = np.maximum(h, 0.0)
        h = h - h.max(axis=1, keepdims=True)
        e = np.exp(h)
        return e / e.sum(axis=1, keepdims=True)

    def classify(self, features: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """``(classes '<U1', confidence)`` of each beat: the most probable class and its probability;
        Q, confidence 0, where the beat's shape could not be measured."""
        p = self.probabilities(features)
        n = p.shape[0]
        best = p.argmax(axis=1) if n else np.zeros(0, np.int64)
        classes = np.asarray(LEARNT, dtype="<U1")[best]
        confidence = p[np.arange(n), best] if n else np.zeros(0)
        shapeless = ~np.isfinite(np.asarray(features["template"], dtype=np.float64))
        classes[shapeless] = "Q"
        confidence = np.where(shapeless, 0.0, confidence)
        return classes, confidence

    # ---------------------------------------------------------------- fitting
    @classmethod
    def fit(cls, features: dict[str, np.ndarray], labels: np.ndarray, names: Sequence[str], *,
            hidden: Sequence[int] = (), l2: float = 1e-3, weight_power: float = 0.5,
            seed: int = 0) -> BeatClassifier:
        """Fit on beats with ``labels`` among ``LEARNT`` (others ignored). Classes are weighted by
        ``(1 / frequency) ** weight_power`` (0: as they come, 1: balanced). ``hidden``: widths of
        hidden layers (scikit-learn's MLP, the [train] extra); none: a logistic regression (scipy)."""
        names = tuple(names)
        labels = np.asarray(labels)
        use = np.isin(labels, LEARNT)
        x = np.stack([np.asarray(features[f], dtype=np.float64)[use] for f in names], axis=1)
        y = np.array([LEARNT.index(v) for v in labels[use]], dtype=np.int64)
        if np.unique(y).size < 2:
            raise ValueError("fitting beat classes needs beats of at least two classes")
        fill = np.array([np.nanmedian(c) if np.isfinite(c).any() else 0.0 for c in x.T])
        x = np.where(np.isfinite(x), x, fill)
        mean, scale = x.mean(axis=0), x.std(axis=0)
        scale = np.where(scale > 1e-9, scale, 1.0)
        z = (x - mean) / scale
        counts = np.bincount(y, minlength=len(LEARNT)).astype(float)
        class_w = np.where(counts > 0, (counts.sum() / np.maximum(counts, 1)) ** weight_power, 0.0)
        w = class_w[y]
        w = w / w.mean()
        layers = _fit_mlp(z, y, w, hidden, l2, seed) if hidden else _fit_softmax(z, y, w, l2)
        info = {"hidden": list(hidden), "l2": l2, "weight_power": weight_power,
                "beats": {c: int(n) for c, n in zip(LEARNT, counts, strict=True)}}
        return cls(names, fill, mean, scale, layers, info)

    # ---------------------------------------------------------------- file
    def as_dict(self) -> dict:
        return {"features": list(self.features), "classes": list(LEARNT), "fill": self.fill.tolist(),
                "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "layers": [{"weights": w.tolist(), "bias": b.tolist()} for w, b in self.layers], "info": self.info}

    @classmethod
    def from_dict(cls, d: dict) -> BeatClassifier:
        names = tuple(d["features"])
        if tuple(d["classes"]) != LEARNT:
            raise ValueError(f"beat classes {d['classes']} are not {list(LEARNT)}")
        vectors = [np.asarray(d[k], dtype=np.float64) for k in ("fill", "mean", "scale")]
        if any(v.shape != (len(names),) for v in vectors):
            raise ValueError("fill, mean and scale must have one value per feature")
        layers, width = [], len(names)
        for layer in d["layers"]:
            w, b = np.asarray(layer["weights"], dtype=np.float64), np.asarray(layer["bias"], dtype=np.float64)
            if w.ndim != 2 or w.shape[0] != width or b.shape != (w.shape[1],):
                raise ValueError(f"a layer of shape {w.shape} does not follow one of width {width}")
            layers.append((w, b))
            width = w.shape[1]
        if not layers or width != len(LEARNT):
            raise ValueError(f"the last layer must give {len(LEARNT)} classes")
        return cls(names, *vectors, layers, dict(d.get("info", {})))


def _fit_softmax(z: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """Weighted multinomial logistic regression (L-BFGS): one layer."""
    from scipy.optimize import minimize

    n, p = z.shape
    k = len(LEARNT)
    onehot = np.eye(k)[y]
    w = w / w.sum()

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        W, b = theta[:p * k].reshape(p, k), theta[p * k:]
        s = z @ W + b
        s = s - s.max(axis=1, keepdims=True)
        logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
        value = -(w * (onehot * logp).sum(axis=1)).sum() + l2 * (W * W).sum()
        g = (np.exp(logp) - onehot) * w[:, None]
        return float(value), np.concatenate([(z.T @ g + 2 * l2 * W).ravel(), g.sum(axis=0)])

    result = minimize(loss, np.zeros(p * k + k), jac=True, method="L-BFGS-B", options={"maxiter": 2000})
    return [(result.x[:p * k].reshape(p, k), result.x[p * k:])]


def _fit_mlp(z: np.ndarray, y: np.ndarray, w: np.ndarray, hidden: Sequence[int], l2: float,
             seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """A small MLP (scikit-learn, ReLU, Adam), its weights taken out for numpy inference."""
    from sklearn.neural_network import MLPClassifier

    mlp = MLPClassifier(hidden_layer_sizes=tuple(hidden), alpha=l2, max_iter=300, early_stopping=False,
                        random_state=seed)
    mlp.fit(z, y, sample_weight=w)
    if list(mlp.classes_) != list(range(len(LEARNT))):
        raise ValueError("the MLP needs beats of every class N, S, V, F")
    return [(np.asarray(c, dtype=np.float64), np.asarray(b, dtype=np.float64))
            for c, b in zip(mlp.coefs_, mlp.intercepts_, strict=True)]
