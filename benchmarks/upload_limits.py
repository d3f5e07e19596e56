"""Memory and CPU taken by hostile recordings (issue 8, item 5): the peak memory growth (VmHWM,
Linux) of a fresh process reading each file with ``read_recording``, as a web worker or ``ecgad
analyze`` does, and the CPU seconds it takes; with ``--web``, of a fresh web app handling the whole
upload request (Flask test client, SQLite, shipped recording model loaded beforehand).

    PYTHONPATH=src python benchmarks/upload_limits.py [--web] [--work DIR]

The files are built once into ``--work`` (about 100 MB) and reused. Run it with ``PYTHONPATH``
pointing at another checkout's ``src`` to measure that code (e.g. the code before the limits).
Each case runs in its own process, so a large one cannot disturb the next.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

CHILD = r"""
import json, sys, time
from ecgad.data.readers import read_recording

def peak_mb():  # this process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited from the parent)
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024

path, fs = sys.argv[1], (float(sys.argv[2]) if sys.argv[2] != "-" else None)
before, cpu = peak_mb(), time.process_time()
try:
    signal = read_recording(path, fs=fs)
    outcome = f"read {len(signal)} samples"
except ValueError as e:
    outcome = "refused: " + str(e).replace(path.rsplit("/", 1)[0] + "/", "")[:110]
print(json.dumps({"growth_mb": peak_mb() - before, "cpu_s": time.process_time() - cpu, "outcome": outcome}))
"""


WEB_CHILD = r"""
import json, re, sys, tempfile, time
from pathlib import Path
from ecgad.web import create_app
from ecgad.web.accounts import create_user
from ecgad.web.detection import get_recording_detector
from ecgad.web.extensions import db
from ecgad.web.models import Patient

def peak_mb():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024

app = create_app({"TESTING": True, "SECRET_KEY": "upload-limits-benchmark-secret-key", "WTF_CSRF_ENABLED": False,
                  "RATELIMIT_ENABLED": False, "INSTANCE_PATH": tempfile.mkdtemp(), "ARGON2_TIME_COST": 1,
                  "ARGON2_MEMORY_COST": 8, "ARGON2_PARALLELISM": 1})
with app.app_context():
    user = create_user("doctor@example.org", "correct horse battery staple", "doctor", "Dr")
    patient = Patient(doctor_id=user.id, name="Ann", identifier="1", sex="female", notes="")
    db.session.add(patient)
    db.session.commit()
    patient_id = patient.id
    get_recording_detector()  # loaded before measuring, as in a worker that has served a request
client = app.test_client()
client.post("/login", data={"email": "doctor@example.org", "password": "correct horse battery staple"})
fs, paths = sys.argv[1], sys.argv[2:]
form = {"recording-files": [(open(p, "rb"), Path(p).name) for p in paths]}
if fs != "-":
    form["recording-fs"] = fs
before, cpu = peak_mb(), time.process_time()
response = client.post(f"/patients/{patient_id}/recordings", data=form, content_type="multipart/form-data")
error = re.search(r'data-testid="recording-error">(.*?)</div>', response.text, re.S)
outcome = f"{response.status_code}: " + (error.group(1)[:100] if error else "analysed")
print(json.dumps({"growth_mb": peak_mb() - before, "cpu_s": time.process_time() - cpu, "outcome": outcome}))
"""

def _wfdb(folder: Path, name: str, fs: float, n: int, fmt: str) -> Path:
    import wfdb

    d = (np.sin(np.arange(n) / 1000) * 100).astype(np.int16)[:, None]
    wfdb.wrsamp(name, fs=fs, units=["mV"], sig_name=["II"], d_signal=d, fmt=[fmt], adc_gain=[200.0],
                baseline=[0], write_dir=str(folder))
    return folder / f"{name}.hea"


def build(work: Path) -> dict[str, tuple[Path, float | None]]:
    """The cases: (file, fs given or None)."""
    work.mkdir(parents=True, exist_ok=True)
    cases: dict[str, tuple[Path, float | None]] = {}
    one_row = work / "one-row-40mb.csv"
    if not one_row.exists():
        one_row.write_text("0.1," * 10_000_000 + "0.1\n")  # 10^7 columns, 40 MB
    cases["CSV, one row of 10^7 columns (40 MB)"] = (one_row, 250.0)
    flac = work / "flac.hea"
    if not flac.exists():
        _wfdb(work, "flac", 1e6, 100_000_000, "516")  # 10^8 samples in 14 MB, 100 s at 1 MHz
    cases["WFDB FLAC (516), 10^8 samples at 1 MHz (14 MB)"] = (flac, None)
    flac_day = work / "flacday.hea"
    if not flac_day.exists():
        _wfdb(work, "flacday", 1000.0, 80_000_000, "516")  # 22 hours at 1 kHz in 11 MB
    cases["WFDB FLAC (516), 8x10^7 samples at 1 kHz (11 MB)"] = (flac_day, None)
    fast = work / "fast.hea"
    if not fast.exists():
        _wfdb(work, "fast", 1e6, 7_000_000, "16")  # 14 MB in format 16: 7 s at 1 MHz
    cases["WFDB format 16, 7x10^6 samples at 1 MHz (14 MB)"] = (fast, None)
    header = work / "many.hea"
    if not header.exists():
        lines = ["many 100000 360 1000"] + [f"many.dat 16 200 16 0 0 0 0 s{i}" for i in range(100_000)]
        header.write_text("\n".join(lines) + "\n")  # 3.4 MB
        (work / "many.dat").write_bytes(b"")
    cases["WFDB header with 100,000 signals (3.4 MB)"] = (header, None)
    normal = work / "normal-30min.csv"
    if not normal.exists():
        t = np.arange(int(30 * 60 * 360)) / 360
        np.savetxt(normal, np.c_[t, np.sin(2 * np.pi * 1.2 * t)], fmt="%.5f", delimiter=",", header="time,II",
                   comments="")
    cases["CSV, 30 min at 360 Hz with a time column (12 MB): accepted"] = (normal, None)
    return cases


def _files(path: Path) -> list[Path]:
    """The files an upload of ``path`` holds: a WFDB header with its signal file, or the file."""
    return [path, path.with_suffix(".dat")] if path.suffix == ".hea" else [path]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "ecgad-upload-limits")
    parser.add_argument("--web", action="store_true", help="measure the whole upload request in a web app")
    parser.add_argument("--only", help="run only the cases whose label contains this text")
    args = parser.parse_args()
    cases = build(args.work)
    print(f"code: {os.environ.get('PYTHONPATH', '(installed ecgad)')}; "
          f"{'web upload' if args.web else 'read_recording'}")
    print(f"{'case':<58} {'peak growth':>12} {'CPU s':>7}  outcome")
    for label, (path, fs) in cases.items():
        if args.only and args.only not in label:
            continue
        rate = "-" if fs is None else str(fs)
        command = ([sys.executable, "-c", WEB_CHILD, rate, *map(str, _files(path))] if args.web
                   else [sys.executable, "-c", CHILD, str(path), rate])
        done = subprocess.run(command, capture_output=True, text=True, timeout=1800)
        if done.returncode != 0:
            print(f"{label:<58} {'':>12} {'':>7}  crashed: {done.stderr.strip().splitlines()[-1][:100]}")
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{label:<58} {r['growth_mb']:>9.0f} MB {r['cpu_s']:>7.2f}  {r['outcome']}")


if __name__ == "__main__":
    main()
