"""``ecgad train``: a beat detector (ECG5000 or one's own labelled beats) or a recording detector (WFDB)."""
from __future__ import annotations

import time
from pathlib import Path

import click
from click.core import ParameterSource

from ecgad.data.ecg5000 import PROTOCOLS

from .common import ARCH_CHOICE, data_dir_option, fail, many_values_option, require_training


@click.command()
@data_dir_option
@click.option("--data-format", type=click.Choice(["ecg5000", "wfdb"]), default="ecg5000", show_default=True,
              help="ecg5000: a beat model from ECG5000; wfdb: a recording model (for `ecgad analyze`) "
                   "from annotated WFDB records (NAME.hea, .dat, .atr) in --data or its mitdb/ folder.")
@many_values_option("--records", tuple, metavar="NAME...",
                    help="wfdb: the records to train on, e.g. --records 101 106 108 (default: every annotated record).")
@click.option("--protocol", type=click.Choice(PROTOCOLS), default="resplit", show_default=True,
              help="ucr: official TRAIN/TEST; resplit: stratified 60/20/20 of all beats (ecg5000 only).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the split and of training.")
@click.option("--arch", type=ARCH_CHOICE, default="hybrid", show_default=True, help="Architecture to train.")
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
    require_training("train")
    if data_dir.is_file():
        _train_file(ctx, data_dir, normal_label, validation_fraction, seed, arch, epochs, out)
        return
    fraction_given = ctx.get_parameter_source("validation_fraction") is not ParameterSource.DEFAULT
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
    from ecgad import own_beats

    if normal_label is None:
        fail(f"{path} is a labelled beat file: give --normal-label, the label of its normal beats (e.g. N or 1)")
    for option in ("data_format", "records", "protocol"):
        if ctx.get_parameter_source(option) is not ParameterSource.DEFAULT:
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
    from dataclasses import replace

    from ecgad import recording

    if arch != "hybrid":
        fail("--data-format wfdb trains the hybrid autoencoder only (--arch hybrid)")
    if ctx.get_parameter_source("protocol") is not ParameterSource.DEFAULT:
        click.echo("note: --protocol splits ECG5000; it does not apply to --data-format wfdb", err=True)
    folder = data_dir / "mitdb" if not any(data_dir.glob("*.hea")) and (data_dir / "mitdb").is_dir() else data_dir
    try:
        paths = recording.find_records(folder, list(records) or None)
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
