"""`ecgad users ...` and `ecgad serve`."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from click.testing import CliRunner

from ecgad.cli import main


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


def test_serve_runs_gunicorn(tmp_path, model_path):
    """The real command: migrations, the first-admin hint, gunicorn answering on the port."""
    port = _free_port()
    env = {**os.environ, "ECGAD_INSTANCE_PATH": str(tmp_path / "instance"), "ECGAD_MODEL_PATH": str(model_path)}
    env.pop("ECGAD_DATABASE_URL", None)
    log = open(tmp_path / "serve.log", "w+")
    process = subprocess.Popen([sys.executable, "-m", "ecgad.cli", "serve", "--port", str(port), "--workers", "1"],
                               env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        response = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                response = urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5)
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.3)
        log.seek(0)
        output = log.read()
        assert response is not None, f"the server did not answer:\n{output}"
        assert response.status == 200 and response.headers["Server"].startswith("gunicorn")
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        assert "ecgad users create --email" in output and "--role admin" in output  # printed once
        assert output.count("No accounts exist yet") == 1
        assert (tmp_path / "instance" / "ecgad.sqlite3").exists()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()
