"""Every architecture implements the Detector's contract (ecgad.nn.protocol.Autoencoder)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from ecgad.nn import ARCHITECTURES, Autoencoder, build

ARCHS = sorted(ARCHITECTURES)
N = 6


@pytest.mark.parametrize("arch", ARCHS)
def test_every_architecture_implements_the_contract(arch: str) -> None:
    model = build(arch)
    assert isinstance(model, Autoencoder)
    assert model.default_stop_on in ("error", "auc")
    assert model.default_latent_neighbours >= 0
    assert model.latent_in_score or model.default_latent_neighbours == 0


@pytest.mark.parametrize("arch", ARCHS)
def test_codes_and_decode_have_the_declared_shapes_and_make_the_reconstruction(arch: str) -> None:
    torch.manual_seed(0)
    model = build(arch).eval()
    cfg = model.config
    x = torch.randn(N, cfg.length)
    with torch.no_grad():
        codes = model.latent_codes(x)
        assert codes.shape == (len(model.parts()), N, cfg.latent)
        recon = model.decode(codes)
        assert recon.shape == (N, cfg.length)
        torch.testing.assert_close(recon, model(x), rtol=0, atol=0)


@pytest.mark.parametrize("arch", ARCHS)
def test_each_part_reconstructs_on_its_own(arch: str) -> None:
    model = build(arch, {"members": 2} if arch == "hybrid" else None).eval()
    x = torch.randn(N, model.config.length)
    with torch.no_grad():
        outs = [part(x) for part in model.parts()]
        assert all(out.shape == (N, model.config.length) for out in outs)
        torch.testing.assert_close(torch.stack(outs).mean(dim=0), model(x))


@pytest.mark.parametrize("arch", ARCHS)
def test_error_is_per_beat_alike_in_numpy_and_torch_and_the_loss_is_a_scalar(arch: str) -> None:
    model = build(arch)
    rng = np.random.default_rng(0)
    recon, target = rng.normal(size=(2, N, model.config.length)).astype(np.float32)
    error = model.error(recon, target)
    assert error.shape == (N,) and np.all(error > 0)
    np.testing.assert_allclose(model.error(torch.from_numpy(recon), torch.from_numpy(target)).numpy(), error,
                               rtol=1e-6)
    assert model.error(target, target).max() == 0
    loss = model.loss(torch.from_numpy(recon), torch.from_numpy(target))
    assert loss.shape == () and loss.item() > 0


@pytest.mark.parametrize("arch", ARCHS)
def test_input_scaling_is_named_and_round_trips(arch: str) -> None:
    model = build(arch)
    rng = np.random.default_rng(1)
    normals = rng.normal(size=(20, model.config.length)).astype(np.float32)
    scaling = model.fit_scaling(normals)
    assert set(scaling) == set(model.scaling_names)
    assert all(values.shape == (model.config.length,) for values in scaling.values())
    scaled = model.to_model(normals, scaling)
    assert scaled.shape == normals.shape
    np.testing.assert_allclose(model.from_model(scaled, scaling), normals, rtol=1e-5, atol=1e-5)


def test_the_reference_scales_each_time_step_into_its_sigmoid_range() -> None:
    model = build("reference")
    normals = np.random.default_rng(2).normal(size=(20, model.config.length)).astype(np.float32)
    scaled = model.to_model(normals, model.fit_scaling(normals))
    np.testing.assert_allclose(scaled.min(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(scaled.max(axis=0), 1, atol=1e-6)
