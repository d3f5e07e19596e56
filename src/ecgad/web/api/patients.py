"""Patients: list (paged, with search), create, show, change, delete. The rules are the web form's
(``patients/forms.py``), run on every write; who may see or change what is ``access.py``'s."""
from __future__ import annotations

from datetime import date

from flask import abort, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select
from werkzeug.datastructures import MultiDict

from .. import audit
from ..access import own_patient, visible_patient, visible_patients
from ..extensions import db
from ..models import Patient
from ..patients import service
from ..patients.forms import PatientForm
from ..patients.service import FIELDS, TAKEN, IdentifierTaken
from ..util import Page
from . import bp
from .problems import invalid
from .schemas import PatientIn, PatientList, PatientOut, PatientPatch, PatientQuery


def _form_checked(values: dict) -> dict:
    """``values`` after the web form's own checks (trimmed; plausible birth date...); 422 otherwise."""
    raw = {k: "" if v is None else v.isoformat() if isinstance(v, date) else v for k, v in values.items()}
    form = PatientForm(formdata=MultiDict(raw), meta={"csrf": False})
    if not form.validate():
        invalid({k: v for k, v in form.errors.items() if k in FIELDS})
    return {f: getattr(form, f).data for f in FIELDS}


def _conflict():
    abort(409, description=TAKEN)


def _doctors_only():
    if current_user.role != "doctor":
        abort(403, description="Only doctors create patients; admins see them but do not treat.")


@bp.get("/patients")
@bp.arguments(PatientQuery, location="query")
@bp.response(200, PatientList)
def list_patients(query: dict):
    """The patients this token's user may see (a doctor: their own; an admin: all), by name."""
    q = query["q"].strip()
    select_ = visible_patients()
    if q:
        needle = q.lower()
        select_ = select_.where(or_(func.lower(Patient.name).contains(needle, autoescape=True),
                                    func.lower(Patient.identifier).contains(needle, autoescape=True)))
    total = db.session.scalar(select(func.count()).select_from(select_.subquery()))
    page = Page(query["page"], query["per_page"], total)
    items = db.session.scalars(select_.order_by(func.lower(Patient.name), Patient.id)
                               .limit(page.per_page).offset(page.offset)).all()
    return {"items": items, "page": page.number, "per_page": page.per_page, "total": total, "pages": page.pages}


@bp.post("/patients")
@bp.arguments(PatientIn)
@bp.response(201, PatientOut)
@bp.alt_response(409, response="CONFLICT")
def create_patient(body: dict):
    """Create a patient (doctors only); answers 201 with it and its ``id``."""
    _doctors_only()
    values = _form_checked(body)
    try:
        patient = service.create_patient(values)
    except IdentifierTaken:
        _conflict()
    return patient, 201, {"Location": url_for("api.get_patient", patient_id=patient.id)}


@bp.get("/patients/<int:patient_id>")
@bp.response(200, PatientOut)
def get_patient(patient_id: int):
    """One patient (404 when it is not this user's to see)."""
    patient = visible_patient(patient_id)
    audit.viewed("patient.view", "patient", patient.id, patient.id, f"identifier={patient.identifier}")
    return patient


@bp.patch("/patients/<int:patient_id>")
@bp.arguments(PatientPatch)
@bp.response(200, PatientOut)
@bp.alt_response(409, response="CONFLICT")
def update_patient(body: dict, patient_id: int):
    """Change the fields given (the patient's doctor only)."""
    patient = own_patient(patient_id)
    values = _form_checked({f: body.get(f, getattr(patient, f)) for f in FIELDS})
    try:
        service.update_patient(patient, values)
    except IdentifierTaken:
        _conflict()
    return patient


@bp.delete("/patients/<int:patient_id>")
@bp.response(204)
def delete_patient(patient_id: int):
    """Delete the patient and all its analyses (the patient's doctor only)."""
    patient = own_patient(patient_id)
    service.delete_patient(patient)
    return "", 204
