"""Sign in, sign out, change one's own password."""
from __future__ import annotations

import hashlib

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from .. import audit, sessions
from ..accounts import AccountError, set_password
from ..extensions import db, limiter
from ..forms import ConfirmForm
from ..models import User, utcnow
from ..security import burn_time, client_ip, hash_password, needs_rehash, verify_password
from ..util import safe_next
from . import bp
from .forms import ChangePasswordForm, LoginForm

FAILED = "The email address or the password is not right."


def _account_key() -> str:
    email = (request.form.get("email") or "").strip().lower()[:254]
    return "account:" + hashlib.sha256(email.encode("utf-8")).hexdigest()


def _failed(response) -> bool:
    return response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], methods=["POST"], key_func=_account_key,
               deduct_when=_failed)
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        email, password = form.email.data, form.password.data
        user = db.session.scalar(select(User).where(User.email == email))
        reason = None
        if user is None:
            burn_time(password)
            reason = "unknown account"
        elif not verify_password(user.password_hash, password):
            reason = "wrong password"
        elif not user.is_active:
            reason = "account deactivated"
        if reason:
            audit.record("login.failure", "user", user.id if user else None, reason, email=email)
            db.session.commit()
            if reason == "account deactivated":
                flash("This account is deactivated. Ask your administrator to reactivate it.", "error")
            else:
                flash(FAILED, "error")
            return render_template("auth/login.html", form=form), 200
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        user.last_login_at = utcnow()
        sessions.end_current()  # signing in again from this browser: its earlier session ends
        session.clear()
        # Not a permanent session: Flask-Login's "strong" protection only deletes non-permanent ones.
        login_user(user)
        sessions.start(user, client_ip())
        audit.record("login.success", "user", user.id, actor=user)
        db.session.commit()
        return redirect(safe_next(request.args.get("next")) or url_for("main.index"))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    form = ConfirmForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        audit.record("logout", "user", current_user.id)
        sessions.end_current()
        db.session.commit()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user: User = current_user._get_current_object()
        if not verify_password(user.password_hash, form.current_password.data):
            form.current_password.errors.append("The current password is not right.")
        else:
            try:
                set_password(user, form.password.data, keep_current_session=True)
            except AccountError as exc:
                db.session.rollback()
                form.password.errors.append(str(exc))
            else:
                flash("Your password is changed. Other sessions of your account are signed out.", "success")
                return redirect(url_for("auth.change_password"))
    return render_template("auth/password.html", form=form)
