"""Database models (typed SQLAlchemy 2). The schema itself is created by the
Alembic migrations in ``ecgad/migrations``; keep both in step."""
from __future__ import annotations

import json
import zlib
from datetime import UTC, date, datetime

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
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecgad.verdict import verdict_text

from .extensions import db

ROLES = ("admin", "doctor")
SEXES = (("unknown", "Not recorded"), ("female", "Female"), ("male", "Male"), ("other", "Other"))
VERDICT_COLUMNS = ("score", "is_anomaly", "confidence")


def verdict_columns(fields: dict) -> dict:
    """What a stored beat keeps of its verdict, from the dict ``ecgad.verdict.verdict_fields`` makes
    (or one holding it); the threshold is its analysis's."""
    return {column: fields[column] for column in VERDICT_COLUMNS}


def _loads(text: str | None, empty):
    """A JSON column's value; ``empty`` when it is blank or unreadable (a page must still show)."""
    try:
        return json.loads(text) if text else empty
    except ValueError:
        return empty


def utcnow() -> datetime:
    """Naive UTC: stored the same way on SQLite and PostgreSQL."""
    return datetime.now(UTC).replace(tzinfo=None)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[str] = mapped_column(String(16), default="doctor")
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
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
        return str(self.id)

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
    kind: Mapped[str] = mapped_column(String(16), default="beats", server_default="beats")  # beats | recording
    # JSON list of {"code", "message"}: how to read this analysis (data fit, signal quality)
    warnings_json: Mapped[str] = mapped_column("warnings", Text, default="[]", server_default="[]")

    patient: Mapped[Patient] = relationship(back_populates="analyses")
    created_by: Mapped[User | None] = relationship()
    beats: Mapped[list[AnalysisBeat]] = relationship(
        back_populates="analysis", cascade="all, delete-orphan", passive_deletes=True,
        order_by="AnalysisBeat.position")
    recording: Mapped[Recording | None] = relationship(
        back_populates="analysis", cascade="all, delete-orphan", passive_deletes=True)

    @property
    def is_recording(self) -> bool:
        return self.kind == "recording"

    @property
    def model(self) -> dict:
        return _loads(self.model_info, {})

    @property
    def warnings(self) -> list[dict]:
        return _loads(self.warnings_json, [])

    @warnings.setter
    def warnings(self, value: list[dict]) -> None:
        self.warnings_json = json.dumps(list(value))


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
        return verdict_text(self.is_anomaly, self.confidence)

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


class Recording(db.Model):
    """The recording behind a recording analysis: the lead that was analysed and what was found."""

    __tablename__ = "recordings"

    analysis_id: Mapped[int] = mapped_column(ForeignKey("analyses.id", ondelete="CASCADE"), primary_key=True)
    format: Mapped[str] = mapped_column(String(16))  # wfdb | edf | csv | tsv
    lead: Mapped[str] = mapped_column(String(64))
    fs: Mapped[float] = mapped_column(Float)
    n_samples: Mapped[int] = mapped_column(Integer)
    mean_hr_bpm: Mapped[float | None] = mapped_column(Float, nullable=True)
    low_hr_bpm: Mapped[float | None] = mapped_column(Float, nullable=True)  # 5th percentile
    high_hr_bpm: Mapped[float | None] = mapped_column(Float, nullable=True)  # 95th percentile
    parts: Mapped[str] = mapped_column(String(255), default="")  # comma-separated names of the score's parts
    # R peaks against the uploaded annotations (.atr), when there were some
    annotated_beats: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sensitivity: Mapped[float | None] = mapped_column(Float, nullable=True)
    positive_predictivity: Mapped[float | None] = mapped_column(Float, nullable=True)
    # signal quality: the share of the lead that could be read as ECG, and the parts that could not
    readable_fraction: Mapped[float | None] = mapped_column(Float, nullable=True)
    # JSON list of [start_sample, end_sample, reason]
    unreadable_json: Mapped[str] = mapped_column("unreadable", Text, default="[]", server_default="[]")
    # when the recording began, as its header says (naive local time); None when the file does not say
    start_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # JSON: ecgad.recording.holter.holter_summary of the stored beats; None for analyses stored before it
    holter_json: Mapped[str | None] = mapped_column("holter", Text, nullable=True)
    # JSON list of the stored leads' names, the analysed lead first (chunks' lead_index 0, 1, ...);
    # None for recordings stored before every lead was kept (their analysed lead only)
    leads_json: Mapped[str | None] = mapped_column("leads", Text, nullable=True)

    analysis: Mapped[Analysis] = relationship(back_populates="recording")

    @property
    def lead_names(self) -> list[str]:
        """The stored leads, the analysed lead first: index ``i`` is ``samples(..., lead_index=i)``."""
        return _loads(self.leads_json, None) or [self.lead]

    @property
    def holter(self) -> dict | None:
        return _loads(self.holter_json, None)

    @property
    def unreadable(self) -> list[list]:
        return _loads(self.unreadable_json, [])

    @unreadable.setter
    def unreadable(self, value) -> None:
        self.unreadable_json = json.dumps([[int(a), int(b), str(r)] for a, b, r in value])

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.fs

    @property
    def part_names(self) -> list[str]:
        return [p for p in self.parts.split(",") if p]

    def samples(self, start: int = 0, end: int | None = None, lead_index: int = 0) -> np.ndarray:
        """Samples ``start:end`` (mV) of a stored lead (0: the analysed one), read from the chunks that
        hold them."""
        end = self.n_samples if end is None else min(end, self.n_samples)
        start = max(0, start)
        if end <= start:
            return np.zeros(0, dtype=np.float32)
        first, last = start // SIGNAL_CHUNK, (end - 1) // SIGNAL_CHUNK
        chunks = db.session.scalars(
            select(RecordingChunk.data).where(RecordingChunk.analysis_id == self.analysis_id,
                                              RecordingChunk.lead_index == lead_index,
                                              RecordingChunk.position.between(first, last))
            .order_by(RecordingChunk.position)).all()
        joined = np.concatenate([np.frombuffer(zlib.decompress(c), dtype="<f4") for c in chunks])
        return joined[start - first * SIGNAL_CHUNK:end - first * SIGNAL_CHUNK]


SIGNAL_CHUNK = 1 << 16  # samples per stored chunk: a window of the signal reads only the chunks it needs


class RecordingChunk(db.Model):
    """``SIGNAL_CHUNK`` samples of one of a recording's leads: zlib(little-endian float32, mV)."""

    __tablename__ = "recording_chunks"

    analysis_id: Mapped[int] = mapped_column(ForeignKey("recordings.analysis_id", ondelete="CASCADE"),
                                             primary_key=True)
    # which stored lead (Recording.lead_names): 0 is the analysed lead
    lead_index: Mapped[int] = mapped_column(Integer, primary_key=True, server_default="0")
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


def signal_chunks(analysis_id: int, samples: np.ndarray, lead_index: int = 0):
    """Rows of ``RecordingChunk`` for a whole lead, one at a time (a day of signal is hundreds of MB)."""
    samples = np.ascontiguousarray(samples, dtype="<f4")
    for i, start in enumerate(range(0, samples.size, SIGNAL_CHUNK)):
        yield {"analysis_id": analysis_id, "lead_index": lead_index, "position": i,
               # level 1: a third of level 6's time for a quarter more bytes (a day of signal: seconds saved)
               "data": zlib.compress(samples[start:start + SIGNAL_CHUNK].tobytes(), 1)}


class RecordingBeat(db.Model):
    """One beat found in a recording: where it is, its score, verdict and the parts of the score."""

    __tablename__ = "recording_beats"
    __table_args__ = (UniqueConstraint("analysis_id", "position"),
                      Index("ix_recording_beats_analysis_id_score", "analysis_id", "score"),
                      Index("ix_recording_beats_analysis_id_sample", "analysis_id", "sample"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    analysis_id: Mapped[int] = mapped_column(ForeignKey("analyses.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)  # 0-based, in time order
    sample: Mapped[int] = mapped_column(Integer)  # R peak, at the recording's sampling rate
    rr_s: Mapped[float | None] = mapped_column(Float, nullable=True)  # before this beat
    score: Mapped[float] = mapped_column(Float)
    is_anomaly: Mapped[bool] = mapped_column(Boolean)
    confidence: Mapped[float] = mapped_column(Float)
    # log-odds each part adds to the score (0 for a typical normal beat)
    part_autoencoder: Mapped[float | None] = mapped_column(Float, nullable=True)
    part_template: Mapped[float | None] = mapped_column(Float, nullable=True)
    part_rhythm: Mapped[float | None] = mapped_column(Float, nullable=True)
    annotation: Mapped[str | None] = mapped_column(String(4), nullable=True)  # the .atr beat symbol
    # the model's class (AAMI N, S, V, F, Q) and its probability; None when the model gives none
    beat_class: Mapped[str | None] = mapped_column(String(1), nullable=True)
    class_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)

    @property
    def number(self) -> int:
        return self.position + 1

    @property
    def heart_rate_bpm(self) -> float | None:
        return 60.0 / self.rr_s if self.rr_s else None

    @property
    def verdict_text(self) -> str:
        return verdict_text(self.is_anomaly, self.confidence)

    def part(self, name: str) -> float | None:
        return getattr(self, f"part_{name}", None)


class UserSession(db.Model):
    """A signed-in browser session, kept on the server so that signing out (or idling) really ends it.

    The cookie holds a random token; only its SHA-256 (``id``) is stored.
    """

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)


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
    # the patient the event concerns (no foreign key: the line outlives the patient); None for others
    patient_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)

    actor: Mapped[User | None] = relationship()


class ApiToken(db.Model):
    """A personal API token: it acts as its user (``Authorization: Bearer <token>``).

    Only the SHA-256 of the token is stored (``token_hash``); ``prefix`` is its first characters,
    shown so that people can tell their tokens apart. See ``web/tokens.py``.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)  # None: never
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    user: Mapped[User] = relationship()

    def state(self, now: datetime) -> str:
        """``active``, ``revoked`` or ``expired`` at ``now`` (naive UTC)."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"
