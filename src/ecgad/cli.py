"""The ``ecgad`` command: data, train, score, evaluate, serve.

Errors in what the user gave (a bad file, a bad option) exit with code 2 and
one line on stderr.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click


def fail(message: str) -> None:
    """Exit with code 2 and one line on stderr."""
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


@click.group()
@click.version_option(package_name="ecgad")
def main() -> None:
    """Find abnormal heartbeats in ECG signals."""


# ------------------------------------------------------------------ data (data helper)
from ecgad.data.ecg5000 import PARTS, PROTOCOLS  # noqa: E402  (light: numpy only)


def data_dir_option(command: click.decorators.FC) -> click.decorators.FC:
    """``--data DIR`` (env ``ECGAD_DATA_DIR``, required), passed as ``data_dir: Path``."""
    return click.option(
        "--data", "data_dir", envvar="ECGAD_DATA_DIR", show_envvar=True, required=True,
        type=click.Path(path_type=Path),  # existence is checked by the loaders, with a clearer message
        help="Folder holding the data sets (or the data set's own folder); for train and evaluate also "
             "a labelled beat file of one's own (with --normal-label).",
    )(command)


@main.group()
def data() -> None:
    """Download and split data sets."""


@data.group()
def fetch() -> None:
    """Download a public data set and verify it."""


@fetch.command("ecg5000")
@click.option("--dest", type=click.Path(path_type=Path, file_okay=False), envvar="ECGAD_DATA_DIR",
              show_envvar=True, required=True, help="Folder to put ECG5000/ in.")
@click.option("--url", help="Where to download the ECG5000 zip from (default: timeseriesclassification.com).")
@click.option("--sha256", help="Expected SHA-256 of the zip (64 hex digits); checked before unpacking.")
def fetch_ecg5000(dest: Path, url: str | None, sha256: str | None) -> None:
    """Download ECG5000 into DEST/ECG5000, check it, and print the folder."""
    from ecgad.data import ecg5000

    if sha256 is not None and not (len(sha256) == 64 and all(c in "0123456789abcdefABCDEF" for c in sha256)):
        fail(f"--sha256 must be 64 hexadecimal digits, got {sha256!r}")
    try:
        folder = ecg5000.fetch(dest, url=url or ecg5000.DEFAULT_URL,
                               sha256=sha256 or ecg5000.DEFAULT_SHA256,
                               progress=sys.stderr.isatty())  # no bar in logs and pipes
        train, test = ecg5000.load(folder)
    except (OSError, ValueError) as e:
        fail(str(e))
    click.echo(f"ECG5000: {len(train)} train and {len(test)} test beats in {folder}")


@data.command("split")
@data_dir_option
@click.option("--protocol", type=click.Choice(PROTOCOLS), required=True,
              help="ucr: official TRAIN/TEST; resplit: stratified 60/20/20 of all beats.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--part", type=click.Choice(PARTS), required=True)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="UCR TSV file to write (label, then 140 values).")
def split_command(data_dir: Path, protocol: str, seed: int, part: str, out: Path) -> None:
    """Write one part of an ECG5000 split as a UCR TSV file."""
    from ecgad.data import ecg5000

    try:
        beats = ecg5000.split(data_dir, protocol, seed).part(part)
        ecg5000.write_ucr_tsv(beats, out)
    except (OSError, ValueError) as e:
        fail(str(e))
    click.echo(f"wrote {len(beats)} beats ({int(beats.is_anomaly.sum())} abnormal) to {out}")


# ------------------------------------------------------------------ train / score (core)
class _GreedyCommand(click.Command):
    """A command whose ``greedy`` options take every value up to the next option:
    ``--seeds 0 1 2`` reads as ``--seeds 0 --seeds 1 --seeds 2`` (a click option
    otherwise takes a fixed number of values)."""

    greedy: tuple[str, ...] = ("--seeds",)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        expanded: list[str] = []
        current, taken = None, 0  # the greedy option being filled, and how many values it has
        for i, arg in enumerate(args):
            if arg == "--":
                expanded += args[i:]
                break
            if arg.startswith("-") and arg != "-":
                name, eq, _ = arg.partition("=")
                current, taken = (name, int(bool(eq))) if name in self.greedy else (None, 0)
            elif current is not None:
                if taken:
                    expanded.append(current)
                taken += 1
            expanded.append(arg)
        return super().parse_args(ctx, expanded)


class _TrainCommand(_GreedyCommand):
    greedy = ("--records",)


@main.command(cls=_TrainCommand)
@data_dir_option
@click.option("--data-format", type=click.Choice(["ecg5000", "wfdb"]), default="ecg5000", show_default=True,
              help="ecg5000: a beat model from ECG5000; wfdb: a recording model (for `ecgad analyze`) "
                   "from annotated WFDB records (NAME.hea, .dat, .atr) in --data or its mitdb/ folder.")
@click.option("--records", multiple=True, metavar="NAME...",
              help="wfdb: the records to train on, e.g. --records 101 106 108 (default: every annotated record).")
@click.option("--protocol", type=click.Choice(PROTOCOLS), default="resplit", show_default=True,
              help="ucr: official TRAIN/TEST; resplit: stratified 60/20/20 of all beats (ecg5000 only).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the split and of training.")
@click.option("--arch", type=click.Choice(["hybrid", "reference"]), default="hybrid", show_default=True)
@click.option("--epochs", type=click.IntRange(1), default=None, help="Most epochs (default: the model's).")
@click.option("--normal-label", metavar="LABEL",
              help="With --data FILE: the label of the normal beats (e.g. N or 1); every other label is abnormal.")
@click.option("--validation-fraction", type=click.FloatRange(0.05, 0.8), default=0.2, show_default=True,
              help="With --data FILE: the share of normal beats held out for validation (every abnormal beat "
                   "is validation too).")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="The .safetensors model file to write.")
@click.pass_context
def train(ctx: click.Context, data_dir: Path, data_format: str, records: tuple[str, ...], protocol: str, seed: int,
          arch: str, epochs: int | None, normal_label: str | None, validation_fraction: float, out: Path) -> None:
    """Train a detector on the normal beats of a protocol's train part (ecg5000), on one's own
    labelled beat file (--data FILE --normal-label LABEL), or a recording detector on
    annotated WFDB records (wfdb)."""
    import time

    if data_dir.is_file():
        _train_file(ctx, data_dir, normal_label, validation_fraction, seed, arch, epochs, out)
        return
    fraction_given = ctx.get_parameter_source("validation_fraction") is not click.core.ParameterSource.DEFAULT
    if normal_label is not None or fraction_given:
        fail(f"--normal-label and --validation-fraction go with a labelled beat file as --data; "
             f"{data_dir} is not a file")
    if data_format == "wfdb":
        _train_wfdb(ctx, data_dir, records, seed, arch, epochs, out)
        return
    if records:
        fail("--records picks WFDB records; it needs --data-format wfdb")
    from ecgad.data import ecg5000
    from ecgad.detector import fit_split
    from ecgad.train import TrainConfig

    try:
        split = ecg5000.split(data_dir, protocol, seed)
    except (OSError, ValueError) as e:
        fail(str(e))
    config = TrainConfig(seed=seed) if epochs is None else TrainConfig(seed=seed, epochs=epochs)
    click.echo(f"training {arch} on {len(split.train.normals)} normal beats ({protocol}, seed {seed}); "
               f"validation: {len(split.validation)} beats", err=True)
    start = time.perf_counter()
    detector = fit_split(split, arch=arch, train_config=config)
    detector.save(out)
    t = detector.training
    members = ", ".join(f"{b + 1}/{n}" for b, n in zip(t["best_epoch"], t["epochs_run"], strict=True))
    figures = next((f"{k} " + ", ".join(f"{v:.4f}" for v in vals) for k, vals in t.items() if "val_" in k), "")
    click.echo(f"saved {out}: {detector.meta['model_id']}, best epoch/epochs run {members}; {figures}; "
               f"threshold {detector.threshold:.4f}; {time.perf_counter() - start:.0f} s")


def _train_file(ctx: click.Context, path: Path, normal_label: str | None, validation_fraction: float, seed: int,
                arch: str, epochs: int | None, out: Path) -> None:
    """``ecgad train --data FILE --normal-label LABEL``: a beat detector on one's own labelled beats."""
    import time

    from ecgad import own_beats

    if normal_label is None:
        fail(f"{path} is a labelled beat file: give --normal-label, the label of its normal beats (e.g. N or 1)")
    for option in ("data_format", "records", "protocol"):
        if ctx.get_parameter_source(option) is not click.core.ParameterSource.DEFAULT:
            fail(f"--{option.replace('_', '-')} does not apply to a labelled beat file as --data")
    if arch != "hybrid":
        fail("a labelled beat file trains the hybrid autoencoder only (--arch hybrid)")
    try:
        data = own_beats.read(path, normal_label)
        part = own_beats.split(data, validation_fraction, seed)
    except (OSError, ValueError) as e:
        fail(str(e))
    candidates = own_beats.candidates_for(len(part.train.labels))
    val = part.validation
    click.echo(f"training hybrid on {len(part.train.labels)} normal beats (label {data.normal!r}) of {path} "
               f"(seed {seed}); validation: {val.describe()}; choosing among {len(candidates)} model sizes "
               "by validation ROC AUC", err=True)
    start = time.perf_counter()
    detector, selection = own_beats.fit(part, seed=seed, candidates=candidates, max_epochs=epochs)
    detector.save(out)
    tried = ", ".join(f"{t['name']} {t['val_roc_auc']:.4f}" for t in selection.tried)
    click.echo(f"saved {out}: {detector.meta['model_id']}, {selection.chosen} (validation ROC AUC: {tried}); "
               f"normal label {data.normal!r}; threshold {detector.threshold:.4f}; "
               f"{time.perf_counter() - start:.0f} s")


def _train_wfdb(ctx: click.Context, data_dir: Path, records: tuple[str, ...], seed: int, arch: str,
                epochs: int | None, out: Path) -> None:
    """``ecgad train --data-format wfdb``: a recording detector on annotated WFDB records."""
    import time
    from dataclasses import replace

    from ecgad import recording

    if arch != "hybrid":
        fail("--data-format wfdb trains the hybrid autoencoder only (--arch hybrid)")
    if ctx.get_parameter_source("protocol") is not click.core.ParameterSource.DEFAULT:
        click.echo("note: --protocol splits ECG5000; it does not apply to --data-format wfdb", err=True)
    names = [n for value in records for n in value.replace(",", " ").split()]
    folder = data_dir / "mitdb" if not any(data_dir.glob("*.hea")) and (data_dir / "mitdb").is_dir() else data_dir
    try:
        paths = recording.find_records(folder, names or None)
    except ValueError as e:
        fail(str(e))
    config = replace(recording.BEAT_TRAIN_CONFIG, seed=seed, **({"epochs": epochs} if epochs else {}))
    click.echo(f"training a recording detector on {len(paths)} WFDB records in {folder} "
               f"({' '.join(p.name for p in paths)})", err=True)
    start = time.perf_counter()
    try:
        detector = recording.train_recording_detector(paths, train_config=config, seed=seed, progress=True)
    except (OSError, ValueError) as e:
        fail(str(e))
    detector.save(out)
    t = detector.meta["trained_on"]
    click.echo(f"saved {out}: {detector.meta['model_id']} on {len(t['records'])} records "
               f"({t['normal_beats']} normal, {t['abnormal_beats']} abnormal beats; autoencoder on "
               f"{t['autoencoder_beats']} normal beats); threshold {detector.threshold:.3f}; "
               f"{time.perf_counter() - start:.0f} s")


@main.command()
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
    from ecgad.plots import CLASS_NAMES

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


def _echo_quality(result, max_segments: int = 20) -> None:
    """The readable share of a recording, its unreadable stretches and its quality warnings."""
    from ecgad.recording import clock

    quality = result.quality
    if quality is None:
        return
    segments = quality.segments()
    click.echo(f"readable ECG: {100 * quality.readable_fraction:.1f}% of the recording"
               + (f" (left out: {quality.breakdown()})" if segments else ""))
    for a, b, reason in segments[:max_segments]:
        click.echo(f"  unreadable {clock(a / result.fs, 1)}-{clock(b / result.fs, 1)}  {reason}")
    if len(segments) > max_segments:
        click.echo(f"  ... and {len(segments) - max_segments} more unreadable stretches (see --json)")
    for w in result.warnings:
        click.echo(f"warning ({w['code']}): {w['message']}")


@main.command()
@click.argument("record", type=click.Path(path_type=Path))
@click.option("--lead", help="Lead to analyse, by name (II, MLII, V1...) or index "
                             "(default: lead II when the recording has one, else the first).")
@click.option("--fs", type=float, help="Sampling rate in Hz, for a CSV/TSV file without a time column.")
@click.option("--model", "model_path", type=click.Path(path_type=Path, dir_okay=False),
              help="A recording model .safetensors file (default: the shipped MIT-BIH model).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with every beat instead of a table.")
@click.option("--report", "report_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Folder to write report.html (an interactive timeline) into.")
def analyze(record: Path, lead: str | None, fs: float | None, model_path: Path | None, as_json: bool,
            report_dir: Path | None) -> None:
    """Find every beat in RECORD and score it: a WFDB record (its path without extension),
    an EDF/EDF+ file, or a CSV/TSV file (one column per lead; a time column or --fs)."""
    import json

    from ecgad.data.readers import read_recording
    from ecgad.recording import load_recording_detector, write_report

    if fs is not None and not (fs > 0 and fs < float("inf")):
        fail(f"--fs must be a positive sampling rate in Hz, got {fs}")
    try:
        detector = load_recording_detector(model_path)
    except (OSError, ValueError) as e:
        fail(str(e))
    try:
        signal = read_recording(record, lead=lead, fs=fs)
    except (OSError, ValueError) as e:
        fail(f"{record}: {e}" if str(record) not in str(e) else str(e))
    progress = signal.duration_s > 600 and sys.stderr.isatty()
    try:
        result = detector.analyze(signal, progress=progress)
    except ValueError as e:
        fail(f"{record}: {e}")
    report = write_report(result, signal, report_dir) if report_dir is not None else None
    if as_json:
        click.echo(json.dumps(result.as_dict()))
        if report is not None:
            click.echo(f"report: {report}", err=True)
        return
    s = result.summary
    minutes = result.duration_s / 60
    click.echo(f"{signal.source}: lead {signal.lead}, {signal.fs:g} Hz, {minutes:.1f} min; "
               f"model {result.model.get('model_id')} (threshold {result.threshold:.3f})")
    hr = f", mean heart rate {s['mean_hr_bpm']:.0f} bpm" if s["mean_hr_bpm"] else ""
    share = 100 * s["anomalies"] / s["beats"] if s["beats"] else 0.0
    click.echo(f"{s['beats']} beats, {s['anomalies']} abnormal ({share:.1f}%){hr}")
    _echo_quality(result)
    abnormal = result.is_anomaly.nonzero()[0]
    if abnormal.size:
        parts = list(result.parts)
        click.echo(f"{'time s':>10}  {'sample':>9}  {'RR s':>6}  {'score':>7}  {'conf':>5}  "
                   + "  ".join(f"{p:>11}" for p in parts))
        for i in abnormal:
            rr = result.rr_s[i]
            click.echo(f"{result.time_s[i]:>10.3f}  {result.sample[i]:>9d}  "
                       f"{(f'{rr:.3f}' if rr == rr else '-'):>6}  {result.score[i]:>7.2f}  "
                       f"{result.confidence[i]:>5.2f}  " + "  ".join(f"{result.parts[p][i]:>+11.2f}" for p in parts))
    if report is not None:
        click.echo(f"report: {report}")



# ------------------------------------------------------------------ evaluate (evaluation helper)
def _parse_seeds(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[int, ...]:
    """Seeds from ``--seeds 0 1 2``, ``--seeds 0 --seeds 1`` or ``--seeds "0,1 2"``."""
    seeds = []
    for token in " ".join(values).replace(",", " ").split():
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


@main.command("evaluate", cls=_GreedyCommand)
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
@click.option("--seeds", multiple=True, callback=_parse_seeds, metavar="SEED...",
              help="Seeds of the splits (and of training), e.g. --seeds 0 1 2 3 4. Default: 0.")
@click.option("--arch", type=click.Choice(("hybrid", "reference")),
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


# ------------------------------------------------------------------ serve / users (web helper)
@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="gunicorn worker processes. More than one needs ECGAD_RATELIMIT_STORAGE_URL (Redis), "
                   "so that the sign-in limits count across processes.")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256),
              help="Threads per worker process: requests served side by side.")
@click.option("--timeout", default=120, show_default=True, type=click.IntRange(10, 3600),
              help="Seconds a worker process may stay unresponsive before gunicorn restarts it.")
@click.option("--dev", is_flag=True, help="Run Flask's development server instead of gunicorn (not for production).")
def serve(host: str, port: int, workers: int, threads: int, timeout: int, dev: bool) -> None:
    """Run the web app (gunicorn) on http://HOST:PORT.

    Configuration comes from the environment: ECGAD_INSTANCE_PATH (database, secret
    key), ECGAD_DATABASE_URL (e.g. postgresql://user@host/db), ECGAD_SECRET_KEY,
    ECGAD_MODEL_PATH, ECGAD_SECURE_COOKIES=1 (behind HTTPS), ECGAD_RATELIMIT_STORAGE_URL
    (e.g. redis://127.0.0.1:6379), ECGAD_PROXY_COUNT (trusted reverse proxies),
    ECGAD_SESSION_IDLE_MINUTES (default 30). Database migrations run at start-up.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from .web.config import ConfigError
    from .web.server import ServeError, run

    try:
        run(host=host, port=port, workers=workers, threads=threads, timeout=timeout, dev=dev)
    except (ServeError, ConfigError) as exc:
        fail(str(exc))
    except SQLAlchemyError as exc:
        fail(f"cannot open the database: {exc.__class__.__name__}: {str(exc).splitlines()[0]}")


@main.group()
def users() -> None:
    """Manage web accounts (same environment as `ecgad serve`)."""


def _web_app():
    from sqlalchemy.exc import SQLAlchemyError

    from .web import create_app
    from .web.config import ConfigError

    try:
        return create_app()
    except ConfigError as exc:
        fail(str(exc))
    except SQLAlchemyError as exc:
        fail(f"cannot open the database: {exc.__class__.__name__}: {str(exc).splitlines()[0]}")


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password (at least 10 characters, not easy to guess)", hide_input=True,
                        confirmation_prompt=True)


_password_stdin = click.option("--password-stdin", is_flag=True,
                               help="Read the password from the first line of standard input.")
_email = click.option("--email", required=True, help="The account's sign-in email address.")


@users.command("create")
@_email
@click.option("--role", required=True, type=click.Choice(["admin", "doctor"]), help="admin or doctor.")
@click.option("--name", default="", help="Name shown in the app.")
@_password_stdin
def users_create(email: str, role: str, name: str, password_stdin: bool) -> None:
    """Create an account (prompts for the password unless --password-stdin)."""
    password = _read_password(password_stdin)
    from .web.accounts import AccountError, create_user

    app = _web_app()
    with app.app_context():
        try:
            user = create_user(email, password, role, name, via="ecgad users create")
        except AccountError as exc:
            fail(str(exc).rstrip("."))
        click.echo(f"created {user.role} account {user.email}")


def _change_account(email: str, change) -> None:
    """Run ``change(user)`` on the account named by ``email``, in the app; errors exit 2."""
    from .web.accounts import AccountError, find_user

    app = _web_app()
    with app.app_context():
        try:
            change(find_user(email))
        except AccountError as exc:
            fail(str(exc).rstrip("."))


@users.command("set-password")
@_email
@_password_stdin
def users_set_password(email: str, password_stdin: bool) -> None:
    """Give an account a new password; its sessions are signed out (audited)."""
    from .web.accounts import set_password

    password = _read_password(password_stdin)

    def change(user) -> None:
        set_password(user, password, via="ecgad users set-password")
        click.echo(f"new password set for {user.email}; their sessions are signed out")

    _change_account(email, change)


@users.command("deactivate")
@_email
def users_deactivate(email: str) -> None:
    """Sign an account out and stop it signing in (nothing is deleted; audited)."""
    from .web.accounts import deactivate

    def change(user) -> None:
        if deactivate(user, via="ecgad users deactivate"):
            click.echo(f"deactivated {user.email}; their sessions are signed out")
        else:
            click.echo(f"{user.email} is deactivated already")

    _change_account(email, change)


@users.command("reactivate")
@_email
def users_reactivate(email: str) -> None:
    """Let a deactivated account sign in again (audited)."""
    from .web.accounts import reactivate

    def change(user) -> None:
        click.echo(f"reactivated {user.email}" if reactivate(user, via="ecgad users reactivate")
                   else f"{user.email} is active already")

    _change_account(email, change)


@users.command("list")
def users_list() -> None:
    """List the accounts: email, role, status."""
    from sqlalchemy import select

    from .web.extensions import db
    from .web.models import User

    app = _web_app()
    with app.app_context():
        for user in db.session.scalars(select(User).order_by(User.role, User.email)):
            click.echo(f"{user.email}\t{user.role}\t{'active' if user.active else 'deactivated'}\t{user.name}")



if __name__ == "__main__":
    main()
