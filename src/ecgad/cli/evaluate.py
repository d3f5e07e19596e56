"""``ecgad evaluate``: metrics over seeds, on ECG5000 or on one's own labelled beat files."""
from __future__ import annotations

from pathlib import Path

import click

from ecgad.data.ecg5000 import PROTOCOLS

from .common import ARCH_CHOICE, data_dir_option, fail, many_values_option, require_training


def _seeds(tokens: list[str]) -> tuple[int, ...]:
    """The seeds given (0 when none), each a whole number >= 0, none twice."""
    seeds = []
    for token in tokens:
        if not token.isdigit():
            raise click.BadParameter(f"{token!r} is not a seed (a whole number >= 0)")
        seeds.append(int(token))
    if len(set(seeds)) != len(seeds):
        raise click.BadParameter(f"seeds repeat: {' '.join(map(str, seeds))}")
    return tuple(seeds) or (0,)


def _seed_table(result: dict) -> str:
    columns = [("seed", "seed", "{}"), ("model", "model_id", "{}"), ("ROC AUC", "roc_auc", "{:.4f}"),
               ("PR AUC", "pr_auc", "{:.4f}"), ("accuracy", "accuracy", "{:.4f}"),
               ("precision", "precision", "{:.4f}"), ("recall", "recall", "{:.4f}"), ("F1", "f1", "{:.4f}"),
               ("threshold", "threshold", "{:.4g}"), ("train s", "train_seconds", "{:.1f}")]

    def cell(fmt: str, value) -> str:
        return "-" if value is None or value == "" else fmt.format(value)

    rows = [[title for title, _, _ in columns]]
    rows += [[cell(fmt, r[key]) for _, key, fmt in columns] for r in result["per_seed"]]
    if len(result["per_seed"]) > 1:
        rows.append(["mean", ""] + [cell(fmt, result[key]) for _, key, fmt in columns[2:9]] + [""])
        rows.append(["std", ""] + [cell(fmt, result[f"{key}_std"]) for _, key, fmt in columns[2:9]] + [""])
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
    return "\n".join("  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(row, widths, strict=True)))
                     for row in rows)


@click.command("evaluate")
@click.option("--model", "model_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Saved model to evaluate. Without it, a model is trained for each seed.")
@data_dir_option
@click.option("--protocol", type=click.Choice(PROTOCOLS),
              help="ECG5000 (required there): ucr: official TRAIN/TEST; resplit: stratified 60/20/20 of all beats.")
@click.option("--test", "test_file", type=click.Path(path_type=Path, dir_okay=False),
              help="With --data TRAIN_FILE (one's own labelled beats): the labelled test file, scored only.")
@click.option("--normal-label", metavar="LABEL", help="With --test: the label of the normal beats (e.g. N or 1).")
@click.option("--validation-fraction", type=click.FloatRange(0.05, 0.8), default=0.2, show_default=True,
              help="With --test: the share of TRAIN_FILE's normal beats held out for validation.")
@many_values_option("--seeds", _seeds, metavar="SEED...",
                    help="Seeds of the splits (and of training), e.g. --seeds 0 1 2 3 4. Default: 0.")
@click.option("--arch", type=ARCH_CHOICE,
              help="Architecture to train (default hybrid); not with --model.")
@click.option("--epochs", type=click.IntRange(min=1), help="Most training epochs; not with --model.")
@click.option("--report", "report_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Folder to write report.html and metrics.json into.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
def evaluate_command(model_path: Path | None, data_dir: Path, protocol: str | None, test_file: Path | None,
                     normal_label: str | None, validation_fraction: float, seeds: tuple[int, ...],
                     arch: str | None, epochs: int | None, report_dir: Path | None, as_json: bool) -> None:
    """Evaluate a detector on ECG5000 (--protocol), or on one's own labelled beats (--data
    TRAIN_FILE --test TEST_FILE --normal-label LABEL): mean and spread of its metrics over seeds.

    Anomaly is the positive class. A saved model is refused on test parts that
    hold its own training beats. On one's own files a model is trained per seed on
    TRAIN_FILE (model size chosen on its validation part); TEST_FILE is only scored.
    """
    require_training("evaluate")
    import json

    from ecgad import evaluate
    from ecgad.train import TrainConfig

    if model_path is not None and (arch is not None or epochs is not None):
        fail("--arch and --epochs set up training; they do not apply to a saved --model")
    own = test_file is not None or data_dir.is_file()
    if own:
        problem = _own_files_problem(model_path, data_dir, protocol, test_file, normal_label, arch)
        if problem:
            fail(problem)
    elif protocol is None:
        fail("--protocol (ucr or resplit) is needed to evaluate on ECG5000; for one's own labelled beats "
             "give --data TRAIN_FILE --test TEST_FILE --normal-label LABEL")
    elif normal_label is not None:
        fail("--normal-label goes with --test (one's own labelled beats), not with ECG5000's --protocol")
    train_config = TrainConfig(epochs=epochs) if epochs is not None else None
    try:
        if own:
            evaluation = evaluate.run_file(data_dir, test_file, normal_label, seeds, validation_fraction,
                                           max_epochs=epochs, progress=True)
        else:
            evaluation = evaluate.run(data_dir, protocol, seeds, model_path=model_path, arch=arch or "hybrid",
                                      train_config=train_config, progress=True)
        report = evaluate.write_report(evaluation, report_dir) if report_dir is not None else None
    except (OSError, ValueError) as e:
        fail(str(e))
    result = evaluate.summary(evaluation)
    for note in evaluation.notes:
        click.echo(f"warning: {note}", err=True)
    if as_json:
        click.echo(json.dumps(result))
    else:
        source = f"model {model_path}" if model_path else f"{evaluation.arch} trained per seed"
        if evaluation.files is not None:
            f = evaluation.files
            labels = ", ".join(f"{name} {n}" for name, n in f["test_labels"].items())
            click.echo(f"trained on {f['train']} (normal label {f['normal_label']!r}), {source}; "
                       f"tested on {f['test']}: {result['n_test']} beats ({labels}), anomaly = positive\n")
        else:
            click.echo(f"ECG5000 {protocol}, {source}, {result['n_test']} test beats, anomaly = positive\n")
        click.echo(_seed_table(result))
    if report is not None:
        click.echo(f"report: {report}", err=as_json)  # stdout stays one JSON object with --json


def _own_files_problem(model_path: Path | None, data_dir: Path, protocol: str | None, test_file: Path | None,
                       normal_label: str | None, arch: str | None) -> str | None:
    """What is wrong with ``evaluate --data TRAIN_FILE --test TEST_FILE --normal-label LABEL``, if anything."""
    if test_file is None:
        return f"{data_dir} is a file: give the labelled test file with --test (and --normal-label)"
    if not data_dir.is_file():
        return f"with --test, --data is the labelled training beat file; {data_dir} is not a file"
    if model_path is not None:
        return "--model does not apply to --test: a model is trained per seed on --data; to score a saved " \
               "model on labelled beats use `ecgad score --labelled`"
    if protocol is not None:
        return "--protocol splits ECG5000; it does not apply to --test"
    if arch not in (None, "hybrid"):
        return "one's own labelled beats train the hybrid autoencoder only (--arch hybrid)"
    if normal_label is None:
        return "give --normal-label, the label of the normal beats in the files (e.g. N or 1)"
    return None
