"""``ecgad score``: score the beats of a beat file."""
from __future__ import annotations

from pathlib import Path

import click

from .common import fail


@click.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--model", "model_path", type=click.Path(path_type=Path, dir_okay=False),
              help="A .safetensors model file (default: the shipped model).")
@click.option("--labelled", is_flag=True,
              help="The first column is each beat's label (UCR files, or a file trained on with --normal-label): "
                   "not scored, shown with each beat's verdict.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
def score(file: Path, model_path: Path | None, labelled: bool, as_json: bool) -> None:
    """Score the beats in FILE, one beat per row (CSV, TSV, whitespace or JSON).
    Beats are numbered from 1, in file order. When the beats, as a group, do not look like the
    model's training data (at least 5 beats), a warning line goes to stderr, and to "warnings"
    with --json."""
    import json

    from ecgad.data.beatfile import read_beats, read_named
    from ecgad.detector import load_detector
    from ecgad.own_beats import label_info

    try:
        detector = load_detector(model_path)  # its messages name the model file
    except (OSError, ValueError) as e:
        fail(str(e))
    try:
        beats, labels = read_named(file, name=str(file)) if labelled else (read_beats(file, name=str(file)), None)
        verdicts, warnings = detector.predict_with_data_fit(beats)  # warnings: like the training data?
    except (OSError, ValueError) as e:
        fail(f"{file}: {e}" if str(file) not in str(e) else str(e))
    for warning in warnings:
        click.echo(f"warning: {warning['message']}", err=True)
    if as_json:
        rows = [v.as_dict() for v in verdicts]
        if labels is not None:  # as the file names them; whole numbers stay numbers
            rows = [{**row, "label": int(label) if label.lstrip("-").isdigit() else label}
                    for row, label in zip(rows, labels, strict=True)]
        click.echo(json.dumps({"model": detector.model_info(), "warnings": warnings, "beats": rows}))
        return
    click.echo(f"model {detector.meta.get('model_id')}  threshold {detector.threshold:.4f}")
    if labels is not None:
        # A model trained on its own file knows its labels; ECG5000 models name their classes.
        from ecgad.report.figures import CLASS_NAMES  # Plotly comes with it: only for labelled files

        ecg5000 = label_info(detector.meta) is None
        shown = [f"{label} ({CLASS_NAMES[int(label)]})" if ecg5000 and label in {"1", "2", "3", "4", "5"} else label
                 for label in labels]
        width = max(5, *map(len, shown))
        click.echo(f"{'beat':>6}  {'label':<{width}}  {'score':>10}  verdict")
        for v, label in zip(verdicts, shown, strict=True):
            click.echo(f"{v.index + 1:>6}  {label:<{width}}  {v.score:>10.4f}  {v.describe()}")
    else:
        click.echo(f"{'beat':>6}  {'score':>10}  verdict")
        for v in verdicts:
            click.echo(f"{v.index + 1:>6}  {v.score:>10.4f}  {v.describe()}")
    n = sum(v.is_anomaly for v in verdicts)
    click.echo(f"{n} of {len(verdicts)} beats anomalous")
