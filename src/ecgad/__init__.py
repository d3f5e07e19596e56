"""ecgad: find abnormal heartbeats in ECG signals with a hybrid CNN+LSTM autoencoder.

``Detector``, ``Verdict``, ``load_detector`` and ``__version__`` are looked up on first use
(PEP 562), not here: ``ecgad.client`` (the API's client) must import without numpy, and
importlib.metadata costs a cold start more than scoring a beat. The detector itself needs no
torch when its ONNX graph scores (``ecgad.onnx_runtime``).
"""
from functools import cache

__all__ = ["Detector", "Verdict", "load_detector", "__version__"]
_FROM_DETECTOR = frozenset({"Detector", "Verdict", "load_detector"})


@cache
def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ecgad")
    except PackageNotFoundError:  # running from a source tree without installation
        return "0.0.0"


def __getattr__(name: str):
    if name == "__version__":
        return _version()
    if name in _FROM_DETECTOR:
        from . import detector

        return getattr(detector, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
