"""The autoencoders (hybrid and reference), their configs, and the size/cost counters."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from ecgad.nn import ARCHITECTURES, build, config_dict
from ecgad.nn.flops import count_flops, count_parameters

ARCHS = sorted(ARCHITECTURES)


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("batch", [1, 7])
def test_output_has_the_input_shape(arch: str, batch: int) -> None:
    model = build(arch).eval()
    with torch.no_grad():
        out = model(torch.randn(batch, 140))
    assert out.shape == (batch, 140)
    assert torch.isfinite(out).all()


def test_reference_has_about_83k_parameters() -> None:
    assert 80_000 <= count_parameters(build("reference")) <= 86_000


def test_hybrid_costs_well_below_the_reference_per_beat() -> None:
    hybrid, reference = count_flops(build("hybrid")), count_flops(build("reference"))
    assert 0 < hybrid <= reference / 2.5  # three members; one member alone is about a ninth


def test_fusion_gate_is_a_per_feature_fraction() -> None:
    model = build("hybrid", {"features": 12}).eval()
    with torch.no_grad():
        latent, gate = model.encode(torch.randn(5, 140))
    assert gate.shape == (5, 12)
    assert latent.shape == (5, model.config.latent)
    assert ((gate > 0) & (gate < 1)).all()


def test_both_branches_receive_gradients() -> None:
    torch.manual_seed(0)
    model = build("hybrid").train()
    x = torch.randn(4, 140)
    ((model(x) - x) ** 2).mean().backward()
    assert len(model.members) == model.config.members
    for branch in (module for member in model.members for module in (member.cnn, member.lstm, member.fusion)):
        for name, p in branch.named_parameters():
            assert p.grad is not None and p.grad.abs().sum() > 0, name


@pytest.mark.parametrize(("arch", "config"), [
    ("hybrid", {}),
    ("hybrid", {"cnn_channels": 8, "lstm_chunk": 10, "lstm_hidden": 16, "features": 12, "latent": 4}),
    ("reference", {}),
    ("reference", {"latent": 16}),
])
def test_config_round_trips_through_build(arch: str, config: dict) -> None:
    model = build(arch, config)
    again = build(arch, config_dict(model))
    assert again.config == model.config
    assert {k: v.shape for k, v in again.state_dict().items()} == {k: v.shape for k, v in model.state_dict().items()}
    assert all(config_dict(model)[k] == v for k, v in config.items())


def test_unknown_architecture_is_refused() -> None:
    with pytest.raises(ValueError, match=r"unknown architecture 'transformer'.*hybrid"):
        build("transformer")


def test_unknown_config_key_is_refused() -> None:
    with pytest.raises(TypeError):
        build("hybrid", {"no_such_field": 1})


# ------------------------------------------------------------------ flops counter
class _Flat(nn.Module):
    """Wraps layers that take (n, channels, length) so they accept (n, length) beats."""

    def __init__(self, *layers: nn.Module):
        super().__init__()
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x.unsqueeze(1))


class _Sequence(nn.Module):
    def __init__(self, lstm: nn.LSTM, chunk: int):
        super().__init__()
        self.lstm, self.chunk = lstm, chunk

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        steps = x.reshape(x.shape[0], -1, self.chunk)
        return self.lstm(steps if self.lstm.batch_first else steps.transpose(0, 1))[0]


def test_flops_of_a_linear_layer() -> None:
    assert count_flops(nn.Linear(140, 10), length=140) == 2 * 140 * 10


def test_flops_of_convolutions_follow_their_output_and_input_lengths() -> None:
    # Conv1d(1, 4, 5, stride 2, padding 2) on 140 samples: 70 outputs per channel.
    assert count_flops(_Flat(nn.Conv1d(1, 4, 5, stride=2, padding=2))) == 2 * 4 * 70 * 1 * 5
    # ConvTranspose1d(1, 3, 4): every one of the 140 inputs feeds 4 outputs in each of 3 channels.
    assert count_flops(_Flat(nn.ConvTranspose1d(1, 3, 4))) == 2 * 140 * 3 * 4
    # Pooling and activations are not counted.
    assert count_flops(_Flat(nn.Conv1d(1, 4, 3), nn.ReLU(), nn.MaxPool1d(2))) == 2 * 4 * 138 * 3


@pytest.mark.parametrize("batch_first", [True, False])
def test_flops_of_an_lstm_count_gates_and_cell_update_per_step_and_layer(batch_first: bool) -> None:
    chunk, hidden, steps = 7, 16, 20
    lstm = nn.LSTM(chunk, hidden, num_layers=2, batch_first=batch_first)
    per_step = (2 * 4 * (chunk + hidden) * hidden + 4 * hidden) + (2 * 4 * (hidden + hidden) * hidden + 4 * hidden)
    assert count_flops(_Sequence(lstm, chunk), length=chunk * steps) == steps * per_step


def test_flops_are_per_beat_and_leave_the_model_as_it_was() -> None:
    model = build("hybrid").train()
    flops = count_flops(model)
    assert model.training
    assert all(not m._forward_hooks for m in model.modules())
    assert count_flops(model.eval()) == flops
    # A beat of twice the length costs more in every layer that runs along it.
    assert count_flops(build("hybrid", {"length": 280}), length=280) > flops


def test_count_parameters_counts_weights_and_biases() -> None:
    assert count_parameters(nn.Linear(10, 3)) == 10 * 3 + 3
    assert count_parameters(nn.LSTM(4, 5)) == 4 * 5 * (4 + 5) + 2 * 4 * 5
