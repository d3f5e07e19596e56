"""The database on SQLite and on PostgreSQL: migrations from empty, the schema they
build matches the models, and the app works on it (cascades, constraints).

PostgreSQL (the ``database_url`` fixture of conftest.py): ECGAD_TEST_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/test); each test works in a schema of its own, dropped
afterwards. Skipped, saying why, when the server cannot be reached.
"""
from __future__ import annotations

import pytest
from heartbeats import synthetic_ecg
from webtools import (
    BASE_CONFIG,
    add_analysis,
    add_patient,
    add_user,
    csv_bytes,
    login,
    normal_beats,
    row_counts,
    upload,
    upload_recording,
)

TABLES = {"users", "patients", "analyses", "analysis_beats", "recordings", "recording_beats", "recording_chunks",
          "audit_events", "user_sessions", "api_tokens", "alembic_version"}


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


def _app(database_url, tmp_path, model_path):
    from ecgad.web import create_app

    return create_app({**BASE_CONFIG, "INSTANCE_PATH": str(tmp_path / "instance"), "MODEL_PATH": str(model_path),
                       "SQLALCHEMY_DATABASE_URI": database_url})


def _dispose(app):
    from ecgad.web.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_recording_on_database(database_url, tmp_path, model_path):
    """A recording stored (signal chunks as binary), shown, windowed, then deleted with all its rows."""
    import numpy as np

    fs = 250.0
    x, peaks = synthetic_ecg("N" * 20 + "V" + "N" * 20, fs)
    data = ("time,II\n" + "".join(f"{i / fs:.4f},{v:.5f}\n" for i, v in enumerate(x))).encode()
    app = _app(database_url, tmp_path, model_path)
    try:
        doctor = add_user(app, "doctor@example.org", "doctor")
        patient = add_patient(app, doctor.id)
        client = app.test_client()
        assert login(client, "doctor@example.org").status_code == 302
        before = row_counts(app)
        response = upload_recording(client, patient, [(data, "holter.csv")])
        assert response.status_code == 302, response.text[:1000]
        analysis_id = int(response.location.rsplit("/", 1)[1])
        counts = row_counts(app)
        assert counts["recordings"] == 1 and counts["recording_beats"] == peaks.size
        assert counts["recording_chunks"] == 1
        assert client.get(response.location).status_code == 200
        window = client.get(f"/analyses/{analysis_id}/timeline.json?start=2&end=6").get_json()
        np.testing.assert_allclose(window["signal"]["y"], x[500:1501], atol=1e-3)
        assert client.get(f"/analyses/{analysis_id}/beats/21.json").get_json()["is_anomaly"]

        assert client.post(f"/analyses/{analysis_id}/delete").status_code == 302
        after = row_counts(app)
        for table in ("analyses", "recordings", "recording_beats", "recording_chunks"):
            assert after[table] == before[table], table  # ON DELETE CASCADE, two levels deep
    finally:
        _dispose(app)


def test_upgrade_from_0001_keeps_beat_analyses(database_url, tmp_path, model_path):
    """A database at revision 0001 (before recordings) holding a beats analysis, brought to head: the
    analysis is kept, with kind 'beats', and shows as before. Also checks that going back down keeps it."""
    from sqlalchemy import inspect, text

    from ecgad.web.database import current_revision, downgrade, head_revision, table_names, upgrade

    app = _app(database_url, tmp_path, model_path)
    try:
        doctor = add_user(app, "doctor@example.org", "doctor")
        patient = add_patient(app, doctor.id)
        analysis = add_analysis(app, patient, doctor.id)
        engine = _engine(database_url)
        try:
            downgrade(engine, "0001")  # as a database made before recordings were added
            assert current_revision(engine) == "0001"
            assert not {"recordings", "recording_beats", "recording_chunks"} & table_names(engine)
            assert "kind" not in {c["name"] for c in inspect(engine).get_columns("analyses")}
            with engine.connect() as connection:  # the downgrade kept the beats (no cascade on SQLite)
                assert connection.execute(text("SELECT count(*) FROM analysis_beats")).scalar() == 6
            upgrade(engine)
            assert current_revision(engine) == head_revision() == "0006"
            with engine.connect() as connection:
                assert connection.execute(text("SELECT id, kind, n_beats FROM analyses")).all() == \
                    [(analysis, "beats", 6)]
                assert connection.execute(text("SELECT count(*) FROM analysis_beats")).scalar() == 6
        finally:
            engine.dispose()
        client = app.test_client()
        assert login(client, "doctor@example.org").status_code == 302
        page = client.get(f"/analyses/{analysis}")
        assert page.status_code == 200 and "Analysis of beats.csv" in page.text
        assert page.text.count('data-testid="beat-row"') == 6
    finally:
        _dispose(app)



def test_api_tokens_migration_up_and_down(database_url, tmp_path, model_path):
    """0004 adds api_tokens to a database at 0003 and keeps what was there; a token works on it, its
    hash is unique, deleting its user deletes it; going back to 0003 removes the table alone."""
    import hashlib

    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from ecgad.web.database import current_revision, downgrade, table_names, upgrade

    app = _app(database_url, tmp_path, model_path)
    try:
        doctor = add_user(app, "doctor@example.org", "doctor")
        patient = add_patient(app, doctor.id)
        engine = _engine(database_url)
        try:
            downgrade(engine, "0003")
            assert "api_tokens" not in table_names(engine) and current_revision(engine) == "0003"
            upgrade(engine, "0004")
            assert "api_tokens" in table_names(engine) and current_revision(engine) == "0004"
            upgrade(engine)
        finally:
            engine.dispose()
        from ecgad.web import tokens
        from ecgad.web.extensions import db
        from ecgad.web.models import ApiToken, User

        with app.app_context():
            row, token = tokens.create(db.session.get(User, doctor.id), "pipeline", 1)
            assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
            db.session.add(ApiToken(user_id=doctor.id, name="twin", token_hash=row.token_hash, prefix="x"))
            try:
                db.session.commit()
                raise AssertionError("two tokens with one hash")
            except IntegrityError:
                db.session.rollback()
        response = app.test_client().get(f"/api/v1/patients/{patient}", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200 and response.json["identifier"] == "MRN-001"
        with app.app_context():
            db.session.execute(text("DELETE FROM audit_events"))
            db.session.execute(text("DELETE FROM patients"))
            db.session.execute(text("DELETE FROM users"))
            db.session.commit()
            assert db.session.scalar(text("SELECT count(*) FROM api_tokens")) == 0  # cascaded
        engine = _engine(database_url)
        try:
            downgrade(engine, "0003")
            assert table_names(engine) == TABLES - {"api_tokens"}
        finally:
            engine.dispose()
    finally:
        _dispose(app)


def test_beat_classes_migration_up_and_down(database_url, tmp_path, model_path):
    """0005 adds beat classes, the recording's start and Holter summary, and the audit lines' patient to a
    database at 0004, keeping its recording; the page then makes the summary from the stored beats.
    Going back to 0004 removes those columns alone and keeps the rows."""
    from sqlalchemy import inspect, text

    from ecgad.web.database import current_revision, downgrade, upgrade

    fs = 250.0
    x, peaks = synthetic_ecg("N" * 20 + "V" + "N" * 20, fs)
    data = ("time,II\n" + "".join(f"{i / fs:.4f},{v:.5f}\n" for i, v in enumerate(x))).encode()
    app = _app(database_url, tmp_path, model_path)
    try:
        doctor = add_user(app, "doctor@example.org", "doctor")
        patient = add_patient(app, doctor.id)
        client = app.test_client()
        assert login(client, "doctor@example.org").status_code == 302
        response = upload_recording(client, patient, [(data, "holter.csv")])
        analysis_id = int(response.location.rsplit("/", 1)[1])
        engine = _engine(database_url)
        added = {"recording_beats": {"beat_class", "class_confidence"}, "recordings": {"start_at", "holter"},
                 "audit_events": {"patient_id"}}
        try:
            downgrade(engine, "0004")
            assert current_revision(engine) == "0004"
            columns = {t: {c["name"] for c in inspect(engine).get_columns(t)} for t in added}
            assert all(not (added[t] & columns[t]) for t in added)
            with engine.connect() as connection:
                assert connection.execute(text("SELECT count(*) FROM recording_beats")).scalar() == peaks.size
            upgrade(engine, "0005")
            assert current_revision(engine) == "0005"
            columns = {t: {c["name"] for c in inspect(engine).get_columns(t)} for t in added}
            assert all(added[t] <= columns[t] for t in added)
            assert "ix_audit_events_patient_id" in {i["name"] for i in inspect(engine).get_indexes("audit_events")}
            with engine.connect() as connection:
                assert connection.execute(text("SELECT count(*) FROM recording_beats")).scalar() == peaks.size
                assert connection.execute(text("SELECT holter FROM recordings")).scalar() is None
            upgrade(engine)
        finally:
            engine.dispose()
        page = client.get(f"/analyses/{analysis_id}")  # made again from the stored beats
        assert page.status_code == 200 and 'data-testid="holter-hourly"' in page.text
        assert client.get(f"/analyses/{analysis_id}/report.pdf").status_code == 200
        # a new recording stores its summary, and audit lines name their patient
        response = upload_recording(client, patient, [(data, "again.csv")])
        again = int(response.location.rsplit("/", 1)[1])
        from ecgad.web.extensions import db

        with app.app_context():
            assert db.session.scalar(text(f"SELECT holter FROM recordings WHERE analysis_id = {again}"))
            assert db.session.scalar(text("SELECT count(*) FROM audit_events WHERE patient_id = :p"),
                                     {"p": patient}) >= 3
    finally:
        _dispose(app)


def test_all_leads_migration_up_and_down(database_url, tmp_path, model_path):
    """0006 keys the chunks by lead and lists a recording's leads; a recording stored at 0005 (its
    analysed lead only) keeps its chunks as lead 0 and still shows. Going back to 0005 keeps the analysed
    lead's chunks and drops the other leads'."""
    from sqlalchemy import inspect, text

    from ecgad.web.database import current_revision, downgrade, upgrade

    fs = 250.0
    x, _ = synthetic_ecg("N" * 30, fs)
    data = ("time,II,V1\n" + "".join(f"{i / fs:.4f},{v:.5f},{-v / 2:.5f}\n" for i, v in enumerate(x))).encode()
    app = _app(database_url, tmp_path, model_path)
    try:
        doctor = add_user(app, "doctor@example.org", "doctor")
        patient = add_patient(app, doctor.id)
        client = app.test_client()
        assert login(client, "doctor@example.org").status_code == 302
        response = upload_recording(client, patient, [(data, "two.csv")])
        analysis_id = int(response.location.rsplit("/", 1)[1])
        engine = _engine(database_url)

        def chunks():
            with engine.connect() as connection:
                return connection.execute(text("SELECT count(*) FROM recording_chunks")).scalar()

        try:
            stored = chunks()
            with engine.connect() as connection:
                leads = connection.execute(text("SELECT lead_index, count(*) FROM recording_chunks "
                                                "GROUP BY lead_index ORDER BY lead_index")).all()
            analysed = dict(leads)[0]
            assert leads == [(0, analysed), (1, analysed)] and stored == 2 * analysed  # II and V1
            downgrade(engine, "0005")
            assert current_revision(engine) == "0005"
            assert "lead_index" not in {c["name"] for c in inspect(engine).get_columns("recording_chunks")}
            assert "leads" not in {c["name"] for c in inspect(engine).get_columns("recordings")}
            assert chunks() == analysed  # the analysed lead stays, the other goes
            upgrade(engine)
            assert current_revision(engine) == "0006"
            assert inspect(engine).get_pk_constraint("recording_chunks")["constrained_columns"] == \
                ["analysis_id", "lead_index", "position"]
            with engine.connect() as connection:
                assert connection.execute(text("SELECT DISTINCT lead_index FROM recording_chunks")).all() == [(0,)]
                assert connection.execute(text("SELECT leads FROM recordings")).scalar() is None
        finally:
            engine.dispose()
        page = client.get(f"/analyses/{analysis_id}")  # an old recording: one lead, shown as before
        assert page.status_code == 200
        window = client.get(f"/analyses/{analysis_id}/timeline.json?start=0&end=5")
        assert window.status_code == 200
        with app.app_context():
            from ecgad.web.extensions import db
            from ecgad.web.models import Recording

            recording = db.session.get(Recording, analysis_id)
            assert recording.lead_names == [recording.lead]
            assert recording.samples(0, 10).size == 10
    finally:
        _dispose(app)
