"""Configuration: defaults, then the environment (``ECGAD_*``), then what ``create_app`` is given."""
from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ecgad.data.formats import BEAT_FILE_EXTENSIONS

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
    "UPLOAD_EXTENSIONS": BEAT_FILE_EXTENSIONS,  # beat files
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
    "API_RATE_LIMIT": "600 per minute",  # per API token (per address without one)
    "API_FAILED_TOKEN_LIMIT": "20 per minute",  # refused tokens per address; then 429 for its tokens
    "PROXY_COUNT": 0,  # trusted reverse proxies in front (X-Forwarded-For / -Proto)
    # The WebSocket stream (web/streaming.py): limits of one session, of a user, of this process.
    "STREAM_MAX_MESSAGE_BYTES": 1024 * 1024,  # one client message (a samples chunk's JSON)
    "STREAM_MAX_SAMPLES_PER_MESSAGE": 100_000,
    "STREAM_MAX_HOURS": 24.0,  # of signal in one session, at its fs
    "STREAM_MAX_SAMPLES": 32_000_000,  # in one session (24 h at 360 Hz; 128 MB kept when it is stored)
    "STREAMS_PER_USER": 4,  # open at once, per process
    "STREAM_SLOTS": 32,  # open at once in this process (`ecgad serve --streams`: its threads beyond --threads)
    "STREAM_IDLE_SECONDS": 60.0,  # a session without a message for this long is closed
    "STREAM_MAX_QUEUED": 2,  # messages read ahead of the handler; then TCP slows the sender (backpressure)
    # Response compression (flask-compress: zstd, brotli or gzip, as the client accepts), from 500 bytes.
    # Not HTML: a page holds the session's CSRF token beside text the request can choose (a search, a
    # name), and its compressed size could then leak the token (BREACH). JSON, scripts and styles hold
    # no such secret. Plotly's script is compressed once, not per request (main/views.py).
    "COMPRESS_MIMETYPES": ["application/json", "text/javascript", "application/javascript", "text/css",
                           "text/plain", "text/csv", "image/svg+xml"],
    "COMPRESS_MIN_SIZE": 500,
}


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


def _positive_int(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise ConfigError(f"{name} must be a whole number above 0, not {value!r}")
    return number


def _rate_limit(name: str, value: str) -> str:
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError:
        raise ConfigError(f"{name} must be a rate limit like '20 per minute' or '5 per 5 minutes', "
                          f"not {value!r}") from None
    return value


@dataclass(frozen=True)
class EnvVar:
    """One ``ECGAD_*`` variable: what it sets, for ``from_environment``, the README and ``ecgad serve --help``."""

    name: str
    meaning: str
    default: str
    read: Callable[[str, str], dict] | None  # (name, value) -> config entries; None: create_app reads it


def _as(*keys: str, parse: Callable[[str, str], object] = lambda name, value: value) -> Callable[[str, str], dict]:
    return lambda name, value: dict.fromkeys(keys, parse(name, value))


def _flag(name: str, value: str) -> bool:
    return value.strip().lower() in TRUE


# The one list of the variables the app reads, in the README's order.
ENVIRONMENT: tuple[EnvVar, ...] = (
    EnvVar("ECGAD_INSTANCE_PATH", "instance folder: SQLite database, generated secret key (mode 600)",
           "Flask's instance folder", None),
    EnvVar("ECGAD_DATABASE_URL", "e.g. postgresql://user@host/db", "SQLite in the instance folder",
           _as("SQLALCHEMY_DATABASE_URI")),
    EnvVar("ECGAD_SECRET_KEY", "overrides the generated key", "", _as("SECRET_KEY")),
    EnvVar("ECGAD_MODEL_PATH", "the beat model to analyse beat files with", "the shipped model", _as("MODEL_PATH")),
    EnvVar("ECGAD_RECORDING_MODEL_PATH", "the recording model to analyse recordings with",
           "the shipped recording model", _as("RECORDING_MODEL_PATH")),
    EnvVar("ECGAD_SECURE_COOKIES", "1: Secure cookies (behind HTTPS)", "off",
           _as("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE", parse=_flag)),
    EnvVar("ECGAD_RATELIMIT_STORAGE_URL", "e.g. redis://127.0.0.1:6379: sign-in counts shared by several worker "
           "processes", "memory://, one process", _as("RATELIMIT_STORAGE_URI")),
    EnvVar("ECGAD_RATELIMIT_KEY_PREFIX", "prefix of the rate-limit keys (several instances on one Redis)", "ecgad",
           _as("RATELIMIT_KEY_PREFIX")),
    EnvVar("ECGAD_LOGIN_LIMIT_PER_IP", "sign-in attempts per address", DEFAULTS["LOGIN_LIMIT_PER_IP"],
           _as("LOGIN_LIMIT_PER_IP", parse=_rate_limit)),
    EnvVar("ECGAD_LOGIN_LIMIT_PER_ACCOUNT", "failed sign-ins per account", DEFAULTS["LOGIN_LIMIT_PER_ACCOUNT"],
           _as("LOGIN_LIMIT_PER_ACCOUNT", parse=_rate_limit)),
    EnvVar("ECGAD_API_RATE_LIMIT", "API requests per token", DEFAULTS["API_RATE_LIMIT"],
           _as("API_RATE_LIMIT", parse=_rate_limit)),
    EnvVar("ECGAD_API_FAILED_TOKEN_LIMIT", "refused API tokens per address (then 429 until the window "
           "ends)", DEFAULTS["API_FAILED_TOKEN_LIMIT"], _as("API_FAILED_TOKEN_LIMIT", parse=_rate_limit)),
    EnvVar("ECGAD_SESSION_IDLE_MINUTES", "a session ends after this long without a request",
           str(DEFAULTS["SESSION_IDLE_MINUTES"]), _as("SESSION_IDLE_MINUTES", parse=_positive_number)),
    EnvVar("ECGAD_SESSION_LIFETIME_HOURS", "a session ends this long after signing in, however busy",
           str(DEFAULTS["SESSION_LIFETIME_HOURS"]), _as("SESSION_LIFETIME_HOURS", parse=_positive_number)),
    EnvVar("ECGAD_PROXY_COUNT", "trusted reverse proxies in front (X-Forwarded-For / -Proto)",
           str(DEFAULTS["PROXY_COUNT"]), _as("PROXY_COUNT", parse=lambda name, value: int(value))),
    EnvVar("ECGAD_STREAM_MESSAGE_BYTES", "largest message a stream client may send",
           str(DEFAULTS["STREAM_MAX_MESSAGE_BYTES"]), _as("STREAM_MAX_MESSAGE_BYTES", parse=_positive_int)),
    EnvVar("ECGAD_STREAM_MESSAGE_SAMPLES", "samples in one message of a stream",
           str(DEFAULTS["STREAM_MAX_SAMPLES_PER_MESSAGE"]),
           _as("STREAM_MAX_SAMPLES_PER_MESSAGE", parse=_positive_int)),
    EnvVar("ECGAD_STREAM_MAX_HOURS", "hours of signal in one stream", str(DEFAULTS["STREAM_MAX_HOURS"]),
           _as("STREAM_MAX_HOURS", parse=_positive_number)),
    EnvVar("ECGAD_STREAM_MAX_SAMPLES", "samples in one stream", str(DEFAULTS["STREAM_MAX_SAMPLES"]),
           _as("STREAM_MAX_SAMPLES", parse=_positive_int)),
    EnvVar("ECGAD_STREAMS_PER_USER", "streams one user may have open at once", str(DEFAULTS["STREAMS_PER_USER"]),
           _as("STREAMS_PER_USER", parse=_positive_int)),
    EnvVar("ECGAD_STREAM_IDLE_SECONDS", "a stream without a message for this long is closed",
           str(DEFAULTS["STREAM_IDLE_SECONDS"]), _as("STREAM_IDLE_SECONDS", parse=_positive_number)),
    EnvVar("ECGAD_AUTO_MIGRATE", "0: do not run the database migrations at start-up", "1",
           _as("AUTO_MIGRATE", parse=_flag)),
)


def from_environment(environ: Mapping[str, str] | None = None) -> dict:
    """The settings that ``ENVIRONMENT``'s variables give (those set and not empty)."""
    env = os.environ if environ is None else environ
    out: dict = {}
    for var in ENVIRONMENT:
        if var.read is not None and env.get(var.name):
            out.update(var.read(var.name, env[var.name]))
    return out


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
