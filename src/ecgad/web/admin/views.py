"""Admin: doctors' accounts and the audit log."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

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


@bp.get("/audit")
@admin_required
def audit_log():
    action = request.args.get("action") or None
    query = select(AuditEvent)
    if action:
        query = query.where(AuditEvent.action == action)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    page = Page.make(page_arg(), current_app.config["AUDIT_PER_PAGE"], total)
    events = db.session.scalars(query.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
                                .limit(page.per_page).offset(page.offset)).all()
    return render_template("admin/audit.html", events=events, page=page, action=action)
