"""Model size and cost: parameters and floating-point operations per beat.

``count_flops`` runs one forward pass on a ``(1, length)`` zero beat with forward
hooks on the layers that do the arithmetic, and counts each multiply-add as two
operations, from the input and output shapes actually seen:

- ``nn.Conv1d``: ``out_channels x out_length x in_channels/groups x kernel`` multiply-adds;
- ``nn.ConvTranspose1d``: ``in_channels x in_length x out_channels/groups x kernel``
  multiply-adds (each input sample is spread over ``kernel`` outputs per channel);
- ``nn.Linear``: ``in_features x out_features`` multiply-adds per row;
- ``nn.LSTM``: per time step, per layer and per direction, the four gates
  ``4 x (input + hidden) x hidden`` multiply-adds, plus the elementwise cell update
  ``c = f*c + i*g`` and ``h = o*tanh(c)``: 4 operations per hidden unit (with
  ``proj_size``, also the ``hidden x proj`` projection of ``h``).

Not counted: bias additions, activation functions (ReLU, GELU, sigmoid, tanh,
including those inside the LSTM), pooling, upsampling, padding, reshapes,
dropout and the elementwise arithmetic outside these layers (for example the
hybrid model's gated sum). These are small beside the matrix products here,
and their real cost depends more on memory traffic than on arithmetic.
"""
from __future__ import annotations

import torch
from torch import nn


def count_parameters(model: nn.Module) -> int:
    """Number of parameters (weights and biases, trainable or not)."""
    return sum(p.numel() for p in model.parameters())


def _conv1d(module: nn.Conv1d, inputs: tuple, output: torch.Tensor) -> int:
    batch, out_channels, out_length = output.shape[0], output.shape[-2], output.shape[-1]
    if output.dim() == 2:  # unbatched (channels, length)
        batch = 1
    macs = out_channels * out_length * (module.in_channels // module.groups) * module.kernel_size[0]
    return 2 * batch * macs


def _conv_transpose1d(module: nn.ConvTranspose1d, inputs: tuple, output: torch.Tensor) -> int:
    x = inputs[0]
    batch = x.shape[0] if x.dim() == 3 else 1
    in_channels, in_length = x.shape[-2], x.shape[-1]
    macs = in_channels * in_length * (module.out_channels // module.groups) * module.kernel_size[0]
    return 2 * batch * macs


def _linear(module: nn.Linear, inputs: tuple, output: torch.Tensor) -> int:
    rows = output.numel() // module.out_features
    return 2 * rows * module.in_features * module.out_features


def _lstm(module: nn.LSTM, inputs: tuple, output) -> int:
    x = inputs[0]
    if isinstance(x, nn.utils.rnn.PackedSequence):
        raise TypeError("count_flops does not handle packed sequences")
    if x.dim() == 2:  # unbatched (steps, features)
        batch, steps = 1, x.shape[0]
    elif module.batch_first:
        batch, steps = x.shape[0], x.shape[1]
    else:
        steps, batch = x.shape[0], x.shape[1]
    hidden = module.hidden_size
    out_size = module.proj_size or hidden  # the size of h fed back (and passed up)
    directions = 2 if module.bidirectional else 1
    per_step = 0
    for layer in range(module.num_layers):
        layer_input = module.input_size if layer == 0 else out_size * directions
        flops = 2 * 4 * (layer_input + out_size) * hidden  # the four gates
        flops += 4 * hidden  # f*c + i*g (3) and o*tanh(c) (1)
        if module.proj_size:
            flops += 2 * hidden * module.proj_size
        per_step += directions * flops
    return batch * steps * per_step


_COUNTERS = {
    nn.Conv1d: _conv1d,
    nn.ConvTranspose1d: _conv_transpose1d,
    nn.Linear: _linear,
    nn.LSTM: _lstm,
}


def _counter(module: nn.Module):
    for kind, counter in _COUNTERS.items():
        if isinstance(module, kind):
            return counter
    return None


def count_flops(model: nn.Module, length: int = 140) -> int:
    """Floating-point operations (multiply-adds x 2) for one beat of ``length`` samples.

    Counted from one forward pass on a ``(1, length)`` zero input; see the module
    docstring for what is and is not counted. The model's train/eval mode is kept.
    """
    total = 0

    def hook(counter):
        def record(module, inputs, output):
            nonlocal total
            total += counter(module, inputs, output)
        return record

    handles = []
    was_training = model.training
    try:
        for module in model.modules():
            counter = _counter(module)
            if counter is not None:
                handles.append(module.register_forward_hook(hook(counter)))
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, length))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return int(total)


__all__ = ["count_flops", "count_parameters"]
