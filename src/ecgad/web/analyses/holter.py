"""A stored recording's Holter summary (``ecgad.recording.holter``): as stored with it, or made again
from its stored beats for a recording stored before summaries were."""
from __future__ import annotations

import numpy as np
from sqlalchemy import select

from ..extensions import db
from ..models import Analysis, RecordingBeat


def stored_beats(analysis: Analysis) -> tuple[np.ndarray, np.ndarray | None]:
    """Every stored beat's R peak and class (None when any beat has none: the model gave no classes).
    Once a label was reviewed: the reviewed labels, artefact beats left out (``review.reviewed_beats``)."""
    if analysis.recording.holter_reviewed_json is not None:
        from .review import reviewed_beats

        return reviewed_beats(analysis)[:2]
    rows = db.session.execute(select(RecordingBeat.sample, RecordingBeat.beat_class)
                              .where(RecordingBeat.analysis_id == analysis.id).order_by(RecordingBeat.sample)).all()
    sample = np.array([r[0] for r in rows], dtype=np.int64)
    classes = [r[1] for r in rows]
    return sample, (np.array(classes, dtype="<U1") if rows and all(c for c in classes) else None)


def holter_for(analysis: Analysis) -> dict:
    """The Holter summary with the reviewed labels once one was reviewed (its ``review`` says how many
    changed); else the one stored with the analysis; for one stored before summaries were, made from its
    stored beats (then without classes)."""
    from ecgad.recording.holter import holter_summary

    recording = analysis.recording
    reviewed = recording.holter_reviewed
    if reviewed is not None:
        return reviewed
    stored = recording.holter
    if stored is not None:
        return stored
    sample, classes = stored_beats(analysis)
    return holter_summary(sample, recording.fs, classes, n_samples=recording.n_samples,
                          unreadable=recording.unreadable, start=recording.start_at)
