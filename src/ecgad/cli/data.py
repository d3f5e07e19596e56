"""``ecgad data``: download and split data sets."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from ecgad.data.ecg5000 import PARTS, PROTOCOLS

from .common import data_dir_option, fail


@click.group()
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
