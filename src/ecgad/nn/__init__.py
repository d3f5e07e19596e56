"""Autoencoders that reconstruct heartbeats. Each has a dataclass config saved as JSON and
implements the Detector's contract, :class:`ecgad.nn.protocol.Autoencoder`."""
from __future__ import annotations

from dataclasses import asdict

from torch import nn

from .hybrid import HybridAutoencoder, HybridConfig
from .protocol import Autoencoder
from .reference import ReferenceAutoencoder, ReferenceConfig

# name -> (config dataclass, model class); every model class implements Autoencoder
ARCHITECTURES: dict[str, tuple[type, type]] = {
    "hybrid": (HybridConfig, HybridAutoencoder),
    "reference": (ReferenceConfig, ReferenceAutoencoder),
}


def build(arch: str, config: dict | None = None) -> Autoencoder:
    """Build an untrained model from its architecture name and config dict."""
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; known: {', '.join(ARCHITECTURES)}")
    config_cls, model_cls = ARCHITECTURES[arch]
    return model_cls(config_cls(**(config or {})))


def config_dict(model: nn.Module) -> dict:
    return asdict(model.config)


__all__ = ["ARCHITECTURES", "Autoencoder", "HybridAutoencoder", "HybridConfig", "ReferenceAutoencoder",
           "ReferenceConfig", "build", "config_dict"]
