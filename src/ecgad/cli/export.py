"""``ecgad export onnx``: a model's network as an ONNX graph, for scoring without torch."""
from __future__ import annotations

from pathlib import Path

import click

from .common import fail


@click.group()
def export() -> None:
    """Write a model in another format."""


@export.command("onnx")
@click.option("--model", "model_path", type=click.Path(path_type=Path, dir_okay=False),
              help="A .safetensors model file, beat or recording model (default: the shipped beat model).")
@click.option("--out", "out", type=click.Path(path_type=Path, dir_okay=False),
              help="The .onnx file to write (default: beside the model, where loading it looks: "
                   "MODEL.onnx for MODEL.safetensors).")
def onnx(model_path: Path | None, out: Path | None) -> None:
    """Export the model's members as one ONNX graph (beats in, latent codes and reconstruction out;
    any number of beats), tied to the model file by its model id and a digest of its weights.
    With it beside the model file, scoring runs in onnxruntime without torch. Needs ecgad[train]."""
    from importlib.resources import files

    from ecgad.onnx_runtime import importable, twin_path

    missing = [m for m in ("torch", "onnxscript", "onnxruntime") if not importable(m)]
    if missing:
        fail(f"exporting needs {', '.join(missing)}: pip install 'ecgad[train]'")
    import numpy as np

    from ecgad.detector import SHIPPED_MODEL, Detector
    from ecgad.onnx_export import export as export_onnx
    from ecgad.onnx_export import max_difference

    model_path = model_path or Path(str(files("ecgad") / "assets" / SHIPPED_MODEL))
    out = out or twin_path(model_path)
    if out.suffix != ".onnx":
        fail(f"{out}: the ONNX file's name must end in .onnx")
    try:
        detector = Detector.load(model_path, backend="torch")
    except (OSError, ValueError) as e:
        fail(str(e))
    try:
        export_onnx(detector, out)
    except OSError as e:
        fail(f"{out}: {e}")
    beats = np.random.default_rng(0).normal(size=(64, detector.length))
    difference = max_difference(detector, out, detector._to_model(beats))
    click.echo(f"wrote {out} (model {detector.meta.get('model_id')}, {detector.n_members} member(s)); "
               f"largest difference from torch on 64 random beats: {difference:.1e}")
    if out.resolve() != twin_path(model_path).resolve():
        click.echo(f"note: loading {model_path} looks for {twin_path(model_path).name} beside it", err=True)
