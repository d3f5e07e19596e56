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
@click.option("--pdf", "pdf_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the Holter report (summary, hourly table, trend, ECG strips at 25 mm/s) to this PDF file.")
@click.option("--paper", type=click.Choice(["A4", "Letter"], case_sensitive=False), default="A4", show_default=True,
              help="Paper size of the --pdf report.")
def analyze(record: Path, lead: str | None, fs: float | None, model_path: Path | None, as_json: bool,
            report_dir: Path | None, pdf_path: Path | None, paper: str) -> None:
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
    from ecgad.recording.holter import holter_of

    holter = holter_of(result, start=signal.start)
    report = write_report(result, signal, report_dir) if report_dir is not None else None
    pdf = _write_pdf(pdf_path, result, signal, holter, paper) if pdf_path is not None else None
    if as_json:
        click.echo(json.dumps({**result.as_dict(), "holter": holter}))
        for path, what in ((report, "report"), (pdf, "pdf")):
            if path is not None:
                click.echo(f"{what}: {path}", err=True)
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
    _echo_holter(holter)
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
    if pdf is not None:
        click.echo(f"pdf: {pdf}")


def _write_pdf(path: Path, result, signal, holter: dict, paper: str) -> Path:
    """The Holter PDF of ``result``; the command line knows no patient, only the file."""
    import getpass
    from datetime import UTC, datetime

    from ecgad.recording.pdf import ReportHeader, holter_pdf

    model = result.model
    header = ReportHeader(
        source=str(signal.source), lead=signal.lead, fs=signal.fs, duration_s=result.duration_s,
        start=holter["start"], models={k: str(v) for k, v in model.items() if k.endswith("model_id") and v},
        analysed_by=f"{getpass.getuser()} (ecgad analyze)",
        analysed_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        readable_fraction=result.quality.readable_fraction if result.quality is not None else None)
    data = holter_pdf(holter, fs=signal.fs, samples=lambda lo, hi: signal.samples[lo:hi], n_samples=len(signal),
                      header=header, beats=(result.sample, getattr(result, "classes", None)), paper=paper)
    try:
        path.write_bytes(data)
    except OSError as e:
        fail(f"--pdf {path}: {e.strerror or e}")
    return path


def _echo_holter(h: dict) -> None:
    """The Holter summary in a few lines (every event is in --json and the --pdf report)."""
    from ecgad.report import clock

    hr = h["heart_rate"]

    def at(e: dict) -> str:
        return e["at"].replace("T", " ") if e.get("at") else clock(e["time_s"], 1)

    if hr["min"]:
        click.echo(f"heart rate ({hr['average_beats']}-beat average): min {hr['min']['bpm']:.0f} bpm at "
                   f"{at(hr['min'])}, max {hr['max']['bpm']:.0f} bpm at {at(hr['max'])}")
    longest = h["longest_rr"]
    click.echo(f"pauses over 2 s: {h['pauses']['count']}"
               + (f"; longest RR {longest['rr_s']:.2f} s at {at(longest)}" if longest else ""))
    for name, key in (("ventricular", "ventricular"), ("supraventricular", "supraventricular")):
        part = h[key]
        if part is None:
            continue
        line = (f"{name}: {part['beats']} beats, isolated {part['isolated']['count']}, couplets "
                f"{part['couplets']['count']}, runs {part['runs']['count']}")
        if "bigeminy" in part:
            line += f", bigeminy {part['bigeminy']['count']}, trigeminy {part['trigeminy']['count']} episodes"
        if part.get("fastest_run"):
            r = part["fastest_run"]
            line += f"; fastest run {r['beats']} beats at {r['rate_bpm']:.0f} bpm at {at(r)}"
        click.echo(line)
