"""``ecgad analyze``: find and score every beat of a recording."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from .common import fail


def _echo_quality(result, max_segments: int = 20) -> None:
    """The readable share of a recording, its unreadable stretches and its quality warnings."""
    from ecgad.report import clock

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


@click.command()
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
    from ecgad.recording import RecordingTooShort, load_recording_detector, write_report

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
    except RecordingTooShort as e:  # names the recording as given and says what is accepted
        fail(str(e))
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
    if "classes" in s:  # a model with a beat classifier (ecgad-recording/3)
        click.echo("beat classes: " + ", ".join(f"{c} {n}" for c, n in s["classes"].items())
                   + " (N normal, S supraventricular, V ventricular, F fusion, Q unclassifiable)")
    _echo_quality(result)
    abnormal = result.is_anomaly.nonzero()[0]
    if abnormal.size:
        parts = list(result.parts)
        classes = result.classes
        click.echo(f"{'time s':>10}  {'sample':>9}  {'RR s':>6}  {'score':>7}  {'conf':>5}  "
                   + ("class  " if classes is not None else "") + "  ".join(f"{p:>11}" for p in parts))
        for i in abnormal:
            rr = result.rr_s[i]
            click.echo(f"{result.time_s[i]:>10.3f}  {result.sample[i]:>9d}  "
                       f"{(f'{rr:.3f}' if rr == rr else '-'):>6}  {result.score[i]:>7.2f}  "
                       f"{result.confidence[i]:>5.2f}  "
                       + (f"{classes[i]:>1} {result.class_confidence[i]:.2f}  " if classes is not None else "")
                       + "  ".join(f"{result.parts[p][i]:>+11.2f}" for p in parts))
    if report is not None:
        click.echo(f"report: {report}")
