"""The Detector: learns normal beats, scores any beat, explains each verdict.

Score: the mean squared reconstruction error of the z-normalised beat, against
the mean reconstruction of the hybrid's independently trained members (the
reference design keeps its own: L1 summed over the beat). Higher = more abnormal.

Threshold: chosen on validation data only. With labelled validation beats it is
the score that maximises accuracy there (optionally re-weighted to a class
prior); with normal beats only, their 99th percentile.

Confidence (in [0, 1]) says how far a beat's score lies from the threshold,
measured in the spread of the validation normals' scores:
``confidence = |erf(z / sqrt(2))|`` with ``z = (log score - log threshold) / sigma``
and ``sigma`` the standard deviation of the log scores of the validation normal
beats. It is 0 at the threshold, 0.68 one spread away, 0.95 two spreads away and
0.997 three spreads away, on whichever side the verdict falls.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib.resources import files
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file

from . import __version__
from .data.beats import prepare
from .nn import build, config_dict
from .train import TrainConfig, seed_everything, train

FORMAT = "ecgad-detector/1"
SHIPPED_MODEL = "ecg5000-hybrid.safetensors"


@dataclass
class Verdict:
    """One beat's result. ``beat``, ``reconstruction`` and ``error`` are in the
    z-normalised model space, sample by sample, for plots and for locating the
    abnormal part of the beat."""

    index: int
    score: float
    threshold: float
    is_anomaly: bool
    confidence: float
    beat: np.ndarray
    reconstruction: np.ndarray
    error: np.ndarray
    meta: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return "anomalous" if self.is_anomaly else "normal"

    def describe(self) -> str:
        return f"{self.label}, confidence {self.confidence:.2f}"

    def as_dict(self) -> dict:
        return {"index": self.index, "score": self.score, "threshold": self.threshold,
                "is_anomaly": self.is_anomaly, "confidence": self.confidence}


def choose_threshold(scores: np.ndarray, is_anomaly: np.ndarray, normal_share: float | None = None) -> float:
    """The cut between sorted scores that maximises (class-weighted) accuracy.

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
    best = np.flatnonzero(accuracy >= accuracy.max() - 1e-12)
    cut = best[len(best) // 2]
    lo = s[cut - 1] if cut > 0 else s[0] - 1e-6
    hi = s[cut] if cut < len(s) else s[-1] + 1e-6
    return float(np.sqrt(lo * hi) if lo > 0 and hi > 0 else (lo + hi) / 2)


class Detector:
    """A beat anomaly detector around a reconstruction model.

    >>> det = Detector().fit(normal_beats, validation=(val_beats, val_is_anomaly))
    >>> det.score(beats)          # (n,) array, higher = more abnormal
    >>> det.predict(beats)[0]     # Verdict(score=..., is_anomaly=..., confidence=...)
    """

    def __init__(self, arch: str = "hybrid", config: dict | None = None, train_config: TrainConfig | None = None):
        self.model = build(arch, config)
        self.arch = arch
        self.train_config = train_config or TrainConfig()
        self.length = self.model.config.length
        self.input_min: np.ndarray | None = None  # per-time-step scaling, reference design only
        self.input_max: np.ndarray | None = None
        self.threshold: float | None = None
        self.log_scale: float | None = None  # sigma of validation normals' log scores
        self.meta: dict = {}
        self.training: dict = {}

    # ---------------------------------------------------------------- fitting
    def fit(self, normal_beats, validation=None, *, normal_share: float | None = None,
            protocol: str | None = None, seed: int | None = None, progress: bool = True) -> Detector:
        """Learn to reconstruct ``normal_beats``.

        ``validation`` is either ``(beats, is_anomaly)`` (labelled: early stopping on
        ROC AUC, threshold at the best accuracy) or normal beats only (early stopping
        on their reconstruction error, threshold at their 99th percentile). Without it,
        a fifth of the normal beats is held out as validation.
        """
        seed = self.train_config.seed if seed is None else seed
        seed_everything(seed)
        self.model = build(self.arch, config_dict(self.model))  # initial weights from the seed
        normals = prepare(normal_beats, self.length)
        if validation is None:
            order = np.random.default_rng(seed).permutation(len(normals))
            held = max(1, len(normals) // 5)
            val_beats, val_y = normals[order[:held]], np.zeros(held, dtype=bool)
            normals = normals[order[held:]]
        elif isinstance(validation, tuple):
            val_beats, val_y = prepare(validation[0], self.length), np.asarray(validation[1], dtype=bool)
            if len(val_y) != len(val_beats):
                raise ValueError("validation labels and beats differ in number")
        else:
            val_beats = prepare(validation, self.length)
            val_y = np.zeros(len(val_beats), dtype=bool)
        if len(normals) < 2 or (~val_y).sum() < 2:
            raise ValueError("fitting needs at least 2 normal training beats and 2 normal validation beats")

        if getattr(self.model, "input_scaling", None) == "minmax":
            self.input_min, self.input_max = normals.min(axis=0), normals.max(axis=0)
        labelled = bool(val_y.any())

        # Ensemble members (where the model has them) train one after the other, each
        # from its own seed and with its own early stopping.
        results = []
        parts = getattr(self.model, "members", [self.model])
        for i, part in enumerate(parts):
            def validate(part=part) -> tuple[str, float]:
                scores = self._score_prepared(val_beats, part)
                if labelled:
                    from sklearn.metrics import roc_auc_score
                    return "val_auc", float(roc_auc_score(val_y, scores))
                return "val_neg_error", -float(scores.mean())

            config = TrainConfig(**{**asdict(self.train_config), "seed": seed + i})
            desc = f"member {i + 1}/{len(parts)}" if len(parts) > 1 else "training"
            results.append(train(part, self._to_model(normals), self._loss, validate, config, progress, desc))

        val_scores = self._score_prepared(val_beats)
        normal_scores = val_scores[~val_y]
        self.threshold = (choose_threshold(val_scores, val_y, normal_share) if labelled
                          else float(np.quantile(normal_scores, 0.99)))
        self.log_scale = float(np.std(np.log(np.maximum(normal_scores, 1e-12)))) or 1.0
        self.training = {"best_epoch": [r.best_epoch for r in results], "epochs_run": [len(r.history) for r in results],
                         f"member_{results[0].figure_name}": [r.best_figure for r in results]}
        weights = hashlib.sha256(b"".join(t.numpy().tobytes() for t in self.model.state_dict().values()))
        self.meta = {
            "model_id": f"{self.arch}-{weights.hexdigest()[:12]}",
            "version": __version__,
            "arch": self.arch,
            "training_data_sha256": hashlib.sha256(normals.tobytes()).hexdigest(),
            "n_train": int(len(normals)),
            "protocol": protocol,
            "seed": seed,
            "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        return self

    # ---------------------------------------------------------------- scoring
    def _to_model(self, beats: np.ndarray) -> np.ndarray:
        if self.input_min is None:
            return beats
        return (beats - self.input_min) / np.maximum(self.input_max - self.input_min, 1e-6)

    def _from_model(self, recon: np.ndarray) -> np.ndarray:
        if self.input_min is None:
            return recon
        return recon * np.maximum(self.input_max - self.input_min, 1e-6) + self.input_min

    def _loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if getattr(self.model, "error", None) == "l1_sum":
            return (output - target).abs().sum(dim=1).mean()
        return ((output - target) ** 2).mean()

    def _reconstruct(self, prepared: np.ndarray, model: torch.nn.Module | None = None, batch: int = 2048) -> np.ndarray:
        """Reconstructions in model input space (by ``model``, default the whole model)."""
        model = model or self.model
        model.eval()
        out = []
        with torch.inference_mode():
            for start in range(0, len(prepared), batch):
                x = torch.from_numpy(np.ascontiguousarray(self._to_model(prepared[start:start + batch]), dtype=np.float32))
                out.append(model(x).numpy())
        return np.concatenate(out) if out else np.empty((0, self.length), np.float32)

    def _score_prepared(self, prepared: np.ndarray, model: torch.nn.Module | None = None) -> np.ndarray:
        recon = self._reconstruct(prepared, model)
        target = self._to_model(prepared)
        if getattr(self.model, "error", None) == "l1_sum":
            return np.abs(recon - target).sum(axis=1).astype(np.float64)
        return ((recon - target) ** 2).mean(axis=1).astype(np.float64)

    def _require_fitted(self) -> None:
        if self.threshold is None:
            raise RuntimeError("this detector is not fitted: call fit() or Detector.load()")

    def score(self, beats) -> np.ndarray:
        """Anomaly scores, one per beat (higher = more abnormal)."""
        self._require_fitted()
        return self._score_prepared(prepare(beats, self.length))

    def confidence(self, scores: np.ndarray) -> np.ndarray:
        self._require_fitted()
        z = (np.log(np.maximum(scores, 1e-12)) - math.log(max(self.threshold, 1e-12))) / self.log_scale
        return np.abs(np.vectorize(math.erf)(z / math.sqrt(2))) if len(z) else z

    def predict(self, beats) -> list[Verdict]:
        """A Verdict per beat, with its reconstruction and per-sample error."""
        self._require_fitted()
        prepared = prepare(beats, self.length)
        recon = self._from_model(self._reconstruct(prepared))
        scores = self._score_prepared(prepared)
        conf = self.confidence(scores)
        error = (prepared - recon) ** 2
        meta = self.model_info()
        return [Verdict(index=i, score=float(scores[i]), threshold=self.threshold,
                        is_anomaly=bool(scores[i] > self.threshold), confidence=float(conf[i]),
                        beat=prepared[i], reconstruction=recon[i].astype(np.float32),
                        error=error[i].astype(np.float32), meta=meta)
                for i in range(len(prepared))]

    def model_info(self) -> dict:
        return {**self.meta, "threshold": self.threshold, "length": self.length}

    # ---------------------------------------------------------------- files
    def save(self, path: str | Path) -> Path:
        """Write one .safetensors file: weights as tensors, everything else as JSON metadata."""
        self._require_fitted()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tensors = {f"model.{k}": v.detach().contiguous() for k, v in self.model.state_dict().items()}
        if self.input_min is not None:
            tensors["input.min"] = torch.from_numpy(np.ascontiguousarray(self.input_min))
            tensors["input.max"] = torch.from_numpy(np.ascontiguousarray(self.input_max))
        header = {"format": FORMAT, "arch": self.arch, "config": config_dict(self.model),
                  "train_config": asdict(self.train_config), "threshold": self.threshold,
                  "calibration": {"log_scale": self.log_scale}, "meta": self.meta, "training": self.training}
        save_file(tensors, str(path), metadata={"ecgad": json.dumps(header)})
        return path

    @classmethod
    def load(cls, path: str | Path) -> Detector:
        """Read a file written by :meth:`save`. Only safetensors: no code is ever executed."""
        path = Path(path)
        try:
            with safe_open(str(path), framework="pt") as f:
                raw = (f.metadata() or {}).get("ecgad")
            tensors = load_file(str(path))
        except FileNotFoundError:
            raise ValueError(f"{path}: no such model file") from None
        except (SafetensorError, OSError, ValueError) as exc:
            raise ValueError(f"{path}: not a safetensors model file ({exc})") from None
        if raw is None:
            raise ValueError(f"{path}: a safetensors file without ecgad metadata, not an ecgad model file")
        try:
            header = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not an ecgad model file (its ecgad metadata is not JSON: {exc})") from None
        found = header.get("format") if isinstance(header, dict) else None
        if found != FORMAT:
            raise ValueError(f"{path}: model format {found!r} is not one this version of ecgad reads "
                             f"(expected {FORMAT!r})")
        try:
            det = cls(header["arch"], header["config"], TrainConfig(**header.get("train_config", {})))
            det.model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
            if "input.min" in tensors:
                det.input_min, det.input_max = tensors["input.min"].numpy(), tensors["input.max"].numpy()
            det.threshold = float(header["threshold"])
            det.log_scale = float(header["calibration"]["log_scale"])
        except (TypeError, KeyError, ValueError, RuntimeError, AttributeError) as exc:
            raise ValueError(f"{path}: not an ecgad model file ({exc.__class__.__name__}: {exc})") from None
        det.meta, det.training = header.get("meta", {}), header.get("training", {})
        det.model.eval()
        return det


def load_detector(path: str | Path | None = None) -> Detector:
    """Load a saved detector; with no path, the model shipped with ecgad."""
    if path is None:
        path = files("ecgad") / "assets" / SHIPPED_MODEL
    return Detector.load(path)


def fit_split(split, arch: str = "hybrid", config: dict | None = None,
              train_config: TrainConfig | None = None, progress: bool = True) -> Detector:
    """Fit a detector the way a protocol prescribes: on the train part's normal beats,
    with early stopping and threshold from the validation part (see ``ecgad.data.ecg5000.split``)."""
    det = Detector(arch, config, train_config)
    return det.fit(split.train.normals, validation=(split.validation.values, split.validation.is_anomaly),
                   normal_share=split.normal_share, protocol=split.protocol, seed=split.seed, progress=progress)
