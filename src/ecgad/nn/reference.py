"""The original project's serial CNN -> LSTM autoencoder, kept for comparison.

Inputs are min-max scaled per time step (from the training beats) into [0, 1]
to match its sigmoid output; its score is the L1 error summed over the beat.
"""
from __future__ import annotations

import torch
from torch import nn

from .spec import MIN_RANGE, ReferenceConfig, ReferenceSpec, l1_sum_error  # noqa: F401 (importable from here)


class ReferenceAutoencoder(ReferenceSpec, nn.Module):
    """Implements ``ecgad.nn.protocol.Autoencoder`` with one member: min-max input scaling
    per time step, the L1 error summed over the beat, a score of that error alone
    (``ecgad.nn.spec.ReferenceSpec``)."""

    def __init__(self, config: ReferenceConfig | None = None):
        nn.Module.__init__(self)
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
        return self._decode(self._encode(x), x.shape[1])

    def _encode(self, x: torch.Tensor) -> torch.Tensor:
        h = self.encoder_cnn(x.unsqueeze(1)).transpose(1, 2)
        _, (last, _) = self.encoder_lstm(h)
        return self.to_latent(last[-1])

    def _decode(self, z: torch.Tensor, length: int) -> torch.Tensor:
        seq = self.from_latent(z).unsqueeze(1).repeat(1, self.steps, 1)
        out, _ = self.decoder_lstm(seq)
        y = self.decoder_cnn(out.transpose(1, 2)).squeeze(1)
        # The transposed convolutions give 146 samples for 140; crop the centre.
        start = (y.shape[1] - length) // 2
        return y[:, start:start + length]

    # ------------------------------------------------------------ the Autoencoder contract
    def parts(self) -> list[nn.Module]:
        return [self]

    def latent_codes(self, x: torch.Tensor) -> torch.Tensor:
        return self._encode(x).unsqueeze(0)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        return self._decode(codes[0], self.config.length)

    @staticmethod
    def loss(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return l1_sum_error(output, target).mean()
