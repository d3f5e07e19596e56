"""Helpers for the web tests (imported by conftest.py and the test modules)."""
from __future__ import annotations

import io
import os
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np

PASSWORD = "correct horse battery staple"
FAST_ARGON2 = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8, "ARGON2_PARALLELISM": 1}
BASE_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key-not-for-production",
    "WTF_CSRF_ENABLED": False,  # CSRF has its own tests, with it on
    **FAST_ARGON2,
}
ROLES = ("anonymous", "doctor", "other", "admin")


def normal_beats() -> np.ndarray:
    """ECG5000 normal training beats when the data set is at hand, else synthetic beat-like curves."""
    data_dir = os.environ.get("ECGAD_DATA_DIR")
    train = Path(data_dir or "/nonexistent") / "ECG5000" / "ECG5000_TRAIN.tsv"
    if train.is_file():
        rows = np.loadtxt(train)
        return rows[rows[:, 0] == 1][:160, 1:]
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, 140)
    beats = []
    for _ in range(160):
        shift = rng.normal(0, 0.01)
        beat = (np.sin(2 * np.pi * (t + shift)) * 0.4 - 2.5 * np.exp(-((t - 0.1 - shift) / 0.03) ** 2)
                + 0.6 * np.exp(-((t - 0.6 - shift) / 0.08) ** 2) + rng.normal(0, 0.05, t.size))
        beats.append(beat)
    return np.array(beats)


def add_user(app, email: str, role: str, password: str = PASSWORD, name: str = "") -> SimpleNamespace:
    from ecgad.web.accounts import create_user

    with app.app_context():
        user = create_user(email, password, role, name)
        return SimpleNamespace(id=user.id, email=user.email, role=user.role)


def login(client, email: str, password: str = PASSWORD, **kwargs):
    return client.post("/login", data={"email": email, "password": password}, **kwargs)


def add_patient(app, doctor_id: int, name: str = "Ann Example", identifier: str = "MRN-001") -> int:
    from ecgad.web.extensions import db
    from ecgad.web.models import Patient

    with app.app_context():
        patient = Patient(doctor_id=doctor_id, name=name, identifier=identifier, sex="female", notes="")
        db.session.add(patient)
        db.session.commit()
        return patient.id


def add_analysis(app, patient_id: int, user_id: int, beats=None, labels=None, filename: str = "beats.csv") -> int:
    from ecgad.web.analyses.service import analyse
    from ecgad.web.extensions import db
    from ecgad.web.models import Patient, User

    if beats is None:
        beats = list(normal_beats()[:6])
    with app.app_context():
        analysis = analyse(db.session.get(Patient, patient_id), db.session.get(User, user_id), beats, labels,
                           filename)
        return analysis.id


def csv_bytes(beats) -> bytes:
    return ("\n".join(",".join(f"{v:.6g}" for v in beat) for beat in beats) + "\n").encode()


def upload(client, patient_id: int, data: bytes, filename: str = "beats.csv", labelled: bool = False):
    form = {"file": (io.BytesIO(data), filename)}
    if labelled:
        form["labelled"] = "y"
    return client.post(f"/patients/{patient_id}/analyses", data=form, content_type="multipart/form-data")


def upload_recording(client, patient_id: int, files, fs=None, lead=None, **kwargs):
    """POST a recording: ``files`` is a list of (bytes, filename) or paths."""
    form = {"recording-files": [(io.BytesIO(f[0]), f[1]) if isinstance(f, tuple) else (io.BytesIO(Path(f).read_bytes()),
                                                                                      Path(f).name) for f in files]}
    if fs is not None:
        form["recording-fs"] = str(fs)
    if lead is not None:
        form["recording-lead"] = str(lead)
    form.update(kwargs)
    return client.post(f"/patients/{patient_id}/recordings", data=form, content_type="multipart/form-data")


def row_counts(app) -> dict[str, int]:
    from sqlalchemy import func, select

    from ecgad.web.extensions import db
    from ecgad.web.models import (
        Analysis,
        AnalysisBeat,
        AuditEvent,
        Patient,
        Recording,
        RecordingBeat,
        RecordingChunk,
        User,
    )

    with app.app_context():
        return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
                for model in (User, Patient, Analysis, AnalysisBeat, Recording, RecordingBeat, RecordingChunk,
                              AuditEvent)}


def audit_actions(app) -> list[str]:
    from sqlalchemy import select

    from ecgad.web.extensions import db
    from ecgad.web.models import AuditEvent

    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no csrf_token in the page"
    return match.group(1)
