"""The WebSocket stream's latency: a real `ecgad serve`, 1 and 16 streams at real speed, and the
fastest replay of one stream.

    python benchmarks/stream.py --data ../shared/data/mitdb

Starts `ecgad serve` (gunicorn, gthread, SQLite in a temporary folder, shipped recording model)
on a free port and streams MIT-BIH records to `/api/v1/stream` with `ecgad replay`'s client
(`ecgad.cli.replay.send_recording`, messages of 0.25 s of signal):

* **latency** of each beat: from just before the client sent the samples message whose arrival
  made the beat final, to the client receiving the beat's message. Which message that is comes
  from running `RecordingStream` here on the same chunks (its output is a function of them);
* **clinical delay**: from the R peak (when it would have been recorded, at real speed) to the
  beat's message; made of the signal the verdict waits for after its peak (``recording/stream.py``
  docstring: the next R peak, the peak detector's chunk, the 5-s quality window, the first beats'
  block), the client's pacing lateness, and the latency above;
* the HTTP API's `GET /api/v1/health` answered while the 16 streams run (streams must not block it);
* **max replay speed** of one stream: a record sent as fast as the server takes it.

Replaces the ``stream`` section of RESULTS.md. About 5 minutes with the defaults.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from quality import _command, replace_section  # noqa: E402

START, END = "<!-- stream:start -->", "<!-- stream:end -->"
CHUNK_S = 0.25
WARMUP_S = 30.0  # the first beats of a stream wait for the block that learns the dominant beat
STAGGER_S = CHUNK_S / 2  # between the starts of the 16 streams


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def final_chunks(detector, samples: np.ndarray, fs: float) -> dict[int, int]:
    """R peak sample -> the index of the message (chunks of CHUNK_S, then `end`) that makes it final."""
    size = int(round(CHUNK_S * fs))
    stream = detector.stream(fs)
    final = {}
    for k, i in enumerate(range(0, samples.size, size)):
        for beat in stream.feed(samples[i:i + size].astype(np.float64)):
            final[beat["sample"]] = k
    for beat in stream.finish():
        final[beat["sample"]] = -(-samples.size // size)
    return final


def run_stream(url: str, token: str, samples: np.ndarray, fs: float, speed: float, final: dict | None,
               chunk_s: float = CHUNK_S) -> dict:
    """One stream: every beat's (time_s, latency_s, wait_s, clinical_s) and the wall time."""
    from websockets.sync.client import connect

    from ecgad.cli.replay import PING_TIMEOUT_S, send_recording

    sent: dict[int, tuple[int, float]] = {}
    received: list[tuple[dict, float]] = []
    with connect(url, additional_headers={"Authorization": f"Bearer {token}"}, max_queue=None,
                 open_timeout=60, ping_timeout=PING_TIMEOUT_S) as ws:
        started = time.perf_counter()
        sender = threading.Thread(target=send_recording, args=(ws, {"type": "start", "fs": fs}, samples, fs),
                                  kwargs={"speed": speed, "chunk_s": chunk_s,
                                          "on_sent": lambda k, end, at: sent.__setitem__(k, (end, at))})
        sender.start()
        while True:
            message = json.loads(ws.recv(timeout=600))
            received.append((message, time.perf_counter()))
            if message["type"] in ("end", "error"):
                break
        sender.join()
    wall = time.perf_counter() - started
    if received[-1][0]["type"] == "error":
        raise SystemExit(f"the stream failed: {received[-1][0]['detail']}")
    t0 = min(at - end / fs / max(speed, 1e-9) for end, at in sent.values()) if speed > 0 else None
    rows = []
    for message, at in received:
        if message["type"] != "beat" or final is None:
            continue
        end, sent_at = sent[final[message["sample"]]]
        row = {"time_s": message["time_s"], "latency_s": at - sent_at, "wait_s": end / fs - message["time_s"],
               "by_end": final[message["sample"]] == max(sent)}  # the last beats: final only at `end`
        if t0 is not None:
            row["clinical_s"] = at - (t0 + message["time_s"] / speed)
            row["lateness_s"] = sent_at - (t0 + end / fs / speed)
        rows.append(row)
    return {"beats": rows, "wall_s": wall, "n_beats": sum(m["type"] == "beat" for m, _ in received),
            "summary": received[-1][0]["summary"]}


def poll_health(base: str, stop: threading.Event, out: list[float]) -> None:
    while not stop.is_set():
        t = time.perf_counter()
        with urllib.request.urlopen(f"{base}/api/v1/health", timeout=30) as response:
            response.read()
        out.append(time.perf_counter() - t)
        stop.wait(0.5)


def stream_inputs(folder: Path, minutes: float, count: int = 16) -> tuple[list[str], dict, dict, dict]:
    """The first ``count`` MIT-BIH records of ``folder``: (names, signals, their first ``minutes``, and
    which message makes each beat final, from ``final_chunks``)."""
    from ecgad.data.readers import read_recording
    from ecgad.recording import load_recording_detector

    records = sorted(p.stem for p in folder.glob("*.hea"))[:count]
    if len(records) < count:
        raise SystemExit(f"{folder}: {count} MIT-BIH records are needed, found {len(records)}")
    signals = {r: read_recording(folder / r) for r in records}
    excerpts = {r: s.samples[: int(minutes * 60 * s.fs)] for r, s in signals.items()}
    detector = load_recording_detector()
    finals = {r: final_chunks(detector, x, signals[r].fs) for r, x in excerpts.items()}
    print("final chunks computed", flush=True)
    return records, signals, excerpts, finals


def collect(runs) -> dict:
    """Streams' beats as the tables use them: latency of the live ones, clinical delay after the warm-up."""
    beats = [b for run in runs for b in run["beats"]]
    live = [b for b in beats if not b["by_end"]]
    late = [b for b in live if b["time_s"] > WARMUP_S]
    return {"latency": [b["latency_s"] for b in live], "clinical": [b["clinical_s"] for b in late],
            "at_end": [b["latency_s"] for b in beats if b["by_end"]],
            "wait": [b["wait_s"] for b in late], "lateness": [b["lateness_s"] for b in beats],
            "warmup_clinical": [b["clinical_s"] for b in live if b["time_s"] <= WARMUP_S]}


def concurrent_streams(base: str, token: str, records: list[str], excerpts: dict, signals: dict,
                       finals: dict) -> tuple[dict, list[float]]:
    """One real-speed stream per record, started STAGGER_S apart, while the health check is polled:
    (``collect`` of them all, the health check's times)."""
    url = base.replace("http://", "ws://") + "/api/v1/stream"
    runs: dict[str, dict] = {}
    stop, health = threading.Event(), []
    poller = threading.Thread(target=poll_health, args=(base, stop, health))
    threads = [threading.Thread(target=lambda r=r: runs.__setitem__(
        r, run_stream(url, token, excerpts[r], signals[r].fs, 1.0, finals[r]))) for r in records]
    poller.start()
    for t in threads:  # monitors do not start in step: one every STAGGER_S
        t.start()
        time.sleep(STAGGER_S)
    for t in threads:
        t.join()
    stop.set()
    poller.join()
    if len(runs) != len(records):
        raise SystemExit("a stream failed")
    return collect(runs.values()), health


@contextmanager
def serving(env: dict, args: tuple[str, ...] = (), log=subprocess.DEVNULL) -> Iterator[str]:
    """``ecgad serve`` with ``env`` on a free port of 127.0.0.1, once it answers; yields its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "ecgad.cli", "serve", "--port", str(port), *args], env=env,
                              stdout=log, stderr=log)
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{base}/api/v1/health", timeout=5).read()
                break
            except OSError:
                if server.poll() is not None:
                    raise SystemExit("ecgad serve stopped") from None
                time.sleep(0.5)
        else:
            raise SystemExit("ecgad serve did not answer")
        yield base
    finally:
        server.terminate()
        server.wait(30)


def percentiles(values, scale: float = 1000.0) -> str:
    v = np.asarray(values) * scale
    return " | ".join(f"{np.percentile(v, q):.0f}" for q in (50, 95, 99)) + f" | {v.max():.0f}"


def section(results: dict, command: str, minutes: float, minutes_fast: float) -> str:
    lines = [START, "## Real-time stream (WebSocket `/api/v1/stream`)", "",
             f"Command: `{command}`  ",
             f"Machine: {platform.platform()}, {platform.machine()}, {os.cpu_count()} cores (shared with other "
             "work while it ran)  ",
             f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  ",
             f"`ecgad serve` (gunicorn gthread, 8 + 32 threads, one torch thread per call, SQLite), shipped "
             f"recording model; client: `ecgad replay`'s, messages of {CHUNK_S:g} s of signal, MIT-BIH "
             f"records, {minutes:g} min each, at real speed. **Latency**: from sending the samples message "
             "whose arrival made a beat final to receiving that beat (ms). **Clinical delay**: from the R peak "
             f"to receiving its beat (s), after the first {WARMUP_S:g} s of a stream (its first beats wait "
             "for their block, which learns the dominant beat: up to about 25 s).",
             "",
             "| streams at once | beats | latency p50 | p95 | p99 | max (ms) |",
             "|---|---|---|---|---|---|"]
    for name in ("1 stream", "16 streams"):
        r = results[name]
        lines.append(f"| {name} | {len(r['latency'])} | {percentiles(r['latency'])} |")
    at_end = np.asarray(results["16 streams"]["at_end"]) * 1000
    lines += ["", f"The 16 streams started {STAGGER_S:g} s apart. Not in the table: the last beats of each stream, "
              f"final only when `end` came ({at_end.size} with 16 streams: latency median {np.median(at_end):.0f} ms, "
              f"max {at_end.max():.0f} ms, the whole stream's summary computed then)."]
    lines += ["", "| streams at once | clinical delay p50 | p95 | max (s) | of which: signal waited for, p50 "
              "| p95 | client pacing lateness, max | latency, p50 |",
              "|---|---|---|---|---|---|---|---|"]
    for name in ("1 stream", "16 streams"):
        r = results[name]
        c, w = np.asarray(r["clinical"]), np.asarray(r["wait"])
        lines.append(f"| {name} | {np.median(c):.2f} | {np.percentile(c, 95):.2f} | {c.max():.2f} | "
                     f"{np.median(w):.2f} | {np.percentile(w, 95):.2f} | {max(r['lateness']) * 1000:.0f} ms | "
                     f"{np.median(r['latency']) * 1000:.0f} ms |")
    warm = np.asarray(results["16 streams"]["warmup_clinical"])
    health = np.asarray(results["health"]) * 1000
    fast = results["max speed"]
    lines += ["",
              f"Beats of the first {WARMUP_S:g} s (16 streams): clinical delay median {np.median(warm):.1f} s, "
              f"max {warm.max():.1f} s.  ",
              f"`GET /api/v1/health` while the 16 streams ran: {health.size} requests, median {np.median(health):.0f} "
              f"ms, max {health.max():.0f} ms.  ",
              f"Max replay speed, one stream ({results['max speed record']}, {minutes_fast:g} min sent as fast as "
              f"the server takes it, {fast[0]['beats']} beats): "
              + ", ".join(f"{f['speed']:.0f}x real time with {f['chunk_s']:g}-s messages ({f['wall_s']:.1f} s)"
                          for f in fast) + ".",
              END]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="folder of MIT-BIH records")
    parser.add_argument("--minutes", type=float, default=2.0, help="of each record streamed at real speed")
    parser.add_argument("--fast-minutes", type=float, default=10.0, help="of the record replayed at full speed")
    parser.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args(argv)

    from ecgad.web import create_app, tokens
    from ecgad.web.accounts import create_user
    from ecgad.web.extensions import db

    records, signals, excerpts, finals = stream_inputs(args.data, args.minutes)

    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "ECGAD_INSTANCE_PATH": str(Path(tmp) / "instance"),
               "ECGAD_SECRET_KEY": "benchmark-only-secret-key-0123456789",
               "ECGAD_STREAMS_PER_USER": "16"}  # one token streams all 16 records
        app = create_app({"INSTANCE_PATH": env["ECGAD_INSTANCE_PATH"], "SECRET_KEY": env["ECGAD_SECRET_KEY"]})
        with app.app_context():
            user = create_user("bench@example.org", "benchmark password 123", "doctor", "Bench", via="benchmark")
            _, token = tokens.create(user, "benchmark")
            db.session.commit()
            db.engine.dispose()
        with serving(env) as base:
            url = base.replace("http://", "ws://") + "/api/v1/stream"
            first = records[0]
            warm = excerpts[first][: int(45 * signals[first].fs)]  # loads the model, runs its first block
            run_stream(url, token, warm, signals[first].fs, 0, None)
            results = {}
            one = records[0]
            single = run_stream(url, token, excerpts[one], signals[one].fs, 1.0, finals[one])
            results["1 stream"] = collect([single])
            for b in single["beats"][::10]:
                print(f"  {b['time_s']:7.1f} s: latency {b['latency_s'] * 1000:5.0f} ms", flush=True)
            print("1 stream done", flush=True)
            results["16 streams"], results["health"] = concurrent_streams(base, token, records, excerpts, signals,
                                                                          finals)
            print("16 streams done", flush=True)
            fast = signals[one].samples[: int(args.fast_minutes * 60 * signals[one].fs)]
            results["max speed"] = []
            for chunk_s in (CHUNK_S, 1.0):
                run = run_stream(url, token, fast, signals[one].fs, 0, None, chunk_s)
                results["max speed"].append({"chunk_s": chunk_s, "beats": run["n_beats"], "wall_s": run["wall_s"],
                                             "speed": fast.size / signals[one].fs / run["wall_s"]})
            results["max speed record"] = one
    text = section(results, _command(argv, __file__), args.minutes, args.fast_minutes)
    replace_section(args.results, text)
    print(text)


if __name__ == "__main__":
    main()
