"""API tokens: made on the account page or with `ecgad tokens`, shown once, stored as SHA-256, listed,
revoked, expiring; they act as their user and never through the session cookie; rate-limited; audited."""
from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from apitools import assert_problem, auth, make_token
from click.testing import CliRunner
from webtools import BASE_CONFIG, add_user

from ecgad.cli import main


def _audit(app) -> list[tuple[str, str]]:
    from sqlalchemy import select

    from ecgad.web.extensions import db
    from ecgad.web.models import AuditEvent

    with app.app_context():
        return [(e.action, e.detail) for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def _token_row(app, token_id: int):
    from ecgad.web.extensions import db
    from ecgad.web.models import ApiToken

    with app.app_context():
        row = db.session.get(ApiToken, token_id)
        db.session.expunge(row)
        return row


def test_account_page_lifecycle(app, client_for, world):
    """Create on the account page (shown once), use, list with last use, revoke: then 401."""
    browser = client_for("doctor")
    page = browser.get("/account/tokens")
    assert page.status_code == 200 and "You have no API tokens." in page.text
    created = browser.post("/account/tokens", data={"name": "gateway", "expires_days": "30"})
    assert created.status_code == 200
    token = re.search(r'id="new-token-value">(ecgad_[A-Za-z0-9_-]+)<', created.text).group(1)
    assert created.headers["Cache-Control"] == "no-store"
    again = browser.get("/account/tokens")
    assert token not in again.text and "gateway" in again.text  # shown once only
    token_id = int(re.search(r'data-token-id="(\d+)" data-state="active"', again.text).group(1))

    api = app.test_client()  # no cookie at all: the token alone
    response = api.get("/api/v1/patients", headers=auth(token))
    assert response.status_code == 200 and [p["id"] for p in response.json["items"]] == [world.p]
    row = _token_row(app, token_id)
    assert row.last_used_at is not None and row.expires_at - row.created_at == timedelta(days=30)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() and row.prefix == token[:12]
    listed = browser.get("/account/tokens").text
    assert listed.count('data-testid="token-row"') == 1 and "never" not in listed.split("token-list")[1]

    assert browser.post(f"/account/tokens/{token_id}/revoke").status_code == 302
    assert 'data-state="revoked"' in browser.get("/account/tokens").text
    assert_problem(api.get("/api/v1/patients", headers=auth(token)), 401)
    actions = [a for a, _ in _audit(app)]
    assert actions[-3:] == ["token.create", "token.revoke", "token.refused"]


def test_token_is_stored_only_as_its_hash(app, world):
    token = make_token(app, world.users["doctor"].id)
    from ecgad.web.extensions import db

    with app.app_context():
        db.engine.dispose()
    database = (app.instance_path + "/ecgad.sqlite3")
    raw = open(database, "rb").read() + (open(database + "-wal", "rb").read() if _exists(database + "-wal") else b"")
    assert token.encode() not in raw and hashlib.sha256(token.encode()).hexdigest().encode() in raw


def _exists(path: str) -> bool:
    import os

    return os.path.exists(path)


def test_other_users_token_cannot_be_revoked_from_the_page(app, client_for, world):
    token = make_token(app, world.users["other"].id, "theirs")
    from ecgad.web.extensions import db
    from ecgad.web.models import ApiToken

    with app.app_context():
        token_id = db.session.query(ApiToken.id).scalar()
    assert client_for("doctor").post(f"/account/tokens/{token_id}/revoke").status_code == 404
    assert app.test_client().get("/api/v1/patients", headers=auth(token)).status_code == 200


def test_bad_token_names_are_refused_on_the_page(client_for, world):
    browser = client_for("doctor")
    assert browser.post("/account/tokens", data={"name": "  "}).status_code == 400
    assert browser.post("/account/tokens", data={"name": "x", "expires_days": "0"}).status_code == 400
    assert "You have no API tokens." in browser.get("/account/tokens").text


def test_expired_token_answers_401(app, world):
    token = make_token(app, world.users["doctor"].id, expires_days=1)
    client = app.test_client()
    assert client.get("/api/v1/patients", headers=auth(token)).status_code == 200
    from sqlalchemy import update

    from ecgad.web.extensions import db
    from ecgad.web.models import ApiToken, utcnow

    with app.app_context():
        db.session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    body = assert_problem(client.get("/api/v1/patients", headers=auth(token)), 401)
    assert "expired" in body["detail"]
    assert ("token.refused", "expired token; name=test") in _audit(app)


def test_deactivated_users_token_answers_401(app, world):
    token = make_token(app, world.users["other"].id)
    client = app.test_client()
    assert client.get("/api/v1/patients", headers=auth(token)).status_code == 200
    from ecgad.web.accounts import deactivate
    from ecgad.web.extensions import db
    from ecgad.web.models import User

    with app.app_context():
        deactivate(db.session.get(User, world.users["other"].id))
    response = client.get("/api/v1/patients", headers=auth(token))
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_session_cookie_is_not_used_and_no_csrf_is_needed(make_app, users, world):
    """Signed in through the pages, a browser has no access to the API; a token needs no CSRF token
    even with CSRF protection on (the pages keep theirs)."""
    from webtools import login

    app = make_app(WTF_CSRF_ENABLED=True)
    browser = app.test_client()
    page = browser.get("/login")
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    assert browser.post("/login", data={"email": users["doctor"].email, "password": "correct horse battery staple",
                                        "csrf_token": csrf}).status_code == 302
    assert_problem(browser.get("/api/v1/patients"), 401)
    assert login(browser, users["doctor"].email).status_code == 400  # pages: no CSRF token, refused
    token = make_token(app, users["doctor"].id)
    created = browser.post("/api/v1/patients", json={"name": "Via API", "identifier": "API-1"}, headers=auth(token))
    assert created.status_code == 201, created.text
    assert "Set-Cookie" not in created.headers


def test_malformed_authorization_headers(app, world):
    client = app.test_client()
    for header in ("Basic abc", "Bearer", "Bearer ", "bearer not-a-token", "Bearer ecgad_" + "x" * 500,
                   "Token ecgad_abc"):
        assert_problem(client.get("/api/v1/patients", headers={"Authorization": header}), 401)


def test_rate_limit_per_token(make_app, users):
    app = make_app(API_RATE_LIMIT="3 per minute")
    first, second = make_token(app, users["doctor"].id, "a"), make_token(app, users["doctor"].id, "b")
    client = app.test_client()
    for _ in range(3):
        assert client.get("/api/v1/patients", headers=auth(first)).status_code == 200
    response = client.get("/api/v1/patients", headers=auth(first))
    body = assert_problem(response, 429)
    assert int(response.headers["Retry-After"]) > 0 and "3 per 1 minute" in body["detail"]
    assert client.get("/api/v1/patients", headers=auth(second)).status_code == 200  # keyed by token


def test_cli_create_list_revoke(tmp_path, model_path, monkeypatch):
    instance = tmp_path / "instance"
    monkeypatch.setenv("ECGAD_INSTANCE_PATH", str(instance))
    monkeypatch.setenv("ECGAD_MODEL_PATH", str(model_path))
    monkeypatch.delenv("ECGAD_DATABASE_URL", raising=False)
    from ecgad.web import create_app

    app = create_app({**BASE_CONFIG, "INSTANCE_PATH": str(instance)})
    doctor = add_user(app, "doc@example.org", "doctor")
    runner = CliRunner()
    result = runner.invoke(main, ["tokens", "create", "--email", "Doc@Example.org", "--name", "pipeline",
                                  "--expires-days", "7"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert re.fullmatch(r"ecgad_[A-Za-z0-9_-]{43}", token)
    assert app.test_client().get("/api/v1/patients", headers=auth(token)).status_code == 200

    listed = runner.invoke(main, ["tokens", "list", "--email", "doc@example.org"])
    assert listed.exit_code == 0
    line = listed.output.strip().splitlines()[-1].split("\t")
    assert line[1:3] == ["pipeline", "active"] and line[4] != "-" and token not in listed.output
    token_id = line[0]
    revoked = runner.invoke(main, ["tokens", "revoke", token_id])
    assert revoked.exit_code == 0 and "revoked token" in revoked.output
    assert runner.invoke(main, ["tokens", "revoke", token_id]).output.strip().endswith("is revoked already")
    assert_problem(app.test_client().get("/api/v1/patients", headers=auth(token)), 401)
    assert "\trevoked\t" in runner.invoke(main, ["tokens", "list", "--email", "doc@example.org"]).output

    for args, message in ((["create", "--email", "nobody@example.org", "--name", "x"], "no account"),
                          (["create", "--email", "doc@example.org", "--name", " "], "give the token a name"),
                          (["revoke", "999"], "there is no token 999")):
        bad = runner.invoke(main, ["tokens", *args])
        assert bad.exit_code == 2 and message in bad.output, bad.output
    assert doctor.id


def test_refused_tokens_are_throttled_per_address(make_app, users):
    app = make_app(API_FAILED_TOKEN_LIMIT="3 per minute")
    good = auth(make_token(app, users["doctor"].id))
    client = app.test_client()
    for _ in range(5):  # no token at all: nothing guessed, nothing counted
        assert_problem(client.get("/api/v1/patients"), 401)
    for header in ("Bearer ecgad_wrong", "Basic abc", "Bearer ecgad_wrong-again"):
        assert_problem(client.get("/api/v1/patients", headers={"Authorization": header}), 401)
    refused = client.get("/api/v1/patients", headers={"Authorization": "Bearer ecgad_wrong"})
    body = assert_problem(refused, 429)
    assert 0 < int(refused.headers["Retry-After"]) <= 60 and "refused API token" in body["detail"]
    assert_problem(client.get("/api/v1/patients", headers=good), 429)  # this address waits, whatever it sends
    elsewhere = client.get("/api/v1/patients", headers=good, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert elsewhere.status_code == 200, elsewhere.text
    assert client.get("/api/v1/health").status_code == 200  # needs no token: never throttled


def test_refused_tokens_are_not_throttled_with_rate_limits_off(make_app, users):
    app = make_app(API_FAILED_TOKEN_LIMIT="1 per minute", RATELIMIT_ENABLED=False)
    client = app.test_client()
    for _ in range(3):
        assert_problem(client.get("/api/v1/patients", headers={"Authorization": "Bearer ecgad_wrong"}), 401)
