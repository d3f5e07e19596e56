"""``ecgad replay``: stream a local recording to a server's ``/api/v1/stream`` and print each beat's
verdict as it comes back: the reference client of the stream protocol (``ecgad.web.streaming``).

One thread sends (paced by ``--speed``), the main thread reads: a client must read the beats while
it sends, or the server, which waits until its beats are taken before reading on, waits for it.
"""
from __future__ import annotations

import json
import threading
import time
from urllib.parse import urlsplit, urlunsplit

import click

from .common import fail

STREAM_PATH = "/api/v1/stream"
PING_TIMEOUT_S = 120.0


def stream_url(url: str) -> str:
    """The WebSocket URL of the stream: ``http://host:8000`` -> ``ws://host:8000/api/v1/stream``
    (https -> wss); a ``ws://`` or ``wss://`` URL with a path is used as it is."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    scheme = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}.get(parts.scheme.lower())
    if scheme is None or not parts.netloc:
        raise ValueError(f"{url}: give the server's address, e.g. http://127.0.0.1:5000")
    path = parts.path if parts.path not in ("", "/") else STREAM_PATH
    return urlunsplit((scheme, parts.netloc, path, parts.query, ""))


def send_recording(ws, start: dict, samples, fs: float, *, speed: float, chunk_s: float,
                   on_sent=None) -> None:
    """Send ``start``, ``samples`` (mV) in chunks of ``chunk_s`` seconds, then ``end``. ``speed``:
    times real time (0: as fast as the server takes them). ``on_sent(index, end_sample, sent_at)``
    is called after each message of samples (index from 0) and after ``end`` (index: the number of
    chunks), with ``time.perf_counter()`` taken just before it was sent. Returns early, quietly,
    if the server closes the connection."""
    from websockets.exceptions import ConnectionClosed

    size = max(1, int(round(chunk_s * fs)))
    try:
        ws.send(json.dumps(start))
        t0 = time.perf_counter()
        for k, i in enumerate(range(0, len(samples), size)):
            if speed > 0:  # chunk k holds the signal up to (k + 1) * size: send it when that time has come
                delay = t0 + (i + size) / fs / speed - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            message = json.dumps({"type": "samples", "samples": [float(v) for v in samples[i:i + size]]})
            sent_at = time.perf_counter()
            ws.send(message)
            if on_sent is not None:
                on_sent(k, min(i + size, len(samples)), sent_at)
        sent_at = time.perf_counter()
        ws.send(json.dumps({"type": "end"}))
        if on_sent is not None:
            on_sent(-(-len(samples) // size), len(samples), sent_at)
    except ConnectionClosed:
        pass


def beat_line(beat: dict) -> str:
    rr = f"{beat['rr_s']:.3f} s" if beat.get("rr_s") is not None else "—"
    flag = "ABNORMAL" if beat["is_anomaly"] else "normal"
    return (f"{beat['time_s']:10.3f} s  RR {rr:>8}  score {beat['score']:7.3f}  "
            f"confidence {beat['confidence']:.2f}  {flag}")


@click.command()
@click.argument("record", type=click.Path(exists=True, dir_okay=False))
@click.option("--url", required=True, help="The server, e.g. http://127.0.0.1:5000 (or its ws:// stream URL).")
@click.option("--token", required=True, envvar="ECGAD_TOKEN", show_envvar=True,
              help="An API token (made with 'ecgad tokens create' or on the account page).")
@click.option("--speed", default=1.0, show_default=True, type=click.FloatRange(min=0),
              help="Times real time; 0: as fast as the server takes the samples.")
@click.option("--patient", type=click.IntRange(min=1), default=None,
              help="Store the session as a recording analysis of this patient (one of yours).")
@click.option("--lead", default=None, help="The lead to send, by name or number (default: II, else the first).")
@click.option("--fs", type=float, default=None, help="Sampling rate in Hz, for CSV/TSV files without a time column.")
@click.option("--chunk", "chunk_s", default=0.25, show_default=True, type=click.FloatRange(0.001, 60),
              help="Seconds of signal in each message.")
@click.option("--duration", type=click.FloatRange(min=1), default=None, help="Send only the first SECONDS.")
@click.option("--anomalies-only", is_flag=True, help="Print only the abnormal beats (and the summary).")
def replay(record: str, url: str, token: str, speed: float, patient: int | None, lead: str | None,
           fs: float | None, chunk_s: float, duration: float | None, anomalies_only: bool) -> None:
    """Stream RECORD (WFDB .hea, EDF, CSV/TSV) to a server and print each beat's verdict as it comes.

    One line per beat (time of its R peak, RR interval before it, score, confidence, verdict), then
    the summary. Exits with 1 when the server ends the stream with an error.
    """
    from websockets.exceptions import ConnectionClosed, InvalidStatus, InvalidURI
    from websockets.sync.client import connect

    from ecgad.data.readers import RecordingError, read_recording

    try:
        target = stream_url(url)
    except ValueError as exc:
        fail(str(exc))
    lead_arg = int(lead) if lead and lead.isascii() and lead.isdigit() else lead
    try:
        signal = read_recording(record, lead=lead_arg, fs=fs)
    except RecordingError as exc:
        fail(str(exc))
    samples = signal.samples if duration is None else signal.samples[: int(duration * signal.fs)]
    start = {"type": "start", "fs": signal.fs, "lead": signal.lead,
             **({"patient_id": patient} if patient is not None else {})}
    try:
        # a generous ping timeout: the server answers a ping only after the samples sent before it
        ws = connect(target, additional_headers={"Authorization": f"Bearer {token}"}, open_timeout=30,
                     ping_timeout=PING_TIMEOUT_S)
    except InvalidStatus as exc:
        status = exc.response.status_code
        why = {401: "the token was refused (unknown, revoked or expired)", 429: "too many requests"}.get(status, "")
        fail(f"{target}: the server refused the stream: HTTP {status}{'; ' + why if why else ''}")
    except (OSError, InvalidURI, TimeoutError) as exc:
        fail(f"{target}: cannot connect: {exc}")
    click.echo(f"ecgad: streaming {signal.source} lead {signal.lead} ({len(samples) / signal.fs:.0f} s at "
               f"{signal.fs:g} Hz) to {target} at {'full' if speed == 0 else f'{speed:g}x'} speed", err=True)
    sender = threading.Thread(target=send_recording, args=(ws, start, samples, signal.fs),
                              kwargs={"speed": speed, "chunk_s": chunk_s}, daemon=True)
    sender.start()
    failed = False
    try:
        while True:
            message = json.loads(ws.recv())
            kind = message.get("type")
            if kind == "beat" and not (anomalies_only and not message["is_anomaly"]):
                click.echo(beat_line(message))
            elif kind == "end":
                s = message["summary"]
                hr = f"{s['mean_hr_bpm']:.1f} bpm" if s.get("mean_hr_bpm") is not None else "—"
                stored = f"; stored as analysis {s['analysis_id']}" if s.get("analysis_id") else ""
                click.echo(f"summary: {s['beats']} beats, {s['anomalies']} abnormal, mean heart rate {hr}, "
                           f"{s['duration_s']:.1f} s, {100 * s['readable_fraction']:.0f}% readable{stored}")
            elif kind == "error":
                click.echo(f"ecgad: the server ended the stream: {message['detail']}", err=True)
                failed = True
    except ConnectionClosed:
        pass
    except KeyboardInterrupt:
        click.echo("ecgad: interrupted; nothing is stored for an unfinished stream", err=True)
        failed = True
    finally:
        ws.close()
        sender.join(5)
    if failed:
        raise SystemExit(1)
