"""Admin: doctors' accounts and the audit log."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from .. import audit
from ..accounts import AccountError
from ..accounts import create_user as create_account
from ..extensions import db
from ..forms import ConfirmForm
from ..models import AuditEvent, Patient, User
from ..security import admin_required, hash_password
from ..util import Page, page_arg
from . import bp
from .forms import ResetPasswordForm, UserCreateForm


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
                user = create_account(form.email.data, form.password.data, "doctor", form.name.data or "")
            except AccountError as exc:
                db.session.rollback()
                form.password.errors.append(f"{str(exc).rstrip('.')}.")
            else:
                flash(f"Doctor account {user.email} created.", "success")
                return redirect(url_for("admin.users"))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/user_form.html", form=form), status


@bp.post("/users/<int:user_id>/deactivate")
@admin_required
def deactivate(user_id: int):
    user = _doctor(user_id)
    if user.active:
        user.active = False
        user.session_epoch += 1
        audit.record("user.deactivate", "user", user.id, f"email={user.email}")
        db.session.commit()
        flash(f"{user.email} is deactivated and signed out.", "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/reactivate")
@admin_required
def reactivate(user_id: int):
    user = _doctor(user_id)
    if not user.active:
        user.active = True
        audit.record("user.reactivate", "user", user.id, f"email={user.email}")
        db.session.commit()
        flash(f"{user.email} is active again.", "success")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
@admin_required
def reset_password(user_id: int):
    user = _doctor(user_id)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        if form.password.data.strip().lower() == user.email:
            form.password.errors.append("The password must not be the email address.")
        else:
            user.password_hash = hash_password(form.password.data)
            user.session_epoch += 1
            audit.record("user.password_reset", "user", user.id, f"email={user.email}")
            db.session.commit()
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
