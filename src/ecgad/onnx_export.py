"""``ecgad export onnx``: a Detector's members as one ONNX graph (needs torch and onnxscript,
``ecgad[train]``). What the graph holds and how it is tied to its model file: ``ecgad.onnx_runtime``.

The exporter is torch's ``torch.export``-based one (``dynamo=True``): with torch 2.13 it turns
``nn.LSTM`` into ONNX's own ``LSTM`` operator, which onnxruntime runs natively, and the
TorchScript-based one (``dynamo=False``) is deprecated. The beat length is fixed, the batch
dynamic. Opset 20. The hybrid is exported as ``ecgad.onnx_graph.FastHybrid``, the same function
and weights in the operators onnxruntime runs fastest; another architecture as it is.
"""
from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np

from .onnx_runtime import CODES, FORMAT, INPUT, RECONSTRUCTION, weights_digest

OPSET = 20  # the first with ONNX's own Gelu operator
MAX_BATCH = 1 << 20  # the batch dimension's upper bound given to torch.export (any n up to it)


def export(det, out: str | Path) -> Path:
    """Write ``det``'s (a fitted torch-backed ``Detector``'s) network to ``out`` as ONNX; returns
    ``out``. Its metadata: format, model id, weights digest, arch, length, members, latent."""
    import torch

    from .nn.hybrid import HybridAutoencoder
    from .onnx_graph import FastHybrid

    # its notes that torchvision's operators are not registered: we have none
    logging.getLogger("torch.onnx._internal.exporter._registration").setLevel(logging.ERROR)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    model = det.model.eval()

    class Network(torch.nn.Module):
        """beats -> (codes, reconstruction): the graph's inputs and outputs."""

        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, beats: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            codes = self.model.latent_codes(beats)
            return codes, self.model.decode(codes)

    network = FastHybrid(model) if isinstance(model, HybridAutoencoder) else Network()

    example = torch.zeros(2, det.length)
    batch = torch.export.Dim("batch", min=1, max=MAX_BATCH)
    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        warnings.simplefilter("ignore")  # the exporter's notes on its own internals
        program = torch.onnx.export(network.eval(), (example,), dynamo=True, opset_version=OPSET,
                                    input_names=[INPUT], output_names=[CODES, RECONSTRUCTION],
                                    dynamic_shapes=({0: batch},), verbose=False, external_data=False)
    weights = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    program.model.metadata_props.update({
        "ecgad.format": FORMAT,
        "ecgad.model_id": str(det.meta.get("model_id") or ""),
        "ecgad.weights_sha256": weights_digest(weights),
        "ecgad.arch": det.arch,
        "ecgad.length": str(det.length),
        "ecgad.members": str(det.n_members),
        "ecgad.latent": str(det.spec.config.latent),
    })
    program.save(str(out), external_data=False)
    return out


def max_difference(det, path: str | Path, beats: np.ndarray) -> float:
    """Largest absolute difference between torch's and onnxruntime's codes and reconstructions of
    ``(n, length)`` model-space ``beats``: the check ``ecgad export onnx`` prints."""
    import onnxruntime as ort
    import torch

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = np.ascontiguousarray(beats, dtype=np.float32)
    codes, recon = session.run([CODES, RECONSTRUCTION], {INPUT: x})
    with torch.inference_mode():
        t_codes = det.model.latent_codes(torch.from_numpy(x))
        t_recon = det.model.decode(t_codes)
    return float(max(np.abs(codes - t_codes.numpy()).max(), np.abs(recon - t_recon.numpy()).max()))
