"""Saving patients: one set of rules for the pages and the API. The form (``forms.PatientForm``)
checks each field; here: the record number unique per doctor, the audit line, one transaction."""
from __future__ import annotations

from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..extensions import db
from ..models import Analysis, Patient

FIELDS = ("name", "identifier", "birth_date", "sex", "notes")
TAKEN = "You already have a patient with this medical record number."


class IdentifierTaken(ValueError):
    """The doctor already has a patient with this medical record number (nothing was saved)."""

    def __init__(self):
        super().__init__(TAKEN)


def _taken(identifier: str, exclude_id: int | None = None) -> bool:
    query = select(Patient.id).where(Patient.doctor_id == current_user.id, Patient.identifier == identifier)
    if exclude_id is not None:
        query = query.where(Patient.id != exclude_id)
    return db.session.scalar(query) is not None


def _commit() -> None:
    try:
        db.session.commit()
    except IntegrityError:  # the same record number, stored meanwhile by another request
        db.session.rollback()
        raise IdentifierTaken() from None


def create_patient(values: dict) -> Patient:
    """A new patient of the current doctor from checked ``values`` (``FIELDS``); raises IdentifierTaken."""
    if _taken(values["identifier"]):
        raise IdentifierTaken()
    patient = Patient(doctor_id=current_user.id, **{**values, "notes": values.get("notes") or ""})
    db.session.add(patient)
    db.session.flush()
    audit.record("patient.create", "patient", patient.id, f"identifier={patient.identifier}", patient_id=patient.id)
    _commit()
    return patient


def update_patient(patient: Patient, values: dict) -> list[str]:
    """Save checked ``values`` (``FIELDS``) on ``patient``; returns the fields changed. Raises IdentifierTaken."""
    values = {**values, "notes": values.get("notes") or ""}
    if _taken(values["identifier"], exclude_id=patient.id):
        raise IdentifierTaken()
    changed = [f for f in FIELDS if values[f] != getattr(patient, f)]
    for field in changed:
        setattr(patient, field, values[field])
    if changed:
        audit.record("patient.update", "patient", patient.id,
                     f"identifier={patient.identifier}; changed: {', '.join(changed)}", patient_id=patient.id)
    _commit()
    return changed


def delete_patient(patient: Patient) -> int:
    """Delete ``patient`` and its analyses; returns how many analyses went with it."""
    n = db.session.scalar(select(func.count()).select_from(Analysis).where(Analysis.patient_id == patient.id))
    audit.record("patient.delete", "patient", patient.id, f"identifier={patient.identifier}; with {n} analyses",
                 patient_id=patient.id)
    db.session.delete(patient)
    db.session.commit()
    return n
