"""The hybrid's network rewritten for onnxruntime: the same function and the same weights, in the
operators a CPU runs fastest (used by ``ecgad.onnx_export``; needs torch).

Measured on the exported members as they are (onnxruntime's profiler, one thread, 4096 beats):
the 1-D convolutions of one input channel took 39 % of the time, the exact GELU, exported as
Div, Erf, Add and Mul, 31 %, the three LSTMs 25 %. Here

* each convolution is a matrix product over its windows, channels last: the windows are a
  ``Gather`` of fixed indices, their weights a ``(kernel * in, out)`` matrix; the first layer
  reads the same beat for every member, so it is one product for all of them;
* the members' layers after the LSTMs are batched matrix products over a members axis (one
  operator for all members, not one per member);
* GELU is ONNX's own ``Gelu`` operator (opset 20), one kernel, not four.

The LSTMs stay ONNX ``LSTM`` operators, one per member. The numbers equal the members' own to
float32 rounding (``tests/test_onnx.py``: 1e-4 against torch).
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812


def _windows(length: int, kernel: int, stride: int, padding: int) -> tuple[torch.Tensor, int]:
    """Indices ``(out, kernel)`` into a signal padded by ``padding`` on both sides: a convolution's windows."""
    out = (length + 2 * padding - kernel) // stride + 1
    return torch.arange(out)[:, None] * stride + torch.arange(kernel)[None, :], out


class FastHybrid(nn.Module):
    """``beats (n, length) -> (codes (members, n, latent), reconstruction (n, length))`` of a
    ``HybridAutoencoder``, as ``latent_codes`` and ``decode`` give them."""

    def __init__(self, model):
        super().__init__()
        members = list(model.members)
        self.members = len(members)
        self.length = model.config.length
        self.lstms = nn.ModuleList(m.lstm.lstm for m in members)
        self.chunk, self.pad = members[0].lstm.chunk, members[0].lstm.pad
        convs = [[layer for layer in m.cnn.net if isinstance(layer, nn.Conv1d)] for m in members]
        length = self.length
        self.convs = []
        for i, layer in enumerate(convs[0]):
            (kernel,), (stride,), (padding,) = layer.kernel_size, layer.stride, layer.padding
            index, length = _windows(length, kernel, stride, padding)
            # (members, kernel * in, out): windows (n, out_len, kernel, in) flattened against it
            weight = torch.stack([c[i].weight.detach().permute(2, 1, 0).reshape(-1, c[i].out_channels)
                                  for c in convs])  # (members, kernel * in, out)
            bias = torch.stack([c[i].bias.detach()[None, :] for c in convs])
            if i == 0:  # its bias is one more weight row, read against a 1 after the padded beat
                index = torch.cat([index, torch.full((len(index), 1), self.length + 2 * padding)], dim=1)
                weight, bias = torch.cat([weight, bias], dim=1), torch.zeros_like(bias)
            self.register_buffer(f"index{i}", index.reshape(-1))
            self.register_buffer(f"weight{i}", weight)
            self.register_buffer(f"bias{i}", bias)
            self.convs.append((padding, kernel * layer.in_channels + (i == 0)))
        channels = convs[0][-1].out_channels
        # the CNN head reads (channels, length) flattened channel by channel; here (length, channels)
        self.register_buffer("cnn_head", torch.stack([
            m.cnn.head.weight.detach().reshape(-1, channels, length).permute(2, 1, 0).reshape(channels * length, -1)
            for m in members]))
        self.register_buffer("cnn_head_bias", torch.stack([m.cnn.head.bias.detach()[None, :] for m in members]))

        def linear(layers):
            return (torch.stack([layer.weight.detach().T for layer in layers]),
                    torch.stack([layer.bias.detach()[None, :] for layer in layers]))

        for name, layers in {"lstm_head": [m.lstm.head for m in members],
                             "gate": [m.fusion.gate for m in members],
                             "to_latent": [m.to_latent[-1] for m in members],
                             "decoder0": [m.decoder[0] for m in members],
                             "decoder1": [m.decoder[2] for m in members],
                             "decoder2": [m.decoder[4] for m in members]}.items():
            weight, bias = linear(layers)
            self.register_buffer(name, weight)
            self.register_buffer(name + "_bias", bias)

    def _dense(self, x: torch.Tensor, name: str) -> torch.Tensor:
        return torch.matmul(x, getattr(self, name)) + getattr(self, name + "_bias")

    def forward(self, beats: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n = beats.shape[0]
        # (n, signal) for the first layer, (members, n, signal, channels) after: channels last, and
        # every product a (members, n * positions, kernel * in) by (members, kernel * in, out) one
        h = torch.cat([F.pad(beats, (self.convs[0][0], self.convs[0][0])), torch.ones_like(beats[:, :1])], dim=1)
        windows = torch.index_select(h, 1, self.index0).reshape(1, -1, self.convs[0][1])  # every member's
        for i, (padding, width) in enumerate(self.convs):
            if i:
                h = F.pad(h.reshape(self.members, n, -1, h.shape[-1]), (0, 0, padding, padding))
                windows = torch.index_select(h, 2, getattr(self, f"index{i}")).reshape(self.members, -1, width)
            h = torch.matmul(windows, getattr(self, f"weight{i}"))
            h = F.gelu(h + getattr(self, f"bias{i}") if i else h)
        cnn = self._dense(h.reshape(self.members, n, -1), "cnn_head")  # (members, n, features)
        x = F.pad(beats.unsqueeze(1), (0, self.pad), mode="replicate").squeeze(1) if self.pad else beats
        steps = x.reshape(n, -1, self.chunk)
        lstm = torch.stack([lstm(steps)[1][0][-1] for lstm in self.lstms])  # (members, n, hidden)
        lstm = self._dense(lstm, "lstm_head")
        gate = torch.sigmoid(self._dense(torch.cat([cnn, lstm], dim=2), "gate"))
        fused = gate * cnn + (1 - gate) * lstm
        codes = self._dense(F.gelu(fused), "to_latent")
        h = F.gelu(self._dense(codes, "decoder0"))
        h = F.gelu(self._dense(h, "decoder1"))
        return codes, self._dense(h, "decoder2").mean(dim=0)
