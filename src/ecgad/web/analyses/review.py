"""The clinician's review of a recording analysis: beat families, relabelling, interpretation, sign-off.

Labels are N, S, V, F, Q (AAMI) or X for artefact ("artefact" is read as X). A reviewed label is kept
in ``recording_beats.reviewed_label`` beside the model's ``beat_class``, never over it; ``None``
takes a beat back to the model's class. After every change the Holter summary is made again with
the reviewed labels, artefact beats left out, and stored (``recordings.holter_reviewed``), with
``review``: how many labels differ from the model's and how many beats are artefacts.

Signing records who and when and locks labels and interpretation: a change to a signed analysis
raises :class:`Locked` (409 in the API) until an explicit :func:`unlock`, itself audited. Every
change is written to the audit log in the transaction that makes it.
"""
from __future__ import annotations

import json

import numpy as np
from sqlalchemy import func, select, update

from .. import audit
from ..extensions import db
from ..models import Analysis, RecordingBeat, User, utcnow
from .service import transaction

LABELS = ("N", "S", "V", "F", "Q", "X")
ARTEFACT = "X"
LABEL_NAMES = {"N": "normal", "S": "supraventricular", "V": "ventricular", "F": "fusion", "Q": "unclassifiable",
               "X": "artefact"}
MAX_INTERPRETATION = 20_000  # characters


class ReviewError(Exception):
    """A review request that cannot be done as asked (``status``: 404 unknown beat or family, 422 bad value)."""

    status = 422


class NotFound(ReviewError):
    status = 404


class Locked(ReviewError):
    """The analysis is signed (or, for unlock, not signed): 409."""

    status = 409


def parse_label(value) -> str | None:
    """A label as stored: one of ``LABELS`` (any case; "artefact"/"artifact" read as X), or None (back to
    the model's class). Raises ReviewError for anything else."""
    if value is None:
        return None
    text = str(value).strip()
    if text.lower() in ("artefact", "artifact"):
        return ARTEFACT
    if text.upper() in LABELS:
        return text.upper()
    raise ReviewError(f"label {text[:20]!r}: choose one of {', '.join(LABELS)} (X: artefact), or none for the "
                      f"model's class")


# --- at store time --------------------------------------------------------------------------------

def families_of(signal, result):
    """The beat families of a result's beats on its lead (``ecgad.recording.families``)."""
    from ecgad.recording.families import beat_families

    return beat_families(signal.samples, signal.fs, result.sample)


def families_json(families) -> str:
    """What a recording keeps of its families: each one's id, count, mean beat (mV) and example beat
    numbers (1-based); each beat's family goes to its row."""
    return json.dumps({"representation": families.representation, "threshold": families.threshold,
                       "fs": families.fs, "mean_start_s": -families.settings.template_pre_s,
                       "families": [{"id": f.id, "count": f.count,
                                     "mean_mv": [None if not np.isfinite(v) else round(float(v), 4)
                                                 for v in f.mean_mv],
                                     "examples": [int(i) + 1 for i in f.examples]} for f in families.families]})


# --- reading ----------------------------------------------------------------------------------------

def family_list(analysis: Analysis) -> list[dict]:
    """Each stored family: ``id``, ``count``, ``mean_mv`` (with ``mean_start_s`` and ``fs``), ``examples``
    (beat numbers), ``machine_class`` (the model's majority class, None without classes) and ``label``
    (the reviewed label its beats share; "mixed" when they differ; None when none is reviewed)."""
    stored = analysis.recording.families
    if not stored:
        return []
    rows = db.session.execute(
        select(RecordingBeat.family, RecordingBeat.beat_class, RecordingBeat.reviewed_label, func.count())
        .where(RecordingBeat.analysis_id == analysis.id, RecordingBeat.family > 0)
        .group_by(RecordingBeat.family, RecordingBeat.beat_class, RecordingBeat.reviewed_label)).all()
    machine: dict[int, dict] = {}
    reviewed: dict[int, dict] = {}
    for fam, cls, label, n in rows:
        if cls:
            machine.setdefault(fam, {}).setdefault(cls, 0)
            machine[fam][cls] += n
        reviewed.setdefault(fam, {}).setdefault(label, 0)
        reviewed[fam][label] += n
    out = []
    for f in stored["families"]:
        counts = machine.get(f["id"], {})
        labels = reviewed.get(f["id"], {})
        label = next(iter(labels)) if len(labels) == 1 else ("mixed" if labels else None)
        out.append({**f, "fs": stored["fs"], "mean_start_s": stored["mean_start_s"],
                    "machine_class": max(sorted(counts), key=counts.get) if counts else None,
                    "label": label})
    return out


def changed_labels(analysis: Analysis) -> int:
    """Beats whose reviewed label differs from the model's class."""
    return db.session.scalar(select(func.count()).where(
        RecordingBeat.analysis_id == analysis.id, RecordingBeat.reviewed_label.is_not(None),
        (RecordingBeat.beat_class.is_(None)) | (RecordingBeat.beat_class != RecordingBeat.reviewed_label)))


def reviewed_beats(analysis: Analysis) -> tuple[np.ndarray, np.ndarray | None, int]:
    """``(R peaks, classes or None, artefacts)`` with the reviewed labels: artefact beats left out, each
    other beat's reviewed label or else the model's class (None unless every kept beat has one)."""
    rows = db.session.execute(select(RecordingBeat.sample, RecordingBeat.beat_class, RecordingBeat.reviewed_label)
                              .where(RecordingBeat.analysis_id == analysis.id).order_by(RecordingBeat.sample)).all()
    kept = [(s, label or cls) for s, cls, label in rows if label != ARTEFACT]
    sample = np.array([s for s, _ in kept], dtype=np.int64)
    classes = [c for _, c in kept]
    return (sample, np.array(classes, dtype="<U1") if kept and all(classes) else None, len(rows) - len(kept))


def _summarise(analysis: Analysis) -> None:
    """Store the Holter summary with the reviewed labels, or clear it when no label is reviewed."""
    from ecgad.recording.holter import holter_summary

    recording = analysis.recording
    db.session.flush()
    reviewed = db.session.scalar(select(func.count()).where(RecordingBeat.analysis_id == analysis.id,
                                                            RecordingBeat.reviewed_label.is_not(None)))
    if not reviewed:
        recording.holter_reviewed_json = None
        return
    sample, classes, artefacts = reviewed_beats(analysis)
    summary = holter_summary(sample, recording.fs, classes, n_samples=recording.n_samples,
                             unreadable=recording.unreadable, start=recording.start_at)
    summary["review"] = {"changed": changed_labels(analysis), "artefacts": artefacts, "reviewed": reviewed}
    recording.holter_reviewed_json = json.dumps(summary)


# --- changes ------------------------------------------------------------------------------------------

def _unlocked(analysis: Analysis) -> None:
    if analysis.is_signed:
        raise Locked(f"the analysis was signed by {analysis.signed_by_name} on "
                     f"{analysis.signed_at:%Y-%m-%d %H:%M} UTC; unlock it first")


def _recording(analysis: Analysis) -> None:
    if not analysis.is_recording:
        raise NotFound("beat labels are reviewed on recordings only")


def relabel_family(analysis: Analysis, family_id: int, label, user: User) -> int:
    """Give every beat of family ``family_id`` the reviewed ``label`` (None: back to the model's);
    returns how many beats it holds."""
    _recording(analysis)
    label = parse_label(label)
    _unlocked(analysis)
    ids = {f["id"] for f in (analysis.recording.families or {}).get("families", [])}
    if family_id not in ids:
        raise NotFound(f"family {family_id}: this recording has no such family")
    with transaction():
        n = db.session.execute(update(RecordingBeat).where(RecordingBeat.analysis_id == analysis.id,
                                                           RecordingBeat.family == family_id)
                               .values(reviewed_label=label)).rowcount
        _summarise(analysis)
        audit.record("analysis.relabel", "analysis", analysis.id,
                     f"family={family_id}; beats={n}; label={label or 'model'}", actor=user,
                     patient_id=analysis.patient_id)
    return n


def relabel_beat(analysis: Analysis, number: int, label, user: User) -> RecordingBeat:
    """Give beat ``number`` (1-based) the reviewed ``label`` (None: back to the model's)."""
    _recording(analysis)
    label = parse_label(label)
    _unlocked(analysis)
    beat = db.session.scalar(select(RecordingBeat).where(RecordingBeat.analysis_id == analysis.id,
                                                         RecordingBeat.position == number - 1))
    if beat is None:
        raise NotFound(f"beat {number}: this recording has {analysis.n_beats} beats")
    with transaction():
        before = beat.reviewed_label
        beat.reviewed_label = label
        _summarise(analysis)
        audit.record("analysis.relabel", "analysis", analysis.id,
                     f"beat={number}; label={label or 'model'}; was={before or 'model'}; "
                     f"model={beat.beat_class or '-'}", actor=user, patient_id=analysis.patient_id)
    return beat


def set_interpretation(analysis: Analysis, text: str, user: User) -> None:
    """The analysis's free-text interpretation (blank clears it)."""
    if not isinstance(text, str):
        raise ReviewError("the interpretation must be text")
    text = text.replace("\r\n", "\n").strip()
    if len(text) > MAX_INTERPRETATION:
        raise ReviewError(f"the interpretation is {len(text)} characters long; at most {MAX_INTERPRETATION}")
    _unlocked(analysis)
    with transaction():
        analysis.interpretation = text or None
        audit.record("analysis.interpretation", "analysis", analysis.id, f"characters={len(text)}", actor=user,
                     patient_id=analysis.patient_id)


def signer(user: User) -> str:
    return f"{user.display_name} ({user.email})"


def sign(analysis: Analysis, user: User) -> None:
    """Reviewed and signed by ``user`` now: labels and interpretation are locked."""
    _unlocked(analysis)
    with transaction():
        analysis.signed_at = utcnow().replace(microsecond=0)
        analysis.signed_by_id = user.id
        analysis.signed_by_name = signer(user)[:400]
        changed = changed_labels(analysis) if analysis.is_recording else 0
        audit.record("analysis.sign", "analysis", analysis.id,
                     f"labels_changed={changed}; interpretation={len(analysis.interpretation or '')} characters",
                     actor=user, patient_id=analysis.patient_id)


def unlock(analysis: Analysis, user: User, reason: str = "") -> None:
    """Undo the signature so that labels and text can change again; the audit line keeps who signed."""
    if not analysis.is_signed:
        raise Locked("the analysis is not signed")
    reason = (reason or "").strip()[:500]
    with transaction():
        audit.record("analysis.unlock", "analysis", analysis.id,
                     f"signed_by={analysis.signed_by_name}; signed_at={analysis.signed_at:%Y-%m-%d %H:%M:%S}"
                     + (f"; reason={reason}" if reason else ""), actor=user, patient_id=analysis.patient_id)
        analysis.signed_at = None
        analysis.signed_by_id = None
        analysis.signed_by_name = None


def review_state(analysis: Analysis) -> dict:
    """What the API and the PDF say of the review."""
    return {"interpretation": analysis.interpretation,
            "signed": analysis.is_signed,
            "signed_by": analysis.signed_by_name,
            "signed_at": analysis.signed_at.isoformat(timespec="seconds") + "Z" if analysis.signed_at else None,
            "labels_changed": changed_labels(analysis) if analysis.is_recording else 0}
