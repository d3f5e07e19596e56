"""ecgad: find abnormal heartbeats in ECG signals with a hybrid CNN+LSTM autoencoder.

``Detector``, ``Verdict`` and ``load_detector`` are imported on first use (PEP 562), not here:
they need torch, and ``ecgad.client`` (the API's client) must import without it.
"""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ecgad")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

__all__ = ["Detector", "Verdict", "load_detector", "__version__"]
_FROM_DETECTOR = frozenset({"Detector", "Verdict", "load_detector"})


def __getattr__(name: str):
    if name in _FROM_DETECTOR:
        from . import detector

        return getattr(detector, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
