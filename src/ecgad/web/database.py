"""Database set-up: Alembic migrations run from code, SQLite pragmas."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
_LOCK_ID = 0x4543_4741_44  # "ECGAD": serialises concurrent upgrades on PostgreSQL


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database at ``engine`` to ``revision`` (all migrations by default)."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    with engine.begin() as connection:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def table_names(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def configure_engine(engine: Engine) -> None:
    """SQLite: enforce foreign keys (cascading deletes), let writers wait for each other, and make
    every commit durable before it is acknowledged (WAL, synchronous=FULL), on every connection."""
    if engine.dialect.name != "sqlite" or getattr(engine, "_ecgad_configured", False):
        return

    in_memory = engine.url.database in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no branch
        if isinstance(dbapi_connection, sqlite3.Connection):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=15000")
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")  # readers do not wait for a writer
                # FULL: each commit fsyncs the WAL before COMMIT returns, so an analysis that got its 201
                # survives a power loss or OS crash too. NORMAL would survive kill -9 of the server (the
                # WAL sits in the OS's cache) but could lose the last commits on power loss; the fsync
                # costs milliseconds, little beside scoring the beats. (A per-connection setting.)
                cursor.execute("PRAGMA synchronous=FULL")
            cursor.close()

    engine._ecgad_configured = True
