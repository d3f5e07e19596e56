"""The hybrid autoencoder: CNN and LSTM encoders in parallel, fused by a learned gate.

    beat (140) ─┬─ CNN branch: strided convolutions ─ local wave shape ──┐
                │                                                       gate ─ latent ─ decoder ─ beat
                └─ LSTM branch: the beat as a sequence of short chunks ─┘

The gate is a per-feature sigmoid computed from both branches, so the model
learns, feature by feature and beat by beat, how much to trust wave shape
versus temporal order. The LSTM reads the beat in chunks of a few samples: the
order of the P wave, QRS and T wave is kept while the number of sequential
steps (the cost that does not parallelise) stays small.

The model holds a few such autoencoders ("members"), trained independently from
different seeds; its reconstruction is their mean. One small autoencoder's
early-stopping point is noisy on ECG5000; the mean of a few is steadier, and three
members still cost about a third of the reference design's FLOPs.
"""
from __future__ import annotations

import torch
from torch import nn

from .spec import HybridConfig, HybridSpec


class CnnBranch(nn.Module):
    def __init__(self, cfg: HybridConfig):
        super().__init__()
        c = cfg.cnn_channels
        self.net = nn.Sequential(
            nn.Conv1d(1, c, 7, stride=2, padding=3), nn.GELU(),
            nn.Conv1d(c, 2 * c, 5, stride=2, padding=2), nn.GELU(),
            nn.Conv1d(2 * c, 2 * c, 5, stride=2, padding=2), nn.GELU(),
        )
        with torch.no_grad():
            flat = self.net(torch.zeros(1, 1, cfg.length)).numel()
        self.head = nn.Linear(flat, cfg.features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.net(x.unsqueeze(1)).flatten(1))


class LstmBranch(nn.Module):
    def __init__(self, cfg: HybridConfig):
        super().__init__()
        self.chunk = cfg.lstm_chunk
        self.pad = (-cfg.length) % cfg.lstm_chunk
        self.lstm = nn.LSTM(cfg.lstm_chunk, cfg.lstm_hidden, batch_first=True)
        self.head = nn.Linear(cfg.lstm_hidden, cfg.features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pad:
            x = nn.functional.pad(x, (0, self.pad), mode="replicate")
        steps = x.reshape(x.shape[0], -1, self.chunk)
        _, (h, _) = self.lstm(steps)
        return self.head(h[-1])


class GatedFusion(nn.Module):
    """g = sigmoid(W[cnn; lstm] + b); fused = g * cnn + (1 - g) * lstm, feature by feature."""

    def __init__(self, features: int):
        super().__init__()
        self.gate = nn.Linear(2 * features, features)

    def forward(self, cnn: torch.Tensor, lstm: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        g = torch.sigmoid(self.gate(torch.cat([cnn, lstm], dim=1)))
        return g * cnn + (1 - g) * lstm, g


class HybridMember(nn.Module):
    """One CNN ∥ LSTM autoencoder."""

    def __init__(self, cfg: HybridConfig):
        super().__init__()
        self.cnn = CnnBranch(cfg)
        self.lstm = LstmBranch(cfg)
        self.fusion = GatedFusion(cfg.features)
        self.to_latent = nn.Sequential(nn.GELU(), nn.Dropout(cfg.dropout), nn.Linear(cfg.features, cfg.latent))
        self.decoder = nn.Sequential(
            nn.Linear(cfg.latent, cfg.decoder_hidden), nn.GELU(),
            nn.Linear(cfg.decoder_hidden, cfg.decoder_hidden), nn.GELU(),
            nn.Linear(cfg.decoder_hidden, cfg.length),
        )

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Latent code and the fusion gate (1 = all CNN, 0 = all LSTM) for ``(n, length)`` beats."""
        fused, gate = self.fusion(self.cnn(x), self.lstm(x))
        return self.to_latent(fused), gate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encode(x)[0])


class HybridAutoencoder(HybridSpec, nn.Module):
    """The members' mean reconstruction; implements ``ecgad.nn.protocol.Autoencoder``. Input
    scaling, error measure and the score's defaults: ``ecgad.nn.spec.HybridSpec``."""

    def __init__(self, config: HybridConfig | None = None):
        nn.Module.__init__(self)
        cfg = self.config = config or HybridConfig()
        if cfg.members < 1:
            raise ValueError("a hybrid autoencoder needs at least one member")
        self.members = nn.ModuleList(HybridMember(cfg) for _ in range(cfg.members))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The first member's latent code ``(n, latent)`` and fusion gate ``(n, features)``
        (1 = all CNN, 0 = all LSTM) for ``(n, length)`` beats."""
        return self.members[0].encode(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if len(self.members) == 1:
            return self.members[0](x)
        return torch.stack([member(x) for member in self.members]).mean(dim=0)

    # ------------------------------------------------------------ the Autoencoder contract
    def parts(self) -> list[nn.Module]:
        return list(self.members)

    def latent_codes(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([member.encode(x)[0] for member in self.members])

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        return torch.stack([member.decoder(c) for member, c in zip(self.members, codes, strict=True)]).mean(dim=0)

    @staticmethod
    def loss(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return ((output - target) ** 2).mean()
