"""Who an API request acts as: the user of its ``Authorization: Bearer`` token, never the session
cookie (the API takes no cookie, so cross-site requests carry no authority and need no CSRF token).

``authenticate`` runs as the blueprint's URL value preprocessor, before any ``before_request``
function: the token is checked before anything reads the request's body, and Flask-Login's user is
set to the token's user (or to nobody), so that it never loads one from the session.
"""
from __future__ import annotations

from flask import abort, g, request

from .. import audit, tokens
from ..extensions import db, login_manager

PUBLIC = frozenset({"api.health", "api_docs.openapi_json", "api_docs.docs", "api_docs.asset"})  # no token needed


def _refuse(detail: str):
    abort(401, description=detail)


def authenticate(endpoint: str | None, values: dict | None) -> None:
    g.api_token = None
    g._login_user = login_manager.anonymous_user()  # Flask-Login's slot: set, so the session is never read
    if endpoint in PUBLIC:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.strip().partition(" ")
    if not header:
        _refuse("This operation needs an API token: send 'Authorization: Bearer <token>'. Tokens are made on "
                "the account page or with 'ecgad tokens create'.")
    if scheme.lower() != "bearer" or not presented.strip():
        _refuse("The Authorization header must be 'Bearer <token>'.")
    result = tokens.authenticate(presented.strip())
    if isinstance(result, tokens.Refusal):
        if result.token is not None:  # a real token, no longer valid: worth a line in the audit log
            audit.record("token.refused", "token", result.token.id, f"{result.reason}; name={result.token.name}",
                         actor=result.token.user)
            db.session.commit()
        _refuse("The API token is not valid: it is unknown, revoked or expired, or its account is deactivated.")
    g.api_token = result
    g._login_user = result.user


def rate_key() -> str:
    """Flask-Limiter's key for API requests: the token (checked before the limiter runs), else the address."""
    token = g.get("api_token")
    return f"api-token:{token.id}" if token is not None else f"api-ip:{request.remote_addr or ''}"
