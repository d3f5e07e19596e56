"""What the Detector knows of an architecture besides its network, without torch: the config
dataclasses, the input scaling, the error measure and the score's defaults.

The torch modules (``hybrid.py``, ``reference.py``) inherit these classes, so the two cannot
differ; an inference-only install (onnxruntime, no torch) scores with these alone plus the
exported graph (``ecgad.onnx_runtime``). Shapes as in ``ecgad.nn.protocol``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_RANGE = 1e-6  # floor of a time step's min-max range: a step constant over the training beats divides by this


def mean_squared_error(reconstruction, target):
    """Per-beat mean squared error, ``(n,)``, for numpy arrays or torch tensors."""
    return ((reconstruction - target) ** 2).mean(axis=1)


def l1_sum_error(reconstruction, target):
    """Per-beat absolute error summed over the beat, ``(n,)``, for numpy arrays or torch tensors."""
    return abs(reconstruction - target).sum(axis=1)


@dataclass(frozen=True)
class HybridConfig:
    length: int = 140          # samples per beat
    cnn_channels: int = 16     # channels of the first convolution; doubled once
    lstm_chunk: int = 7        # samples per LSTM step (140 / 7 = 20 steps)
    lstm_hidden: int = 32
    features: int = 32         # width of each branch's summary and of the fused vector
    latent: int = 8            # the bottleneck
    decoder_hidden: int = 128
    dropout: float = 0.0
    members: int = 3           # independently trained autoencoders, reconstructions averaged


@dataclass(frozen=True)
class ReferenceConfig:
    length: int = 140
    latent: int = 32


class HybridSpec:
    """The hybrid's side of the contract that needs no network: it reads z-normalised beats as
    they are (no input scaling); its error is the mean squared error over the beat, and the
    score may add the latent codes' distance to the training normals' (see ``ecgad.detector``)."""

    default_latent_neighbours = 5  # k nearest training-normal codes in the score's latent part
    latent_in_score = True
    default_stop_on = "error"  # validation normals' reconstruction error: picks less by chance than ROC AUC
    scaling_names: tuple[str, ...] = ()

    def __init__(self, config: HybridConfig | None = None):
        self.config = config or HybridConfig()

    @property
    def n_members(self) -> int:
        return self.config.members

    error = staticmethod(mean_squared_error)

    def fit_scaling(self, normals: np.ndarray) -> dict[str, np.ndarray]:
        return {}

    def to_model(self, beats: np.ndarray, scaling: dict[str, np.ndarray]) -> np.ndarray:
        return beats

    def from_model(self, values: np.ndarray, scaling: dict[str, np.ndarray]) -> np.ndarray:
        return values


class ReferenceSpec:
    """The reference design's: min-max input scaling per time step, the L1 error summed over the
    beat, a score of that error alone; one member."""

    default_latent_neighbours = 0  # the original project's score: the reconstruction error alone
    latent_in_score = False
    default_stop_on = "auc"  # as the original project stopped
    scaling_names = ("min", "max")  # per time step, (length,) each, from the training normals
    n_members = 1

    def __init__(self, config: ReferenceConfig | None = None):
        self.config = config or ReferenceConfig()

    error = staticmethod(l1_sum_error)

    def fit_scaling(self, normals: np.ndarray) -> dict[str, np.ndarray]:
        return {"min": normals.min(axis=0), "max": normals.max(axis=0)}

    def to_model(self, beats: np.ndarray, scaling: dict[str, np.ndarray]) -> np.ndarray:
        return (beats - scaling["min"]) / np.maximum(scaling["max"] - scaling["min"], MIN_RANGE)

    def from_model(self, values: np.ndarray, scaling: dict[str, np.ndarray]) -> np.ndarray:
        return values * np.maximum(scaling["max"] - scaling["min"], MIN_RANGE) + scaling["min"]


# name -> (config dataclass, spec class), torch-free; ``ecgad.nn.ARCHITECTURES`` has the networks
SPECS: dict[str, tuple[type, type]] = {
    "hybrid": (HybridConfig, HybridSpec),
    "reference": (ReferenceConfig, ReferenceSpec),
}
