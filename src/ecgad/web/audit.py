"""The audit log: who did what, to what, when, from where; and who looked at which patient's data.

``record`` adds the event to the current session; it is committed together with
the change it describes (or on its own for events without one, like a failed login).

``viewed`` records that the signed-in user (or a program with their token) opened a patient's
data, and commits it at once (a view changes nothing else). What counts as a view: a patient's
page, an analysis's page, a recording's beat JSON and timeline windows, a PDF report, and the
API's reads of the same. The pieces a page fetches while one reads it (a beat's figure on each
click, a window of the timeline on each move: tens to hundreds a visit) say nothing the page's own
line does not, so those are written once per user, analysis and ``REPEAT_MINUTES``; pages and
reports, each time.
"""
from __future__ import annotations

from datetime import timedelta

from flask import g, has_request_context, request
from flask_login import current_user
from sqlalchemy import select

from .extensions import db
from .models import AuditEvent, User, utcnow

REPEAT_MINUTES = 10

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
    "analysis.relabel": "Beat label reviewed",
    "analysis.interpretation": "Interpretation written",
    "analysis.sign": "Analysis reviewed and signed",
    "analysis.unlock": "Signed analysis unlocked",
    "token.create": "API token created",
    "token.revoke": "API token revoked",
    "token.refused": "API token refused",
    "patient.view": "Patient opened",
    "analysis.view": "Analysis opened",
    "analysis.beats_view": "Recording's beats or timeline read",
    "report.view": "PDF report opened",
}
VIEWS = ("patient.view", "analysis.view", "analysis.beats_view", "report.view")


def record(action: str, target_type: str | None = None, target_id: int | None = None, detail: str = "",
           actor: User | None = None, email: str | None = None, patient_id: int | None = None) -> AuditEvent:
    """``email`` names who it was about when there is no signed-in actor (a failed sign-in);
    ``patient_id`` the patient the event concerns (the audit page filters by it)."""
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
                       actor_email=(actor.email if actor is not None else (email or None) and email[:254]), ip=ip,
                       patient_id=patient_id)
    db.session.add(event)
    return event


def viewed(action: str, target_type: str, target_id: int, patient_id: int, detail: str = "",
           once: bool = False) -> None:
    """The current user opened ``target_type`` ``target_id`` of patient ``patient_id``: one line,
    committed now. ``once``: not again for the same user, action and target within ``REPEAT_MINUTES``."""
    actor = current_user._get_current_object() if current_user and current_user.is_authenticated else None
    if once and actor is not None:
        since = utcnow() - timedelta(minutes=REPEAT_MINUTES)
        seen = db.session.scalar(
            select(AuditEvent.id).where(AuditEvent.actor_id == actor.id, AuditEvent.action == action,
                                        AuditEvent.target_type == target_type, AuditEvent.target_id == target_id,
                                        AuditEvent.created_at >= since).limit(1))
        if seen is not None:
            return
    record(action, target_type, target_id, detail, actor=actor, patient_id=patient_id)
    db.session.commit()
