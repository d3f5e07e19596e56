"""The OpenAPI document and Swagger UI, from the swagger-ui-bundle package: no CDN, works offline,
and within the app's Content-Security-Policy (the page's only script of our own is a file,
static/js/api-docs.js). A plain blueprint, so that these routes stay out of the document itself."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, send_from_directory, url_for

from . import PREFIX, auth

bp = Blueprint("api_docs", __name__, url_prefix=PREFIX)
bp.url_value_preprocessor(auth.authenticate)  # nobody, never the session's user

ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png")
WEEK_S = 7 * 24 * 3600


@bp.get("/openapi.json")
def openapi_json():
    return current_app.extensions["ecgad.api"].spec.to_dict()


@bp.get("/docs")
def docs():
    return render_template("api/docs.html", spec_url=url_for("api_docs.openapi_json"))


@bp.get("/docs/assets/<name>")
def asset(name: str):
    from swagger_ui_bundle import swagger_ui_path

    if name not in ASSETS:
        abort(404)
    return send_from_directory(str(swagger_ui_path), name, max_age=WEEK_S)
