"""The ecgad web application: ``create_app(config=None)``.

Run it with ``ecgad serve`` (gunicorn) or ``ecgad serve --dev``.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from flask import Flask, abort, redirect, request
from flask_login import current_user

from . import config as _config
from .extensions import compress, csrf, db, limiter, login_manager
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

    from .database import configure_engine, upgrade

    with app.app_context():
        configure_engine(db.engine)
        if app.config.get("AUTO_MIGRATE"):
            upgrade(db.engine)
    return app


def _init_extensions(app: Flask) -> None:
    from .models import User
    from .security import CACHED_ENDPOINTS

    no_user_endpoints = (None, "main.healthz", *CACHED_ENDPOINTS)  # nothing private: no user to load

    db.init_app(app)
    compress.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see this page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str):
        from .sessions import validate

        try:
            uid = int(user_id)
        except (TypeError, ValueError):
            return None
        user = db.session.get(User, uid)
        if user is None or not user.is_active or not validate(user):
            return None  # deactivated, signed out, idle too long, or its password changed
        return user

    @login_manager.unauthorized_handler
    def unauthorized():
        """Flask-Login's redirect to the sign-in page, saying why when a session has just expired."""
        from flask import flash, g
        from flask_login import login_url

        if g.get("ecgad_session_ended"):
            flash(f"{g.ecgad_session_ended} Please sign in again.", "info")
        else:
            flash(login_manager.login_message, login_manager.login_message_category)
        return redirect(login_url(login_manager.login_view, next_url=request.url))

    @app.before_request
    def load_user_first():
        """Load the signed-in user before the view runs, so that the session check's own commit
        (``last_seen_at``) never carries a view's half-done changes with it."""
        if request.endpoint not in no_user_endpoints:
            current_user.is_authenticated  # noqa: B018 (loads the user)



def _register_blueprints(app: Flask) -> None:
    from .admin import bp as admin_bp
    from .analyses import bp as analyses_bp
    from .auth import bp as auth_bp
    from .main import bp as main_bp
    from .monitor import bp as monitor_bp
    from .patients import bp as patients_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(patients_bp)
    app.register_blueprint(analyses_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(monitor_bp)
    from .streaming import bp as stream_bp

    app.register_blueprint(stream_bp)

    from .api import init_api

    init_api(app)


def _register_template_helpers(app: Flask) -> None:
    from .audit import ACTIONS
    from .util import page_url

    @app.template_filter("when")
    def when(value) -> str:
        return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "—"

    @app.template_filter("age")
    def age(birth) -> str:
        """Age today (UTC) of someone born on ``birth``."""
        from datetime import UTC, datetime

        from .util import age as age_on

        return age_on(birth, datetime.now(UTC).date())

    @app.template_filter("number")
    def number(value, digits: int = 4) -> str:
        return "—" if value is None else f"{value:.{digits}g}"

    @app.context_processor
    def helpers():
        return {"audit_actions": ACTIONS}

    @app.template_global()
    def plot_config_json() -> str:
        """``ecgad.report.figures.PLOT_CONFIG`` for the pages' scripts, as the reports use it."""
        import json

        from ecgad.report.figures import PLOT_CONFIG

        from .util import script_json

        return script_json(json.dumps(PLOT_CONFIG))

    @app.template_global()
    def plotly_script_url() -> str:
        """Plotly.js under its version (a digest of its bytes): browsers keep it until it changes."""
        from flask import url_for

        from .vendor import plotly_script

        return url_for("main.vendor_plotly", v=plotly_script().version)

    @app.template_global()
    def plotly_style_ids() -> list[str]:
        from .vendor import plotly_injected_styles

        return list(plotly_injected_styles())

    app.add_template_global(page_url)  # a global: imported macros (pagination) see no context


def first_admin_hint(app: Flask) -> str | None:
    """How to create the first admin, when there is no account at all (else None)."""
    from sqlalchemy import func, select

    from .models import User

    with app.app_context():
        if db.session.scalar(select(func.count()).select_from(User)):
            return None
    return ("No accounts exist yet. Create the first admin with:\n"
            f"    {ecgad_command()} users create --email you@example.org --role admin\n"
            "(with the same ECGAD_INSTANCE_PATH / ECGAD_DATABASE_URL as the server).")


def ecgad_command() -> str:
    """How to run ``ecgad`` from a shell: the script next to this interpreter (a virtual environment
    that is not activated, as after ``make serve``), unless that is what ``ecgad`` on the PATH runs."""
    import shlex
    import shutil
    import sys

    script = Path(sys.executable).parent / "ecgad"
    if not script.is_file():
        return f"{shlex.quote(sys.executable)} -m ecgad.cli"
    on_path = shutil.which("ecgad")
    if on_path and Path(on_path).resolve() == script.resolve():
        return "ecgad"
    return shlex.quote(str(script))


__all__ = ["create_app", "ecgad_command", "first_admin_hint"]
