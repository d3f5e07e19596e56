"""Helpers for the API tests: tokens made the way the account page and the CLI make them."""
from __future__ import annotations

PROBLEM = "application/problem+json"


def make_token(app, user_id: int, name: str = "test", expires_days: float | None = None) -> str:
    from ecgad.web import tokens
    from ecgad.web.extensions import db
    from ecgad.web.models import User

    with app.app_context():
        _row, token = tokens.create(db.session.get(User, user_id), name, expires_days)
        return token


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response, status: int) -> dict:
    """The response is a problem+json of ``status`` with its four members; returns the body."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.mimetype == PROBLEM, response.mimetype
    body = response.get_json(force=True)
    assert body["status"] == status and body["type"] == "about:blank"
    assert isinstance(body["title"], str) and body["title"] and isinstance(body["detail"], str) and body["detail"]
    assert "<html" not in response.get_data(as_text=True).lower()
    return body
