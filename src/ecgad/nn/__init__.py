"""Autoencoders that reconstruct heartbeats. Each has a dataclass config saved as JSON and
implements the Detector's contract, :class:`ecgad.nn.protocol.Autoencoder`.

Importing this package does not import torch: the configs and what scoring needs besides the
network are in :mod:`ecgad.nn.spec`; the networks (``build``, the model classes) import torch
when first asked for."""
from __future__ import annotations

from dataclasses import asdict
from importlib import import_module

from .spec import SPECS, HybridConfig, ReferenceConfig


class _Architectures(dict):
    """name -> (config dataclass, model class); a model class given as "module:Class" is
    imported (and so torch) only when looked up. Every model class implements Autoencoder."""

    def __getitem__(self, name: str) -> tuple[type, type]:
        config_cls, model_cls = super().__getitem__(name)
        if isinstance(model_cls, str):
            module, _, cls = model_cls.partition(":")
            model_cls = getattr(import_module(module, __name__), cls)
            super().__setitem__(name, (config_cls, model_cls))
        return config_cls, model_cls

    def items(self):
        return [(name, self[name]) for name in self]

    def values(self):
        return [self[name] for name in self]


ARCHITECTURES: dict[str, tuple[type, type]] = _Architectures({
    "hybrid": (HybridConfig, ".hybrid:HybridAutoencoder"),
    "reference": (ReferenceConfig, ".reference:ReferenceAutoencoder"),
})


def build(arch: str, config: dict | None = None):
    """Build an untrained model (a torch module) from its architecture name and config dict."""
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; known: {', '.join(ARCHITECTURES)}")
    config_cls, model_cls = ARCHITECTURES[arch]
    return model_cls(config_cls(**(config or {})))


def architecture_spec(arch: str, config: dict | None = None):
    """What scoring needs of an architecture besides its network (``ecgad.nn.spec``), without
    torch where the architecture has a spec class; else (an architecture registered in
    ``ARCHITECTURES`` only) the untrained network itself, which carries the same attributes."""
    if arch in SPECS and arch in ARCHITECTURES:
        config_cls, spec_cls = SPECS[arch]
        return spec_cls(config_cls(**(config or {})))
    return build(arch, config)


def config_dict(model) -> dict:
    """A model's (or spec's) config as the JSON the model file stores."""
    return asdict(model.config)


_LAZY = {"Autoencoder": ".protocol", "HybridAutoencoder": ".hybrid", "ReferenceAutoencoder": ".reference"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["ARCHITECTURES", "Autoencoder", "HybridAutoencoder", "HybridConfig", "ReferenceAutoencoder",
           "ReferenceConfig", "architecture_spec", "build", "config_dict"]
