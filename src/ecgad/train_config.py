"""The training settings, apart from the training loop (``ecgad.train``) so that a model file can
be read without torch (it stores them)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 300
    batch_size: int = 64
    learning_rate: float = 2e-3
    weight_decay: float = 1e-5
    patience: int = 30          # epochs without a better validation figure before stopping
    noise: float = 0.05         # std of Gaussian noise added to inputs (denoising AE)
    seed: int = 0
