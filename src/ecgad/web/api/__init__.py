"""The REST API under ``/api/v1`` (flask-smorest: marshmallow schemas validate the input and make the
OpenAPI document at ``/api/v1/openapi.json``; Swagger UI at ``/api/v1/docs``, from our own files).

Modules: ``auth`` (tokens), ``problems`` (errors as problem+json), ``schemas``, and one module of
views per resource: ``scoring`` (score, model, health), ``patients``, ``analyses``; ``docs`` serves
the document and its page.
"""
from __future__ import annotations

from flask import Flask, current_app
from flask_smorest import Api, Blueprint

from .. import extensions
from . import auth
from .problems import MEDIA_TYPE

PREFIX = "/api/v1"
VERSION = "1.0.0"
ERROR_STATUSES = (400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500, 503)

bp = Blueprint("api", __name__, url_prefix=PREFIX, description="ecgad's REST API.")
bp.url_value_preprocessor(auth.authenticate)
MULTIPART_ENDPOINTS = frozenset({"api.create_analysis"})  # the one operation that takes files


@bp.before_request
def _json_or_415():
    """A body the operation cannot take is a 415, whatever is in it (webargs would call it missing)."""
    from flask import abort, request

    if request.method not in ("POST", "PATCH", "PUT") or (not request.content_length and not request.mimetype):
        return
    accepted = {"application/json"} | ({"multipart/form-data"} if request.endpoint in MULTIPART_ENDPOINTS else set())
    if request.mimetype not in accepted:
        abort(415, description=f"Send {' or '.join(sorted(accepted))} here, not {request.mimetype or 'no type'}.")


class EcgadApi(Api):
    """flask-smorest's Api, made to fit an app that also serves pages: it adds no app-wide error
    handler (``web/errors.py`` routes API paths to ``problems``) and documents errors as problem+json."""

    def _register_error_handlers(self):
        pass  # web/errors.py: pages keep their HTML errors

    def _register_responses(self):
        from http import HTTPStatus

        from flask_smorest.utils import prepare_response

        from .schemas import Problem

        for status in HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = Problem
            prepare_response(response, self.spec, MEDIA_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "An error (problem+json)", "schema": Problem}
        prepare_response(response, self.spec, MEDIA_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def init_api(app: Flask) -> None:
    """Register the API on ``app``: its blueprint, the OpenAPI document, CSRF exemption, rate limit."""
    from . import analyses, docs, patients, review, scoring  # noqa: F401 - their routes join bp

    app.config.setdefault("API_TITLE", "ecgad")
    app.config.setdefault("API_VERSION", VERSION)
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config["OPENAPI_URL_PREFIX"] = None  # docs.py serves the document and the page, from our files
    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {"description": "Find abnormal heartbeats. Every operation but health and these docs needs "
                                "'Authorization: Bearer <token>'; errors are application/problem+json."},
        "servers": [{"url": "/"}],
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearerAuth": []}],
    })
    api = EcgadApi(app)
    extensions.csrf.exempt(bp)
    if not getattr(bp, "_ecgad_limited", False):  # a blueprint is shared by every app a process makes
        extensions.limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=auth.rate_key)(bp)
        bp._ecgad_limited = True
    api.register_blueprint(bp)
    app.register_blueprint(docs.bp)
    app.extensions["ecgad.api"] = api
