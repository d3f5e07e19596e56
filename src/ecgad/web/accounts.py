"""Account operations shared by the admin pages and the ``ecgad users`` command."""
from __future__ import annotations

from sqlalchemy import select

from . import audit
from .extensions import db
from .forms import looks_like_email
from .models import ROLES, User
from .security import PasswordPolicyError, check_password_policy, hash_password


class AccountError(ValueError):
    """Why an account cannot be created, for people."""


def normalise_email(email: str) -> str:
    value = (email or "").strip().lower()
    if not looks_like_email(value):
        raise AccountError(f"{email!r} is not an email address like name@example.org")
    if len(value) > 254:
        raise AccountError("the email address is longer than 254 characters")
    return value


def create_user(email: str, password: str, role: str, name: str = "", *, via: str = "") -> User:
    """Create an account (in the current app context) and audit it; raises AccountError."""
    email = normalise_email(email)
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    try:
        check_password_policy(password, email)
    except PasswordPolicyError as exc:
        raise AccountError(str(exc)) from None
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountError(f"an account with the email address {email} exists already")
    user = User(email=email, name=(name or "").strip()[:120], role=role, password_hash=hash_password(password),
                active=True, session_epoch=0)
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", "user", user.id, f"email={email}; role={role}" + (f"; via {via}" if via else ""))
    db.session.commit()
    return user
