"""Fixtures for the web app: a small trained model, an app on a temporary SQLite database,
three accounts (admin, doctor, other doctor) and patients with an analysis; ``database_url``:
each test on SQLite, then on PostgreSQL.
Helpers live in webtools.py."""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from jinja2 import BytecodeCache
from webtools import BASE_CONFIG, add_analysis, add_patient, add_user, login, normal_beats


@pytest.fixture(scope="session")
def model_path(tmp_path_factory) -> Path:
    """A small detector trained for 3 epochs: enough to score beats, not to judge them."""
    from ecgad.detector import Detector
    from ecgad.train import TrainConfig

    detector = Detector(train_config=TrainConfig(epochs=3)).fit(normal_beats(), progress=False)
    return detector.save(tmp_path_factory.mktemp("model") / "test-model.safetensors")


class _SharedBytecodeCache(BytecodeCache):
    """Compiled templates shared by the many apps of a test run (each app has its own Jinja env)."""

    def __init__(self):
        self.store: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.store:
            bucket.bytecode_from_string(self.store[bucket.key])

    def dump_bytecode(self, bucket):
        self.store[bucket.key] = bucket.bytecode_to_string()


_BYTECODE = _SharedBytecodeCache()


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory, model_path) -> Path:
    """A SQLite database at the newest migration, copied for each test (migrations have their own tests)."""
    from ecgad.web import create_app
    from ecgad.web.extensions import db

    folder = tmp_path_factory.mktemp("template-instance")
    app = create_app({**BASE_CONFIG, "INSTANCE_PATH": str(folder), "MODEL_PATH": str(model_path)})
    with app.app_context():
        db.engine.dispose()
    return folder / "ecgad.sqlite3"


@pytest.fixture
def make_app(tmp_path, model_path, migrated_db):
    """Build an app on a fresh SQLite database in ``tmp_path``; keyword arguments override config."""
    from ecgad.web import create_app

    def make(**overrides):
        instance = tmp_path / "instance"
        config = {**BASE_CONFIG, "INSTANCE_PATH": str(instance), "MODEL_PATH": str(model_path), **overrides}
        if "SQLALCHEMY_DATABASE_URI" not in overrides and not (instance / "ecgad.sqlite3").exists():
            instance.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(migrated_db, instance / "ecgad.sqlite3")
            config.setdefault("AUTO_MIGRATE", False)
        app = create_app(config)
        app.jinja_env.bytecode_cache = _BYTECODE
        return app

    return make


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def users(app) -> dict[str, SimpleNamespace]:
    return {
        "admin": add_user(app, "admin@example.org", "admin", name="Ada Admin"),
        "doctor": add_user(app, "doctor@example.org", "doctor", name="Dr Dora"),
        "other": add_user(app, "other@example.org", "doctor", name="Dr Otto"),
    }


@pytest.fixture
def client_for(app, users):
    """A test client signed in as 'doctor', 'other', 'admin', or not at all ('anonymous')."""

    def make(role: str):
        client = app.test_client()
        if role != "anonymous":
            response = login(client, users[role].email)
            assert response.status_code == 302, response.text
        return client

    return make


@pytest.fixture
def world(app, users) -> SimpleNamespace:
    """doctor owns patient p (with analysis a); other owns patient q (same record number: allowed)."""
    p = add_patient(app, users["doctor"].id)
    q = add_patient(app, users["other"].id, name="Quentin Other", identifier="MRN-001")
    a = add_analysis(app, p, users["doctor"].id)
    return SimpleNamespace(p=p, q=q, a=a, users=users)


@pytest.fixture
def beats() -> np.ndarray:
    return normal_beats()[:8]


PG_URL = os.environ.get("ECGAD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _postgres_problem() -> str | None:
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    try:
        with psycopg.connect(PG_URL, connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means: no server to test against
        return f"PostgreSQL at {PG_URL} is unreachable: {str(exc).strip().splitlines()[0]}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """The test on SQLite, then on PostgreSQL in a schema of its own (skipped, saying why, without a server)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    problem = _postgres_problem()
    if problem:
        pytest.skip(problem)
    import psycopg

    schema = f"ecgad_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        base = PG_URL.replace("postgresql://", "postgresql+psycopg://", 1)
        separator = "&" if "?" in base else "?"
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
