"""Patients: list with search, create, show (with analyses), edit, delete."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..access import can_change, own_patient, visible_patient, visible_patients
from ..extensions import db
from ..forms import ConfirmForm, RecordingForm, UploadForm
from ..models import Analysis, Patient
from ..security import doctor_required
from ..util import Page, page_arg
from . import bp
from .forms import PatientForm

FIELDS = ("name", "identifier", "birth_date", "sex", "notes")


def _identifier_taken(identifier: str, exclude_id: int | None = None) -> bool:
    query = select(Patient.id).where(Patient.doctor_id == current_user.id, Patient.identifier == identifier)
    if exclude_id is not None:
        query = query.where(Patient.id != exclude_id)
    return db.session.scalar(query) is not None


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
        if _identifier_taken(form.identifier.data):
            form.identifier.errors.append("You already have a patient with this medical record number.")
        else:
            patient = Patient(doctor_id=current_user.id)
            form.populate_obj(patient)
            patient.notes = patient.notes or ""
            db.session.add(patient)
            try:
                db.session.flush()
                audit.record("patient.create", "patient", patient.id, f"identifier={patient.identifier}")
                db.session.commit()
            except IntegrityError:
                db.session.rollback()
                form.identifier.errors.append("You already have a patient with this medical record number.")
            else:
                flash(f"Patient {patient.name} created.", "success")
                return redirect(url_for("patients.show", patient_id=patient.id))
    status = 400 if request.method == "POST" else 200
    return render_template("patients/form.html", form=form, patient=None), status


@bp.get("/<int:patient_id>")
@login_required
def show(patient_id: int):
    patient = visible_patient(patient_id)
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
        if _identifier_taken(form.identifier.data, exclude_id=patient.id):
            form.identifier.errors.append("You already have a patient with this medical record number.")
        else:
            changed = [f for f in FIELDS if getattr(form, f).data != getattr(patient, f)]
            form.populate_obj(patient)
            patient.notes = patient.notes or ""
            if changed:
                audit.record("patient.update", "patient", patient.id,
                             f"identifier={patient.identifier}; changed: {', '.join(changed)}")
            try:
                db.session.commit()
            except IntegrityError:
                db.session.rollback()
                form.identifier.errors.append("You already have a patient with this medical record number.")
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
        n = len(patient.analyses)
        audit.record("patient.delete", "patient", patient.id,
                     f"identifier={patient.identifier}; with {n} analyses")
        db.session.delete(patient)
        db.session.commit()
        flash(f"Patient {patient.name} and {n} analyses deleted.", "success")
        return redirect(url_for("patients.index"))
    n = db.session.scalar(select(func.count()).select_from(Analysis).where(Analysis.patient_id == patient.id))
    return render_template("patients/delete.html", patient=patient, form=form, n_analyses=n)


__all__ = ["render_patient"]
