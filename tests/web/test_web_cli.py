"""`ecgad users ...` and `ecgad serve`."""
from __future__ import annotations

import contextlib
import http.client
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
from click.testing import CliRunner

from ecgad.cli import main

REDIS_URL = "redis://127.0.0.1:6379"


@pytest.fixture
def cli_env(tmp_path, model_path, monkeypatch):
    monkeypatch.setenv("ECGAD_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("ECGAD_MODEL_PATH", str(model_path))
    monkeypatch.delenv("ECGAD_DATABASE_URL", raising=False)
    monkeypatch.delenv("ECGAD_SECRET_KEY", raising=False)
    return tmp_path / "instance"


def _users(instance):
    from sqlalchemy import select

    from ecgad.web import create_app
    from ecgad.web.extensions import db
    from ecgad.web.models import AuditEvent, User

    app = create_app({"INSTANCE_PATH": str(instance)})
    with app.app_context():
        users = {u.email: (u.role, u.name, u.password_hash) for u in db.session.scalars(select(User))}
        actions = list(db.session.scalars(select(AuditEvent.action)))
        db.engine.dispose()
    return users, actions


def test_users_create_from_stdin(cli_env):
    runner = CliRunner()
    result = runner.invoke(main, ["users", "create", "--email", "Admin@Example.org", "--role", "admin",
                                  "--name", "Ada", "--password-stdin"], input="a very good password\n")
    assert result.exit_code == 0, result.output
    assert "created admin account admin@example.org" in result.output
    users, actions = _users(cli_env)
    role, name, password_hash = users["admin@example.org"]
    assert role == "admin" and name == "Ada" and password_hash.startswith("$argon2id$")
    assert actions == ["user.create"]

    listed = runner.invoke(main, ["users", "list"])
    assert listed.exit_code == 0 and "admin@example.org\tadmin\tactive" in listed.output


def test_users_create_prompts_for_the_password(cli_env):
    result = CliRunner().invoke(main, ["users", "create", "--email", "doc@example.org", "--role", "doctor"],
                                input="a very good password\na very good password\n")
    assert result.exit_code == 0, result.output
    assert "doc@example.org" in _users(cli_env)[0]


@pytest.mark.parametrize("args,stdin,message", [
    (["--email", "x@example.org", "--role", "doctor"], "short\n", "at least 10 characters"),
    (["--email", "not-an-email", "--role", "doctor"], "a very good password\n", "is not an email address"),
    (["--email", "x@example.org", "--role", "nurse"], "a very good password\n", "Invalid value for '--role'"),
])
def test_users_create_errors(cli_env, args, stdin, message):
    result = CliRunner().invoke(main, ["users", "create", *args, "--password-stdin"], input=stdin)
    assert result.exit_code == 2
    assert message in result.output


@pytest.mark.parametrize("password,hint", [
    ("aaaaaaaaaa", 'Repeats like "aaa" are easy to guess'),
    ("1234567890", "This is a top-100 common password"),
    ("x@example.org", "must not be the email address"),
])
def test_users_create_refuses_easy_passwords(cli_env, password, hint):
    result = CliRunner().invoke(main, ["users", "create", "--email", "x@example.org", "--role", "admin",
                                       "--password-stdin"], input=password + "\n")
    assert result.exit_code == 2 and hint in result.output
    assert "x@example.org" not in _users(cli_env)[0]


def _app(instance):
    from ecgad.web import create_app

    return create_app({"INSTANCE_PATH": str(instance), "WTF_CSRF_ENABLED": False})


def _sessions(instance, email) -> int:
    from sqlalchemy import func, select

    from ecgad.web.extensions import db
    from ecgad.web.models import User, UserSession

    with _app(instance).app_context():
        count = db.session.scalar(select(func.count()).select_from(UserSession).join(User)
                                  .where(User.email == email))
        db.engine.dispose()
    return count


def _sign_in(instance, email, password) -> int:
    """Sign in through the app, as a browser would: 302 signed in, 200 refused."""
    from ecgad.web.extensions import db

    app = _app(instance)
    status = app.test_client().post("/login", data={"email": email, "password": password}).status_code
    with app.app_context():
        db.engine.dispose()
    return status


def test_users_deactivate_reactivate_set_password(cli_env):
    runner = CliRunner()
    for email, role in (("admin@example.org", "admin"), ("doc@example.org", "doctor")):
        assert runner.invoke(main, ["users", "create", "--email", email, "--role", role, "--password-stdin"],
                             input="a very good password\n").exit_code == 0
    assert _sign_in(cli_env, "doc@example.org", "a very good password") == 302
    assert _sessions(cli_env, "doc@example.org") == 1

    off = runner.invoke(main, ["users", "deactivate", "--email", "Doc@Example.org"])
    assert off.exit_code == 0 and "deactivated doc@example.org; their sessions are signed out" in off.output
    assert _sessions(cli_env, "doc@example.org") == 0
    assert "doc@example.org\tdoctor\tdeactivated" in runner.invoke(main, ["users", "list"]).output
    assert _sign_in(cli_env, "doc@example.org", "a very good password") == 200  # refused
    again = runner.invoke(main, ["users", "deactivate", "--email", "doc@example.org"])
    assert again.exit_code == 0 and "deactivated already" in again.output

    on = runner.invoke(main, ["users", "reactivate", "--email", "doc@example.org"])
    assert on.exit_code == 0 and "reactivated doc@example.org" in on.output
    assert _sign_in(cli_env, "doc@example.org", "a very good password") == 302

    easy = runner.invoke(main, ["users", "set-password", "--email", "doc@example.org", "--password-stdin"],
                         input="1234567890\n")
    assert easy.exit_code == 2 and "too easy to guess" in easy.output
    new = runner.invoke(main, ["users", "set-password", "--email", "doc@example.org", "--password-stdin"],
                        input="velvet tundra oboe lantern\n")
    assert new.exit_code == 0 and "new password set for doc@example.org" in new.output
    assert _sessions(cli_env, "doc@example.org") == 0
    assert _sign_in(cli_env, "doc@example.org", "a very good password") == 200
    assert _sign_in(cli_env, "doc@example.org", "velvet tundra oboe lantern") == 302
    prompted = runner.invoke(main, ["users", "set-password", "--email", "doc@example.org"],
                             input="tangerine viola sunrise\ntangerine viola sunrise\n")
    assert prompted.exit_code == 0, prompted.output

    from sqlalchemy import select

    from ecgad.web.extensions import db
    from ecgad.web.models import AuditEvent

    with _app(cli_env).app_context():
        events = [(e.action, e.detail) for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
                  if e.action.startswith("user.")]
        db.engine.dispose()
    assert [a for a, _ in events] == ["user.create", "user.create", "user.deactivate", "user.reactivate",
                                      "user.password_reset", "user.password_reset"]
    assert events[2][1] == "email=doc@example.org; via ecgad users deactivate"
    assert events[3][1].endswith("via ecgad users reactivate")
    assert events[4][1].endswith("via ecgad users set-password")


@pytest.mark.parametrize("args", [["deactivate"], ["reactivate"], ["set-password", "--password-stdin"]])
def test_users_commands_unknown_account(cli_env, args):
    result = CliRunner().invoke(main, ["users", *args, "--email", "nobody@example.org"],
                                input="velvet tundra oboe lantern\n")
    assert result.exit_code == 2
    assert "there is no account with the email address nobody@example.org" in result.output


def test_users_deactivate_keeps_one_active_admin(cli_env):
    runner = CliRunner()
    create = ["users", "create", "--role", "admin", "--password-stdin", "--email"]
    assert runner.invoke(main, [*create, "a@example.org"], input="a very good password\n").exit_code == 0
    last = runner.invoke(main, ["users", "deactivate", "--email", "a@example.org"])
    assert last.exit_code == 2 and "a@example.org is the last active admin" in last.output
    assert runner.invoke(main, [*create, "b@example.org"], input="a very good password\n").exit_code == 0
    assert runner.invoke(main, ["users", "deactivate", "--email", "a@example.org"]).exit_code == 0


def test_users_create_duplicate(cli_env):
    runner = CliRunner()
    args = ["users", "create", "--email", "x@example.org", "--role", "doctor", "--password-stdin"]
    assert runner.invoke(main, args, input="a very good password\n").exit_code == 0
    again = runner.invoke(main, args, input="a very good password\n")
    assert again.exit_code == 2 and "exists already" in again.output


def test_serve_help():
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--workers", "--dev", "gunicorn", "ECGAD_DATABASE_URL"):
        assert option in result.output


def test_bind_address():
    from ecgad.web.server import bind_address

    assert bind_address("127.0.0.1", 5000) == "127.0.0.1:5000"
    assert bind_address("::1", 8000) == "[::1]:8000"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(tmp_path, model_path, *args: str, env: dict | None = None):
    """``ecgad serve`` (gunicorn) as a subprocess on a free port; yields (port, read_log)."""
    port = _free_port()
    environ = {**os.environ, "ECGAD_INSTANCE_PATH": str(tmp_path / "instance"), "ECGAD_MODEL_PATH": str(model_path),
               **(env or {})}
    for name in ("ECGAD_DATABASE_URL", "ECGAD_RATELIMIT_STORAGE_URL", "ECGAD_RATELIMIT_KEY_PREFIX",
                 "ECGAD_LOGIN_LIMIT_PER_IP", "ECGAD_LOGIN_LIMIT_PER_ACCOUNT"):
        if name not in (env or {}):
            environ.pop(name, None)
    log = open(tmp_path / f"serve-{port}.log", "w+")

    def read_log() -> str:
        log.seek(0)
        return log.read()

    process = subprocess.Popen([sys.executable, "-m", "ecgad.cli", "serve", "--port", str(port), *args],
                               env=environ, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):  # workers still starting (warm-up)
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the server did not answer:\n{read_log()}")
                time.sleep(0.3)
        yield port, read_log
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def test_serve_runs_gunicorn(tmp_path, model_path):
    """The real command: migrations, the first-admin hint, gunicorn answering on the port."""
    with serving(tmp_path, model_path) as (port, read_log):
        response = urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5)
        output = read_log()
        assert response.status == 200 and response.headers["Server"].startswith("gunicorn")
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        assert "users create --email" in output and "--role admin" in output  # printed once
        assert output.count("No accounts exist yet") == 1
        assert (tmp_path / "instance" / "ecgad.sqlite3").exists()
        assert "gthread" in output  # one process, requests on threads


def test_first_admin_hint_names_a_command_that_runs(tmp_path):
    """After `make serve` the venv is not activated (not on the PATH): the hint names a command that
    runs anyway. The hint is made, and its command run, with such a PATH."""
    env = {**os.environ, "ECGAD_INSTANCE_PATH": str(tmp_path / "instance"), "PATH": "/usr/bin:/bin"}
    env.pop("ECGAD_DATABASE_URL", None)
    made = subprocess.run([sys.executable, "-c", "from ecgad.web import create_app, first_admin_hint; "
                           "print(first_admin_hint(create_app()))"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert made.returncode == 0, made.stderr
    command = made.stdout.splitlines()[1].strip()
    assert command.endswith(" users create --email you@example.org --role admin")
    program = shlex.split(command.split(" users create ")[0])
    result = subprocess.run([*program, "users", "list"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, (command, result.stderr)


# ------------------------------------------------------------------ sign-in limits on the real server
class Browser:
    """A cookie-keeping HTTP client from a chosen loopback address (the rate limits count per address)."""

    def __init__(self, port: int, source: str = "127.0.0.1"):
        self.port, self.source, self.cookies = port, source, {}

    def request(self, method: str, path: str, body: str | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60, source_address=(self.source, 0))
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        connection.close()
        return response.status, text

    def sign_in(self, email: str, password: str) -> int:
        _, page = self.request("GET", "/login")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": token})
        return self.request("POST", "/login", body)[0]


# Hourly windows, so that a slow machine cannot end a window in the middle of a test.
LIMITS = {"ECGAD_LOGIN_LIMIT_PER_IP": "8 per hour", "ECGAD_LOGIN_LIMIT_PER_ACCOUNT": "3 per hour"}


def _check_login_limits(port: int) -> None:
    """Exactly the configured numbers of attempts get through, then 429: per address, and failed
    ones per account (from another address, which its own limit does not stop yet)."""
    per_ip = Browser(port, "127.0.0.1")
    statuses = [per_ip.sign_in(f"guess{i}@example.org", "wrong password") for i in range(11)]
    assert statuses == [200] * 8 + [429] * 3
    per_account = Browser(port, "127.0.0.2")
    statuses = [per_account.sign_in("victim@example.org", "wrong password") for _ in range(6)]
    assert statuses == [200] * 3 + [429] * 3


def test_login_limits_hold_on_the_real_server(tmp_path, model_path):
    """Default configuration (in-process counts): one process, so every attempt is counted once
    (with the former two worker processes, 12 wrong passwords got 8 tries through)."""
    with serving(tmp_path, model_path, env=LIMITS) as (port, _):
        _check_login_limits(port)


def test_login_limits_hold_across_workers_with_redis(tmp_path, model_path):
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.skip(f"Redis at {REDIS_URL} is unreachable: {exc}")
    prefix = f"ecgad-test-{uuid.uuid4().hex}"
    try:
        with serving(tmp_path, model_path, "--workers", "3",
                     env={**LIMITS, "ECGAD_RATELIMIT_STORAGE_URL": REDIS_URL,
                          "ECGAD_RATELIMIT_KEY_PREFIX": prefix}) as (port, log):
            _check_login_limits(port)
            assert log().count("Booting worker") == 3
        assert any(client.scan_iter(f"*{prefix}*"))  # the counts were in Redis, under this test's prefix
    finally:
        for key in client.scan_iter(f"*{prefix}*"):
            client.delete(key)


def test_serve_refuses_several_workers_with_per_process_counts(cli_env):
    result = CliRunner().invoke(main, ["serve", "--workers", "2"])
    assert result.exit_code == 2
    assert "--workers 2 would let each worker process count sign-in attempts on its own" in result.output
    assert "ECGAD_RATELIMIT_STORAGE_URL=redis://" in result.output and "--workers 1" in result.output


def test_login_limits_from_the_environment():
    from ecgad.web.config import ConfigError, from_environment

    assert from_environment(LIMITS) == {"LOGIN_LIMIT_PER_IP": "8 per hour", "LOGIN_LIMIT_PER_ACCOUNT": "3 per hour"}
    with pytest.raises(ConfigError, match="ECGAD_LOGIN_LIMIT_PER_IP must be a rate limit like '20 per minute'"):
        from_environment({"ECGAD_LOGIN_LIMIT_PER_IP": "lots"})


def test_serve_help_lists_every_variable_the_app_reads():
    """One table, ``config.ENVIRONMENT``: what the web code reads, ``serve --help`` and the README agree."""
    from pathlib import Path

    import ecgad.web
    from ecgad.web.config import ENVIRONMENT

    names = [var.name for var in ENVIRONMENT]
    sources = "".join(p.read_text() for p in Path(ecgad.web.__file__).parent.rglob("*.py"))
    assert set(re.findall(r"ECGAD_[A-Z_]+", sources)) == set(names)
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    environment = result.output.split("\nEnvironment:\n")[1]
    assert re.findall(r"^  (ECGAD_[A-Z_]+)", environment, re.MULTILINE) == names
    assert "ECGAD_SESSION_IDLE_MINUTES     a session ends after this long without a" in environment
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert re.findall(r"^\| `(ECGAD_[A-Z_]+)", readme, re.MULTILINE) == names


SAMPLES = {"ECGAD_LOGIN_LIMIT_PER_IP": "8 per hour", "ECGAD_LOGIN_LIMIT_PER_ACCOUNT": "3 per hour",
           "ECGAD_API_RATE_LIMIT": "100 per hour", "ECGAD_API_FAILED_TOKEN_LIMIT": "5 per hour",
           "ECGAD_SESSION_IDLE_MINUTES": "5", "ECGAD_SESSION_LIFETIME_HOURS": "2", "ECGAD_PROXY_COUNT": "1",
           "ECGAD_SECURE_COOKIES": "1", "ECGAD_AUTO_MIGRATE": "0",
           "ECGAD_STREAM_MESSAGE_BYTES": "5000", "ECGAD_STREAM_MESSAGE_SAMPLES": "500",
           "ECGAD_STREAM_MAX_HOURS": "1", "ECGAD_STREAM_MAX_SAMPLES": "1000", "ECGAD_STREAMS_PER_USER": "1",
           "ECGAD_STREAM_IDLE_SECONDS": "5"}


def test_every_listed_variable_sets_the_app_config():
    from ecgad.web.config import DEFAULTS, ENVIRONMENT, from_environment

    for var in ENVIRONMENT:
        got = from_environment({var.name: SAMPLES.get(var.name, "x")})
        if var.read is None:  # create_app reads ECGAD_INSTANCE_PATH itself
            assert var.name == "ECGAD_INSTANCE_PATH" and got == {}
            continue
        assert got and set(got) <= set(DEFAULTS), var.name
        assert all(value != DEFAULTS[key] for key, value in got.items()), var.name
    assert from_environment({name: "" for name in SAMPLES}) == {}
