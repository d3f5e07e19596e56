"""Sign-in, sessions, passwords (argon2id), CSRF and the login rate limit."""
from __future__ import annotations

import pytest
from webtools import PASSWORD, add_user, audit_actions, csrf_token, login, row_counts


def test_login_success_and_audit(app, users):
    client = app.test_client()
    response = login(client, "Doctor@Example.org ")  # case and spaces do not matter
    assert response.status_code == 302 and response.location == "/"
    assert client.get("/patients").status_code == 200
    assert audit_actions(app)[-1] == "login.success"


@pytest.mark.parametrize("email,password", [
    ("doctor@example.org", "wrong password!!"),
    ("nobody@example.org", PASSWORD),
])
def test_login_failure_is_generic_and_audited(app, users, email, password):
    client = app.test_client()
    response = login(client, email, password)
    assert response.status_code == 200
    assert "The email address or the password is not right." in response.text
    assert client.get("/patients").status_code == 302
    from sqlalchemy import select

    from ecgad.web.extensions import db
    from ecgad.web.models import AuditEvent

    with app.app_context():
        event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert event.action == "login.failure" and event.actor_email == email and event.ip == "127.0.0.1"
        assert event.actor_id is None


def test_login_form_errors(app, users):
    response = app.test_client().post("/login", data={"email": "", "password": ""})
    assert response.status_code == 200
    assert "Enter your email address." in response.text and "Enter your password." in response.text


def test_login_next_only_local(app, users):
    client = app.test_client()
    response = client.post("/login?next=/patients/new", data={"email": "doctor@example.org", "password": PASSWORD})
    assert response.location == "/patients/new"
    client = app.test_client()
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        response = client.post(f"/login?next={evil}", data={"email": "doctor@example.org", "password": PASSWORD})
        assert response.location == "/", evil
        client.post("/logout")


@pytest.mark.parametrize("evil", ["/%0d%0aSet-Cookie:%20x=1", "/patients%0aLocation:%20https://evil.example/",
                                  "/%09x", "/%7f", "/%e2%80%a8x"])
def test_login_next_with_control_characters(app, users, evil):
    """A CR/LF (or any control character) in ?next= gave a 500: now the sign-in goes to the start page."""
    response = app.test_client().post(f"/login?next={evil}", data={"email": "doctor@example.org",
                                                                    "password": PASSWORD})
    assert response.status_code == 302 and response.location == "/"
    assert "x=1" not in response.headers.get("Set-Cookie", "")


def test_safe_next():
    from ecgad.web.util import safe_next

    assert safe_next("/patients/3?page=2") == "/patients/3?page=2"
    assert safe_next("/patients/Zoë") == "/patients/Zoë"
    for bad in (None, "", "patients", "//evil.example", "/\\evil.example", "/\r\nX: y", "/a\x00b", "/\u2028"):
        assert safe_next(bad) is None, bad


def test_logout(app, client_for):
    client = client_for("doctor")
    response = client.post("/logout")
    assert response.status_code == 302 and response.location == "/login"
    assert client.get("/patients").status_code == 302
    assert "logout" in audit_actions(app)


def test_logout_needs_post(client_for):
    assert client_for("doctor").get("/logout").status_code == 405


def test_session_cookie_flags(app, users):
    client = app.test_client()
    response = login(client, "doctor@example.org")
    cookie = next(v for k, v in response.headers.items() if k == "Set-Cookie" and v.startswith("ecgad_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_secure_cookies_from_environment(make_app, monkeypatch):
    monkeypatch.setenv("ECGAD_SECURE_COOKIES", "1")
    app = make_app()
    add_user(app, "doctor@example.org", "doctor")
    response = login(app.test_client(), "doctor@example.org")
    cookie = next(v for k, v in response.headers.items() if k == "Set-Cookie" and v.startswith("ecgad_session="))
    assert "Secure" in cookie and "HttpOnly" in cookie
    assert "Strict-Transport-Security" in response.headers


def test_session_protection_strong(app, users):
    client = app.test_client()
    login(client, "doctor@example.org", headers={"User-Agent": "browser-one"})
    assert client.get("/patients", headers={"User-Agent": "browser-one"}).status_code == 200
    # The same cookie from another browser: the session is dropped.
    assert client.get("/patients", headers={"User-Agent": "something-else"}).status_code == 302


def test_deactivated_doctor_is_logged_out_and_cannot_login(app, users, client_for):
    doctor = client_for("doctor")
    admin = client_for("admin")
    assert admin.post(f"/admin/users/{users['doctor'].id}/deactivate").status_code == 302
    assert doctor.get("/patients").status_code == 302  # the existing session stopped working
    response = login(app.test_client(), "doctor@example.org")
    assert response.status_code == 200 and "deactivated" in response.text
    assert admin.post(f"/admin/users/{users['doctor'].id}/reactivate").status_code == 302
    assert login(app.test_client(), "doctor@example.org").status_code == 302
    assert {"user.deactivate", "user.reactivate"} <= set(audit_actions(app))


def test_password_hash_is_argon2id(app, users):
    from ecgad.web.extensions import db
    from ecgad.web.models import User

    with app.app_context():
        stored = db.session.get(User, users["doctor"].id).password_hash
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_rehash_when_parameters_change(make_app, tmp_path):
    from ecgad.web.extensions import db
    from ecgad.web.models import User

    app = make_app()
    user = add_user(app, "doctor@example.org", "doctor")
    with app.app_context():
        old = db.session.get(User, user.id).password_hash
    assert "t=1" in old
    stronger = make_app(ARGON2_TIME_COST=2)  # same database, stronger parameters
    assert login(stronger.test_client(), "doctor@example.org").status_code == 302
    with stronger.app_context():
        new = db.session.get(User, user.id).password_hash
    assert new != old and new.startswith("$argon2id$") and "t=2" in new
    # and the new hash still verifies
    assert login(stronger.test_client(), "doctor@example.org").status_code == 302


def test_change_password(app, users, client_for):
    client = client_for("doctor")
    elsewhere = client_for("doctor")
    assert client.get("/account/password").status_code == 200
    short = client.post("/account/password", data={"current_password": PASSWORD, "password": "short",
                                                    "confirm": "short"})
    assert short.status_code == 200 and "at least 10 characters" in short.text
    wrong = client.post("/account/password", data={"current_password": "not it at all", "password": "a new long pass",
                                                   "confirm": "a new long pass"})
    assert "current password is not right" in wrong.text
    differ = client.post("/account/password", data={"current_password": PASSWORD, "password": "a new long pass",
                                                    "confirm": "another long one"})
    assert "The two passwords differ." in differ.text
    ok = client.post("/account/password", data={"current_password": PASSWORD, "password": "a new long pass",
                                                "confirm": "a new long pass"})
    assert ok.status_code == 302
    assert client.get("/patients").status_code == 200  # this session goes on
    assert elsewhere.get("/patients").status_code == 302  # other sessions end
    assert login(app.test_client(), "doctor@example.org").status_code == 200  # old password refused
    assert login(app.test_client(), "doctor@example.org", "a new long pass").status_code == 302
    assert "user.password_change" in audit_actions(app)


@pytest.mark.parametrize("password,hint", [
    ("aaaaaaaaaa", 'Repeats like "aaa" are easy to guess.'),
    ("1234567890", "This is a top-100 common password."),
    ("qwertyuiop", "This is a top-100 common password."),
    ("password1234", "common password"),
    ("Dora Dora heartbeat", "Avoid repeated words"),  # easy only with the person's name and the app's words
    ("doctor@example.org!", "Add another word or two"),  # the email address with one more character
])
def test_change_password_refuses_easy_passwords(app, users, client_for, password, hint):
    client = client_for("doctor")
    response = client.post("/account/password", data={"current_password": PASSWORD, "password": password,
                                                      "confirm": password})
    assert response.status_code == 200
    assert "This password is too easy to guess" in response.text and hint in response.text.replace("&#34;", '"')
    assert login(app.test_client(), "doctor@example.org").status_code == 302  # the old password still works
    assert "user.password_change" not in audit_actions(app)


def test_csrf_refused_when_enabled(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    add_user(app, "doctor@example.org", "doctor")
    client = app.test_client()
    refused = client.post("/login", data={"email": "doctor@example.org", "password": PASSWORD})
    assert refused.status_code == 400 and "Form expired" in refused.text
    token = csrf_token(client.get("/login").text)
    accepted = client.post("/login", data={"email": "doctor@example.org", "password": PASSWORD,
                                           "csrf_token": token})
    assert accepted.status_code == 302
    before = row_counts(app)
    no_token = client.post("/patients/new", data={"name": "X", "identifier": "1"})
    assert no_token.status_code == 400
    bad_token = client.post("/patients/new", data={"name": "X", "identifier": "1", "csrf_token": "forged"})
    assert bad_token.status_code == 400
    assert client.post("/logout").status_code == 400  # logging someone out needs the token too
    assert row_counts(app)["patients"] == before["patients"]
    page = client.get("/patients/new").text
    created = client.post("/patients/new", data={"name": "X", "identifier": "1", "csrf_token": csrf_token(page)})
    assert created.status_code == 302


def test_login_rate_limit_per_ip(make_app):
    app = make_app(LOGIN_LIMIT_PER_IP="3 per minute", LOGIN_LIMIT_PER_ACCOUNT="100 per minute")
    add_user(app, "doctor@example.org", "doctor")
    client = app.test_client()
    for i in range(3):
        assert login(client, f"guess{i}@example.org", "wrong password").status_code == 200
    limited = login(client, "doctor@example.org")  # even the right password waits now
    assert limited.status_code == 429
    assert "Too many attempts" in limited.text and 'data-testid="error-page"' in limited.text
    assert "Retry-After" in limited.headers
    # another address is not limited
    other = app.test_client()
    assert login(other, "doctor@example.org", environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code == 302


def test_login_rate_limit_per_account(make_app):
    app = make_app(LOGIN_LIMIT_PER_IP="100 per minute", LOGIN_LIMIT_PER_ACCOUNT="2 per minute")
    add_user(app, "doctor@example.org", "doctor")
    add_user(app, "other@example.org", "doctor")
    for i in range(2):  # failed attempts from different addresses
        client = app.test_client()
        response = login(client, "doctor@example.org", "wrong password", environ_base={"REMOTE_ADDR": f"10.0.1.{i}"})
        assert response.status_code == 200
    blocked = login(app.test_client(), "doctor@example.org", environ_base={"REMOTE_ADDR": "10.0.2.1"})
    assert blocked.status_code == 429
    # other accounts are not affected, and successful sign-ins do not count
    for _ in range(3):
        assert login(app.test_client(), "other@example.org").status_code == 302


def test_login_rate_limit_with_redis_storage(make_app):
    """ECGAD_RATELIMIT_STORAGE_URL=redis://...: counts shared by all workers. Skipped without Redis."""
    import socket
    import uuid

    url = "redis://127.0.0.1:6379"
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=2).close()
    except OSError as exc:
        pytest.skip(f"Redis at {url} is unreachable: {exc}")
    app = make_app(RATELIMIT_STORAGE_URI=url, RATELIMIT_KEY_PREFIX=f"ecgad-test-{uuid.uuid4().hex}",
                   LOGIN_LIMIT_PER_IP="2 per minute")
    add_user(app, "doctor@example.org", "doctor")
    client = app.test_client()
    assert login(client, "doctor@example.org", "wrong password").status_code == 200
    assert login(client, "doctor@example.org", "wrong password").status_code == 200
    assert login(client, "doctor@example.org").status_code == 429
