"""Nothing acknowledged is lost: the real server (``ecgad serve``, gunicorn, in its own process
group) is killed with SIGKILL at random moments while client threads store analyses through the
API, and started again; at the end it is killed once more. Then every analysis that got its 201 must
be in the database with all its beats, no analysis may lack beats (nothing half-written is visible),
and SQLite must pass its integrity check. On SQLite (WAL, synchronous=FULL) and on PostgreSQL."""
from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from apitools import make_token
from webtools import BASE_CONFIG, add_patient, add_user

import ecgad
from ecgad.client import Client, ConnectionFailed

KILLS = 3  # the server is started, then killed and started again, and killed at the end
PER_ROUND = 5  # analyses acknowledged after each start before the next kill may come
ROUND_TIMEOUT_S = 60
CLIENTS = 4
BEATS = 3  # per analysis: small, so that many are stored between kills
START_TIMEOUT_S = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``ecgad serve`` in a process group of its own, so that SIGKILL reaches gunicorn's master and its
    worker at the same instant, as a crash of the machine's server would."""

    def __init__(self, env: dict[str, str], port: int, log: Path):
        self.env, self.port, self.log = env, port, log
        self.process: subprocess.Popen | None = None
        self.started: list[float] = []  # seconds each start took

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ecgad.cli", "serve", "--port", str(self.port), "--threads", "8"],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        began = time.monotonic()
        deadline = began + START_TIMEOUT_S
        url = f"http://127.0.0.1:{self.port}/api/v1/openapi.json"  # up: the app answers (health would load
        while time.monotonic() < deadline:                          # the recording model too, for nothing)
            if self.process.poll() is not None:
                pytest.fail(f"ecgad serve exited ({self.process.returncode}): {self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        self.started.append(time.monotonic() - began)
                        return
            except OSError:
                pass
            time.sleep(0.1)
        pytest.fail(f"ecgad serve did not answer within {START_TIMEOUT_S} s: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)


def _beats(rng: np.random.Generator) -> list[list[float]]:
    t = np.linspace(0, 1, 40)
    return [(np.sin(2 * np.pi * t * rng.uniform(1, 3)) + rng.normal(0, 0.05, t.size)).tolist() for _ in range(BEATS)]


def _store_until(stop: threading.Event, api: Client, patient_id: int, name: str, acknowledged: dict, seed: int):
    """Store analyses until ``stop``; ``acknowledged``: filename -> (id, n_beats) of each 201."""
    rng = np.random.default_rng(seed)
    i = 0
    while not stop.is_set():
        i += 1
        filename = f"{name}-{i}"
        try:
            made = api.create_analysis(patient_id, _beats(rng), filename=filename)
        except ConnectionFailed:  # killed, or not up yet: this one may or may not be stored
            time.sleep(0.05)
            continue
        acknowledged[filename] = (made["id"], made["summary"]["n_beats"])


def _wait_for_more(acknowledged: dict, n: int, server: Server) -> None:
    """Until ``n`` more analyses are acknowledged (the server is up and storing)."""
    target = len(acknowledged) + n
    deadline = time.monotonic() + ROUND_TIMEOUT_S
    while len(acknowledged) < target:
        if time.monotonic() > deadline:
            pytest.fail(f"no {n} analyses stored within {ROUND_TIMEOUT_S} s: {server.log.read_text()[-3000:]}")
        time.sleep(0.05)


def _stored(url: str) -> dict[str, tuple[int, int, int]]:
    """filename -> (id, n_beats, beats stored) of every analysis, read from the database directly."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT a.filename, a.id, a.n_beats, (SELECT count(*) FROM analysis_beats b "
                "WHERE b.analysis_id = a.id) FROM analyses a")).all()
            orphans = connection.execute(text(
                "SELECT count(*) FROM analysis_beats b LEFT JOIN analyses a ON a.id = b.analysis_id "
                "WHERE a.id IS NULL")).scalar()
            assert orphans == 0, f"{orphans} beats without their analysis"
            if engine.dialect.name == "sqlite":
                assert connection.execute(text("PRAGMA integrity_check")).scalar() == "ok"
                assert connection.execute(text("PRAGMA foreign_key_check")).all() == []
    finally:
        engine.dispose()
    return {f: (i, n, m) for f, i, n, m in rows}


@pytest.mark.timeout(240)
def test_acknowledged_analyses_survive_kill_9(database_url, tmp_path):
    from ecgad.web import create_app
    from ecgad.web.extensions import db

    instance = tmp_path / "instance"
    app = create_app({**BASE_CONFIG, "INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": database_url})
    doctor = add_user(app, "doctor@example.org", "doctor")
    patient = add_patient(app, doctor.id)
    token = make_token(app, doctor.id)
    with app.app_context():
        db.engine.dispose()

    port = _free_port()
    env = {**os.environ, "ECGAD_INSTANCE_PATH": str(instance), "ECGAD_DATABASE_URL": database_url,
           "ECGAD_SECRET_KEY": BASE_CONFIG["SECRET_KEY"], "ECGAD_API_RATE_LIMIT": "100000 per minute",
           "PYTHONPATH": os.pathsep.join([str(Path(ecgad.__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}
    server = Server(env, port, tmp_path / "serve.log")
    seed = random.SystemRandom().randrange(2**32)
    moments = random.Random(seed)
    acknowledged: dict[str, tuple[int, int]] = {}
    stop = threading.Event()
    api = Client(f"http://127.0.0.1:{port}", token, timeout=10)
    server.start()
    threads = [threading.Thread(target=_store_until, args=(stop, api, patient, f"c{n}", acknowledged, seed + n),
                                daemon=True) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    try:
        for kill in range(1, KILLS + 1):
            _wait_for_more(acknowledged, PER_ROUND, server)
            time.sleep(moments.uniform(0.0, 1.0))  # a random moment while the clients are storing
            server.kill()
            if kill < KILLS:  # the last kill is not followed by a start: the check reads what a crash left
                server.start()
    finally:
        stop.set()
        for thread in threads:
            thread.join(15)
        if server.process and server.process.poll() is None:
            server.kill()

    stored = _stored(database_url)
    print(f"{len(acknowledged)} acknowledged, {len(stored)} stored; starts took {server.started} s")
    assert len(acknowledged) >= KILLS * PER_ROUND
    lost = {f: v for f, v in acknowledged.items() if f not in stored or stored[f][0] != v[0]}
    assert not lost, f"acknowledged but not stored (seed {seed}): {lost}"
    incomplete = {f: v for f, v in stored.items() if not v[1] == v[2] == BEATS}
    assert not incomplete, f"half-written analyses (seed {seed}): {incomplete}"
    assert all(acknowledged[f][1] == BEATS for f in acknowledged)


def test_sqlite_commits_are_durable_on_every_connection(app):
    """WAL with synchronous=FULL (2) on each new connection of the pool, not only the first."""
    from sqlalchemy import text

    from ecgad.web.extensions import db

    with app.app_context():
        for _ in range(2):
            with db.engine.connect() as connection:
                assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
                assert connection.execute(text("PRAGMA synchronous")).scalar() == 2
            db.engine.dispose()
