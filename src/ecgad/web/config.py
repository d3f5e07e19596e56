"""Configuration: defaults, then the environment (``ECGAD_*``), then what ``create_app`` is given."""
from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

TRUE = {"1", "true", "yes", "on"}

DEFAULTS: dict = {
    "SECRET_KEY": None,
    "SQLALCHEMY_DATABASE_URI": None,
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "MODEL_PATH": None,  # None: the model shipped with ecgad
    "RECORDING_MODEL_PATH": None,  # None: the recording model shipped with ecgad
    "AUTO_MIGRATE": True,  # run Alembic migrations when the app is created
    "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,  # 20 MB per request (beat files, forms)
    "MAX_BEATS": 10_000,  # per upload
    "MAX_RECORDING_BYTES": 256 * 1024 * 1024,  # per recording upload, all its files together
    "MAX_RECORDING_HOURS": 24.0,
    "UPLOAD_EXTENSIONS": (".csv", ".tsv", ".txt", ".json"),
    "BEATS_PER_PAGE": 200,
    "RECORDING_BEATS_PER_PAGE": 50,
    "PATIENTS_PER_PAGE": 50,
    "AUDIT_PER_PAGE": 50,
    # argon2id (RFC 9106's second recommended option); tests lower them.
    "ARGON2_TIME_COST": 3,
    "ARGON2_MEMORY_COST": 64 * 1024,  # KiB
    "ARGON2_PARALLELISM": 4,
    # Cookies
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    "SESSION_COOKIE_NAME": "ecgad_session",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_SECURE": False,
    # Server-side sessions (web/sessions.py): end after this long without a request, or this long in all.
    "SESSION_IDLE_MINUTES": 30,
    "SESSION_LIFETIME_HOURS": 12,
    # CSRF (Flask-WTF): on everywhere; the token lives as long as the session.
    "WTF_CSRF_ENABLED": True,
    "WTF_CSRF_TIME_LIMIT": None,
    # Rate limits (Flask-Limiter)
    # memory:// counts per process: `ecgad serve` then runs one process (threads); several need Redis.
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_KEY_PREFIX": "ecgad",
    "RATELIMIT_HEADERS_ENABLED": True,
    "RATELIMIT_ENABLED": True,
    "LOGIN_LIMIT_PER_IP": "20 per minute",
    "LOGIN_LIMIT_PER_ACCOUNT": "5 per 5 minutes",  # failed attempts only
    "PROXY_COUNT": 0,  # trusted reverse proxies in front (X-Forwarded-For / -Proto)
}


def from_environment(environ: Mapping[str, str] | None = None) -> dict:
    env = os.environ if environ is None else environ
    out: dict = {}
    if env.get("ECGAD_SECRET_KEY"):
        out["SECRET_KEY"] = env["ECGAD_SECRET_KEY"]
    if env.get("ECGAD_DATABASE_URL"):
        out["SQLALCHEMY_DATABASE_URI"] = env["ECGAD_DATABASE_URL"]
    if env.get("ECGAD_MODEL_PATH"):
        out["MODEL_PATH"] = env["ECGAD_MODEL_PATH"]
    if env.get("ECGAD_RECORDING_MODEL_PATH"):
        out["RECORDING_MODEL_PATH"] = env["ECGAD_RECORDING_MODEL_PATH"]
    if env.get("ECGAD_SECURE_COOKIES"):
        secure = env["ECGAD_SECURE_COOKIES"].strip().lower() in TRUE
        out["SESSION_COOKIE_SECURE"] = out["REMEMBER_COOKIE_SECURE"] = secure
    if env.get("ECGAD_RATELIMIT_STORAGE_URL"):
        out["RATELIMIT_STORAGE_URI"] = env["ECGAD_RATELIMIT_STORAGE_URL"]
    for key in ("LOGIN_LIMIT_PER_IP", "LOGIN_LIMIT_PER_ACCOUNT"):
        if env.get(f"ECGAD_{key}"):
            out[key] = _rate_limit(f"ECGAD_{key}", env[f"ECGAD_{key}"])
    if env.get("ECGAD_RATELIMIT_KEY_PREFIX"):
        out["RATELIMIT_KEY_PREFIX"] = env["ECGAD_RATELIMIT_KEY_PREFIX"]
    for key, name in (("SESSION_IDLE_MINUTES", "ECGAD_SESSION_IDLE_MINUTES"),
                      ("SESSION_LIFETIME_HOURS", "ECGAD_SESSION_LIFETIME_HOURS")):
        if env.get(name):
            out[key] = _positive_number(name, env[name])
    if env.get("ECGAD_AUTO_MIGRATE"):
        out["AUTO_MIGRATE"] = env["ECGAD_AUTO_MIGRATE"].strip().lower() in TRUE
    if env.get("ECGAD_PROXY_COUNT"):
        out["PROXY_COUNT"] = int(env["ECGAD_PROXY_COUNT"])
    return out


class ConfigError(ValueError):
    """A setting in the environment that cannot be used, for people."""


def _positive_number(name: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not number > 0 or number == float("inf"):
        raise ConfigError(f"{name} must be a positive number, not {value!r}")
    return number


def _rate_limit(name: str, value: str) -> str:
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError:
        raise ConfigError(f"{name} must be a rate limit like '20 per minute' or '5 per 5 minutes', "
                          f"not {value!r}") from None
    return value


def database_url(url: str) -> str:
    """Use the psycopg (3) driver for plain PostgreSQL URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def secret_key(instance_path: str) -> str:
    """The instance's secret key: generated once into ``secret_key`` (mode 600), then read.

    Written to a private temporary file and linked into place, so that processes
    starting together never read a half-written key.
    """
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        tmp = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secrets.token_hex(32) + "\n")
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process was first: use its key
        finally:
            tmp.unlink()
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise RuntimeError(f"{path}: the secret key is too short; delete the file to make a new one")
    return key
