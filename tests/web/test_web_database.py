"""The database on SQLite and on PostgreSQL: migrations from empty, the schema they
build matches the models, and the app works on it (cascades, constraints).

PostgreSQL: ECGAD_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test);
each test works in a schema of its own, dropped afterwards. Skipped, saying why, when
the server cannot be reached.
"""
from __future__ import annotations

import os
import uuid

import pytest
from webtools import BASE_CONFIG, add_user, csv_bytes, login, normal_beats, upload

PG_URL = os.environ.get("ECGAD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
TABLES = {"users", "patients", "analyses", "analysis_beats", "recordings", "recording_beats", "recording_chunks", "audit_events",
          "alembic_version"}


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


def _engine(url):
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from ecgad.web.database import configure_engine

    engine = create_engine(url, poolclass=NullPool)
    configure_engine(engine)
    return engine


def test_migrations_from_empty(database_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from ecgad.web import models  # noqa: F401
    from ecgad.web.database import current_revision, downgrade, head_revision, table_names, upgrade
    from ecgad.web.extensions import db

    engine = _engine(database_url)
    try:
        assert table_names(engine) == set()
        upgrade(engine)
        assert table_names(engine) == TABLES
        assert current_revision(engine) == head_revision() is not None
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []  # the migrations build exactly the models
        upgrade(engine)  # at head already: nothing to do
        downgrade(engine, "base")
        assert table_names(engine) <= {"alembic_version"}
        upgrade(engine)  # and back again
        assert table_names(engine) == TABLES
    finally:
        engine.dispose()


def test_app_on_database(database_url, tmp_path, model_path):
    from sqlalchemy import func, select
    from sqlalchemy.exc import IntegrityError

    from ecgad.web import create_app
    from ecgad.web.extensions import db
    from ecgad.web.models import Analysis, AnalysisBeat, Patient

    app = create_app({**BASE_CONFIG, "INSTANCE_PATH": str(tmp_path / "instance"), "MODEL_PATH": str(model_path),
                      "SQLALCHEMY_DATABASE_URI": database_url})
    try:
        doctor = add_user(app, "doctor@example.org", "doctor")
        client = app.test_client()
        assert login(client, "doctor@example.org").status_code == 302
        response = client.post("/patients/new", data={"name": "Ann", "identifier": "MRN-1", "birth_date": "1980-02-29"})
        assert response.status_code == 302
        patient_id = int(response.location.rsplit("/", 1)[1])
        response = upload(client, patient_id, csv_bytes(normal_beats()[:4]), "beats.csv")
        assert response.status_code == 302, response.text
        assert client.get(response.location).status_code == 200
        bad = upload(client, patient_id, b"1,2,x\n", "beats.csv")
        assert bad.status_code == 400

        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(AnalysisBeat)) == 4
            db.session.add(Patient(doctor_id=doctor.id, name="Dup", identifier="MRN-1", sex="unknown", notes=""))
            with pytest.raises(IntegrityError):
                db.session.commit()
            db.session.rollback()

        assert client.post(f"/patients/{patient_id}/delete").status_code == 302
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(Analysis)) == 0
            assert db.session.scalar(select(func.count()).select_from(AnalysisBeat)) == 0  # ON DELETE CASCADE
        # created again on the same database: migrations find it at head
        again = create_app({**BASE_CONFIG, "INSTANCE_PATH": str(tmp_path / "instance"),
                            "MODEL_PATH": str(model_path), "SQLALCHEMY_DATABASE_URI": database_url})
        with again.app_context():
            db.engine.dispose()
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
