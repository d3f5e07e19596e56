"""``ecgad serve``: gunicorn in production, Flask's development server with ``--dev``.

Sizing (:func:`sizing`, unless ``--workers`` / ``--threads`` say otherwise): one gunicorn process
(``gthread`` worker) while the rate-limit counts live in the process (``memory://``, the default), one
per core (at most ``MAX_AUTO_WORKERS``) when they are shared (Redis); each with 4 threads per core it
has (``THREADS_PER_CORE``, between ``MIN_AUTO_THREADS`` and ``MAX_AUTO_THREADS``). The cores are those
this process may run on (``os.sched_getaffinity``: a container's or ``taskset``'s limit), not the
machine's. Each worker process loads the models and scores once on made-up input as it starts
(``detection.warm_up``), so that the first request is not the slow one.

Each process has ``threads + streams`` threads: each live
stream (``web/streaming.py``) holds a thread for its whole length, and at most ``streams`` of them
run at once (``STREAM_SLOTS``), so ``threads`` threads always remain for the pages and the API.
The module docstring of ``web/streaming.py`` says why threads, not gevent or a separate worker.
torch runs each call on one thread in the server (:func:`one_torch_thread`): the parallelism
comes from the requests and streams side by side, and a stream's calls are small (a few beats),
where intra-op threads only contend with one another (``benchmarks/stream.py``).
"""
from __future__ import annotations

import os
import sys
from importlib.resources import files
from pathlib import Path

import click
from sqlalchemy.engine import make_url


class ServeError(ValueError):
    """A way of serving that would not be safe, for people."""


def per_process_storage(uri: str) -> bool:
    """Whether rate-limit counts in this storage live inside one process (not shared by workers)."""
    return uri.split("://", 1)[0].lower() == "memory"


def check_workers(workers: int, storage_uri: str) -> None:
    """Several worker processes would each count sign-in attempts on their own: refuse that."""
    if workers > 1 and per_process_storage(storage_uri):
        raise ServeError(
            f"--workers {workers} would let each worker process count sign-in attempts on its own "
            f"(rate-limit storage {storage_uri}), so the login limits would not hold. Use --workers 1 "
            "(the default: one process whose --threads serve requests side by side), or share the counts "
            "in Redis: ECGAD_RATELIMIT_STORAGE_URL=redis://127.0.0.1:6379")


MAX_AUTO_WORKERS = 16  # each process holds its own models and database connections
THREADS_PER_CORE = 4  # scoring (onnxruntime, numpy) releases the GIL, and requests wait on the database
MIN_AUTO_THREADS, MAX_AUTO_THREADS = 8, 32


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity: a container's or taskset's limit)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def sizing(storage_uri: str, workers: int | None = None, threads: int | None = None,
           cores: int | None = None) -> tuple[int, int]:
    """(worker processes, threads per process) for ``cores``: what is given, else the rule in the
    module docstring. One process while the rate-limit counts are per process (``check_workers``);
    several share the cores, so each gets the threads for its share."""
    cores = cores or available_cores()
    if workers is None:
        workers = 1 if per_process_storage(storage_uri) else min(cores, MAX_AUTO_WORKERS)
    if threads is None:
        threads = min(MAX_AUTO_THREADS, max(MIN_AUTO_THREADS, THREADS_PER_CORE * cores // workers))
    return workers, threads


def one_torch_thread() -> None:
    """Each torch and onnxruntime call on one thread (and one inter-op thread): a threaded server
    scores many small batches side by side, and intra-op threads per call then only fight over the
    cores (on a busy 2-core machine, a stream ran 5x slower with 2 than with 1, and a whole-recording
    analysis 2x). The slim install has no torch: there onnxruntime's setting alone applies."""
    from ecgad.onnx_runtime import importable, one_thread  # noqa: PLC0415

    one_thread()
    if not importable("torch"):
        return
    import torch  # noqa: PLC0415 - only when serving

    torch.set_num_threads(1)


def _prepare(config: dict | None = None, workers: int | None = 1):
    """Create the app once in this process: migrations run, the first-admin hint is printed."""
    from . import create_app, first_admin_hint
    from .extensions import db, limiter

    app = create_app(config)
    if workers is not None:
        check_workers(workers, app.config["RATELIMIT_STORAGE_URI"])
    with app.app_context():
        if not per_process_storage(app.config["RATELIMIT_STORAGE_URI"]) and not limiter.storage.check():
            click.echo(f"ecgad: warning: the rate-limit storage {app.config['RATELIMIT_STORAGE_URI']} does not "
                       "answer: sign-in attempts fail until it does", err=True)
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
    from ecgad.detector import SHIPPED_MODEL  # noqa: PLC0415 (imports numpy and the detector: only here)

    configured = app.config.get("MODEL_PATH")
    return Path(configured) if configured else Path(str(files("ecgad") / "assets" / SHIPPED_MODEL))


def bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


def _warm_up(app) -> None:
    """The models (``detection.warm_up``) and Plotly's gzipped script, before the first request."""
    from .detection import warm_up
    from .vendor import plotly_script

    taken = warm_up(app)
    plotly_script()
    click.echo(f"ecgad: process {os.getpid()} warmed up its models: "
               + (", ".join(f"{name} {seconds:.2f} s" for name, seconds in taken.items()) or "none available"),
               err=True)


def run(host: str = "127.0.0.1", port: int = 5000, workers: int | None = None, threads: int | None = None,
        timeout: int = 120, dev: bool = False, streams: int = 32) -> None:
    """Serve the app. ``workers`` and ``threads``: None for :func:`sizing`'s choice (one gunicorn
    ``gthread`` process while the rate-limit counts are per process; more need a shared storage, Redis).
    Each process takes ``streams`` live streams at once, on threads of their own."""
    app, url = _prepare({"STREAM_SLOTS": streams}, workers=1 if dev else workers)
    workers, threads = sizing(app.config["RATELIMIT_STORAGE_URI"], 1 if dev else workers, threads)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"ecgad: serving on http://{shown}:{port}/ (database {url}, instance {app.instance_path})", err=True)
    if dev:
        click.echo("ecgad: Flask development server: for development only, not for production", err=True)
        one_torch_thread()
        _warm_up(app)
        app.run(host=host, port=port, debug=False, use_reloader=False, threaded=True)
        return

    from gunicorn.app.base import BaseApplication

    from ecgad.onnx_runtime import importable  # noqa: PLC0415

    click.echo(f"ecgad: {workers} worker process{'es' if workers > 1 else ''} x {threads} threads "
               f"(+ {streams} for live streams) for {available_cores()} cores", err=True)
    if importable("torch"):  # the full install: imported once here, the forked workers inherit it
        import torch  # noqa: F401, PLC0415 (rather than each worker importing it, seconds each, side by side)

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
            one_torch_thread()
            worker_app = create_app({"AUTO_MIGRATE": False, "STREAM_SLOTS": streams})
            _warm_up(worker_app)  # in the worker, after the fork: its own models and onnxruntime sessions
            return worker_app

    Server({
        "bind": bind_address(host, port),
        "workers": workers,
        "worker_class": "gthread",  # threads share the process's rate-limit counts and loaded models
        "threads": threads + streams,  # streams hold theirs; `threads` stay for HTTP (STREAM_SLOTS)
        "timeout": timeout,
        "graceful_timeout": 30,
        "accesslog": "-",
        "errorlog": "-",
        "proc_name": "ecgad",
        "preload_app": False,
        "control_socket_disable": True,  # gunicorn >= 27: no control socket in the home folder
    }).run()
    sys.exit(0)
