"""Recordings through the web app: upload + analysis + storage, the page, a window of the timeline.

    python benchmarks/web_recordings.py --data ../shared/data/mitdb

The real app (SQLite in a temporary folder, CSRF on, shipped recording model),
driven by Flask's test client: no network, but every request goes through the
whole stack. Recordings: MIT-BIH 208 (30 min, 2 leads, 360 Hz; its .hea, .dat and
.atr uploaded together) and a synthetic 24-hour two-lead 360 Hz record (the DS1
records one after the other, as in benchmarks/recordings.py). For each: the
upload request (read, R peaks, scoring, storing every beat and the signal), the
analysis page (summary, timeline of the first 20 s and the whole heart rate, the
first page of the beat table, the figure of the highest-scoring beat), a 30 s and
a 10 min window of the timeline, one beat's JSON, and the database size. Replaces
the ``web-recordings`` section of RESULTS.md.
"""
from __future__ import annotations

import argparse
import io
import platform
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from quality import _command, replace_section  # noqa: E402
from recordings import synthetic_day  # noqa: E402

START, END = "<!-- web-recordings:start -->", "<!-- web-recordings:end -->"


def _timed(call):
    started = time.perf_counter()
    response = call()
    return response, time.perf_counter() - started


def measure(client, patient: int, files: list[Path], token: str) -> dict:
    uploads = [(io.BytesIO(f.read_bytes()), f.name) for f in files]
    response, upload_s = _timed(lambda: client.post(
        f"/patients/{patient}/recordings", content_type="multipart/form-data",
        data={"recording-csrf_token": token, "recording-files": uploads}))
    if response.status_code != 302:
        raise SystemExit(f"upload of {[f.name for f in files]} failed: {response.status_code}\n{response.text[-2000:]}")
    page_url = response.headers["Location"]
    page, page_s = _timed(lambda: client.get(page_url))
    window_30s, w30 = _timed(lambda: client.get(f"{page_url}/timeline.json?start=3600&end=3630"))
    window_10m, w600 = _timed(lambda: client.get(f"{page_url}/timeline.json?start=600&end=1200"))
    beat, beat_s = _timed(lambda: client.get(f"{page_url}/beats/100.json"))
    for r in (page, window_30s, window_10m, beat):
        assert r.status_code == 200, r.status_code
    beats = int(re.search(r'data-testid="summary-beats">(\d+)<', page.text).group(1))
    return {"files": ", ".join(f.name for f in files), "megabytes": sum(f.stat().st_size for f in files) / 1e6,
            "beats": beats, "upload_s": upload_s, "page_s": page_s, "page_kb": len(page.data) / 1e3,
            "window_30s_s": w30, "window_10min_s": w600, "beat_s": beat_s}


@contextmanager
def signed_in(tmp: Path) -> Iterator[tuple[object, int, str]]:
    """The real app on SQLite in ``tmp/instance``, a doctor signed in through the login form and one
    patient: yields (Flask test client, the patient's id, the upload form's CSRF token)."""
    from ecgad.web import create_app
    from ecgad.web.accounts import create_user
    from ecgad.web.extensions import db
    from ecgad.web.models import Patient

    app = create_app({"INSTANCE_PATH": str(tmp / "instance"), "SECRET_KEY": "benchmark-only-secret-key-0123456789",
                      "RATELIMIT_ENABLED": False})
    with app.app_context():
        user = create_user("bench@example.org", "benchmark password 123", "doctor", "Bench", via="benchmark")
        patient = Patient(doctor_id=user.id, name="Benchmark", identifier="B-1")
        db.session.add(patient)
        db.session.commit()
        patient_id = patient.id
    client = app.test_client()

    def token(url: str, name: str) -> str:
        return re.search(rf'name="{name}" type="hidden" value="([^"]+)"', client.get(url).text).group(1)

    client.post("/login", data={"email": "bench@example.org", "password": "benchmark password 123",
                                "csrf_token": token("/login", "csrf_token")})
    try:
        yield client, patient_id, token(f"/patients/{patient_id}", "recording-csrf_token")
    finally:
        with app.app_context():
            db.engine.dispose()


def section(rows: list[dict], command: str, db_mb: float) -> str:
    lines = [START, "## Recordings through the web app", "",
             f"Command: `{command}`  ",
             f"Machine: {platform.platform()}, {platform.machine()}, 2 cores  ",
             f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  ",
             "Flask test client, SQLite, shipped recording model. Upload: reading, R peaks, scoring and storing "
             "every beat and the signal, in one request. Page: the analysis page as it opens. Windows: "
             "`timeline.json` for 30 s (at 1 h, or past the end for the 30-minute record) "
             "and for 10 min (from 10 min).",
             "",
             "| recording | upload | beats | upload request | page | page size "
             "| 30 s window | 10 min window | one beat |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['name']} | {r['megabytes']:.1f} MB | {r['beats']} | {r['upload_s']:.2f} s "
                     f"| {r['page_s']:.2f} s | {r['page_kb']:.0f} kB | {r['window_30s_s'] * 1000:.0f} ms "
                     f"| {r['window_10min_s'] * 1000:.0f} ms "
                     f"| {r['beat_s'] * 1000:.0f} ms |")
    lines += ["", f"SQLite database after both: {db_mb:.0f} MB.", END]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="folder of MIT-BIH records (DS1)")
    parser.add_argument("--hours", type=float, default=24.0, help="length of the synthetic recording")
    parser.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        with signed_in(tmp) as (client, patient_id, csrf):
            rows = []
            record = args.data / "208"
            row = measure(client, patient_id, [record.with_suffix(s) for s in (".hea", ".dat", ".atr")], csrf)
            rows.append({"name": "MIT-BIH 208, 30 min, with .atr", **row})
            print(rows[-1], flush=True)
            records = sorted(p.with_suffix("") for p in args.data.glob("*.hea"))
            day = synthetic_day(records, tmp, args.hours)
            row = measure(client, patient_id, [day.with_suffix(".hea"), day.with_suffix(".dat")], csrf)
            rows.append({"name": f"synthetic {args.hours:g} h", **row})
            print(rows[-1], flush=True)
            db_mb = (tmp / "instance" / "ecgad.sqlite3").stat().st_size / 1e6
    command = _command(argv, __file__)
    text = section(rows, command, db_mb)
    replace_section(args.results, text)
    print(text)


if __name__ == "__main__":
    main()
