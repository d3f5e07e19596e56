"""Server-side sign-in sessions: signing out, idling or a password change really ends them.

Flask's cookie is signed, not revocable: a copy saved before signing out would stay valid.
So the cookie also carries a random token, and a session counts only while the row named by
the token's SHA-256 (``UserSession.id``) exists, belongs to the user and is neither idle longer
than ``SESSION_IDLE_MINUTES`` nor older than ``SESSION_LIFETIME_HOURS``.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app, g, has_request_context, session
from sqlalchemy import delete, or_

from .extensions import db
from .models import User, UserSession, utcnow

SESSION_KEY = "ecgad_sid"
TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def _limits() -> tuple[timedelta, timedelta]:
    cfg = current_app.config
    return timedelta(minutes=float(cfg["SESSION_IDLE_MINUTES"])), timedelta(hours=float(cfg["SESSION_LIFETIME_HOURS"]))


def _span(delta: timedelta) -> str:
    minutes = delta.total_seconds() / 60
    if minutes >= 120 and minutes % 60 == 0:
        return f"{minutes / 60:g} hours"
    return f"{minutes:g} minute{'s' if minutes != 1 else ''}"


def purge() -> None:
    """Delete every session that has idled out or outlived its lifetime (all users)."""
    idle, lifetime = _limits()
    now = utcnow()
    db.session.execute(delete(UserSession).where(or_(UserSession.last_seen_at < now - idle,
                                                     UserSession.created_at < now - lifetime)))


def start(user: User, ip: str | None) -> None:
    """Open a session for ``user`` (after ``login_user``); the caller commits."""
    purge()
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(id=_digest(token), user_id=user.id, ip=(ip or "")[:64] or None))
    session[SESSION_KEY] = token


def _current_id() -> str | None:
    token = session.get(SESSION_KEY) if has_request_context() else None
    return _digest(token) if isinstance(token, str) and token else None


def validate(user: User) -> bool:
    """Whether this request's session of ``user`` is alive; touches ``last_seen_at`` (and commits)
    at most once a minute. Called by the user loader, before a view changes anything."""
    sid = _current_id()
    row = db.session.get(UserSession, sid) if sid else None
    if row is None or row.user_id != user.id:
        return False
    idle, lifetime = _limits()
    now = utcnow()
    if now - row.last_seen_at > idle or now - row.created_at > lifetime:
        db.session.delete(row)
        db.session.commit()
        g.ecgad_session_ended = (f"Your session ended after {_span(idle)} without activity."
                                 if now - row.last_seen_at > idle
                                 else f"Your session ended {_span(lifetime)} after you signed in.")
        return False
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        db.session.commit()
    return True


def end_current() -> None:
    """Delete this request's session row (signing out); the caller commits."""
    sid = _current_id()
    if sid:
        db.session.execute(delete(UserSession).where(UserSession.id == sid))
    session.pop(SESSION_KEY, None)


def end_all(user: User, keep_current: bool = False) -> None:
    """End ``user``'s sessions (deactivation, a new password), all or all but this request's;
    the caller commits."""
    query = delete(UserSession).where(UserSession.user_id == user.id)
    sid = _current_id() if keep_current else None
    if sid:
        query = query.where(UserSession.id != sid)
    db.session.execute(query)
