"""Database models (typed SQLAlchemy 2). The schema itself is created by the
Alembic migrations in ``ecgad/migrations``; keep both in step."""
from __future__ import annotations

import json
import zlib
from datetime import date, datetime, timezone

import numpy as np
from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db

ROLES = ("admin", "doctor")
SEXES = (("unknown", "Not recorded"), ("female", "Female"), ("male", "Male"), ("other", "Other"))


def utcnow() -> datetime:
    """Naive UTC: stored the same way on SQLite and PostgreSQL."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[str] = mapped_column(String(16), default="doctor")
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on deactivation and password changes: sessions carrying an older value end.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    patients: Mapped[list[Patient]] = relationship(back_populates="doctor")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return bool(self.active)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def get_id(self) -> str:
        return f"{self.id}:{self.session_epoch}"

    @property
    def display_name(self) -> str:
        return self.name or self.email


class Patient(db.Model):
    __tablename__ = "patients"
    __table_args__ = (UniqueConstraint("doctor_id", "identifier"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    sex: Mapped[str] = mapped_column(String(16), default="unknown")
    identifier: Mapped[str] = mapped_column(String(64))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    doctor: Mapped[User] = relationship(back_populates="patients")
    analyses: Mapped[list[Analysis]] = relationship(
        back_populates="patient", cascade="all, delete-orphan", passive_deletes=True,
        order_by="(Analysis.created_at.desc(), Analysis.id.desc())")

    @property
    def sex_label(self) -> str:
        return dict(SEXES).get(self.sex, self.sex)


class Analysis(db.Model):
    __tablename__ = "analyses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    filename: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(16), default="upload")  # upload | example
    model_id: Mapped[str] = mapped_column(String(64), default="")
    model_version: Mapped[str] = mapped_column(String(32), default="")
    model_info: Mapped[str] = mapped_column(Text, default="{}")  # JSON: Detector.model_info() then
    threshold: Mapped[float] = mapped_column(Float)
    n_beats: Mapped[int] = mapped_column(Integer)
    n_anomalies: Mapped[int] = mapped_column(Integer)
    max_score: Mapped[float] = mapped_column(Float)
    has_labels: Mapped[bool] = mapped_column(Boolean, default=False)

    patient: Mapped[Patient] = relationship(back_populates="analyses")
    created_by: Mapped[User | None] = relationship()
    beats: Mapped[list[AnalysisBeat]] = relationship(
        back_populates="analysis", cascade="all, delete-orphan", passive_deletes=True,
        order_by="AnalysisBeat.position")

    @property
    def model(self) -> dict:
        try:
            return json.loads(self.model_info or "{}")
        except ValueError:
            return {}


class AnalysisBeat(db.Model):
    """One beat of an analysis: the samples as uploaded and what the model made of them."""

    __tablename__ = "analysis_beats"
    __table_args__ = (UniqueConstraint("analysis_id", "position"),
                      Index("ix_analysis_beats_analysis_id_score", "analysis_id", "score"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    analysis_id: Mapped[int] = mapped_column(ForeignKey("analyses.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)  # 0-based order in the file
    length: Mapped[int] = mapped_column(Integer)  # samples as uploaded
    score: Mapped[float] = mapped_column(Float)
    is_anomaly: Mapped[bool] = mapped_column(Boolean)
    confidence: Mapped[float] = mapped_column(Float)
    label: Mapped[int | None] = mapped_column(Integer, nullable=True)  # from a labelled (UCR) file
    # little-endian float64 samples, exactly as parsed from the upload
    signal: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    # zlib(little-endian float32 [beat, reconstruction, error]) in the model's z-normalised space
    curves: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)

    analysis: Mapped[Analysis] = relationship(back_populates="beats")

    @property
    def number(self) -> int:
        return self.position + 1

    @property
    def verdict_text(self) -> str:
        return f"{'anomalous' if self.is_anomaly else 'normal'}, confidence {self.confidence:.2f}"

    def samples(self) -> np.ndarray:
        return np.frombuffer(self.signal, dtype="<f8").copy()

    def curve_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        flat = np.frombuffer(zlib.decompress(self.curves), dtype="<f4")
        beat, recon, error = flat.reshape(3, -1)
        return beat, recon, error


def pack_signal(beat: np.ndarray) -> bytes:
    return np.ascontiguousarray(beat, dtype="<f8").tobytes()


def pack_curves(beat: np.ndarray, reconstruction: np.ndarray, error: np.ndarray) -> bytes:
    stacked = np.stack([np.asarray(a, dtype="<f4") for a in (beat, reconstruction, error)])
    return zlib.compress(np.ascontiguousarray(stacked).tobytes(), 6)


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    actor_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    target_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)

    actor: Mapped[User | None] = relationship()
