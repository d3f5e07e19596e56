"""Who may see or change what, for every view: admins see everything, doctors their own patients and
their analyses; only a patient's doctor changes them. What one may not see is a 404 (its existence
is not told); what one may see but not change, a 403."""
from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import Select, select

from .extensions import db
from .models import Analysis, Patient


def visible_patient(patient_id: int) -> Patient:
    """The patient if the current user may see it: admins all, doctors their own; else 404."""
    patient = db.session.get(Patient, patient_id)
    if patient is None or (not current_user.is_admin and patient.doctor_id != current_user.id):
        abort(404)
    return patient


def own_patient(patient_id: int) -> Patient:
    """The patient if the current user may change it: only its doctor; else 404 (403 for admins)."""
    patient = visible_patient(patient_id)
    if not can_change(patient):
        abort(403)
    return patient


def visible_analysis(analysis_id: int, kind: str | None = None) -> Analysis:
    """The analysis (of ``kind``, when given) if the current user may see its patient; else 404."""
    analysis = db.session.get(Analysis, analysis_id)
    if (analysis is None or (kind is not None and analysis.kind != kind)
            or (not current_user.is_admin and analysis.patient.doctor_id != current_user.id)):
        abort(404)
    return analysis


def can_change(patient: Patient) -> bool:
    """Whether the current user may change the patient and its analyses: its doctor only."""
    return patient.doctor_id == current_user.id


def visible_patients() -> Select:
    """The patients the current user may see, as a query: admins all, doctors their own."""
    query = select(Patient)
    return query if current_user.is_admin else query.where(Patient.doctor_id == current_user.id)
