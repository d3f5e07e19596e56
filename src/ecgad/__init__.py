"""ecgad: find abnormal heartbeats in ECG signals with a hybrid CNN+LSTM autoencoder."""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ecgad")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

from .detector import Detector, Verdict, load_detector  # noqa: E402

__all__ = ["Detector", "Verdict", "load_detector", "__version__"]
