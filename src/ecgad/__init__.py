"""ecgad: find abnormal heartbeats in ECG signals with a hybrid CNN+LSTM autoencoder."""
from functools import cache

from .detector import Detector, Verdict, load_detector


@cache
def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ecgad")
    except PackageNotFoundError:  # running from a source tree without installation
        return "0.0.0"


def __getattr__(name: str):
    # looked up on first use: importlib.metadata costs a cold start more than the rest of scoring
    if name == "__version__":
        return _version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Detector", "Verdict", "load_detector", "__version__"]
