"""Helpers for the API tests: tokens made the way the account page and the CLI make them."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

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


@contextmanager
def served(app) -> Iterator[str]:
    """``app`` served over real HTTP by werkzeug in a thread, at http://127.0.0.1:<free port>."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, code="-", size="-"):  # keep pytest's captured output readable
            pass

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="ecgad-api-tests", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()
