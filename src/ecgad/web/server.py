"""``ecgad serve``: gunicorn in production, Flask's development server with ``--dev``."""
from __future__ import annotations

import sys
from importlib.resources import files
from pathlib import Path

import click
from sqlalchemy.engine import make_url


def _prepare(config: dict | None = None):
    """Create the app once in this process: migrations run, the first-admin hint is printed."""
    from . import create_app, first_admin_hint
    from .extensions import db

    app = create_app(config)
    hint = first_admin_hint(app)
    if hint:
        click.echo(hint, err=True)
    model = model_path(app)
    if not model.is_file():
        click.echo(f"ecgad: warning: no model file at {model}: analyses will fail until it exists "
                   "(set ECGAD_MODEL_PATH to a model made by `ecgad train`)", err=True)
    with app.app_context():
        url = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).render_as_string(hide_password=True)
        db.engine.dispose()  # workers open their own connections
    return app, url


def model_path(app) -> Path:
    from ecgad.detector import SHIPPED_MODEL  # noqa: PLC0415 (imports torch: only here)

    configured = app.config.get("MODEL_PATH")
    return Path(configured) if configured else Path(str(files("ecgad") / "assets" / SHIPPED_MODEL))


def bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


def run(host: str = "127.0.0.1", port: int = 5000, workers: int = 2, timeout: int = 120, dev: bool = False) -> None:
    app, url = _prepare()
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"ecgad: serving on http://{shown}:{port}/ (database {url}, instance {app.instance_path})", err=True)
    if dev:
        click.echo("ecgad: Flask development server: for development only, not for production", err=True)
        app.run(host=host, port=port, debug=False, use_reloader=False, threaded=True)
        return

    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def __init__(self, options: dict):
            self.options = options
            super().__init__()

        def load_config(self) -> None:
            for key, value in self.options.items():
                if key in self.cfg.settings:  # settings differ between gunicorn versions
                    self.cfg.set(key, value)

        def load(self):
            from . import create_app

            # Migrations already ran above, once; every worker builds its own app.
            return create_app({"AUTO_MIGRATE": False})

    Server({
        "bind": bind_address(host, port),
        "workers": workers,
        "worker_class": "sync",
        "timeout": timeout,
        "graceful_timeout": 30,
        "accesslog": "-",
        "errorlog": "-",
        "proc_name": "ecgad",
        "preload_app": False,
        "control_socket_disable": True,  # gunicorn >= 27: no control socket in the home folder
    }).run()
    sys.exit(0)
