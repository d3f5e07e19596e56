"""Analyses: upload (or an example) on a patient's page, the analysis page, deletion."""
from __future__ import annotations

import json

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from .. import audit
from ..detection import ModelUnavailable
from ..extensions import db
from ..forms import ConfirmForm
from ..models import Analysis, AnalysisBeat
from ..patients.views import own_patient, render_patient
from ..util import Page, page_arg
from . import bp, recording_views, service
from .forms import UploadForm

SORTS = {
    "number": (AnalysisBeat.position,),
    "-number": (AnalysisBeat.position.desc(),),
    "score": (AnalysisBeat.score, AnalysisBeat.position),
    "-score": (AnalysisBeat.score.desc(), AnalysisBeat.position),
    "confidence": (AnalysisBeat.confidence, AnalysisBeat.position),
    "-confidence": (AnalysisBeat.confidence.desc(), AnalysisBeat.position),
}
MODEL_MISSING = ("The anomaly model is not available on this server, so nothing could be analysed. "
                 "Tell your administrator.")


def visible_analysis(analysis_id: int) -> Analysis:
    analysis = db.session.get(Analysis, analysis_id)
    if analysis is None or (not current_user.is_admin and analysis.patient.doctor_id != current_user.id):
        abort(404)
    return analysis


def _run(patient, data: bytes, filename: str, labelled: bool, source: str, form):
    try:
        if source == "upload":
            service.check_extension(filename)
        beats, labels = service.parse(data, filename, labelled)
        analysis = service.analyse(patient, current_user._get_current_object(), beats, labels, filename, source)
    except service.AnalysisError as exc:
        return render_patient(patient, form, str(exc), 400)
    except ModelUnavailable:
        return render_patient(patient, form, MODEL_MISSING, 503)
    flash(f"{analysis.filename}: {analysis.n_beats} beats analysed, {analysis.n_anomalies} anomalous.", "success")
    return redirect(url_for("analyses.show", analysis_id=analysis.id))


@bp.post("/patients/<int:patient_id>/analyses")
@login_required
def upload(patient_id: int):
    patient = own_patient(patient_id)
    form = UploadForm()
    if not form.validate_on_submit():
        message = next((e for errors in form.errors.values() for e in errors), "The upload could not be read.")
        return render_patient(patient, form, message, 400)
    storage = form.file.data
    filename = service.clean_filename(storage.filename)
    data = storage.read()
    return _run(patient, data, filename, bool(form.labelled.data), "upload", form)


@bp.post("/patients/<int:patient_id>/analyses/example/<name>")
@login_required
def example(patient_id: int, name: str):
    patient = own_patient(patient_id)
    if name not in service.EXAMPLES:
        abort(404)
    data, filename = service.example_file(name)
    return _run(patient, data, filename, False, "example", UploadForm(formdata=None))


def _figure(analysis: Analysis, beat: AnalysisBeat) -> str:
    """The Plotly figure of one beat, as JSON safe to place inside a <script> data block."""
    from ecgad.detector import Verdict
    from ecgad.plots import beat_figure

    samples, recon, error = beat.curve_arrays()
    verdict = Verdict(index=beat.position, score=beat.score, threshold=analysis.threshold,
                      is_anomaly=beat.is_anomaly, confidence=beat.confidence, beat=samples,
                      reconstruction=recon, error=error, meta=analysis.model)
    text = beat_figure(verdict, title=f"Beat {beat.number}").to_json()
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _beat(analysis: Analysis, number: int | None) -> AnalysisBeat | None:
    if number is not None:
        return db.session.scalar(select(AnalysisBeat).where(AnalysisBeat.analysis_id == analysis.id,
                                                            AnalysisBeat.position == number - 1))
    return db.session.scalar(select(AnalysisBeat).where(AnalysisBeat.analysis_id == analysis.id)
                             .order_by(AnalysisBeat.score.desc(), AnalysisBeat.position).limit(1))


@bp.get("/analyses/<int:analysis_id>")
@login_required
def show(analysis_id: int):
    from ecgad.plots import class_name

    analysis = visible_analysis(analysis_id)
    can_change = analysis.patient.doctor_id == current_user.id
    if analysis.is_recording:
        return recording_views.show(analysis, can_change)
    only = "anomalies" if request.args.get("only") == "anomalies" else "all"
    sort = request.args.get("sort", "number")
    if sort not in SORTS:
        sort = "number"
    number = request.args.get("beat", type=int)
    selected = _beat(analysis, number)
    if number is not None and selected is None:
        abort(404)

    query = select(AnalysisBeat).where(AnalysisBeat.analysis_id == analysis.id)
    if only == "anomalies":
        query = query.where(AnalysisBeat.is_anomaly.is_(True))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    page = Page.make(page_arg(), current_app.config["BEATS_PER_PAGE"], total)
    beats = db.session.scalars(query.order_by(*SORTS[sort]).limit(page.per_page).offset(page.offset)).all()
    state = {"only": only if only != "all" else None, "sort": sort if sort != "number" else None,
             "beat": selected.number if selected else None, "page": page.number if page.number > 1 else None}

    def link(**changes) -> str:
        """This page's URL with some of its state changed (None drops a parameter)."""
        args = {k: v for k, v in {**state, **changes}.items() if v is not None}
        return url_for("analyses.show", analysis_id=analysis.id, **args)

    return render_template(
        "analyses/show.html", analysis=analysis, patient=analysis.patient, beats=beats, page=page, only=only,
        sort=sort, link=link, selected=selected, figure_json=_figure(analysis, selected) if selected else None,
        class_name=class_name, can_change=can_change)


@bp.get("/analyses/<int:analysis_id>/beats/<int:number>.json")
@login_required
def beat_json(analysis_id: int, number: int):
    analysis = visible_analysis(analysis_id)
    if analysis.is_recording:
        beat = recording_views.find_beat(analysis, number)
        if beat is None:
            abort(404)
        return recording_views.beat_json(analysis, beat)
    beat = _beat(analysis, number)
    if beat is None:
        abort(404)
    return {"analysis": analysis.id, "beat": beat.number, "score": beat.score, "threshold": analysis.threshold,
            "is_anomaly": beat.is_anomaly, "confidence": beat.confidence, "verdict": beat.verdict_text,
            "label": beat.label, "figure": json.loads(_figure(analysis, beat))}


@bp.route("/analyses/<int:analysis_id>/delete", methods=["GET", "POST"])
@login_required
def delete(analysis_id: int):
    analysis = visible_analysis(analysis_id)
    patient = own_patient(analysis.patient_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        audit.record("analysis.delete", "analysis", analysis.id,
                     f"patient={patient.id}; file={analysis.filename}; beats={analysis.n_beats}")
        db.session.delete(analysis)
        db.session.commit()
        flash(f"Analysis of {analysis.filename} deleted.", "success")
        return redirect(url_for("patients.show", patient_id=patient.id))
    return render_template("analyses/delete.html", analysis=analysis, patient=patient, form=form)
