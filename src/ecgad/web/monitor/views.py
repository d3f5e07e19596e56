"""The live monitor: a page that plays the example or a stored recording through the stream
(``/monitor/ws``) at real speed and shows each beat's verdict as it comes. The page fetches the signal
in pieces from here; the verdicts come from the stream, never from the stored analysis."""
from __future__ import annotations

import math

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select

from .. import audit
from ..access import visible_analysis, visible_patients
from ..extensions import db
from ..models import Analysis, Patient, RecordingBeat
from ..util import ID_MAX
from . import bp, sources

RECENT_RECORDINGS = 50   # recordings offered as sources on the page
MAX_START = 2**53        # JavaScript's largest exact integer: the page counts samples in it
BEAT_TOLERANCE_S = 0.15  # a streamed beat is a stored one within this (as R peaks are matched elsewhere)


def _bad_request(message: str):
    return {"error": "Bad request", "message": message, "status": 400}, 400


def _piece_args(fs: float) -> tuple[int, int] | None:
    """``start`` (sample, >= 0) and ``count`` (1 to ``max_count``) of the request, or None when invalid."""
    start, count = request.args.get("start", type=int), request.args.get("count", type=int)
    if start is None or count is None or start < 0 or not 1 <= count <= sources.max_count(fs) \
            or start > MAX_START:
        return None
    return start, count


def _recordings() -> list[tuple[int, str]]:
    """(analysis id, label) of the newest recordings the user may see, for the source menu."""
    rows = db.session.execute(
        select(Analysis.id, Analysis.filename, Analysis.created_at, Patient.name)
        .join(Patient, Analysis.patient_id == Patient.id)
        .where(Analysis.kind == "recording", Patient.id.in_(visible_patients().with_only_columns(Patient.id)))
        .order_by(Analysis.created_at.desc(), Analysis.id.desc()).limit(RECENT_RECORDINGS)).all()
    return [(r.id, f"{r.name}: {r.filename} ({r.created_at:%Y-%m-%d %H:%M})") for r in rows]


@bp.get("/monitor")
@login_required
def example():
    """The monitor on the synthesised example; ``?recording=ID`` opens a stored recording instead."""
    chosen = request.args.get("recording", type=int)
    if chosen is not None:
        return redirect(url_for("monitor.recording", analysis_id=chosen))
    ex = sources.example()
    return render_template("monitor/monitor.html", source="example", fs=ex.fs, total=None,
                           samples_url=url_for("monitor.example_samples"), beat_url=None,
                           title="Example recording", recordings=_recordings(), analysis=None,
                           example=ex)


@bp.get("/monitor/recordings/<int:analysis_id>")
@login_required
def recording(analysis_id: int):
    """The monitor playing a stored recording's lead (whoever may see the analysis, as on its page)."""
    analysis = visible_analysis(analysis_id, kind="recording")
    rec = analysis.recording
    audit.viewed("analysis.view", "analysis", analysis.id, analysis.patient_id,
                 f"file={analysis.filename}; live monitor")
    return render_template("monitor/monitor.html", source="recording", fs=rec.fs, total=rec.n_samples,
                           samples_url=url_for("monitor.recording_samples", analysis_id=analysis.id),
                           beat_url=url_for("monitor.recording_beat", analysis_id=analysis.id),
                           title=f"Recording {analysis.filename}", recordings=_recordings(),
                           analysis=analysis, example=None)


@bp.get("/monitor/example/samples.json")
@login_required
def example_samples():
    """``count`` samples of the example from ``start`` (it repeats without end)."""
    ex = sources.example()
    args = _piece_args(ex.fs)
    if args is None:
        return _bad_request(f"Give start (a sample number, 0 or more) and count (1 to {sources.max_count(ex.fs)}).")
    start, count = args
    return sources.piece_json(sources.example_piece(start, count), ex.fs, start, None)


@bp.get("/monitor/recordings/<int:analysis_id>/samples.json")
@login_required
def recording_samples(analysis_id: int):
    """``count`` samples of the stored lead from ``start`` (fewer, or none, at its end)."""
    analysis = visible_analysis(analysis_id, kind="recording")
    rec = analysis.recording
    audit.viewed("analysis.beats_view", "analysis", analysis.id, analysis.patient_id, "live monitor", once=True)
    args = _piece_args(rec.fs)
    if args is None:
        return _bad_request(f"Give start (a sample number, 0 or more) and count (1 to {sources.max_count(rec.fs)}).")
    start, count = args
    return sources.piece_json(sources.recording_piece(rec, start, count), rec.fs, start, rec.n_samples)


@bp.get("/monitor/recordings/<int:analysis_id>/beat")
@login_required
def recording_beat(analysis_id: int):
    """The recording page at the stored beat nearest ``sample`` (a streamed beat's R peak): its figure."""
    analysis = visible_analysis(analysis_id, kind="recording")
    fs = analysis.recording.fs
    sample = request.args.get("sample", type=int)
    page = url_for("analyses.show", analysis_id=analysis.id)
    if sample is None or not 0 <= sample <= ID_MAX:  # larger ones are in no recording (and overflow SQL)
        return redirect(page)
    tolerance = int(math.ceil(BEAT_TOLERANCE_S * fs))
    rows = db.session.execute(select(RecordingBeat.position, RecordingBeat.sample).where(
        RecordingBeat.analysis_id == analysis.id,
        RecordingBeat.sample.between(max(0, sample - tolerance), sample + tolerance))).all()
    if not rows:
        flash(f"The stored analysis has no beat at {sample / fs:.1f} s (it may have been made with another "
              "model, or that part was unreadable).", "info")
        return redirect(page)
    position = min(rows, key=lambda r: (abs(r.sample - sample), r.position)).position
    return redirect(url_for("analyses.show", analysis_id=analysis.id, beat=position + 1,
                            _anchor="beat-plot-section"))

