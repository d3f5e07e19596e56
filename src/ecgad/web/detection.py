"""The models behind the web app: each loaded once per process, on first use."""
from __future__ import annotations

import threading

from flask import current_app

_lock = threading.Lock()
_models: dict[tuple[str, str], object] = {}


class ModelUnavailable(RuntimeError):
    """The model file is missing or unreadable."""


class ModelMismatch(RuntimeError):
    """The model on this server is not the one that made a stored analysis, so it cannot redraw it."""


def _get(setting: str, load):
    """The model at config ``setting`` (None: the one shipped with ecgad), loaded once by ``load``."""
    path = current_app.config.get(setting)
    key = (setting, str(path) if path else "<shipped>")
    model = _models.get(key)
    if model is None:
        with _lock:
            model = _models.get(key)
            if model is None:
                try:
                    model = load(path or None)
                except (ValueError, OSError) as exc:
                    current_app.logger.error("cannot load the model (%s): %s", setting, exc)
                    raise ModelUnavailable(str(exc)) from None
                _models[key] = model
    return model


def get_detector():
    """The beat detector (``MODEL_PATH``). torch is imported here, not at app start."""
    from ecgad.detector import load_detector

    return _get("MODEL_PATH", load_detector)


def get_recording_detector():
    """The recording detector (``RECORDING_MODEL_PATH``)."""
    from ecgad.recording import load_recording_detector

    return _get("RECORDING_MODEL_PATH", load_recording_detector)


def recording_detector_of(model_id: str):
    """The recording detector, only if it is the model ``model_id`` (as stored with an analysis);
    else ``ModelMismatch``: what another model made of a beat is not what this analysis found."""
    detector = get_recording_detector()
    loaded = str(detector.model_info().get("model_id") or "")[:64]  # as stored: see service.new_analysis
    if not model_id or loaded != model_id:
        raise ModelMismatch(f"The recording model on this server ({loaded or 'unknown'}) is not the one that "
                            f"analysed this recording ({model_id or 'unknown'}), so this beat's shape is not "
                            f"drawn. Its verdict and scores are the ones stored at analysis time.")
    return detector


def forget_detectors() -> None:
    """Drop loaded models (tests, or after replacing a model file)."""
    with _lock:
        _models.clear()
