"""The contract between the Detector and an autoencoder architecture.

The Detector knows nothing of an architecture beyond this: every class in
``ecgad.nn.ARCHITECTURES`` implements :class:`Autoencoder`, and the Detector asks it,
rather than checking names, how to scale its input, what its latent codes and its
reconstructions are, how to measure the reconstruction error and how to train it.

Shapes: ``n`` beats of ``length`` samples (``config.length``), ``members``
independently trained parts (1 where the architecture has no ensemble), ``latent``
the width of a code. Beats reach the model z-normalised (``ecgad.data.beats.prepare``),
then put through the architecture's own input scaling (``to_model``).
"""
from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn

from .spec import l1_sum_error, mean_squared_error  # noqa: F401 (importable from here, as before)


@runtime_checkable
class Autoencoder(Protocol):
    config: Any                     # a frozen dataclass: ``length`` samples per beat, ``latent`` code width
    default_latent_neighbours: int  # k of the score's latent part when none is asked for (0: none)
    latent_in_score: bool           # whether the score may have a latent part at all
    default_stop_on: str            # early stopping figure: "error" or "auc" (see ``Detector``)
    scaling_names: tuple[str, ...]  # names of the input scaling's arrays, saved as ``input.<name>``

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """``(n, length)`` scaled beats -> ``(n, length)`` reconstructions (the members' mean)."""
        ...

    def parts(self) -> list[nn.Module]:
        """The independently trained parts (each ``(n, length)`` -> ``(n, length)``), in order."""
        ...

    def latent_codes(self, x: torch.Tensor) -> torch.Tensor:
        """``(n, length)`` scaled beats -> ``(members, n, latent)`` codes, one per member."""
        ...

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """``(members, n, latent)`` codes -> ``(n, length)`` reconstruction, the members' mean,
        in model input space; ``decode(latent_codes(x))`` equals ``self(x)``."""
        ...

    def error(self, reconstruction, target):
        """Per-beat reconstruction error, ``(n,)``, of ``(n, length)`` arrays in model input
        space (numpy arrays or torch tensors alike): the figure the score is built on."""
        ...

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The scalar training loss of a batch, ``(n, length)`` each."""
        ...

    def fit_scaling(self, normals: np.ndarray) -> dict[str, np.ndarray]:
        """The input scaling's arrays (named as ``scaling_names``) from ``(n, length)``
        z-normalised training normals; ``{}`` when the model reads z-normalised beats as they are."""
        ...

    def to_model(self, beats: np.ndarray, scaling: dict[str, np.ndarray]) -> np.ndarray:
        """``(n, length)`` z-normalised beats -> model input space."""
        ...

    def from_model(self, values: np.ndarray, scaling: dict[str, np.ndarray]) -> np.ndarray:
        """``(n, length)`` values in model input space -> z-normalised beat space."""
        ...
