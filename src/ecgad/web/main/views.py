"""The start page, the health check, and Plotly's files served from the plotly package (no CDN:
works offline). Their endpoints (``main.vendor_plotly``...) are in ``security.CACHED_ENDPOINTS``."""
from __future__ import annotations

from flask import abort, current_app, redirect, request, url_for
from flask_login import current_user

from . import bp

WEEK_S = 7 * 24 * 3600  # how long browsers may keep Plotly's files: they change only with the package
YEAR_S = 365 * 24 * 3600  # a versioned URL's content never changes: browsers keep it and never ask again


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("patients.index"))
    return redirect(url_for("auth.login"))


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}


@bp.get("/vendor/plotly.min.js")
def vendor_plotly():
    """Plotly.js from the plotly package, gzipped once (``vendor.plotly_script``) for clients that take
    gzip (every browser). With ``?v=`` the current version (pages link it so, ``plotly_script_url``)
    it is cached for good (immutable); otherwise for a week, as it may change with the package."""
    from ..vendor import plotly_script

    script = plotly_script()
    zipped = request.accept_encodings["gzip"] > 0
    response = current_app.response_class(script.gzipped if zipped else script.data, mimetype="text/javascript")
    if zipped:  # flask-compress leaves a response with a Content-Encoding alone
        response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    response.set_etag(f"{script.version}-{'gzip' if zipped else 'identity'}")
    response.cache_control.public = True
    if request.args.get("v") == script.version:
        response.cache_control.max_age = YEAR_S
        response.cache_control.immutable = True
    else:
        response.cache_control.max_age = WEEK_S
    return response.make_conditional(request)


def _stylesheet(css: str):
    response = current_app.response_class(css, mimetype="text/css")
    response.cache_control.public = True
    response.cache_control.max_age = WEEK_S
    return response


@bp.get("/vendor/plotly.css")
def vendor_plotly_css():
    """Plotly.js's own style rules as a stylesheet, so that the CSP needs no inline styles."""
    from ..vendor import plotly_css

    return _stylesheet(plotly_css())


@bp.get("/vendor/plotly-style/<style_id>.css")
def vendor_plotly_injected_css(style_id: str):
    """A stylesheet plotly.js would add as a <style> element (which the CSP blocks); linked under its
    id, plotly.js finds it there and adds nothing."""
    from ..vendor import plotly_injected_styles

    css = plotly_injected_styles().get(style_id)
    if css is None:
        abort(404)
    return _stylesheet(css)
