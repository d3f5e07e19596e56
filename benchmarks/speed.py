"""Speed, side by side on one machine in one run (issue 12): in process, over HTTP, streams, recordings, cold start.

    python benchmarks/speed.py --data ../shared/data [--json] [--quick] [--only inprocess,http,...]

``--data``: the folder holding ``ECG5000/`` (or ``ECG5000_TEST.tsv`` itself) and ``mitdb/``
(default ``$ECGAD_DATA_DIR``). Parts (``--only`` picks some):

* ``inprocess``: the 4500 ECG5000 test beats through ``Detector.score`` (what a user calls), for the
  reference design in PyTorch eager (trained here for a few epochs on the ECG5000 training normals:
  speed does not depend on the weights), the shipped hybrid with ``backend="torch"`` and with
  ``backend="onnx"``. Each in a process of its own: beats/s at batch 256 and 4096, single-beat
  latency p50/p99 and the process's peak memory (VmHWM).
* ``http``: ``ecgad serve`` as it starts by default (its sizing for the cores, SQLite in a temporary
  folder, a doctor and an API token made with ``ecgad users`` / ``ecgad tokens``, ``ECGAD_API_RATE_LIMIT``
  raised so that the run measures speed, not the limit); ``POST /api/v1/score`` with 1 and with 256
  beats at concurrency 1 and 16, each for a fixed time, from a threaded load generator (``http.client``,
  one keep-alive connection per thread): p50, p99, requests/s, errors. locust was not used: it patches
  the whole process with gevent on import, which would change every other part of this run.
* ``stream``: 16 real-time streams at once on that server (``benchmarks/stream.py``): latency p99.
* ``recordings``: MIT-BIH 208 (30 min) and a synthetic 24-hour recording through
  ``RecordingDetector.analyze`` in a fresh process and ``ecgad analyze`` (wall time, cold)
  (``benchmarks/recordings.py``), and uploaded through the web app (``benchmarks/web_recordings.py``).
* ``cold``: ``ecgad score`` of one beat, wall time of a new process, slim install (``.venv-slim``, made by
  ``make slim`` when missing unless ``--no-build-slim``) and this full install.

The CPU's peak: cores x clock x FLOPs per cycle per core (32 with AVX-512: 16 fp32 lanes, a fused
multiply-add counted as 2; 16 with AVX2+FMA), the clock from cpufreq's maximum or else /proc/cpuinfo.
A throughput's fraction of it: beats/s x the network's FLOPs per beat (``ecgad.nn.flops``) / peak.

Writes the ``speed`` section of RESULTS.md and benchmarks/results/speed.json; ``--quick`` shortens every
part (for the tests) and writes neither unless ``--results`` / ``--out-json`` name files. ``--json`` prints
the results as one JSON object on the last line of stdout.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from quality import _command, replace_section  # noqa: E402

START, END = "<!-- speed:start -->", "<!-- speed:end -->"
PARTS = ("inprocess", "http", "stream", "recordings", "cold")
KINDS = {"reference": "reference design, PyTorch eager", "torch": "shipped hybrid, PyTorch (backend=\"torch\")",
         "onnx": "shipped hybrid, onnxruntime (backend=\"onnx\")"}
BATCHES = (256, 4096)
FULL = {"seconds": 3.0, "singles": 2000, "reference_epochs": 3, "http_seconds": 10.0, "stream_minutes": 2.0,
        "day_hours": 24.0, "repeats": 3, "cold_runs": 3}
QUICK = {"seconds": 0.3, "singles": 100, "reference_epochs": 1, "http_seconds": 1.0, "stream_minutes": 0.6,
         "day_hours": 0.25, "repeats": 1, "cold_runs": 1}
PASSWORD = secrets.token_urlsafe(18)  # the benchmark's throw-away account in a temporary database
TARGETS = {"batch": 10.0, "single": 3.0, "http_p99_ms": 50.0, "day_s": 2.0, "upload_s": 5.0, "cold_s": 1.0}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentile_ms(seconds: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(seconds) * 1000.0, q))


# ------------------------------------------------------------------ the machine and its peak
def machine() -> dict:
    """CPU model, the cores this process may use, AVX-512 flags, clock and the peak estimate."""
    from ecgad.web.server import available_cores

    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = re.search(r"^model name\s*:\s*(.+)$", info, re.M)
    flag_line = re.search(r"^flags\s*:\s*(.+)$", info, re.M)
    flags = set(flag_line.group(1).split()) if flag_line else set()
    clock, source = None, ""
    maximum = Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
    if maximum.exists():
        clock, source = int(maximum.read_text()) / 1e6, "cpufreq's maximum"
    else:
        mhz = [float(v) for v in re.findall(r"^cpu MHz\s*:\s*([\d.]+)$", info, re.M)]
        if mhz:
            clock, source = max(mhz) / 1000, "/proc/cpuinfo's cpu MHz (no cpufreq here: the clock as reported)"
    per_cycle = 32 if "avx512f" in flags else 16 if {"avx2", "fma"} <= flags else 8
    cores = available_cores()
    return {"cpu": model.group(1).strip() if model else platform.processor() or platform.machine(),
            "cores": cores, "logical_cpus": os.cpu_count(), "platform": platform.platform(),
            "avx512": sorted(f for f in flags if f.startswith("avx512")), "clock_ghz": clock, "clock_source": source,
            "flops_per_cycle": per_cycle,
            "peak_gflops": cores * clock * per_cycle if clock else None,
            "load_average": os.getloadavg()[0]}


def network_flops(reference_path: Path | None) -> dict[str, float]:
    """FLOPs per beat (``ecgad.nn.flops.count_flops``): the reference design, the shipped hybrid, and the
    shipped recording model's beat autoencoder."""
    from ecgad.detector import Detector, load_detector
    from ecgad.nn.flops import count_flops
    from ecgad.recording import load_recording_detector

    out = {}
    reference = Detector.load(reference_path, backend="torch") if reference_path else Detector(arch="reference")
    out["reference"] = count_flops(reference.model, reference.length)
    hybrid = load_detector(backend="torch")
    out["hybrid"] = count_flops(hybrid.model, hybrid.length)
    beat = load_recording_detector(backend="torch").beat
    out["recording"] = count_flops(beat.model, beat.length)
    return out


def fraction(beats_per_s: float | None, flops: float, peak_gflops: float | None) -> float | None:
    return beats_per_s * flops / (peak_gflops * 1e9) if beats_per_s and peak_gflops else None


# ------------------------------------------------------------------ in process
def ecg5000_file(data: Path, part: str) -> Path:
    for candidate in (data / f"ECG5000_{part}.tsv", data / "ECG5000" / f"ECG5000_{part}.tsv"):
        if candidate.is_file():
            return candidate
    raise SystemExit(f"no ECG5000_{part}.tsv in {data} or {data / 'ECG5000'}")


def train_reference(data: Path, out: Path, epochs: int) -> Path:
    """The reference design, trained briefly on the ECG5000 training normals (its speed does not depend
    on how well it is trained), saved for the timed process to load."""
    from ecgad.detector import Detector
    from ecgad.train_config import TrainConfig

    rows = np.loadtxt(ecg5000_file(data, "TRAIN"))
    normals = rows[rows[:, 0] == 1][:, 1:]
    detector = Detector(arch="reference", train_config=TrainConfig(epochs=epochs, patience=epochs))
    detector.fit(normals, progress=False)
    return detector.save(out)


_INPROCESS = r"""
import json, sys, time
import numpy as np
kind, test, model, seconds, singles = sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]), int(sys.argv[6])
beats = np.loadtxt(test)[:, 1:].astype(np.float32)
from ecgad.detector import Detector, load_detector
started = time.perf_counter()
detector = Detector.load(model, backend="torch") if kind == "reference" else load_detector(backend=kind)
load_s = time.perf_counter() - started
out = {"kind": kind, "backend": detector.backend, "beats": len(beats), "load_s": load_s}
for batch in (256, 4096):
    starts = list(range(0, len(beats) - batch + 1, batch)) or [0]
    detector.score(beats[:batch])  # the first call sets up (kernels, sessions' buffers)
    done, calls, t0 = 0, 0, time.perf_counter()
    while True:
        detector.score(beats[starts[calls % len(starts)]:][:batch])
        done, calls = done + batch, calls + 1
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds and calls >= 2:
            break
    out[f"batch_{batch}"] = {"beats_per_s": done / elapsed, "calls": calls, "seconds": elapsed}
for i in range(20):
    detector.score(beats[i:i + 1])
times = []
for i in range(singles):
    beat = beats[i % len(beats):][:1]
    t = time.perf_counter()
    detector.score(beat)
    times.append(time.perf_counter() - t)
times = np.asarray(times) * 1000
out["single"] = {"p50_ms": float(np.percentile(times, 50)), "p99_ms": float(np.percentile(times, 99)), "n": singles}
status = dict(line.split(":", 1) for line in open("/proc/self/status"))  # this process's own peak (VmHWM)
out["peak_memory_mb"] = int(status["VmHWM"].split()[0]) / 1024
print(json.dumps(out))
"""


def in_process(data: Path, tmp: Path, settings: dict, kinds=tuple(KINDS)) -> tuple[dict, Path | None]:
    """Each of ``kinds`` timed in a process of its own; the reference design trained first when it is one."""
    reference = None
    if "reference" in kinds:
        reference = train_reference(data, tmp / "reference.safetensors", settings["reference_epochs"])
        log(f"reference design trained ({settings['reference_epochs']} epochs)")
    results = {}
    for kind in kinds:
        run = subprocess.run([sys.executable, "-c", _INPROCESS, str(HERE), kind, str(ecg5000_file(data, "TEST")),
                              str(reference), str(settings["seconds"]), str(settings["singles"])],
                             capture_output=True, text=True, check=False)
        if run.returncode:
            raise SystemExit(f"the in-process run of {kind} failed:\n{run.stderr[-3000:]}")
        results[kind] = json.loads(run.stdout.strip().splitlines()[-1])
        r = results[kind]
        log(f"{kind}: " + ", ".join(f"batch {b}: {r[f'batch_{b}']['beats_per_s']:.0f} beats/s" for b in BATCHES)
            + f", single p50 {r['single']['p50_ms']:.2f} ms p99 {r['single']['p99_ms']:.2f} ms, "
              f"{r['peak_memory_mb']:.0f} MB")
    return results, reference


# ------------------------------------------------------------------ HTTP
def load(port: int, path: str, headers: dict, body: bytes, concurrency: int, seconds: float) -> dict:
    """``concurrency`` threads, each on its own keep-alive connection, POST ``body`` for ``seconds``."""
    barrier = threading.Barrier(concurrency + 1)
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency
    statuses: dict[int, int] = {}
    deadline = [0.0]

    def worker(k: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        barrier.wait()
        while time.perf_counter() < deadline[0]:
            started = time.perf_counter()
            try:
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
                if not ok:
                    statuses[response.status] = statuses.get(response.status, 0) + 1
            except (OSError, http.client.HTTPException):
                ok = False
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            if ok:
                latencies[k].append(time.perf_counter() - started)
            else:
                errors[k] += 1
        connection.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(concurrency)]
    for t in threads:
        t.start()
    started = time.perf_counter()
    deadline[0] = started + seconds
    barrier.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    done = [x for each in latencies for x in each]
    return {"requests": len(done), "errors": sum(errors), "error_statuses": statuses,
            "requests_per_s": len(done) / elapsed, "seconds": elapsed,
            "p50_ms": percentile_ms(done, 50) if done else None, "p99_ms": percentile_ms(done, 99) if done else None}


def server_env(tmp: Path) -> dict:
    env = {**os.environ, "ECGAD_INSTANCE_PATH": str(tmp / "instance"),
           "ECGAD_SECRET_KEY": "benchmark-only-secret-key-0123456789",
           "ECGAD_API_RATE_LIMIT": "1000000 per minute",  # the default 600 would be what is measured
           "ECGAD_STREAMS_PER_USER": "16"}
    for name in ("ECGAD_DATABASE_URL", "ECGAD_RATELIMIT_STORAGE_URL", "ECGAD_MODEL_PATH", "ECGAD_RECORDING_MODEL_PATH"):
        env.pop(name, None)  # SQLite, in-process counts and the shipped models: `ecgad serve`'s defaults
    return env


def api_token(env: dict) -> str:
    """A doctor and their API token, made as an administrator would: ``ecgad users`` / ``ecgad tokens``."""
    cli = [sys.executable, "-m", "ecgad.cli"]
    subprocess.run([*cli, "users", "create", "--email", "bench@example.org", "--role", "doctor", "--password-stdin"],
                   input=PASSWORD + "\n", text=True, env=env, check=True, capture_output=True)
    made = subprocess.run([*cli, "tokens", "create", "--email", "bench@example.org", "--name", "speed benchmark"],
                          text=True, env=env, check=True, capture_output=True)
    return made.stdout.strip().splitlines()[-1]


def http_part(port: int, token: str, beats: np.ndarray, seconds: float) -> dict:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
               "Accept-Encoding": "gzip"}  # as browsers and requests send it: the server may compress
    out = {}
    one = json.dumps({"beats": beats[:1].tolist()}).encode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    started = time.perf_counter()  # the first request after start (the worker warmed its models up)
    connection.request("POST", "/api/v1/score", body=one, headers=headers)
    response = connection.getresponse()
    response.read()
    out["first_request_ms"] = (time.perf_counter() - started) * 1000 if response.status == 200 else None
    connection.close()
    for n in (1, 256):
        body = json.dumps({"beats": beats[:n].tolist()}).encode()
        for concurrency in (1, 16):
            r = load(port, "/api/v1/score", headers, body, concurrency, seconds)
            name = f"{n} beat{'s' if n > 1 else ''}, concurrency {concurrency}"
            out[name] = {"beats": n, "concurrency": concurrency, **r}
            log(f"HTTP {n} beats x {concurrency}: {r['requests_per_s']:.0f} req/s, p50 {r['p50_ms'] or 0:.1f} ms, "
                f"p99 {r['p99_ms'] or 0:.1f} ms, {r['errors']} errors")
    return out


def sizing_line(text: str) -> str:
    match = re.search(r"ecgad: (\d+ worker process.*? for \d+ cores)", text)
    return match.group(1) if match else "unknown"


def served_parts(data: Path, tmp: Path, settings: dict, parts: set[str]) -> dict:
    """The HTTP and stream parts, on one ``ecgad serve`` started as it starts by default."""
    import stream as stream_bench

    env = server_env(tmp)
    token = api_token(env)
    out: dict = {}
    stream_inputs = None
    if "stream" in parts:  # before the server: computing the beats' final messages takes the cores
        stream_inputs = stream_bench.stream_inputs(data / "mitdb", settings["stream_minutes"])
    server_log = open(tmp / "serve.log", "w+")
    with stream_bench.serving(env, log=server_log) as base:
        port = int(base.rsplit(":", 1)[1])
        if "http" in parts:
            beats = np.loadtxt(ecg5000_file(data, "TEST"))[:256, 1:]
            out["http"] = http_part(port, token, beats, settings["http_seconds"])
        if stream_inputs is not None:
            records, signals, excerpts, finals = stream_inputs
            collected, health = stream_bench.concurrent_streams(base, token, records, excerpts, signals, finals)
            latency = collected["latency"]
            out["stream"] = {"streams": len(records), "minutes": settings["stream_minutes"], "beats": len(latency),
                             "p50_ms": percentile_ms(latency, 50), "p99_ms": percentile_ms(latency, 99),
                             "max_ms": max(latency) * 1000, "health_max_ms": max(health) * 1000 if health else None}
            log(f"16 streams: latency p50 {out['stream']['p50_ms']:.0f} ms, p99 {out['stream']['p99_ms']:.0f} ms")
    server_log.seek(0)
    out["server"] = sizing_line(server_log.read())
    server_log.close()
    return out


# ------------------------------------------------------------------ recordings
def recordings_part(data: Path, tmp: Path, settings: dict, cores: int) -> dict:
    import recordings as rec_bench
    import web_recordings

    mitdb = data / "mitdb"
    record = mitdb / "208"
    records = sorted(p.with_suffix("") for p in mitdb.glob("*.hea"))
    day = rec_bench.synthetic_day(records, tmp, settings["day_hours"])
    day_name = f"synthetic {settings['day_hours']:g} h"
    out = {}
    for name, path, repeats in (("MIT-BIH 208, 30 min", record, settings["repeats"]), (day_name, day, 1)):
        timed = rec_bench.speed(path, None, repeats, cores)
        timed["cli_seconds"] = rec_bench.cli_seconds(path, None, cores)
        out[name] = timed
        log(f"{name}: analyze {timed['seconds']:.2f} s ({timed['beats']} beats), `ecgad analyze` "
            f"{timed['cli_seconds']:.2f} s")
    with web_recordings.signed_in(tmp / "web") as (client, patient, csrf):
        for name, files in (("MIT-BIH 208, 30 min", [record.with_suffix(s) for s in (".hea", ".dat", ".atr")]),
                            (day_name, [day.with_suffix(".hea"), day.with_suffix(".dat")])):
            row = web_recordings.measure(client, patient, files, csrf)
            out[name]["upload_s"], out[name]["upload_mb"] = row["upload_s"], row["megabytes"]
            log(f"{name}: web upload {row['upload_s']:.2f} s")
    return out


# ------------------------------------------------------------------ cold start
def slim_python(build: bool) -> tuple[Path | None, str]:
    """The slim install's interpreter (``make slim``'s .venv-slim), built when missing and ``build``."""
    python = REPO / ".venv-slim" / "bin" / "python"
    ready = REPO / ".venv-slim" / ".installed"  # make slim's stamp: the install finished
    if not ready.exists() and build:
        log("building .venv-slim (make slim): a few minutes")
        made = subprocess.run(["make", "-C", str(REPO), "slim", f"PYTHON={shutil.which('python3') or 'python3'}"],
                              capture_output=True, text=True, check=False)
        if made.returncode:
            return None, f"`make slim` failed: {made.stderr.strip().splitlines()[-1:]}"
    if not ready.exists():
        return None, "no finished .venv-slim (run `make slim`, or this benchmark without --no-build-slim / --quick)"
    return python, ""


def cold_part(runs: int, build_slim: bool, tmp: Path) -> dict:
    beat = tmp / "one_beat.csv"
    example = REPO / "src" / "ecgad" / "assets" / "examples" / "normal_beats.csv"
    beat.write_text(example.read_text().splitlines()[0] + "\n")
    out = {}
    slim, note = slim_python(build_slim)
    installs = {"slim (.venv-slim)": slim, "full (this interpreter, torch installed)": Path(sys.executable)}
    for name, python in installs.items():
        if python is None:
            out[name] = {"skipped": note}
            continue
        env = {**os.environ}
        if name.startswith("slim"):
            env.pop("PYTHONPATH", None)  # its own editable install of this checkout
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            done = subprocess.run([str(python), "-m", "ecgad.cli", "score", str(beat)], env=env,
                                  capture_output=True, text=True, check=False)
            times.append(time.perf_counter() - started)
            if done.returncode:
                raise SystemExit(f"ecgad score failed in the {name} install:\n{done.stderr[-2000:]}")
        out[name] = {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times), "runs": runs}
        log(f"cold `ecgad score`, {name}: median {out[name]['median_s']:.2f} s over {runs}")
    return out


# ------------------------------------------------------------------ the table
def judged(value: float | None, target: float, at_least: bool, unit: str = "") -> tuple[str, bool | None]:
    """'met' or 'missed' and by how much, for a value against a lower (at_least) or upper bound."""
    if value is None:
        return "not measured", None
    met = value >= target if at_least else value < target
    if met:
        return "met", True
    if at_least:
        return f"missed: {value:.3g}{unit}, {target / value:.1f}x short", False
    return f"missed: {value / target:.1f}x the limit (+{value - target:.3g}{unit})", False


def rows(results: dict) -> list[dict]:
    """One row per figure: part, figure, value, fraction of peak, target, verdict."""
    out = []
    peak = (results.get("machine") or {}).get("peak_gflops")
    flops = results.get("flops", {})

    def add(part, figure, value, frac=None, target="—", verdict="", met=None):
        out.append({"part": part, "figure": figure, "value": value, "fraction_of_peak": frac, "target": target,
                    "verdict": verdict, "met": met})

    inproc = results.get("inprocess")
    if inproc:
        ref = inproc["reference"]
        for kind, name in KINDS.items():
            r = inproc[kind]
            f = flops.get("reference" if kind == "reference" else "hybrid", 0)
            for b in BATCHES:
                bps = r[f"batch_{b}"]["beats_per_s"]
                if kind == "reference":
                    add("in process", f"{name}: batch {b}", f"{bps:,.0f} beats/s", fraction(bps, f, peak))
                    continue
                ratio = bps / ref[f"batch_{b}"]["beats_per_s"]
                target, met = (f"≥ {TARGETS['batch']:g}x the reference", None)
                verdict = ""
                if kind == "onnx":  # the shipped detector: onnxruntime is what `auto` picks
                    verdict, met = judged(ratio, TARGETS["batch"], True, "x")
                else:
                    target = "—"
                add("in process", f"{name}: batch {b}", f"{bps:,.0f} beats/s ({ratio:.1f}x the reference)",
                    fraction(bps, f, peak), target, verdict, met)
            p50, p99 = r["single"]["p50_ms"], r["single"]["p99_ms"]
            if kind == "reference":
                add("in process", f"{name}: one beat p50 / p99", f"{p50:.3f} / {p99:.3f} ms")
            else:
                faster = ref["single"]["p50_ms"] / p50
                verdict, met = judged(faster, TARGETS["single"], True, "x") if kind == "onnx" else ("", None)
                than = f"{faster:.1f}x faster" if faster >= 1 else f"{1 / faster:.1f}x slower"
                add("in process", f"{name}: one beat p50 / p99", f"{p50:.3f} / {p99:.3f} ms ({than} than the "
                    "reference's p50)", None,
                    f"p50 ≥ {TARGETS['single']:g}x faster than the reference" if kind == "onnx" else "—", verdict, met)
            add("in process", f"{name}: peak memory", f"{r['peak_memory_mb']:.0f} MB")
    http_results = results.get("http")
    if http_results:
        for key, r in http_results.items():
            if not isinstance(r, dict):
                continue
            value = (f"p50 {r['p50_ms'] or 0:.1f} ms, p99 {r['p99_ms'] or 0:.1f} ms, {r['requests_per_s']:.3g} req/s "
                     f"({r['requests']} in {r['seconds']:.1f} s), {r['errors']} errors")
            frac = fraction(r["requests_per_s"] * r["beats"], flops.get("hybrid", 0), peak)
            if r["beats"] == 1 and r["concurrency"] == 16:
                verdict, met = judged(r["p99_ms"], TARGETS["http_p99_ms"], False, " ms")
                if r["errors"]:
                    verdict, met = f"missed: {r['errors']} errors" + ("" if met else f"; {verdict}"), False
                add("HTTP", f"POST /api/v1/score, {key}", value, frac, f"p99 < {TARGETS['http_p99_ms']:g} ms, "
                    "no errors", verdict, met)
            else:
                add("HTTP", f"POST /api/v1/score, {key}", value, frac)
        if http_results.get("first_request_ms") is not None:
            add("HTTP", "the first request after start (1 beat)", f"{http_results['first_request_ms']:.1f} ms")
    s = results.get("stream")
    if s:
        add("stream", f"{s['streams']} real-time streams: beat latency p50 / p99",
            f"{s['p50_ms']:.0f} / {s['p99_ms']:.0f} ms ({s['beats']} beats)")
    recs = results.get("recordings")
    if recs:
        for name, r in recs.items():
            day = name.startswith("synthetic")
            bps = r["beats"] / r["seconds"]
            frac = fraction(bps, flops.get("recording", 0), peak)
            hours = r["duration_s"] / 3600
            if day and abs(hours - 24) < 0.01:
                verdict, met = judged(r["seconds"], TARGETS["day_s"], False, " s")
                target = f"< {TARGETS['day_s']:g} s"
            else:
                verdict, met, target = "", None, "—"
            add("recordings", f"{name}: `RecordingDetector.analyze` (read + analyse)",
                f"{r['seconds']:.2f} s ({r['beats']} beats, {bps:,.0f} beats/s, {r['maxrss_mb']:.0f} MB)", frac,
                target, verdict, met)
            add("recordings", f"{name}: `ecgad analyze --json` (new process)", f"{r['cli_seconds']:.2f} s")
            if "upload_s" in r:
                if day and abs(hours - 24) < 0.01:
                    verdict, met = judged(r["upload_s"], TARGETS["upload_s"], False, " s")
                    target = f"< {TARGETS['upload_s']:g} s"
                else:
                    verdict, met, target = "", None, "—"
                add("recordings", f"{name}: web upload ({r['upload_mb']:.1f} MB, analysed and stored)",
                    f"{r['upload_s']:.2f} s", None, target, verdict, met)
    cold = results.get("cold")
    if cold:
        for name, r in cold.items():
            slim = name.startswith("slim")
            if "skipped" in r:
                add("cold start", f"`ecgad score` of one beat, {name}", f"skipped: {r['skipped']}", None,
                    f"< {TARGETS['cold_s']:g} s" if slim else "—", "not measured" if slim else "", None)
                continue
            verdict, met = judged(r["median_s"], TARGETS["cold_s"], False, " s") if slim else ("", None)
            add("cold start", f"`ecgad score` of one beat, {name}",
                f"{r['median_s']:.2f} s (median of {r['runs']}, {r['min_s']:.2f}–{r['max_s']:.2f})", None,
                f"< {TARGETS['cold_s']:g} s" if slim else "—", verdict, met)
    return out


def section(results: dict) -> str:
    m = results["machine"]
    flops = results.get("flops", {})
    peak = m["peak_gflops"]
    lines = [START, "## Speed, side by side (issue 12)", "",
             f"Command: `{results['command']}`  ",
             f"Date: {results['date']}  ",
             f"Machine: {m['cpu']}, {m['cores']} cores usable ({m['logical_cpus']} logical CPUs), {m['platform']}; "
             f"AVX-512: {', '.join(m['avx512']) or 'none'}; load average {m['load_average']:.1f} when it started"
             + (" (the machine was shared with other work while it ran: times are upper bounds and rates lower "
                "bounds; rerun it on a quiet machine to compare)" if m["load_average"] > 1 else "") + ".  ",
             f"Peak estimate: {m['cores']} cores x {m['clock_ghz']:.2f} GHz ({m['clock_source']}) x "
             f"{m['flops_per_cycle']} fp32 FLOPs per cycle (one AVX-512 FMA a cycle: 16 lanes x 2) = "
             f"**{peak:.0f} GFLOP/s**. FLOPs per beat (`ecgad.nn.flops`): reference design "
             f"{flops.get('reference', 0) / 1e6:.2f} M, shipped hybrid {flops.get('hybrid', 0) / 1e6:.2f} M, the "
             f"recording model's beat autoencoder {flops.get('recording', 0) / 1e6:.2f} M; a throughput's fraction of "
             "peak is beats/s x FLOPs per beat / peak (the network's arithmetic only).  " if peak else
             "Peak estimate: no clock reported here.  ",
             ""]
    if results.get("notes"):
        lines += [" ".join(results["notes"]), ""]
    lines += ["| part | figure | value | of peak | target | met? |", "|---|---|---|---|---|---|"]
    for r in results["rows"]:
        frac = f"{r['fraction_of_peak'] * 100:.1f} %" if r["fraction_of_peak"] is not None else ""
        lines.append(f"| {r['part']} | {r['figure']} | {r['value']} | {frac} | {r['target']} | {r['verdict']} |")
    lines += ["", END]
    return "\n".join(lines) + "\n"


def notes(results: dict, settings: dict, quick: bool) -> list[str]:
    out = []
    if quick:
        out.append("**--quick**: every part shortened; not for comparison.")
    if "inprocess" in results:
        out.append(f"In process: the 4500 ECG5000 test beats through `Detector.score`, each design in a process of "
                   f"its own, every thread it wants; batches repeated for {settings['seconds']:g} s, "
                   f"{settings['singles']} single beats; peak memory is the process's VmHWM (imports, model, "
                   f"scoring). The reference design was trained here for {settings['reference_epochs']} epoch(s) only: "
                   "its speed does not depend on its weights.")
    if "http" in results:
        out.append(f"HTTP: `ecgad serve` with its own sizing ({results.get('server', 'unknown')}), SQLite, "
                   f"`ECGAD_API_RATE_LIMIT` raised to 1000000 per minute for the run; each case "
                   f"{settings['http_seconds']:g} s from a threaded `http.client` load generator in this process "
                   "(keep-alive, `Accept-Encoding: gzip`), on the same cores as the server.")
    if "stream" in results:
        out.append(f"Stream: 16 MIT-BIH records, {settings['stream_minutes']:g} min each at real speed "
                   "(`benchmarks/stream.py`'s client and latency: from sending the message that makes a beat final "
                   "to receiving it).")
    if "recordings" in results:
        out.append("Recordings: `benchmarks/recordings.py`'s timing (best of its runs after imports and model load; "
                   "fresh process) and `ecgad analyze` wall time, and `benchmarks/web_recordings.py`'s upload "
                   "(Flask test client, SQLite, every beat and the signal stored).")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=os.environ.get("ECGAD_DATA_DIR"),
                        help="folder with ECG5000/ and mitdb/ (default: $ECGAD_DATA_DIR)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON (last line of stdout)")
    parser.add_argument("--quick", action="store_true", help="shorten every part (tests)")
    parser.add_argument("--only", default=",".join(PARTS), help=f"parts to run, of {', '.join(PARTS)}")
    parser.add_argument("--results", type=Path, help="RESULTS.md to update (default: benchmarks/RESULTS.md, "
                        "not with --quick)")
    parser.add_argument("--out-json", type=Path, help="where to write the results (default: "
                        "benchmarks/results/speed.json, not with --quick)")
    parser.add_argument("--from-json", type=Path, help="measure nothing: write the section again from the "
                        "results of an earlier run (benchmarks/results/speed.json)")
    parser.add_argument("--no-build-slim", action="store_true",
                        help="skip the slim cold start if .venv-slim is missing")
    args = parser.parse_args(argv)
    if args.from_json:
        results = json.loads(args.from_json.read_text())
        results["rows"] = rows(results)
        results["notes"] = notes(results, results["settings"], results["quick"])
        replace_section(args.results or HERE / "RESULTS.md", section(results))
        return
    if args.data is None:
        parser.error("give --data or set ECGAD_DATA_DIR")
    parts = {p.strip() for p in args.only.split(",") if p.strip()}
    if parts - set(PARTS):
        parser.error(f"unknown parts: {', '.join(sorted(parts - set(PARTS)))}")
    settings = QUICK if args.quick else FULL
    results: dict = {"command": _command(argv, __file__), "date": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
                     "quick": args.quick, "parts": sorted(parts), "settings": settings, "machine": machine()}
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        reference = None
        if "inprocess" in parts:
            results["inprocess"], reference = in_process(args.data, tmp, settings)
        results["flops"] = network_flops(reference)
        if "recordings" in parts:  # before the server: nothing else on the cores
            results["recordings"] = recordings_part(args.data, tmp, settings, results["machine"]["cores"])
        if parts & {"http", "stream"}:
            results.update(served_parts(args.data, tmp, settings, parts))
        if "cold" in parts:
            results["cold"] = cold_part(settings["cold_runs"], not (args.no_build_slim or args.quick), tmp)
    results["rows"] = rows(results)
    results["notes"] = notes(results, settings, args.quick)
    text = section(results)
    results_md = args.results or (None if args.quick else HERE / "RESULTS.md")
    out_json = args.out_json or (None if args.quick else HERE / "results" / "speed.json")
    if results_md:
        replace_section(results_md, text)
    if out_json:
        out_json.parent.mkdir(parents=True, exist_ok=True)
        out_json.write_text(json.dumps(results, indent=1) + "\n")
    log(text)
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
