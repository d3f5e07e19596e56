"""The beat Detector's model file, read and written by ``Detector.load`` and ``Detector.save``.

Model file: one safetensors file. Tensors: the weights (``model.*``), ``input.<name>`` (the
architecture's input scaling, its ``scaling_names``: the reference design's ``input.min`` /
``input.max``), ``latent.train`` (training normals' codes, format /2)
and ``datafit.abnormal`` (the validation abnormal beats' codes, where there were any).
JSON metadata under ``ecgad``: format, arch, config, train_config, threshold,
calibration, meta, training, ``score`` (format /2) and ``data_fit`` (optional). The
format's version goes up when an older reader would compute a different *score* from
the file (it then refuses the file rather than misread it); optional additions that do
not change the score, like ``data_fit``, keep the version: an older reader ignores
them and scores as before, without the check. ``data_fit`` names its own method
(``ecgad.datafit.METHOD``); a reader that does not know it gives no data-fit result.

Read and written with ``safetensors.numpy``: reading needs no torch. The weights go into a torch
network (backend ``torch``) or are checked against the model's ONNX graph (backend ``onnx``,
``ecgad.onnx_runtime``).
"""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import load_file, save_file

from .datafit import DataFit
from .nn import config_dict
from .onnx_runtime import OnnxNetwork, choose_backend, twin_path, weights_digest
from .train_config import TrainConfig

FORMAT = "ecgad-detector/2"  # written when the score has a latent part; else /1, as before
FORMATS = ("ecgad-detector/1", FORMAT)  # both are read


def write(det, path: str | Path) -> Path:
    """Write ``det``, a fitted ``Detector``, as one .safetensors file: weights as tensors,
    everything else as JSON metadata. Returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {f"model.{k}": np.ascontiguousarray(v) for k, v in network_weights(det).items()}
    for name, values in det.scaling.items():
        tensors[f"input.{name}"] = np.ascontiguousarray(values)
    header = {"format": FORMATS[0], "arch": det.arch, "config": config_dict(det.model),
              "train_config": asdict(det.train_config), "threshold": det.threshold,
              "calibration": {"log_scale": det.log_scale}, "meta": det.meta, "training": det.training}
    if det.latent_neighbours:  # a score older versions cannot compute: a format they refuse
        tensors["latent.train"] = np.ascontiguousarray(det.latent_train, dtype=np.float32)
        header["format"] = FORMAT
        header["score"] = {"latent_neighbours": det.latent_neighbours,
                           "standardise": {k: list(v) for k, v in det.standardise.items()}}
    if det.fit_check is not None:
        header["data_fit"] = det.fit_check.to_json()
        if det.latent_abnormal is not None:
            tensors["datafit.abnormal"] = np.ascontiguousarray(det.latent_abnormal)
    save_file(tensors, str(path), metadata={"ecgad": json.dumps(header)})
    return path


def network_weights(det) -> dict[str, np.ndarray]:
    """``det``'s network weights by state-dict name, as numpy arrays (from torch where it has run,
    else as read from its file)."""
    if det._model is None and det._weights is not None:
        return det._weights
    return {k: v.detach().cpu().numpy() for k, v in det.model.state_dict().items()}


def read(cls, path: str | Path, backend: str = "auto"):
    """The ``cls`` (``Detector``) written to ``path`` by :func:`write`, in either format;
    ``ValueError`` naming the file when it is not one. Only safetensors (and the ONNX graph beside it
    for ``backend`` onnx, see ``ecgad.onnx_runtime.choose_backend``): no code is ever executed."""
    path = Path(path)
    try:
        with safe_open(str(path), framework="np") as f:
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
    if found not in FORMATS:
        raise ValueError(f"{path}: model format {found!r} is not one this version of ecgad reads "
                         f"(expected {FORMAT!r} or {FORMATS[0]!r})")
    chosen = choose_backend(backend, path)
    try:
        det = cls(header["arch"], header["config"], TrainConfig(**header.get("train_config", {})))
        det._weights = {k[6:]: v for k, v in tensors.items() if k.startswith("model.")}
        det.scaling = {k[6:]: v for k, v in tensors.items() if k.startswith("input.")}
        if set(det.scaling) != set(det.spec.scaling_names):
            raise ValueError(f"input scaling tensors {sorted(det.scaling)}, the {det.arch} architecture "
                             f"needs {sorted(det.spec.scaling_names)}")
        det.threshold = float(header["threshold"])
        det.log_scale = float(header["calibration"]["log_scale"])
        score = header.get("score") if found == FORMAT else None
        det.latent_neighbours = int(score["latent_neighbours"]) if score else 0
        if det.latent_neighbours:
            det.latent_train = tensors["latent.train"].astype(np.float32)
            members = det.n_members
            if det.latent_train.ndim != 3 or len(det.latent_train) != members or det.latent_train.shape[1] < 1:
                raise ValueError(f"latent.train has shape {tuple(det.latent_train.shape)}, "
                                 f"expected ({members}, n, latent)")
            det.standardise = {k: (float(v[0]), float(v[1])) for k, v in score["standardise"].items()}
            if set(det.standardise) != {"reconstruction", "latent"}:
                raise ValueError(f"score parts {sorted(det.standardise)}, expected latent and reconstruction")
            det.fit_check = DataFit.from_json(header["data_fit"]) if "data_fit" in header else None
            if det.fit_check is not None and "datafit.abnormal" in tensors:
                det.latent_abnormal = tensors["datafit.abnormal"].astype(np.float32)
                if det.latent_abnormal.shape[::2] != det.latent_train.shape[::2]:
                    raise ValueError(f"datafit.abnormal has shape {tuple(det.latent_abnormal.shape)}, "
                                     f"expected ({members}, m, {det.latent_train.shape[2]})")
        det.meta, det.training = header.get("meta", {}), header.get("training", {})
        if chosen == "torch":
            det._network_from_weights()
    except (TypeError, KeyError, ValueError, RuntimeError, AttributeError) as exc:
        raise ValueError(f"{path}: not an ecgad model file ({exc.__class__.__name__}: {exc})") from None
    if chosen == "onnx":  # its errors name the graph's file
        det.network = OnnxNetwork(twin_path(path), model_id=det.meta.get("model_id"),
                                  weights=weights_digest(det._weights), length=det.length,
                                  members=det.n_members, latent=det.spec.config.latent)
    return det
