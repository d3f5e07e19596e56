"""Errors of the API as ``application/problem+json`` (RFC 9457): ``type``, ``title``, ``status``,
``detail``, and ``errors`` (field -> messages) when the input did not validate.

``web/errors.py`` sends every error under ``/api/`` here, whatever raised it (a view, the
routing's 404 and 405, the body-size check's 413, Flask-Limiter's 429, an unexpected 500), so
that no API client ever gets an HTML page.
"""
from __future__ import annotations

import json
from http import HTTPStatus

from flask import current_app, request
from werkzeug.exceptions import HTTPException

MEDIA_TYPE = "application/problem+json"
PREFIX = "/api/"

DETAILS = {  # what to do about it, where the exception's own description is Werkzeug's generic one
    401: "Send a valid API token: 'Authorization: Bearer <token>'. Tokens are made on the account page "
         "or with 'ecgad tokens create'.",
    404: "There is nothing here, or your token does not have access to it.",
    405: "This path does not take this method; the Allow header lists those it takes.",
    415: "Send JSON (Content-Type: application/json), or multipart/form-data where the operation takes files.",
    429: "Too many requests with this token in a short time; wait as the Retry-After header says.",
    500: "An unexpected error happened on our side and nothing was changed. Try again; if it keeps "
         "happening, tell your administrator.",
}
KEPT_HEADERS = ("retry-after", "allow", "www-authenticate")


def is_api_request() -> bool:
    return request.path.startswith(PREFIX)


def problem(status: int, detail: str, *, errors: dict | None = None, headers: dict | None = None):
    """A problem+json response. ``type`` is ``about:blank``: the status says what kind of problem it is."""
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = f"Error {status}"
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    response = current_app.response_class(json.dumps(body), status=status, mimetype=MEDIA_TYPE)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    if status == 401:
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="ecgad"')
    return response


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{n} bytes"


def from_exception(error: HTTPException):
    """The problem for any HTTPException raised while serving an API path."""
    code = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = data.get("messages")  # webargs' validation errors: {location: {field: [messages]}}
    if isinstance(errors, dict) and len(errors) == 1:
        errors = next(iter(errors.values()))  # one location (json, query): its fields
    description = error.description if error.description != type(error).description else None
    if code == 413:
        detail = (f"The request body is larger than the {_size(int(request.max_content_length or 0))} accepted "
                  "here. Nothing was stored.")
    elif code == 429:
        detail = DETAILS[429] + (f" The limit is {error.description}." if error.description else "")
    elif code == 422 and errors:
        detail = "The input is not valid; 'errors' says what is wrong with each field. Nothing was stored."
    else:
        detail = description or DETAILS.get(code) or error.description or HTTPStatus(code).phrase
    headers = {k: v for k, v in error.get_headers() if k.lower() in KEPT_HEADERS}
    return problem(code, detail, errors=errors if isinstance(errors, dict) else None, headers=headers)


def invalid(errors: dict, location: str = "json"):
    """Raise a 422 whose problem lists ``errors`` (field -> messages), as webargs does for schemas."""
    from werkzeug.exceptions import UnprocessableEntity

    error = UnprocessableEntity()
    error.data = {"messages": {location: errors}}
    raise error
