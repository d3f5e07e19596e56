"""The detector behind the web app: loaded once per process, on first use."""
from __future__ import annotations

import threading

from flask import current_app

_lock = threading.Lock()
_detectors: dict[str, object] = {}


class ModelUnavailable(RuntimeError):
    """The model file is missing or unreadable."""


def get_detector():
    """The app's detector (``MODEL_PATH``, else the model shipped with ecgad), loaded once."""
    path = current_app.config.get("MODEL_PATH")
    key = str(path) if path else "<shipped>"
    detector = _detectors.get(key)
    if detector is None:
        with _lock:
            detector = _detectors.get(key)
            if detector is None:
                from ecgad.detector import load_detector  # torch is imported here, not at app start

                try:
                    detector = load_detector(path or None)
                except (ValueError, OSError) as exc:
                    current_app.logger.error("cannot load the model: %s", exc)
                    raise ModelUnavailable(str(exc)) from None
                _detectors[key] = detector
    return detector


def forget_detectors() -> None:
    """Drop loaded detectors (tests, or after replacing a model file)."""
    with _lock:
        _detectors.clear()
