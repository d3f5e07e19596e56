"""The ECG viewer's data: windows of every stored lead with the beats' labels (``strip.json``), and the
next or previous abnormal beat from a time (``abnormal.json``); static/js/ecg-viewer.js draws them
on the paper grid.

A window is clamped as the timeline's are (``timeline.clamp``) and to ``MAX_STRIP_S`` seconds: the viewer
asks for a screenful at a time and its neighbours, so no request reads more than a minute of each lead.
Leads above ``MAX_STRIP_FS`` are thinned to about that rate by keeping each block's minimum and maximum
(a QRS or a pacemaker spike stays; 500 Hz is still 2.6 values per CSS pixel at 50 mm/s).
A beat is abnormal when the detector flagged it or the model classed it other than N.
"""
from __future__ import annotations

import math

import numpy as np
from sqlalchemy import and_, or_, select

from ..extensions import db
from ..models import Analysis, RecordingBeat
from .timeline import clamp

MAX_STRIP_S = 60.0
MAX_STRIP_FS = 500.0
ABNORMAL = or_(RecordingBeat.is_anomaly.is_(True),
               and_(RecordingBeat.beat_class.is_not(None), RecordingBeat.beat_class != "N"))


def thin(x: np.ndarray, step: int) -> np.ndarray:
    """About one value per ``step`` samples: each block of ``2 * step`` gives its minimum and maximum, in
    time order, so that no peak is lost (``x`` itself for step 1)."""
    if step <= 1 or x.size == 0:
        return x
    size = 2 * step
    usable = x.size // size * size
    blocks = x[:usable].reshape(-1, size)
    lo, hi = blocks.argmin(axis=1), blocks.argmax(axis=1)
    rows = np.arange(blocks.shape[0])
    first, second = np.minimum(lo, hi), np.maximum(lo, hi)
    kept = np.stack([blocks[rows, first], blocks[rows, second]], axis=1).reshape(-1)
    rest = x[usable:]
    tail = rest[::step] if rest.size else rest
    return np.concatenate([kept, tail])


def _is_abnormal(is_anomaly: bool, beat_class: str | None) -> bool:
    return bool(is_anomaly) or (beat_class is not None and beat_class != "N")


def strip_data(analysis: Analysis, start_s: float, end_s: float) -> dict:
    """Every stored lead over ``[start_s, end_s]`` (clamped), in mV, at ``fs / step`` Hz from ``start``,
    and the beats whose R peak lies in it."""
    recording = analysis.recording
    fs = recording.fs
    start_s, end_s = clamp(recording, start_s, end_s)
    end_s = min(end_s, start_s + MAX_STRIP_S)
    lo, hi = int(math.floor(start_s * fs)), min(recording.n_samples, int(math.ceil(end_s * fs)) + 1)
    step = max(1, math.ceil(fs / MAX_STRIP_FS))
    leads = [{"name": name,
              "samples": np.round(thin(recording.samples(lo, hi, lead_index=i), step).astype(np.float64), 4).tolist()}
             for i, name in enumerate(recording.lead_names)]
    rows = db.session.execute(
        select(RecordingBeat.position, RecordingBeat.sample, RecordingBeat.beat_class, RecordingBeat.annotation,
               RecordingBeat.is_anomaly, RecordingBeat.score)
        .where(RecordingBeat.analysis_id == analysis.id, RecordingBeat.sample.between(lo, hi - 1))
        .order_by(RecordingBeat.sample)).all()
    beats = [{"number": position + 1, "time": sample / fs, "class": beat_class, "annotation": annotation,
              "abnormal": _is_abnormal(is_anomaly, beat_class), "anomalous": bool(is_anomaly), "score": score}
             for position, sample, beat_class, annotation, is_anomaly, score in rows]
    return {"start": lo / fs, "end": hi / fs, "fs": fs / step, "step": step, "leads": leads, "beats": beats,
            "unreadable": [[a / fs, b / fs, reason] for a, b, reason in recording.unreadable
                           if b >= lo and a < hi]}


def abnormal_beat(analysis: Analysis, time_s: float, direction: str) -> dict | None:
    """The first abnormal beat after (``direction`` "next") or before ("previous") ``time_s``, or None."""
    recording = analysis.recording
    sample = time_s * recording.fs
    query = select(RecordingBeat).where(RecordingBeat.analysis_id == analysis.id, ABNORMAL)
    if direction == "next":
        query = query.where(RecordingBeat.sample > sample).order_by(RecordingBeat.sample)
    else:
        query = query.where(RecordingBeat.sample < sample).order_by(RecordingBeat.sample.desc())
    beat = db.session.scalars(query.limit(1)).first()
    if beat is None:
        return None
    return {"number": beat.number, "time": beat.sample / recording.fs, "class": beat.beat_class,
            "annotation": beat.annotation, "anomalous": beat.is_anomaly, "score": beat.score}
