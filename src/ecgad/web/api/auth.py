"""Who an API request acts as: the user of its ``Authorization: Bearer`` token, never the session
cookie (the API takes no cookie, so cross-site requests carry no authority and need no CSRF token).

``authenticate`` runs as the blueprint's URL value preprocessor, before any ``before_request``
function: the token is checked before anything reads the request's body, and Flask-Login's user is
set to the token's user (or to nobody), so that it never loads one from the session.
"""
from __future__ import annotations

import math
import time

from flask import abort, current_app, g, request
from limits import parse

from .. import audit, tokens
from ..extensions import db, limiter, login_manager
from .problems import problem

PUBLIC = frozenset({"api.health", "api_docs.openapi_json", "api_docs.docs", "api_docs.asset"})  # no token needed


def _failure_limit():
    return parse(current_app.config["API_FAILED_TOKEN_LIMIT"])


def _failure_key() -> tuple[str, str]:
    return current_app.config["RATELIMIT_KEY_PREFIX"], f"api-failed-token:{request.remote_addr or ''}"


def _throttle_failures() -> None:
    """An address that sent too many refused tokens lately gets 429 before its token is looked up
    (Flask-Limiter's own check runs only after authentication, so it never sees a refused request)."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return
    item = _failure_limit()
    if not limiter.limiter.test(item, *_failure_key()):
        reset = limiter.limiter.get_window_stats(item, *_failure_key()).reset_time
        wait = max(1, math.ceil(reset - time.time()))
        abort(problem(429, f"Too many requests with a refused API token came from this address; wait {wait} s "
                           f"(the limit is {item}).", headers={"Retry-After": str(wait)}))


def _refuse(detail: str, counted: bool = True):
    """401; a credential that was sent and refused counts against the address's failure limit."""
    if counted and current_app.config["RATELIMIT_ENABLED"]:
        limiter.limiter.hit(_failure_limit(), *_failure_key())
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
                "the account page or with 'ecgad tokens create'.", counted=False)
    _throttle_failures()
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
