"""Analyses of a patient: run and store one (JSON beats, or a recording upload, through the web
layer's own storing functions), list, show with its beats (a recording's paged), a window of a
recording's signal, delete."""
from __future__ import annotations

import marshmallow as ma
from flask import abort, current_app, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from .. import audit
from ..access import own_patient, visible_analysis, visible_patient
from ..analyses import timeline
from ..analyses.holter import holter_for
from ..analyses.recordings import analyse_recording
from ..analyses.service import AnalysisError, analyse, clean_filename
from ..detection import ModelUnavailable
from ..extensions import db
from ..forms import RecordingForm
from ..models import Analysis, AnalysisBeat, RecordingBeat
from ..util import Page
from . import bp
from .problems import invalid
from .schemas import (
    RECORDING_UPLOAD,
    AnalysisBeatsIn,
    AnalysisDetail,
    AnalysisList,
    AnalysisOut,
    BeatsPageQuery,
    PageQuery,
    WindowOut,
    WindowQuery,
)

ENDPOINT_UPLOAD = "api.create_analysis"


@bp.url_value_preprocessor
def _allow_large_recordings(endpoint: str | None, values: dict | None) -> None:
    """A recording upload may be as large as the web form's (MAX_RECORDING_BYTES); the limit is set
    before anything reads the body, so a larger one is refused (413) from its Content-Length."""
    if endpoint == ENDPOINT_UPLOAD and request.mimetype == "multipart/form-data":
        request.max_content_length = current_app.config["MAX_RECORDING_BYTES"]


def summary(analysis: Analysis) -> dict:
    out = {"n_beats": analysis.n_beats, "n_anomalies": analysis.n_anomalies, "max_score": analysis.max_score,
           "threshold": analysis.threshold, "has_labels": analysis.has_labels}
    recording = analysis.recording if analysis.is_recording else None
    if recording is not None:
        out.update({"format": recording.format, "lead": recording.lead, "fs": recording.fs,
                    "n_samples": recording.n_samples, "duration_s": recording.duration_s,
                    "mean_hr_bpm": recording.mean_hr_bpm, "low_hr_bpm": recording.low_hr_bpm,
                    "high_hr_bpm": recording.high_hr_bpm, "readable_fraction": recording.readable_fraction,
                    "unreadable": recording.unreadable, "parts": recording.part_names,
                    "annotated_beats": recording.annotated_beats, "sensitivity": recording.sensitivity,
                    "positive_predictivity": recording.positive_predictivity})
    return out


def as_json(analysis: Analysis) -> dict:
    return {"id": analysis.id, "patient_id": analysis.patient_id, "created_at": analysis.created_at,
            "kind": analysis.kind, "filename": analysis.filename, "source": analysis.source,
            "model": {"model_id": analysis.model_id, "version": analysis.model_version,
                      "threshold": analysis.threshold},
            "summary": summary(analysis), "warnings": analysis.warnings}


def _model_missing(which: str):
    abort(503, description=f"The {which} model is not available on this server, so nothing was analysed or "
                           "stored. Tell your administrator.")


@bp.post("/patients/<int:patient_id>/analyses")
@bp.doc(requestBody={"required": True, "content": {
    "application/json": {"schema": AnalysisBeatsIn},
    "multipart/form-data": {"schema": RECORDING_UPLOAD}}})
@bp.response(201, AnalysisOut)
@bp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
@bp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
@bp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@bp.alt_response(503, response="SERVICE_UNAVAILABLE")
def create_analysis(patient_id: int):
    """Analyse and store: JSON beats, or a recording (multipart, repeated ``files`` parts, optional
    ``fs`` and ``lead``; the formats and limits of the web form). Answers 201 with the analysis.
    All or nothing: on any error, nothing is stored."""
    patient = own_patient(patient_id)
    user = current_user._get_current_object()
    if request.mimetype == "multipart/form-data":
        form = RecordingForm(meta={"csrf": False})  # the web form's fields and rules: files, fs, lead
        if not form.validate():
            invalid(form.errors, "form")
        try:
            analysis = analyse_recording(patient, user, form.files.data, fs=form.fs.data,
                                         lead=(form.lead.data or "").strip() or None)
        except ModelUnavailable:
            _model_missing("recording")
    elif request.mimetype == "application/json":
        try:
            body = AnalysisBeatsIn().load(request.get_json())
        except ma.ValidationError as exc:
            invalid(exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages})
        try:
            analysis = analyse(patient, user, body["beats"], None, clean_filename(body["filename"]), source="api")
        except ModelUnavailable:
            _model_missing("beat")
    else:
        abort(415)
    return as_json(analysis), 201, {"Location": url_for("api.get_analysis", analysis_id=analysis.id)}


@bp.errorhandler(AnalysisError)
def _analysis_error(error: AnalysisError):
    from .problems import problem

    return problem(422, str(error))


@bp.get("/patients/<int:patient_id>/analyses")
@bp.arguments(PageQuery, location="query")
@bp.response(200, AnalysisList)
def list_analyses(query: dict, patient_id: int):
    """The patient's analyses, newest first."""
    patient = visible_patient(patient_id)
    base = select(Analysis).where(Analysis.patient_id == patient.id)
    total = db.session.scalar(select(func.count()).select_from(base.subquery()))
    page = Page(query["page"], query["per_page"], total)
    items = db.session.scalars(base.order_by(Analysis.created_at.desc(), Analysis.id.desc())
                               .limit(page.per_page).offset(page.offset)).all()
    return {"items": [as_json(a) for a in items], "page": page.number, "per_page": page.per_page,
            "total": total, "pages": page.pages}


def _beats_of(analysis: Analysis, query: dict) -> tuple[list[dict], dict | None]:
    if not analysis.is_recording:
        rows = db.session.execute(select(AnalysisBeat.position, AnalysisBeat.score, AnalysisBeat.is_anomaly,
                                         AnalysisBeat.confidence, AnalysisBeat.label, AnalysisBeat.length)
                                  .where(AnalysisBeat.analysis_id == analysis.id).order_by(AnalysisBeat.position))
        return [{"beat": p + 1, "score": s, "is_anomaly": a, "confidence": c, "label": lab, "length": n}
                for p, s, a, c, lab, n in rows], None
    recording = analysis.recording
    page = Page(query["page"], query["per_page"], analysis.n_beats)
    beats = db.session.scalars(select(RecordingBeat).where(RecordingBeat.analysis_id == analysis.id)
                               .order_by(RecordingBeat.position).limit(page.per_page).offset(page.offset))
    parts = recording.part_names
    return [{"beat": b.number, "score": b.score, "is_anomaly": b.is_anomaly, "confidence": b.confidence,
             "sample": b.sample, "time_s": round(b.sample / recording.fs, 4), "rr_s": b.rr_s,
             "annotation": b.annotation, "parts": {p: b.part(p) for p in parts},
             "class": b.beat_class, "class_confidence": b.class_confidence} for b in beats], \
        {"page": page.number, "per_page": page.per_page, "total": analysis.n_beats, "pages": page.pages}


@bp.get("/analyses/<int:analysis_id>")
@bp.arguments(BeatsPageQuery, location="query")
@bp.response(200, AnalysisDetail)
def get_analysis(query: dict, analysis_id: int):
    """The analysis with one entry per beat and its verdict: all of a beat analysis's beats, a
    recording's by page (``page``, ``per_page``)."""
    analysis = visible_analysis(analysis_id)
    beats, paging = _beats_of(analysis, query)
    # once per token user and analysis within audit.REPEAT_MINUTES: a program pages through a day's beats
    audit.viewed("analysis.view", "analysis", analysis.id, analysis.patient_id, f"file={analysis.filename}",
                 once=True)
    holter = holter_for(analysis) if analysis.is_recording else None
    return {**as_json(analysis), "beats": beats, "beats_page": paging, "holter": holter}


@bp.get("/analyses/<int:analysis_id>/timeline")
@bp.arguments(WindowQuery, location="query")
@bp.response(200, WindowOut)
def timeline_window(query: dict, analysis_id: int):
    """A window of a recording's signal with its beats, as the recording page draws it (start, end in
    seconds; clamped to the recording and to the longest window). 404 for beat analyses."""
    analysis = visible_analysis(analysis_id, kind="recording")
    audit.viewed("analysis.beats_view", "analysis", analysis.id, analysis.patient_id, "timeline", once=True)
    return timeline.window_data(analysis, query["start"], query["end"])


@bp.delete("/analyses/<int:analysis_id>")
@bp.response(204)
def delete_analysis(analysis_id: int):
    """Delete the analysis (its patient's doctor only)."""
    analysis = visible_analysis(analysis_id)
    patient = own_patient(analysis.patient_id)
    audit.record("analysis.delete", "analysis", analysis.id,
                 f"patient={patient.id}; file={analysis.filename}; beats={analysis.n_beats}", patient_id=patient.id)
    db.session.delete(analysis)
    db.session.commit()
    return "", 204
