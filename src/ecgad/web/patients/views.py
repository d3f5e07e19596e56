"""Patients: list with search, create, show (with analyses), edit, delete."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import func, or_, select

from .. import audit
from ..access import can_change, own_patient, visible_patient, visible_patients
from ..extensions import db
from ..forms import ConfirmForm, RecordingForm, UploadForm
from ..models import Analysis, Patient
from ..security import doctor_required
from ..util import Page, page_arg
from . import bp, service
from .forms import PatientForm
from .service import FIELDS, IdentifierTaken


def _values(form: PatientForm) -> dict:
    return {f: getattr(form, f).data for f in FIELDS}


@bp.get("")
@login_required
def index():
    q = (request.args.get("q") or "").strip()[:200]
    query = visible_patients()
    if q:
        needle = q.lower()
        query = query.where(or_(func.lower(Patient.name).contains(needle, autoescape=True),
                                func.lower(Patient.identifier).contains(needle, autoescape=True)))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    page = Page.make(page_arg(), current_app.config["PATIENTS_PER_PAGE"], total)
    patients = db.session.scalars(query.order_by(func.lower(Patient.name), Patient.id)
                                  .limit(page.per_page).offset(page.offset)).all()
    counts = {}
    if patients:
        rows = db.session.execute(select(Analysis.patient_id, func.count()).where(
            Analysis.patient_id.in_([p.id for p in patients])).group_by(Analysis.patient_id))
        counts = dict(rows.all())
    return render_template("patients/index.html", patients=patients, q=q, page=page, counts=counts)


@bp.route("/new", methods=["GET", "POST"])
@doctor_required
def create():
    form = PatientForm()
    if form.validate_on_submit():
        try:
            patient = service.create_patient(_values(form))
        except IdentifierTaken as exc:
            form.identifier.errors.append(str(exc))
        else:
            flash(f"Patient {patient.name} created.", "success")
            return redirect(url_for("patients.show", patient_id=patient.id))
    status = 400 if request.method == "POST" else 200
    return render_template("patients/form.html", form=form, patient=None), status


@bp.get("/<int:patient_id>")
@login_required
def show(patient_id: int):
    patient = visible_patient(patient_id)
    audit.viewed("patient.view", "patient", patient.id, patient.id, f"identifier={patient.identifier}")
    return render_patient(patient)


def render_patient(patient: Patient, upload_form=None, upload_error: str | None = None, status: int = 200, *,
                   recording_form=None, recording_error: str | None = None):
    """The patient's page; an upload that failed comes back with its form and error."""
    analyses = db.session.scalars(select(Analysis).where(Analysis.patient_id == patient.id)
                                  .order_by(Analysis.created_at.desc(), Analysis.id.desc())).all()
    return render_template("patients/show.html", patient=patient, analyses=analyses,
                           form=upload_form or UploadForm(formdata=None), upload_error=upload_error,
                           recording_form=recording_form or RecordingForm(formdata=None, prefix="recording"),
                           recording_error=recording_error, example_form=ConfirmForm(),
                           can_change=can_change(patient)), status


@bp.route("/<int:patient_id>/edit", methods=["GET", "POST"])
@login_required
def edit(patient_id: int):
    patient = own_patient(patient_id)
    form = PatientForm(obj=patient)
    if form.validate_on_submit():
        try:
            changed = service.update_patient(patient, _values(form))
        except IdentifierTaken as exc:
            form.identifier.errors.append(str(exc))
        else:
            flash("Patient saved." if changed else "Nothing was changed.", "success")
            return redirect(url_for("patients.show", patient_id=patient.id))
    status = 400 if request.method == "POST" else 200
    return render_template("patients/form.html", form=form, patient=patient), status


@bp.route("/<int:patient_id>/delete", methods=["GET", "POST"])
@login_required
def delete(patient_id: int):
    patient = own_patient(patient_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        n = service.delete_patient(patient)
        flash(f"Patient {patient.name} and {n} analyses deleted.", "success")
        return redirect(url_for("patients.index"))
    n = db.session.scalar(select(func.count()).select_from(Analysis).where(Analysis.patient_id == patient.id))
    return render_template("patients/delete.html", patient=patient, form=form, n_analyses=n)


__all__ = ["render_patient"]
