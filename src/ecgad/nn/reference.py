"""The original project's serial CNN -> LSTM autoencoder, kept for comparison.

Inputs are min-max scaled per time step (from the training beats) into [0, 1]
to match its sigmoid output; its score is the L1 error summed over the beat.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class ReferenceConfig:
    length: int = 140
    latent: int = 32


class ReferenceAutoencoder(nn.Module):
    input_scaling = "minmax"  # per time step, into the sigmoid's range
    error = "l1_sum"

    def __init__(self, config: ReferenceConfig | None = None):
        super().__init__()
        cfg = self.config = config or ReferenceConfig()
        self.encoder_cnn = nn.Sequential(
            nn.Conv1d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool1d(2),
            nn.Conv1d(32, 64, 3), nn.ReLU(), nn.MaxPool1d(2),
        )
        self.encoder_lstm = nn.LSTM(64, 64, batch_first=True)
        self.to_latent = nn.Linear(64, cfg.latent)
        self.from_latent = nn.Sequential(nn.Linear(cfg.latent, 64), nn.ReLU())
        self.steps = cfg.length // 4  # 35 for 140 samples
        self.decoder_lstm = nn.LSTM(64, 64, batch_first=True)
        self.decoder_cnn = nn.Sequential(
            nn.Upsample(scale_factor=2), nn.ConvTranspose1d(64, 32, 3), nn.ReLU(),
            nn.Upsample(scale_factor=2), nn.ConvTranspose1d(32, 1, 3), nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.encoder_cnn(x.unsqueeze(1)).transpose(1, 2)
        _, (last, _) = self.encoder_lstm(h)
        z = self.to_latent(last[-1])
        seq = self.from_latent(z).unsqueeze(1).repeat(1, self.steps, 1)
        out, _ = self.decoder_lstm(seq)
        y = self.decoder_cnn(out.transpose(1, 2)).squeeze(1)
        # The transposed convolutions give 146 samples for 140; crop the centre.
        start = (y.shape[1] - x.shape[1]) // 2
        return y[:, start:start + x.shape[1]]
