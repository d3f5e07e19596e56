"""Admin: doctors' accounts and the audit log."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import func, or_, select

from .. import accounts
from ..accounts import AccountError
from ..extensions import db
from ..forms import ConfirmForm
from ..models import AuditEvent, Patient, User
from ..security import admin_required
from ..util import Page, page_arg
from . import bp
from .forms import ReassignForm, ResetPasswordForm, UserCreateForm


def _doctor(user_id: int) -> User:
    """A doctor's account; admins' accounts are managed with ``ecgad users``."""
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    if user.role != "doctor":
        abort(403)
    return user


@bp.get("/users")
@admin_required
def users():
    rows = db.session.scalars(select(User).order_by(User.role, func.lower(User.email))).all()
    counts = dict(db.session.execute(select(Patient.doctor_id, func.count()).group_by(Patient.doctor_id)).all())
    return render_template("admin/users.html", users=rows, counts=counts, action_form=ConfirmForm())


@bp.route("/users/new", methods=["GET", "POST"])
@admin_required
def create_user():
    form = UserCreateForm()
    if form.validate_on_submit():
        if db.session.scalar(select(User.id).where(User.email == form.email.data)) is not None:
            form.email.errors.append("An account with this email address exists already.")
        else:
            try:
                user = accounts.create_user(form.email.data, form.password.data, "doctor", form.name.data or "")
            except AccountError as exc:
                db.session.rollback()
                form.password.errors.append(f"{str(exc).rstrip('.')}.")
            else:
                flash(f"Doctor account {user.email} created.", "success")
                return redirect(url_for("admin.users"))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/user_form.html", form=form), status


def _patient_count(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(Patient).where(Patient.doctor_id == user.id))


def _reassign_form(user: User) -> ReassignForm:
    form = ReassignForm()
    form.target.choices = [(d.id, f"{d.display_name} ({d.email})" if d.name else d.email)
                           for d in accounts.active_doctors(excluding=user)]
    return form


@bp.route("/users/<int:user_id>/deactivate", methods=["GET", "POST"])
@admin_required
def deactivate(user_id: int):
    """GET: what deactivating means, a way to hand the patients over first, and the button. POST: do it."""
    user = _doctor(user_id)
    if request.method == "POST":
        if accounts.deactivate(user):
            flash(f"{user.email} is deactivated and signed out.", "success")
        return redirect(url_for("admin.users"))
    if not user.active:
        return redirect(url_for("admin.users"))
    return render_template("admin/deactivate.html", user=user, patients=_patient_count(user),
                           confirm_form=ConfirmForm(), reassign_form=_reassign_form(user))


@bp.post("/users/<int:user_id>/reactivate")
@admin_required
def reactivate(user_id: int):
    user = _doctor(user_id)
    if accounts.reactivate(user):
        flash(f"{user.email} is active again.", "success")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/reassign", methods=["GET", "POST"])
@admin_required
def reassign(user_id: int):
    """Move all of a doctor's patients (with their analyses) to another active doctor."""
    user = _doctor(user_id)
    form = _reassign_form(user)
    back = "deactivate" if request.values.get("back") == "deactivate" and user.active else "users"
    if form.validate_on_submit():
        target = db.session.get(User, form.target.data)
        try:
            moved = accounts.reassign_patients(user, target)
        except AccountError as exc:
            db.session.rollback()
            form.target.errors.append(f"{str(exc)[0].upper()}{str(exc)[1:]}.")
        else:
            flash(f"{moved} patient{'s' if moved != 1 else ''} of {user.email} moved to {target.email}.", "success")
            return redirect(url_for("admin.deactivate", user_id=user.id) if back == "deactivate"
                            else url_for("admin.users"))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/reassign.html", user=user, patients=_patient_count(user), form=form,
                           back=back), status


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
@admin_required
def reset_password(user_id: int):
    user = _doctor(user_id)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.set_password(user, form.password.data)
        except AccountError as exc:
            db.session.rollback()
            form.password.errors.append(str(exc))
        else:
            flash(f"The password of {user.email} is reset; their sessions are signed out.", "success")
            return redirect(url_for("admin.users"))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/reset_password.html", form=form, user=user), status


def _date_arg(name: str) -> date | None:
    """A YYYY-MM-DD query argument; None when absent, blank or not a date (the page says which)."""
    value = (request.args.get(name) or "").strip()
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _patients_named(text: str) -> list[int]:
    """Ids of the patients ``text`` names: ``#12`` or ``12`` (an id: deleted patients too), an exact
    record number, or part of a name."""
    text = text.strip()
    if text.lstrip("#").isascii() and text.lstrip("#").isdigit():
        return [int(text.lstrip("#"))]
    return list(db.session.scalars(select(Patient.id).where(
        or_(Patient.identifier == text, func.lower(Patient.name).contains(text.lower(), autoescape=True)))))


@bp.get("/audit")
@admin_required
def audit_log():
    """The audit log, newest first, by page; filtered by what happened, who did it, which patient it
    concerned and between which dates (UTC, both days included)."""
    action = request.args.get("action") or None
    user_id = request.args.get("user", type=int)
    patient_text = (request.args.get("patient") or "").strip()[:200]
    since, until = _date_arg("from"), _date_arg("to")
    problems = [f"“{request.args.get(n)}” is not a date (YYYY-MM-DD); ignored." for n, d in
                (("from", since), ("to", until)) if d is None and (request.args.get(n) or "").strip()]
    query = select(AuditEvent)
    if action:
        query = query.where(AuditEvent.action == action)
    if user_id is not None:
        query = query.where(AuditEvent.actor_id == user_id)
    if patient_text:
        ids = _patients_named(patient_text)
        # lines written before events named their patient: the patient's own events name it as target
        query = query.where(or_(AuditEvent.patient_id.in_(ids),
                                (AuditEvent.target_type == "patient") & AuditEvent.target_id.in_(ids)))
    if since is not None:
        query = query.where(AuditEvent.created_at >= datetime.combine(since, time.min))
    if until is not None:
        query = query.where(AuditEvent.created_at < datetime.combine(until + timedelta(days=1), time.min))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    page = Page.make(page_arg(), current_app.config["AUDIT_PER_PAGE"], total)
    events = db.session.scalars(query.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
                                .limit(page.per_page).offset(page.offset)).all()
    users = db.session.scalars(select(User).order_by(func.lower(User.email))).all()
    return render_template("admin/audit.html", events=events, page=page, action=action, users=users,
                           user_id=user_id, patient=patient_text, since=since, until=until, problems=problems)
