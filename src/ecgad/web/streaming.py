"""Real-time detection over a WebSocket: samples in, each beat's verdict out as soon as it is final.

Two routes run the same session (:func:`handle_stream`):

* ``GET /api/v1/stream``: for programs; the API token in the upgrade request's
  ``Authorization: Bearer`` header (refused with a 401 problem+json before the upgrade);
* ``GET /monitor/ws``: for the browser's live monitor; the signed-in session's cookie, and only
  from a page of this site (the ``Origin`` header must be this host: a WebSocket is not covered by
  the same-origin policy, so another site's page could otherwise open one with the user's cookie).

The protocol (JSON text messages)::

    client  {"type": "start", "fs": 360, "lead"?: "MLII", "patient_id"?: 12}
    server  {"type": "started", "fs", "lead", "patient_id", "threshold", "model", "limits": {...}}
    client  {"type": "samples", "samples": [0.12, 0.13, ...]}        (mV; any number of these)
    server  {"type": "beat", "sample", "time_s", "rr_s", "score", "threshold", "is_anomaly",
             "confidence", "parts"}                                  (each beat as soon as it is final)
    client  {"type": "end"}
    server  the last beats, then {"type": "end", "summary": {"beats", "anomalies", "mean_hr_bpm",
             "duration_s", "samples", "readable_fraction", "analysis_id"}}; close 1000
    server  {"type": "error", "detail": "..."}, then a close with one of CLOSE_CODES

The beats are ``RecordingStream.feed``'s (``recording/stream.py``): the beats and scores that
``RecordingDetector.analyze`` gives for the same samples. With a ``patient_id`` (one of the user's
own patients) the session is stored at its end as a recording analysis from the stream's own
result and the samples received (``analyses/recordings.store_recording``), never re-analysed.

**Backpressure.** Each message is processed, and its beats sent, before the next is read; the
socket's reader keeps at most ``STREAM_MAX_QUEUED`` messages ahead (``websocket.BoundedServer``),
so a client sending faster than the server scores is slowed by TCP, and no sample is dropped.

**Concurrency.** A session holds one thread for its whole length (it waits on its socket between
messages). ``ecgad serve`` runs gunicorn's ``gthread`` worker with ``--threads`` plus ``--streams``
threads, and at most ``STREAM_SLOTS`` (= ``--streams``) sessions run at once in the process: the
``--threads`` threads are always left to the HTTP pages and API, however many streams are open.
Threads rather than gevent because the work is numpy/torch code that does not yield to an event
loop (a green thread scoring a beat would stall every other connection of the worker), and
because one process keeps the models loaded once and the rate-limit counts in memory; the
scoring of one real-time stream takes a small fraction of a core (``benchmarks/stream.py``), so
the GIL is not the limit at these counts. A separate worker class or process for streams would
need its own model copies and a shared store for the per-user limit.

The limits (``web/config.py``) are per process: ``STREAMS_PER_USER`` sessions of one user at once,
``STREAM_SLOTS`` in all, messages of ``STREAM_MAX_MESSAGE_BYTES``, ``STREAM_MAX_SAMPLES_PER_MESSAGE``
samples a message, ``STREAM_MAX_HOURS`` / ``STREAM_MAX_SAMPLES`` in a session, and
``STREAM_IDLE_SECONDS`` between messages.
"""
from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from flask import Blueprint, abort, current_app, request
from flask_login import current_user
from simple_websocket import ConnectionClosed

from .extensions import db, limiter
from .websocket import TOO_BIG, websocket_view

CLOSE_NORMAL = 1000
CLOSE_UNSUPPORTED = 1003  # a binary message: the protocol is JSON text
CLOSE_POLICY = 1008       # a bad message, a refused patient, a limit of the session or of the user
CLOSE_TOO_BIG = 1009      # a message over STREAM_MAX_MESSAGE_BYTES or STREAM_MAX_SAMPLES_PER_MESSAGE
CLOSE_SERVER_ERROR = 1011
CLOSE_TRY_LATER = 1013    # every stream slot of this process is taken
CLOSE_CODES = (CLOSE_NORMAL, CLOSE_UNSUPPORTED, CLOSE_POLICY, CLOSE_TOO_BIG, CLOSE_SERVER_ERROR, CLOSE_TRY_LATER)

MAX_ABS_MV = 10_000.0  # 10 V: no ECG sample; a client sending µV or raw ADC counts as mV is told so
MAX_LEAD_NAME = 64
NOTHING_STORED = "Nothing was stored."

bp = Blueprint("stream", __name__)


class StreamRefused(Exception):
    """What ends a session early: the ``detail`` sent to the client and the close ``code``."""

    def __init__(self, detail: str, code: int = CLOSE_POLICY):
        super().__init__(detail)
        self.detail, self.code = detail, code


@dataclass(frozen=True)
class Limits:
    max_message_bytes: int
    max_samples_per_message: int
    max_hours: float
    max_samples: int
    per_user: int
    slots: int
    idle_s: float

    @classmethod
    def of(cls, config) -> Limits:
        return cls(int(config["STREAM_MAX_MESSAGE_BYTES"]), int(config["STREAM_MAX_SAMPLES_PER_MESSAGE"]),
                   float(config["STREAM_MAX_HOURS"]), int(config["STREAM_MAX_SAMPLES"]),
                   int(config["STREAMS_PER_USER"]), int(config["STREAM_SLOTS"]), float(config["STREAM_IDLE_SECONDS"]))

    def session_samples(self, fs: float) -> int:
        """The most samples one session at ``fs`` Hz may send."""
        return min(self.max_samples, int(self.max_hours * 3600 * fs))

    def as_dict(self, fs: float) -> dict:
        return {"max_message_bytes": self.max_message_bytes, "max_samples_per_message": self.max_samples_per_message,
                "max_session_samples": self.session_samples(fs), "idle_s": self.idle_s}


class _OpenStreams:
    """The sessions open in this process, per user: the per-user limit and the process's slots."""

    def __init__(self):
        self._lock = threading.Lock()
        self._by_user: dict[int, int] = {}

    def acquire(self, user_id: int, limits: Limits) -> None:
        with self._lock:
            if sum(self._by_user.values()) >= limits.slots:
                raise StreamRefused(f"The server has {limits.slots} streams open, as many as it takes at once; "
                                    "try again later.", CLOSE_TRY_LATER)
            if self._by_user.get(user_id, 0) >= limits.per_user:
                raise StreamRefused(f"You already have {limits.per_user} streams open, as many as one account may "
                                    "have at once; end one first.")
            self._by_user[user_id] = self._by_user.get(user_id, 0) + 1

    def release(self, user_id: int) -> None:
        with self._lock:
            left = self._by_user.get(user_id, 0) - 1
            if left > 0:
                self._by_user[user_id] = left
            else:
                self._by_user.pop(user_id, None)

    @property
    def count(self) -> int:
        with self._lock:
            return sum(self._by_user.values())


OPEN_STREAMS = _OpenStreams()


# ------------------------------------------------------------------------------------------ routes
def _api_authenticate(endpoint: str | None, values: dict | None) -> None:
    """The API's token check (before Flask-Limiter keys on the token); the monitor uses the session."""
    if endpoint == "stream.api_stream":
        from .api import auth

        auth.authenticate(endpoint, values)


bp.url_value_preprocessor(_api_authenticate)


@bp.route("/api/v1/stream", websocket=True)
@limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=lambda: _rate_key())
@websocket_view
def api_stream(ws):
    handle_stream(ws, current_user._get_current_object())


def _rate_key() -> str:
    from .api.auth import rate_key

    return rate_key()


def check_same_origin() -> None:
    """Refuse (403) an upgrade whose ``Origin`` is not this site: the cookie alone proves nothing."""
    from urllib.parse import urlsplit

    origin = request.headers.get("Origin", "")
    parts = urlsplit(origin)
    secure = request.scheme in ("https", "wss")
    if not origin or parts.netloc.lower() != request.host.lower() or (parts.scheme == "https") != secure:
        abort(403, description="A live stream may be opened only from this site's own pages.")


def _monitor_checks() -> None:
    if not current_user.is_authenticated:
        abort(401, description="Sign in to use the live monitor.")
    check_same_origin()


@bp.route("/monitor/ws", websocket=True)
def monitor_stream():
    _monitor_checks()  # before the upgrade: a refusal is an HTTP error, the socket is never opened
    return _monitor_session()


@websocket_view
def _monitor_session(ws):
    handle_stream(ws, current_user._get_current_object())


# ----------------------------------------------------------------------------------------- session
def handle_stream(ws, user) -> None:
    """Run one session of the protocol (module docstring) on a connected WebSocket ``ws`` for the
    authenticated ``user`` (a ``models.User``). Returns when the session is over; never raises for
    what the client sent or for an error of ours (those end the session with an error message)."""
    session = _Session(ws, user.id, bool(user.is_admin), Limits.of(current_app.config))
    try:
        session.run()
    except StreamRefused as refusal:
        session.fail(refusal.detail, refusal.code)
    except ConnectionClosed:
        pass  # the client went away: nothing to say, nothing stored
    except Exception:  # noqa: BLE001 - the server never crashes on a stream: report it and close
        current_app.logger.exception("stream session failed")
        session.fail("An unexpected error happened on our side; the stream was stopped. " + NOTHING_STORED,
                     CLOSE_SERVER_ERROR)
    finally:
        session.release()
        db.session.remove()  # no database connection held past the session


class _Session:
    def __init__(self, ws, user_id: int, is_admin: bool, limits: Limits):
        self.ws, self.user_id, self.is_admin, self.limits = ws, user_id, is_admin, limits
        self.acquired = False
        self.stream = None
        self.patient_id: int | None = None
        self.kept: list[np.ndarray] = []  # the samples, when the session is to be stored
        self.n_samples = 0
        self.started_at = datetime.now(UTC)

    # --------------------------------------------------------------- messages
    def send(self, message: dict) -> None:
        self.ws.send(json.dumps(message, allow_nan=False, separators=(",", ":")))

    def fail(self, detail: str, code: int) -> None:
        try:
            self.send({"type": "error", "detail": detail})
            self.ws.close(code, detail.encode()[:120].decode(errors="ignore"))  # a reason: at most 123 bytes
        except ConnectionClosed:
            pass

    def receive(self) -> dict:
        data = self.ws.receive(timeout=self.limits.idle_s)
        if data is None:
            if not self.ws.connected:
                raise ConnectionClosed()
            raise StreamRefused(f"No message for {self.limits.idle_s:g} s: the stream was closed. {NOTHING_STORED}")
        if data is TOO_BIG:
            raise StreamRefused(f"A message is larger than the {self.limits.max_message_bytes} bytes accepted: send "
                                f"the samples in smaller chunks. {NOTHING_STORED}", CLOSE_TOO_BIG)
        if isinstance(data, bytes):
            raise StreamRefused("Messages are JSON text, not binary.", CLOSE_UNSUPPORTED)
        try:
            message = json.loads(data, parse_constant=_no_constant)
        except (ValueError, RecursionError):
            raise StreamRefused("A message is not valid JSON.") from None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            raise StreamRefused('A message must be a JSON object with a "type": "start", "samples" or "end".')
        return message

    # --------------------------------------------------------------- the session
    def run(self) -> None:
        message = self.receive()
        if message["type"] != "start":
            raise StreamRefused(f'The first message must be {{"type": "start", "fs": ...}}, not '
                                f'{_shown(message["type"])}.')
        fs, lead, self.patient_id = self.start_fields(message)
        OPEN_STREAMS.acquire(self.user_id, self.limits)
        self.acquired = True
        if self.patient_id is not None:
            self.check_patient(self.patient_id)
        from .detection import ModelUnavailable, get_recording_detector

        try:
            detector = get_recording_detector()
        except ModelUnavailable:
            raise StreamRefused("The recording model is unavailable on this server; tell your administrator.",
                                CLOSE_SERVER_ERROR) from None
        db.session.remove()  # the session may last hours: give the connection back to the pool
        self.stream = detector.stream(fs, lead=lead, source=self.source_name())
        self.send({"type": "started", "fs": fs, "lead": lead, "patient_id": self.patient_id,
                   "threshold": detector.threshold, "model": detector.model_info().get("model_id"),
                   "limits": self.limits.as_dict(fs)})
        most = self.limits.session_samples(fs)
        while True:
            message = self.receive()
            kind = message["type"]
            if kind == "samples":
                samples = self.samples_of(message)
                if self.n_samples + samples.size > most:
                    raise StreamRefused(f"The stream is longer than the {most} samples ({most / fs / 3600:.3g} h) "
                                        f"one session may send; end it and start another. {NOTHING_STORED}")
                self.n_samples += samples.size
                if self.patient_id is not None:
                    self.kept.append(samples.astype(np.float32))
                self.send_beats(self.stream.feed(samples))
            elif kind == "end":
                self.finish()
                return
            elif kind == "start":
                raise StreamRefused('The stream has already started; send "samples" or "end".')
            else:
                raise StreamRefused(f'Unknown message type {_shown(kind)}: send "start", "samples" or "end".')

    def start_fields(self, message: dict) -> tuple[float, str, int | None]:
        from ecgad.data.signal import MAX_FS, MIN_FS

        unknown = sorted(set(message) - {"type", "fs", "lead", "patient_id"})
        if unknown:
            raise StreamRefused(f"Unknown fields in the start message: {', '.join(map(_shown, unknown))}.")
        fs = message.get("fs")
        if not _is_number(fs) or not MIN_FS <= fs <= MAX_FS:
            raise StreamRefused(f'"fs" must be the sampling rate in Hz, a number from {MIN_FS:g} to {MAX_FS:g}.')
        lead = message.get("lead", "ECG")
        if not isinstance(lead, str) or not 0 < len(lead.strip()) <= MAX_LEAD_NAME or not lead.isprintable():
            raise StreamRefused(f'"lead" must be a name of 1 to {MAX_LEAD_NAME} printable characters.')
        patient_id = message.get("patient_id")
        if patient_id is not None and (isinstance(patient_id, bool) or not isinstance(patient_id, int)
                                       or not 0 < patient_id < 2**31):
            raise StreamRefused('"patient_id" must be the number of one of your patients.')
        return float(fs), lead.strip(), patient_id

    def check_patient(self, patient_id: int) -> None:
        """The patient must be the user's own (an admin may see others' but not add to them)."""
        from .models import Patient

        patient = db.session.get(Patient, patient_id)
        if patient is None or (not self.is_admin and patient.doctor_id != self.user_id):
            raise StreamRefused(f"Patient {patient_id} was not found, or is not yours.")
        if patient.doctor_id != self.user_id:
            raise StreamRefused(f"Patient {patient_id} is another doctor's: only their doctor may add analyses.")

    def samples_of(self, message: dict) -> np.ndarray:
        unknown = sorted(set(message) - {"type", "samples"})
        if unknown:
            raise StreamRefused(f"Unknown fields in a samples message: {', '.join(map(_shown, unknown))}.")
        values = message.get("samples")
        if not isinstance(values, list):
            raise StreamRefused('A samples message needs "samples": a list of numbers (mV).')
        if len(values) > self.limits.max_samples_per_message:
            raise StreamRefused(f"A message has {len(values)} samples; at most "
                                f"{self.limits.max_samples_per_message} are accepted in one. {NOTHING_STORED}",
                                CLOSE_TOO_BIG)
        if not all(type(v) is float or type(v) is int for v in values):  # not bool, str, null, lists
            raise StreamRefused('"samples" must hold numbers only (mV).')
        try:
            samples = np.asarray(values, dtype=np.float64)
        except OverflowError:
            samples = np.array([math.inf])
        if samples.size and not (np.abs(samples) <= MAX_ABS_MV).all():
            raise StreamRefused(f"A sample is not a finite number of millivolts under {MAX_ABS_MV:g} mV: "
                                f"send the signal in mV. {NOTHING_STORED}")
        return samples

    def send_beats(self, beats: list[dict]) -> None:
        for beat in beats:
            self.send({"type": "beat", **beat})

    def finish(self) -> None:
        from ecgad.recording import RecordingTooShort, UnreadableRecording

        self.send_beats(self.stream.finish())
        try:
            result = self.stream.result()
        except (RecordingTooShort, UnreadableRecording) as exc:
            raise StreamRefused(f"{str(exc).rstrip('.')}. {NOTHING_STORED}") from None
        analysis_id = self.store(result) if self.patient_id is not None else None
        summary = {**result.summary, "duration_s": round(result.duration_s, 3), "samples": self.n_samples,
                   "readable_fraction": round(float(result.quality.readable_fraction), 4),
                   "analysis_id": analysis_id}
        self.send({"type": "end", "summary": summary})
        self.ws.close(CLOSE_NORMAL)

    def store(self, result) -> int:
        """Store the session as a recording analysis (samples as received, the stream's own result)."""
        from ecgad.data.signal import Signal

        from .analyses.recordings import store_recording
        from .analyses.service import AnalysisError
        from .models import Patient, User

        user, patient = db.session.get(User, self.user_id), db.session.get(Patient, self.patient_id)
        if user is None or not user.is_active or patient is None or patient.doctor_id != self.user_id:
            raise StreamRefused(f"Patient {self.patient_id} is no longer yours (or your account was deactivated) "
                                f"while streaming. {NOTHING_STORED}")
        samples = np.concatenate(self.kept) if self.kept else np.zeros(0, np.float32)
        signal = Signal(samples, self.stream.fs, self.stream.lead, (self.stream.lead,), self.stream.source)
        try:
            analysis = store_recording(patient, user, signal, result, "stream", source="stream")
        except AnalysisError as exc:
            raise StreamRefused(str(exc)) from None
        return analysis.id

    def source_name(self) -> str:
        return f"stream {self.started_at:%Y-%m-%d %H:%M:%S} UTC"

    def release(self) -> None:
        if self.acquired:
            OPEN_STREAMS.release(self.user_id)
            self.acquired = False


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number")


def _is_number(value) -> bool:
    return type(value) in (int, float) and math.isfinite(value)


def _shown(value) -> str:
    from ecgad.data.signal import shown

    return shown(value)

