"""The Detector: learns normal beats, scores any beat, explains each verdict.

Score (hybrid): two signs of an unusual beat, each measured against the
validation normal beats and then combined,

* ``R``, the mean squared reconstruction error of the z-normalised beat against
  the mean reconstruction of the hybrid's independently trained members: a shape
  the autoencoders cannot reproduce;
* ``L``, how far the beat's latent code (each member's encoder output) lies from
  the codes of the training normals: per member the mean Euclidean distance to its
  ``latent_neighbours`` (5) nearest training-normal codes, then the geometric mean
  over members: a shape the autoencoders can reproduce but never saw in a normal beat.

Each part is standardised on the log scale by the validation normal beats,
``z_X = (log X - m_X) / s_X`` with ``m_X`` and ``s_X`` the mean and standard deviation
of ``log X`` over them, so that both weigh alike; their sum is put back on the
scale of the reconstruction error::

    log score = m_R + s_R * (z_R + z_L),  i.e.  score = R * (L / exp(m_L)) ** (s_R / s_L)

the reconstruction error, scaled up or down by how much farther from the normal
codes the beat's code lies than a typical validation normal's. Higher = more
abnormal; ``Detector.score_parts`` gives ``R`` and ``L``. The training normals'
latent codes travel in the model file. On ECG5000 (both protocols, seeds 0-4,
members stopped as below) adding the latent part raised validation accuracy and
ROC AUC over the reconstruction error alone, and the held-out test figures agreed.
With ``latent_neighbours=0`` (the reference design, and model files written before
ecgad-detector/2) the score is the reconstruction error alone (the reference
design's own: L1 summed over the beat).

Validation beats are never trained on; they serve three things: early
stopping (hybrid: each member keeps the epoch with the lowest mean reconstruction
error on the validation normal beats, labels unused, which picks less by chance
than stopping on validation ROC AUC; the reference design stops on validation ROC
AUC where labels are given), the standardisation of the score's parts above, and
the threshold.

Threshold: chosen on validation data only. With labelled validation beats it is
the score that maximises accuracy there (optionally re-weighted to a class
prior); with normal beats only, their 99th percentile.

Confidence (in [0, 1]) says how far a beat's score lies from the threshold,
measured in the spread of the validation normals' scores:
``confidence = |erf(z / sqrt(2))|`` with ``z = (log score - log threshold) / sigma``
and ``sigma`` the standard deviation of the log scores of the validation normal
beats. It is 0 at the threshold, 0.68 one spread away, 0.95 two spreads away and
0.997 three spreads away, on whichever side the verdict falls.

Data fit (``Detector.data_fit``): whether an upload's beats, as a group, look like the
training data at all; see ``ecgad.datafit`` (the rule) and ``ecgad.detector_datafit`` (the
methods). It needs the latent codes, so a model without them (the reference design) or
written before the check existed gives none.

Model file: one safetensors file, read and written by ``ecgad.detector_file``.

Backends: a detector loaded from a file scores with onnxruntime where its exported graph lies
beside the file (``ecgad.onnx_runtime``; ``ecgad export onnx`` makes it), else with torch
(``Detector.load(path, backend="auto"|"torch"|"onnx")``). Fitting always uses torch; this module
imports torch only when it is used, so an install without torch scores with onnxruntime. The
latent neighbour search is numpy's either way.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

import numpy as np

from . import calibration, detector_file, neighbours, one_beat, onnx_runtime
from .calibration import LOG_FLOOR
from .calibration import floored_log as _log
from .data.beats import prepare
from .datafit import DataFit
from .detector_datafit import DataFitMethods
from .detector_file import FORMAT, FORMATS  # noqa: F401 (the formats, importable from here as before)
from .nn import architecture_spec, build, config_dict
from .nn.spec import SPECS
from .thresholds import NORMAL_QUANTILE, choose_threshold  # noqa: F401 (importable from here, as before)
from .train_config import TrainConfig
from .verdict import Verdict

SHIPPED_MODEL = "ecg5000-hybrid.safetensors"
EVAL_BATCH = 2048  # beats per forward pass when scoring: bounds the memory of a big batch
LATENT_BATCH = 256  # query codes per step of the latent neighbour search: (members, batch, refs) distances
EMBED_BATCH = 512  # beats per forward pass in ``embed``, the last one padded (one input shape)


@dataclass(frozen=True)
class Embedding:
    """What the autoencoder makes of ``n`` beats (``Detector.embed``).

    ``codes``: ``(members, n, latent)`` float32, each member's latent code of each beat
    (``codes[0]`` the first member's), in the encoder's own units.
    ``errors``: ``(n,)`` float64, each beat's reconstruction error against the members'
    mean reconstruction, in model input space and in the architecture's measure (hybrid:
    mean squared error of the z-normalised beat; reference: L1 summed over the min-max
    scaled beat); the score's ``reconstruction`` part (``Detector.score_parts``).
    """

    codes: np.ndarray
    errors: np.ndarray


class Detector(DataFitMethods):
    """A beat anomaly detector around a reconstruction model, which it knows only through
    the contract every architecture implements (``ecgad.nn.protocol.Autoencoder``).

    >>> det = Detector().fit(normal_beats, validation=(val_beats, val_is_anomaly))
    >>> det.score(beats)          # (n,) array, higher = more abnormal
    >>> det.predict(beats)[0]     # Verdict(score=..., is_anomaly=..., confidence=...)
    """

    def __init__(self, arch: str = "hybrid", config: dict | None = None, train_config: TrainConfig | None = None,
                 *, latent_neighbours: int | None = None, stop_on: str | None = None):
        """``latent_neighbours``: k of the score's latent part, 0 for the reconstruction error
        alone (default: 5 for the hybrid, 0 for the reference design). ``stop_on``: the early
        stopping figure, ``"error"`` (validation normals' reconstruction error) or ``"auc"``
        (validation ROC AUC; needs labelled validation, else "error" is used) (default: "error"
        for the hybrid, "auc" for the reference design)."""
        # spec: what scoring needs besides the network (no torch); the network is built on first use
        self.spec = architecture_spec(arch, config)
        self._model = self.spec if not isinstance(self.spec, _SPEC_CLASSES) else None
        self._weights: dict[str, np.ndarray] | None = None  # read from a file, loaded into the network on first use
        self.network = None  # an ecgad.onnx_runtime.OnnxNetwork where the onnx backend scores
        self.arch = arch
        self.train_config = train_config or TrainConfig()
        self.length = self.spec.config.length
        if latent_neighbours is None:
            latent_neighbours = self.spec.default_latent_neighbours
        self.latent_neighbours = latent_neighbours
        if self.latent_neighbours < 0 or (self.latent_neighbours and not self.spec.latent_in_score):
            raise ValueError(f"latent_neighbours={self.latent_neighbours} does not apply to the {arch} architecture")
        self.stop_on = self.spec.default_stop_on if stop_on is None else stop_on
        if self.stop_on not in ("error", "auc"):
            raise ValueError(f"stop_on must be 'error' or 'auc', not {self.stop_on!r}")
        self.scaling: dict[str, np.ndarray] = {}  # the architecture's input scaling (its scaling_names)
        self.latent_train: np.ndarray | None = None  # (members, n, latent) codes of the training normals
        self.latent_abnormal: np.ndarray | None = None  # (members, m, latent) validation abnormal beats' codes
        self.fit_check: DataFit | None = None  # the data-fit check's settings (ecgad.datafit)
        self.standardise: dict[str, tuple[float, float]] = {}  # part -> (mean, std) of log part, validation normals
        self.threshold: float | None = None
        self.log_scale: float | None = None  # sigma of validation normals' log scores
        self.meta: dict = {}
        self.training: dict = {}

    # ---------------------------------------------------------------- the network
    @property
    def model(self):
        """The torch network (``ecgad.nn.protocol.Autoencoder``), built on first use (imports torch)
        with the weights read from the model file, if any."""
        if self._model is None:
            model = build(self.arch, config_dict(self.spec))
            if self._weights is not None:
                _load_weights(model, self._weights)
            self._model = model.eval()
        return self._model

    def _network_from_weights(self) -> None:
        """Put the weights read from a file into the torch network now (the torch backend), so that
        weights that do not fit it are refused on loading."""
        if self._model is None:
            self.model  # noqa: B018 (built with the weights)
        else:  # an architecture without a spec class: its network was built already
            _load_weights(self._model, self._weights)
            self._model.eval()

    @model.setter
    def model(self, model) -> None:
        self._model, self.network = model, None
        if not isinstance(self.spec, _SPEC_CLASSES):
            self.spec = model

    @property
    def n_members(self) -> int:
        """Independently trained parts of the network (1 where the architecture has no ensemble)."""
        members = getattr(self.spec, "n_members", None)
        return int(members) if members is not None else len(self.model.parts())

    @property
    def backend(self) -> str:
        """What runs the network when scoring: ``"onnx"`` (onnxruntime) or ``"torch"``."""
        return "torch" if self.network is None else "onnx"

    # ---------------------------------------------------------------- fitting
    def fit(self, normal_beats, validation=None, *, normal_share: float | None = None,
            protocol: str | None = None, seed: int | None = None, progress: bool = True) -> Detector:
        """Learn to reconstruct ``normal_beats`` (``(n, samples)`` or a list of 1-D beats of any
        lengths and scale; resampled to ``length`` and z-normalised). Returns ``self``.

        ``validation`` is either ``(beats, is_anomaly)`` (labelled: threshold at the best
        accuracy; early stopping as ``stop_on`` says) or normal beats only (early stopping
        on their reconstruction error, threshold at their 99th percentile). Without it,
        a fifth of the normal beats is held out as validation. The score's parts are
        standardised on the validation normal beats (see the module docstring).
        """
        from . import __version__
        from .provenance import training_environment
        from .train import seed_everything, train

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

        self.scaling = self.model.fit_scaling(normals)
        labelled = bool(val_y.any())
        by_auc = labelled and self.stop_on == "auc"
        self.latent_train, self.standardise = None, {}
        self.latent_abnormal, self.fit_check = None, None

        # Ensemble members (where the model has them) train one after the other, each
        # from its own seed and with its own early stopping.
        results = []
        parts = self.model.parts()
        for i, part in enumerate(parts):
            def validate(part=part) -> tuple[str, float]:
                errors = self._error(val_beats, part)
                if by_auc:
                    from sklearn.metrics import roc_auc_score
                    return "val_auc", float(roc_auc_score(val_y, errors))
                return "val_neg_error", -float(errors[~val_y].mean())

            config = TrainConfig(**{**asdict(self.train_config), "seed": seed + i})
            desc = f"member {i + 1}/{len(parts)}" if len(parts) > 1 else "training"
            results.append(train(part, self._to_model(normals), self.model.loss, validate, config, progress, desc))

        if self.latent_neighbours:
            self.latent_train = self._evaluate(normals, codes=True)[2]
        val_evaluated = self._evaluate(val_beats, codes=bool(self.latent_neighbours))
        val_parts = self._parts(val_beats, val_evaluated)
        if self.latent_neighbours:
            self._calibrate_data_fit(val_evaluated[2], val_y)
            for name, values in val_parts.items():
                logs = _log(values[~val_y])
                self.standardise[name] = (float(logs.mean()), float(logs.std()) or 1.0)
        val_scores = self._combine(val_parts)
        normal_scores = val_scores[~val_y]
        self.threshold = (choose_threshold(val_scores, val_y, normal_share) if labelled
                          else float(np.quantile(normal_scores, NORMAL_QUANTILE)))
        self.log_scale = float(np.std(_log(normal_scores))) or 1.0
        self.training = {"best_epoch": [r.best_epoch for r in results], "epochs_run": [len(r.history) for r in results],
                         f"member_{results[0].figure_name}": [r.best_figure for r in results],
                         "stop_on": "auc" if by_auc else "error"}
        weights = hashlib.sha256(b"".join(t.numpy().tobytes() for t in self.model.state_dict().values()))
        self.meta = {
            "model_id": f"{self.arch}-{weights.hexdigest()[:12]}",
            "version": __version__,
            "arch": self.arch,
            "training_data_sha256": hashlib.sha256(normals.tobytes()).hexdigest(),
            "n_train": int(len(normals)),
            "protocol": protocol,
            "seed": seed,
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
            **training_environment(),
        }
        return self

    # ---------------------------------------------------------------- scoring
    @property
    def input_min(self) -> np.ndarray | None:
        """The reference design's per-time-step input minimum, ``(length,)``; else ``None``."""
        return self.scaling.get("min")

    @property
    def input_max(self) -> np.ndarray | None:
        """The reference design's per-time-step input maximum, ``(length,)``; else ``None``."""
        return self.scaling.get("max")

    def _to_model(self, beats: np.ndarray) -> np.ndarray:
        return self.spec.to_model(beats, self.scaling)

    def _from_model(self, recon: np.ndarray) -> np.ndarray:
        return self.spec.from_model(recon, self.scaling)

    def _evaluate(self, prepared: np.ndarray, part=None, batch: int = EVAL_BATCH,
                  codes: bool = False, pad: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Reconstructions in model input space ``(n, length)`` and per-beat reconstruction
        errors ``(n,)`` by ``part`` (one of ``model.parts()``; default the whole model), and with
        ``codes`` the members' latent codes, ``(members, n, latent)``. With ``pad`` every batch
        is padded to ``batch`` beats (one input shape only, so the kernels torch caches per
        shape do not pile up over many calls) and the errors are computed batch by batch in
        float32, as the recording model's features always were (scores: on the whole, in numpy).
        The onnx backend runs the same numbers through onnxruntime (``part`` needs torch)."""
        if self.network is not None and part is None:
            return onnx_runtime.evaluate(self, prepared, batch, codes, pad)
        import torch

        model = part or self.model
        model.eval()
        recon, latent, errors = [], [], []
        with torch.inference_mode():
            for start in range(0, len(prepared), batch):
                chunk = self._to_model(prepared[start:start + batch])
                n = len(chunk)
                if pad and n < batch:
                    chunk = np.concatenate([chunk, np.zeros((batch - n, chunk.shape[1]), chunk.dtype)])
                x = torch.from_numpy(np.ascontiguousarray(chunk, dtype=np.float32))
                if codes:
                    z = self.model.latent_codes(x)
                    out = self.model.decode(z)
                    latent.append(z[:, :n].numpy())
                else:
                    out = model(x)
                recon.append(out[:n].numpy())
                if pad:
                    errors.append(self.model.error(out, x)[:n].numpy())
        recon = np.concatenate(recon) if recon else np.empty((0, self.length), np.float32)
        if pad:
            error = np.concatenate(errors).astype(np.float64) if errors else np.empty(0)
        else:
            error = self.model.error(recon, self._to_model(prepared)).astype(np.float64)
        return recon, error, np.concatenate(latent, axis=1) if latent else None

    def _error(self, prepared: np.ndarray, model=None) -> np.ndarray:
        """Per-beat reconstruction error (by ``model``, default the whole model)."""
        return self._evaluate(prepared, model)[1]

    def _latent_distance(self, latent: np.ndarray, batch: int = LATENT_BATCH, refs: np.ndarray | None = None,
                         skip: np.ndarray | None = None) -> np.ndarray:
        """Geometric mean over members of the mean distance to the k nearest codes of ``refs``
        (default: the training normals'). Queries where ``skip`` is true are among ``refs``
        themselves: their nearest (themselves) is left out. In numpy (``ecgad.neighbours``: exact to
        float64 rounding), ``batch`` query codes at a time on each core, all members together (memory:
        members x ``batch`` x refs distances per core)."""
        index = self._references(self.latent_train if refs is None else refs)
        skip = None if skip is None or not np.any(skip) else np.asarray(skip, dtype=bool)
        extra = int(skip is not None)
        k = min(self.latent_neighbours, index.m - extra)
        logs = np.empty(latent.shape[1])

        def work(start: int, stop: int) -> None:
            near = index.nearest(latent[:, start:stop], k + extra)
            if extra:
                near = np.where(skip[None, start:stop, None], near[:, :, 1:], near[:, :, :k])
            logs[start:stop] = _log(near.mean(axis=2)).sum(axis=0)

        onnx_runtime.chunked(work, latent.shape[1], batch)  # on every core
        return np.exp(logs / index.refs64.shape[0])

    def _references(self, refs: np.ndarray) -> neighbours.References:
        """Reference codes made ready for the search (``neighbours.References``) once per array (the
        training normals', the data-fit check's), not once per call."""
        cache = self.__dict__.setdefault("_references_cache", {})
        hit = cache.get(id(refs))
        if hit is None or hit[0] is not refs:
            if len(cache) >= 4:
                cache.clear()
            hit = cache[id(refs)] = (refs, neighbours.References(refs, self.latent_neighbours + 1))
        return hit[1]

    def _parts(self, prepared: np.ndarray, evaluated: tuple | None = None) -> dict[str, np.ndarray]:
        _, error, latent = evaluated or self._evaluate(prepared, codes=bool(self.latent_neighbours))
        if not self.latent_neighbours:
            return {"reconstruction": error}
        return {"reconstruction": error, "latent": self._latent_distance(latent)}

    def _combine(self, parts: dict[str, np.ndarray]) -> np.ndarray:
        """The score from its parts (see the module docstring)."""
        if not self.latent_neighbours:
            return parts["reconstruction"]
        z = np.zeros(len(parts["reconstruction"]))
        for name, values in parts.items():
            mean, std = self.standardise[name]
            z += (_log(values) - mean) / std
        mean, std = self.standardise["reconstruction"]
        return np.exp(mean + std * z)

    def _score_prepared(self, prepared: np.ndarray) -> np.ndarray:
        return self._combine(self._parts(prepared))

    def _require_fitted(self) -> None:
        if self.threshold is None:
            raise RuntimeError("this detector is not fitted: call fit() or Detector.load()")

    def _one_beat(self, beats) -> tuple[one_beat.OneBeat, tuple] | None:
        """``(scorer, scorer.evaluate(beat))`` where ``beats`` is one beat the single-beat path
        (``ecgad.one_beat``) takes, else ``None``."""
        if self.network is None or not one_beat.applies(self) or (beat := one_beat.single(beats)) is None:
            return None
        scorer = self.__dict__.get("_one_beat_scorer")
        if scorer is None or scorer.network is not self.network:
            scorer = self._one_beat_scorer = one_beat.OneBeat(self)
        evaluated = scorer.evaluate(beat)
        return None if evaluated is None else (scorer, evaluated)

    def score(self, beats) -> np.ndarray:
        """Anomaly scores, ``(n,)`` float64, one per beat of ``n`` (higher = more abnormal), in
        the units of the reconstruction error (see the module docstring)."""
        self._require_fitted()
        if fast := self._one_beat(beats):
            return np.array([fast[0].score(*fast[1][2:])])
        return self._score_prepared(prepare(beats, self.length))

    def score_parts(self, beats) -> dict[str, np.ndarray]:
        """What the score combines, ``(n,)`` float64 each: ``reconstruction`` (the reconstruction
        error, as ``Embedding.errors``) and, where the score has it, ``latent`` (the mean
        Euclidean distance of the latent codes to the nearest training normals', geometric
        mean over members). See the module docstring."""
        self._require_fitted()
        if fast := self._one_beat(beats):
            return {"reconstruction": np.array([fast[1][2]]), "latent": np.array([fast[1][3]])}
        return self._parts(prepare(beats, self.length))

    def embed(self, beats, batch: int = EMBED_BATCH) -> Embedding:
        """Each member's latent code and the reconstruction error of ``n`` beats (any lengths,
        any scale: they are resampled and z-normalised as everywhere else): see
        :class:`Embedding` for shapes and units. The beats go through the model ``batch`` at a
        time, the last batch padded: one input shape only, so the kernels torch caches per
        shape do not pile up over a long recording; the errors agree with ``score_parts``'s
        ``reconstruction`` to float32 rounding. An empty ``(0, length)`` array gives empty arrays."""
        self._require_fitted()
        if isinstance(beats, np.ndarray) and beats.ndim == 2 and len(beats) == 0:
            codes = np.empty((self.n_members, 0, self.spec.config.latent), np.float32)
            return Embedding(codes=codes, errors=np.empty(0))
        _, errors, codes = self._evaluate(prepare(beats, self.length), batch=batch, codes=True, pad=True)
        return Embedding(codes=codes, errors=errors)

    def confidence(self, scores: np.ndarray) -> np.ndarray:
        """Confidence in ``[0, 1]`` of each verdict from its score, ``(n,)`` -> ``(n,)``
        (see the module docstring)."""
        self._require_fitted()
        z = (_log(scores) - math.log(max(self.threshold, LOG_FLOOR))) / self.log_scale
        return calibration.confidence(z)

    def predict(self, beats) -> list[Verdict]:
        """A Verdict per beat of ``n``, with its z-normalised beat, reconstruction and
        per-sample squared error, ``(length,)`` each."""
        self._require_fitted()
        if fast := self._one_beat(beats):
            return [fast[0].verdict(fast[1], self.model_info())]
        prepared = prepare(beats, self.length)
        return self._verdicts(prepared, self._evaluate(prepared, codes=bool(self.latent_neighbours)))

    def _verdicts(self, prepared: np.ndarray, evaluated: tuple) -> list[Verdict]:
        recon = self._from_model(evaluated[0])
        scores = self._combine(self._parts(prepared, evaluated))
        conf = self.confidence(scores)
        error = (prepared - recon) ** 2
        meta = self.model_info()
        return [Verdict(index=i, score=float(scores[i]), threshold=self.threshold,
                        is_anomaly=bool(scores[i] > self.threshold), confidence=float(conf[i]),
                        beat=prepared[i], reconstruction=recon[i].astype(np.float32),
                        error=error[i].astype(np.float32), meta=meta)
                for i in range(len(prepared))]

    def model_info(self) -> dict:
        """The model's metadata (``meta``: model_id, arch, seed, ...), its ``threshold`` (score
        units) and ``length`` (samples per beat)."""
        return {**self.meta, "threshold": self.threshold, "length": self.length}

    # ---------------------------------------------------------------- files
    def save(self, path: str | Path) -> Path:
        """Write one .safetensors file (``ecgad.detector_file``); returns its path."""
        self._require_fitted()
        return detector_file.write(self, path)

    @classmethod
    def load(cls, path: str | Path, backend: str = "auto") -> Detector:
        """Read a file written by :meth:`save` (either format). Only safetensors (and, for the onnx
        backend, the ONNX graph beside it, checked against it): no code is ever executed.
        ``backend``: ``"auto"`` (onnxruntime where it and the graph are present, else torch),
        ``"torch"`` or ``"onnx"`` (see ``ecgad.onnx_runtime``)."""
        return detector_file.read(cls, path, backend)


def load_detector(path: str | Path | None = None, backend: str = "auto") -> Detector:
    """Load a saved detector; with no path, the model shipped with ecgad."""
    if path is None:
        path = files("ecgad") / "assets" / SHIPPED_MODEL
    return Detector.load(path, backend)


def _load_weights(model, weights: dict[str, np.ndarray]) -> None:
    import torch

    model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})


_SPEC_CLASSES = tuple(spec_cls for _, spec_cls in SPECS.values())


def fit_split(split, arch: str = "hybrid", config: dict | None = None,
              train_config: TrainConfig | None = None, progress: bool = True) -> Detector:
    """Fit a detector the way a protocol prescribes: on the train part's normal beats,
    with early stopping and threshold from the validation part (see ``ecgad.data.ecg5000.split``)."""
    det = Detector(arch, config, train_config)
    return det.fit(split.train.normals, validation=(split.validation.values, split.validation.is_anomaly),
                   normal_share=split.normal_share, protocol=split.protocol, seed=split.seed, progress=progress)
