"""The review forms of a recording's page (``review.py`` does the work): relabel a family or a beat,
write the interpretation, sign, unlock. POST with the CSRF token; the patient's doctor only (404 for
others, 403 for admins); a change to a signed analysis answers 409 with the reason."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from ..access import own_patient, visible_analysis
from ..errors import render_error
from ..forms import ConfirmForm
from ..models import Analysis
from . import bp, review

TITLES = {404: "Not found", 409: "Locked", 422: "Not changed"}


def _changeable(analysis_id: int) -> Analysis:
    analysis = visible_analysis(analysis_id)
    own_patient(analysis.patient_id)
    if not ConfirmForm().validate_on_submit():  # the CSRF token; its error page comes from errors.py
        abort(400)
    return analysis


def _back(analysis: Analysis, anchor: str = "review", **args):
    return redirect(url_for("analyses.show", analysis_id=analysis.id, **args) + f"#{anchor}", code=303)


def _failed(exc: review.ReviewError):
    return render_error(exc.status, str(exc)[:1].upper() + str(exc)[1:] + ".", TITLES.get(exc.status))


def _label_arg():
    value = request.form.get("label", "")
    return None if value == "model" else value


@bp.post("/analyses/<int:analysis_id>/families/<int:family_id>/label")
@login_required
def relabel_family(analysis_id: int, family_id: int):
    analysis = _changeable(analysis_id)
    try:
        n = review.relabel_family(analysis, family_id, _label_arg(), current_user._get_current_object())
    except review.ReviewError as exc:
        return _failed(exc)
    flash(f"Family {family_id}: {n} beat{'s' if n != 1 else ''} labelled {request.form.get('label')}.", "success")
    return _back(analysis, "families")


@bp.post("/analyses/<int:analysis_id>/beats/<int:number>/label")
@login_required
def relabel_beat(analysis_id: int, number: int):
    analysis = _changeable(analysis_id)
    try:
        review.relabel_beat(analysis, number, _label_arg(), current_user._get_current_object())
    except review.ReviewError as exc:
        return _failed(exc)
    flash(f"Beat {number} labelled {request.form.get('label')}.", "success")
    return _back(analysis, "beat-plot-section", beat=number)


@bp.post("/analyses/<int:analysis_id>/interpretation")
@login_required
def interpretation(analysis_id: int):
    analysis = _changeable(analysis_id)
    try:
        review.set_interpretation(analysis, request.form.get("text", ""), current_user._get_current_object())
    except review.ReviewError as exc:
        return _failed(exc)
    flash("Interpretation saved.", "success")
    return _back(analysis)


@bp.post("/analyses/<int:analysis_id>/sign")
@login_required
def sign(analysis_id: int):
    analysis = _changeable(analysis_id)
    try:
        review.sign(analysis, current_user._get_current_object())
    except review.ReviewError as exc:
        return _failed(exc)
    flash("Reviewed and signed: labels and interpretation are locked.", "success")
    return _back(analysis)


@bp.post("/analyses/<int:analysis_id>/unlock")
@login_required
def unlock(analysis_id: int):
    analysis = _changeable(analysis_id)
    try:
        review.unlock(analysis, current_user._get_current_object(), request.form.get("reason", ""))
    except review.ReviewError as exc:
        return _failed(exc)
    flash("Unlocked: labels and interpretation can change again; the signature was removed.", "success")
    return _back(analysis)
