"""What every analysis has, whatever its kind: its page and beats (dispatched once, by kind, to
``beat_views`` or ``recording_views``) and its deletion."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import login_required

from .. import audit
from ..access import can_change, own_patient, visible_analysis
from ..extensions import db
from ..forms import ConfirmForm
from ..models import Analysis
from . import beat_views, bp, recording_views

KINDS = {"beats": beat_views, "recording": recording_views}  # Analysis.kind -> its page(...) and beat_data(...)


def _views(analysis: Analysis):
    views = KINDS.get(analysis.kind)
    if views is None:  # a kind this version does not know (a newer server wrote it)
        abort(404)
    return views


@bp.get("/analyses/<int:analysis_id>")
@login_required
def show(analysis_id: int):
    analysis = visible_analysis(analysis_id)
    views = _views(analysis)
    audit.viewed("analysis.view", "analysis", analysis.id, analysis.patient_id, f"file={analysis.filename}")
    return views.page(analysis, can_change(analysis.patient))


@bp.get("/analyses/<int:analysis_id>/beats/<int:number>.json")
@login_required
def beat_json(analysis_id: int, number: int):
    analysis = visible_analysis(analysis_id)
    data = _views(analysis).beat_data(analysis, number)
    audit.viewed("analysis.beats_view", "analysis", analysis.id, analysis.patient_id, f"beat {number}", once=True)
    return data


@bp.route("/analyses/<int:analysis_id>/delete", methods=["GET", "POST"])
@login_required
def delete(analysis_id: int):
    analysis = visible_analysis(analysis_id)
    patient = own_patient(analysis.patient_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        audit.record("analysis.delete", "analysis", analysis.id,
                     f"patient={patient.id}; file={analysis.filename}; beats={analysis.n_beats}", patient_id=patient.id)
        db.session.delete(analysis)
        db.session.commit()
        flash(f"Analysis of {analysis.filename} deleted.", "success")
        return redirect(url_for("patients.show", patient_id=patient.id))
    return render_template("analyses/delete.html", analysis=analysis, patient=patient, form=form)
