"""Friendly error pages (HTML), JSON for JSON clients, and problem+json under /api/ (api/problems.py)."""
from __future__ import annotations

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from .extensions import db

MESSAGES = {
    400: ("Bad request", "The request could not be understood. Go back, check what you entered and try again."),
    403: ("Not allowed", "Your account does not have access to this page."),
    404: ("Not found", "There is nothing here, or you do not have access to it."),
    405: ("Not allowed", "This page cannot be used that way. Go back and use the buttons on the page."),
    413: ("File too large", "The file is larger than the {limit} accepted. Split it into smaller files and try again."),
    429: ("Too many attempts", "Too many attempts in a short time. Wait a minute, then try again."),
    500: ("Something went wrong", "An unexpected error happened on our side and nothing was changed. "
                                  "Try again; if it keeps happening, tell your administrator."),
    503: ("Unavailable", "This service is unavailable for the moment. Try again later."),
}


def _wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{n} bytes"


def render_error(code: int, message: str | None = None, title: str | None = None):
    default_title, default_message = MESSAGES.get(code, (f"Error {code}", "The request could not be completed."))
    if code == 413:
        default_message = default_message.format(limit=_size(int(request.max_content_length or 0)))
    title, message = title or default_title, message or default_message
    if _wants_json():
        return {"error": title, "message": message, "status": code}, code
    return render_template("errors/error.html", code=code, title=title, message=message), code


def register_error_handlers(app: Flask) -> None:
    from .api.problems import from_exception, is_api_request

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        if is_api_request():
            return from_exception(error)
        return render_error(400, "This form has expired or did not come from this site. "
                                 "Reload the page and try again.", "Form expired")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        if code == 500:
            return internal_error(error)
        if is_api_request():
            return from_exception(error)
        response = render_error(code)
        if code == 429 or code == 405:
            body, status = response
            headers = {k: v for k, v in error.get_headers() if k.lower() in ("retry-after", "allow")}
            return body, status, headers
        return response

    @app.errorhandler(InternalServerError)
    def internal_error(error):
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 - the page must still render
            pass
        if is_api_request():
            return from_exception(InternalServerError())
        return render_error(500)
