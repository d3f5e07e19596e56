"""The models behind the web app: each loaded once per process, on first use or by :func:`warm_up`
(``ecgad serve`` calls it in every worker process as it starts)."""
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


WARM_UP_SECONDS = 12.0  # of synthetic signal: enough beats for every step of a recording's analysis


def warm_up(app) -> dict[str, float]:
    """Load both models in this process and run each once on made-up input, so that the first request
    pays neither the model load nor onnxruntime's first run (about 20 ms for a beat and 130 ms for a
    recording, against 1 ms and 20 ms after). A model that cannot be loaded is logged by ``_get`` and
    left to the requests to report (503, as before). Returns the seconds each part took."""
    import time

    import numpy as np

    from ecgad.data.signal import Signal
    from ecgad.data.synthetic import example_recording

    taken: dict[str, float] = {}
    with app.app_context():
        started = time.perf_counter()
        try:
            get_detector().predict_with_data_fit([np.sin(np.linspace(0.0, 2 * np.pi, 140))])
            taken["beat"] = time.perf_counter() - started
        except ModelUnavailable:
            pass
        started = time.perf_counter()
        try:
            detector = get_recording_detector()
        except ModelUnavailable:
            return taken
        example = example_recording(duration_s=WARM_UP_SECONDS)
        try:
            detector.analyze(Signal(example.samples, example.fs, "II", ("II",), "warm-up"))
        except ValueError as exc:  # a model of one's own that finds the example unreadable: not fatal
            app.logger.warning("the recording model's warm-up failed: %s", exc)
            return taken
        taken["recording"] = time.perf_counter() - started
    return taken


def forget_detectors() -> None:
    """Drop loaded models (tests, or after replacing a model file)."""
    with _lock:
        _models.clear()
