"""The audit log: who did what, to what, when, from where.

``record`` adds the event to the current session; it is committed together with
the change it describes (or on its own for events without one, like a failed login).
"""
from __future__ import annotations

from flask import g, has_request_context, request
from flask_login import current_user

from .extensions import db
from .models import AuditEvent, User

ACTIONS = {
    "login.success": "Signed in",
    "login.failure": "Failed sign-in",
    "logout": "Signed out",
    "user.create": "Account created",
    "user.deactivate": "Account deactivated",
    "user.reactivate": "Account reactivated",
    "user.password_reset": "Password reset by an admin",
    "user.password_change": "Password changed",
    "patient.create": "Patient created",
    "patient.update": "Patient changed",
    "patient.delete": "Patient deleted",
    "patient.reassign": "Patient moved to another doctor",
    "analysis.create": "Analysis run",
    "analysis.delete": "Analysis deleted",
    "token.create": "API token created",
    "token.revoke": "API token revoked",
    "token.refused": "API token refused",
}


def record(action: str, target_type: str | None = None, target_id: int | None = None, detail: str = "",
           actor: User | None = None, email: str | None = None) -> AuditEvent:
    """``email`` names who it was about when there is no signed-in actor (a failed sign-in)."""
    if actor is None and has_request_context() and current_user and current_user.is_authenticated:
        actor = current_user._get_current_object()
    ip = None
    if has_request_context():
        ip = (request.remote_addr or "")[:64] or None
        token = g.get("api_token")
        if token is not None:  # what a program did with a token, told apart from what its user did
            detail = f"{detail}; via API token {token.id}" if detail else f"via API token {token.id}"
    event = AuditEvent(action=action, target_type=target_type, target_id=target_id, detail=detail[:2000],
                       actor_id=actor.id if actor is not None else None,
                       actor_email=(actor.email if actor is not None else (email or None) and email[:254]), ip=ip)
    db.session.add(event)
    return event
