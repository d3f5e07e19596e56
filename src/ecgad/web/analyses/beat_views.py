"""Beat-file analyses: upload (or an example) on a patient's page, the analysis page, one beat as JSON."""
from __future__ import annotations

import json

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from ecgad.verdict import beat_verdict

from ..access import own_patient
from ..detection import ModelUnavailable
from ..forms import UploadForm
from ..models import Analysis, AnalysisBeat
from ..patients.views import render_patient
from ..util import script_json
from . import bp, listing, service

MODEL_MISSING = ("The anomaly model is not available on this server, so nothing could be analysed. "
                 "Tell your administrator.")


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
    """The Plotly figure of one beat, from the curves stored at analysis time, as JSON safe to place
    inside a <script> data block."""
    from ecgad.detector import Verdict
    from ecgad.report.figures import beat_figure

    samples, recon, error = beat.curve_arrays()
    verdict = Verdict(index=beat.position, score=beat.score, threshold=analysis.threshold,
                      is_anomaly=beat.is_anomaly, confidence=beat.confidence, beat=samples,
                      reconstruction=recon, error=error, meta=analysis.model)
    return script_json(beat_figure(verdict, title=f"Beat {beat.number}").to_json())


def page(analysis: Analysis, can_change: bool):
    """The page of a beat-file analysis (``views.show`` dispatches here)."""
    from ecgad.own_beats import label_info
    from ecgad.report.figures import class_name

    selected = listing.selected_beat(AnalysisBeat, analysis)
    table = listing.list_beats(AnalysisBeat, analysis, selected, current_app.config["BEATS_PER_PAGE"])
    return render_template(
        "analyses/show.html", analysis=analysis, patient=analysis.patient, beats=table.beats, page=table.page,
        only=table.only, sort=table.sort, link=table.link, selected=selected,
        figure_json=_figure(analysis, selected) if selected else None, can_change=can_change,
        # ECG5000's class names only for its models: a model trained on one's own file has labels of its own
        class_name=class_name if label_info(analysis.model) is None else None)


def beat_data(analysis: Analysis, number: int) -> dict:
    """Beat ``number`` as JSON (``views.beat_json`` dispatches here)."""
    beat = listing.beat_at(AnalysisBeat, analysis, number)
    return {"analysis": analysis.id,
            **beat_verdict(beat.number, beat.score, analysis.threshold, beat.is_anomaly, beat.confidence),
            "verdict": beat.verdict_text, "label": beat.label, "figure": json.loads(_figure(analysis, beat))}
