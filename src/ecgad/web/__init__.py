"""The ecgad web application: ``create_app(config=None)``.

Run it with ``ecgad serve`` (gunicorn) or ``ecgad serve --dev``.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from flask import Flask, abort, redirect, request, send_file, url_for
from flask_login import current_user

from . import config as _config
from .extensions import csrf, db, limiter, login_manager
from .util import BoundedIntConverter, Request


def create_app(config: Mapping | None = None) -> Flask:
    """Build the app. ``config`` overrides the defaults and the ``ECGAD_*`` environment;
    it may hold ``INSTANCE_PATH`` (else ``ECGAD_INSTANCE_PATH``, else Flask's instance folder)."""
    config = dict(config or {})
    instance_path = config.pop("INSTANCE_PATH", None) or os.environ.get("ECGAD_INSTANCE_PATH") or None
    if instance_path:
        instance_path = str(Path(instance_path).expanduser().resolve())
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    app.request_class = Request
    app.url_map.converters["int"] = BoundedIntConverter  # before any route is added
    app.config.update(_config.DEFAULTS)
    app.config.update(_config.from_environment())
    app.config.update(config)

    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    try:
        os.chmod(app.instance_path, 0o700)
    except OSError:
        pass
    from .uploads import clean_stale

    clean_stale(app.instance_path)  # folders of uploads whose worker was killed mid-way
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _config.secret_key(app.instance_path)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + str(Path(app.instance_path) / "ecgad.sqlite3")
    app.config["SQLALCHEMY_DATABASE_URI"] = _config.database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if app.config.get("PROXY_COUNT"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    _init_extensions(app)
    _register_blueprints(app)

    from .errors import register_error_handlers
    from .security import set_security_headers

    register_error_handlers(app)
    app.after_request(set_security_headers)
    _register_template_helpers(app)

    @app.before_request
    def refuse_nul_characters():
        """NUL cannot be stored in PostgreSQL text and is never meant: refuse it early (400)."""
        sources = [request.args] + ([request.form] if request.method == "POST" else [])
        for source in sources:
            for _key, value in source.items(multi=True):
                if "\x00" in value:
                    abort(400)

    @app.get("/")
    def index():
        if current_user.is_authenticated:
            return redirect(url_for("patients.index"))
        return redirect(url_for("auth.login"))

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @app.get("/vendor/plotly.min.js", endpoint="vendor_plotly")
    def vendor_plotly():
        """Plotly.js from the plotly package: no CDN, works offline."""
        from .vendor import plotly_js_path

        return send_file(plotly_js_path(), mimetype="text/javascript", max_age=7 * 24 * 3600)

    @app.get("/vendor/plotly.css", endpoint="vendor_plotly_css")
    def vendor_plotly_css():
        """Plotly.js's own style rules as a stylesheet, so that the CSP needs no inline styles."""
        from .vendor import plotly_css

        response = app.response_class(plotly_css(), mimetype="text/css")
        response.cache_control.public = True
        response.cache_control.max_age = 7 * 24 * 3600
        return response

    from .database import configure_engine, upgrade

    with app.app_context():
        configure_engine(db.engine)
        if app.config.get("AUTO_MIGRATE"):
            upgrade(db.engine)
    return app


def _init_extensions(app: Flask) -> None:
    from .models import User

    db.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see this page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str):
        try:
            uid, epoch = (int(part) for part in user_id.split(":", 1))
        except (ValueError, AttributeError):
            return None
        user = db.session.get(User, uid)
        if user is None or not user.is_active or user.session_epoch != epoch:
            return None  # deactivated, or its password changed: the session ends
        return user


def _register_blueprints(app: Flask) -> None:
    from .admin import bp as admin_bp
    from .analyses import bp as analyses_bp
    from .auth import bp as auth_bp
    from .patients import bp as patients_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(patients_bp)
    app.register_blueprint(analyses_bp)
    app.register_blueprint(admin_bp)


def _register_template_helpers(app: Flask) -> None:
    from .audit import ACTIONS
    from .util import page_url

    @app.template_filter("when")
    def when(value) -> str:
        return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"

    @app.template_filter("number")
    def number(value, digits: int = 4) -> str:
        return "—" if value is None else f"{value:.{digits}g}"

    @app.context_processor
    def helpers():
        return {"audit_actions": ACTIONS}

    app.add_template_global(page_url)  # a global: imported macros (pagination) see no context


def first_admin_hint(app: Flask) -> str | None:
    """How to create the first admin, when there is no account at all (else None)."""
    from sqlalchemy import func, select

    from .models import User

    with app.app_context():
        if db.session.scalar(select(func.count()).select_from(User)):
            return None
    return ("No accounts exist yet. Create the first admin with:\n"
            "    ecgad users create --email you@example.org --role admin\n"
            "(with the same ECGAD_INSTANCE_PATH / ECGAD_DATABASE_URL as the server).")


__all__ = ["create_app", "first_admin_hint"]
