"""``ecgad serve``: run the web app."""
from __future__ import annotations

import click

from .common import database_problem, fail


class _ServeCommand(click.Command):
    """Its help ends with the environment variables the app reads, from ``ecgad.web.config.ENVIRONMENT``."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from ecgad.web.config import ENVIRONMENT

        with formatter.section("Environment"):
            formatter.write_dl([(var.name, var.meaning + (f" (default: {var.default})" if var.default else ""))
                                for var in ENVIRONMENT])
        super().format_epilog(ctx, formatter)


@click.command(cls=_ServeCommand)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--workers", type=click.IntRange(1, 64),
              help="gunicorn worker processes. More than one needs ECGAD_RATELIMIT_STORAGE_URL (Redis), "
                   "so that the sign-in limits count across processes. Default: 1, or with Redis one per "
                   "core this process may use (at most 16).")
@click.option("--threads", type=click.IntRange(1, 256),
              help="Threads per worker process: requests served side by side. Default: 4 per core of the "
                   "process's share, from 8 to 32 (8 for one process on 2 cores).")
@click.option("--streams", default=32, show_default=True, type=click.IntRange(1, 1024),
              help="Live streams (WebSocket) each worker process takes at once, on threads of their own "
                   "besides --threads, so that they never hold up the pages and the API.")
@click.option("--timeout", default=120, show_default=True, type=click.IntRange(10, 3600),
              help="Seconds a worker process may stay unresponsive before gunicorn restarts it.")
@click.option("--dev", is_flag=True, help="Run Flask's development server instead of gunicorn (not for production).")
def serve(host: str, port: int, workers: int | None, threads: int | None, streams: int, timeout: int,
          dev: bool) -> None:
    """Run the web app (gunicorn) on http://HOST:PORT.

    Configuration comes from the environment variables below; database migrations
    run at start-up.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from ecgad.web.config import ConfigError
    from ecgad.web.server import ServeError, run

    try:
        run(host=host, port=port, workers=workers, threads=threads, timeout=timeout, dev=dev, streams=streams)
    except (ServeError, ConfigError) as exc:
        fail(str(exc))
    except SQLAlchemyError as exc:
        fail(database_problem(exc))
