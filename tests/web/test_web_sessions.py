"""Server-side sessions: signing out, idling, a session's lifetime and password changes end them."""
from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from webtools import PASSWORD, login

COOKIE = "ecgad_session"


def _rows(app, user_id=None):
    from sqlalchemy import select

    from ecgad.web.extensions import db
    from ecgad.web.models import UserSession

    with app.app_context():
        query = select(UserSession)
        if user_id is not None:
            query = query.where(UserSession.user_id == user_id)
        return [(r.id, r.user_id, r.created_at, r.last_seen_at, r.ip) for r in db.session.scalars(query)]


def _age(app, created=timedelta(0), seen=timedelta(0)):
    """Move every session's times back, as if that much time had passed."""
    from sqlalchemy import select

    from ecgad.web.extensions import db
    from ecgad.web.models import UserSession

    with app.app_context():
        for row in db.session.scalars(select(UserSession)):
            row.created_at -= created
            row.last_seen_at -= seen
        db.session.commit()


def _replay(app, cookie: str):
    """A new browser that carries a copy of a saved session cookie."""
    client = app.test_client()
    client.set_cookie(COOKIE, cookie)
    return client


def test_cookie_saved_before_logout_no_longer_works(app, client_for):
    client = client_for("doctor")
    saved = client.get_cookie(COOKIE).value
    assert _replay(app, saved).get("/patients").status_code == 200  # a copy works while signed in
    assert client.post("/logout").status_code == 302
    assert _rows(app) == []  # the session's row is gone
    response = _replay(app, saved).get("/patients", follow_redirects=True)
    assert response.request.path == "/login" and "<h1>Sign in</h1>" in response.text
    assert _replay(app, saved).get("/patients").status_code == 302


def test_only_the_token_hash_is_stored(app, users):
    client = app.test_client()
    login(client, "doctor@example.org", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    with client.session_transaction() as session:
        token = session["ecgad_sid"]
    (row,) = _rows(app)
    assert row[0] == hashlib.sha256(token.encode()).hexdigest() and token not in row[0]
    assert row[1] == users["doctor"].id and row[4] == "10.1.2.3"


def test_idle_timeout(make_app, users):
    app = make_app(SESSION_IDLE_MINUTES=30)  # the default, said out loud
    client = app.test_client()
    assert login(client, "doctor@example.org").status_code == 302
    _age(app, created=timedelta(minutes=29), seen=timedelta(minutes=29))
    assert client.get("/patients").status_code == 200  # 29 minutes idle: still signed in
    _age(app, created=timedelta(minutes=31), seen=timedelta(minutes=31))
    response = client.get("/patients")
    assert response.status_code == 302 and response.location.startswith("/login")
    page = client.get(response.location).text
    assert "Your session ended after 30 minutes without activity. Please sign in again." in page
    assert _rows(app) == []  # the expired row is deleted
    assert client.get("/patients").status_code == 302  # and stays ended


def test_tiny_idle_timeout_from_the_environment(make_app, users, monkeypatch):
    import time

    monkeypatch.setenv("ECGAD_SESSION_IDLE_MINUTES", "0.005")  # 0.3 s
    app = make_app()
    assert app.config["SESSION_IDLE_MINUTES"] == 0.005
    client = app.test_client()
    assert login(client, "doctor@example.org").status_code == 302
    assert client.get("/patients").status_code == 200
    time.sleep(0.5)
    assert client.get("/patients").status_code == 302


@pytest.mark.parametrize("value", ["abc", "0", "-5", "inf", "nan"])
def test_bad_idle_timeout_is_refused(value):
    from ecgad.web.config import ConfigError, from_environment

    with pytest.raises(ConfigError, match="ECGAD_SESSION_IDLE_MINUTES must be a positive number"):
        from_environment({"ECGAD_SESSION_IDLE_MINUTES": value})


def test_absolute_lifetime(app, client_for):
    client = client_for("doctor")
    _age(app, created=timedelta(hours=11, minutes=59))
    assert client.get("/patients").status_code == 200  # busy all day: still signed in
    _age(app, created=timedelta(minutes=2))
    response = client.get("/patients")  # over 12 hours old
    assert response.status_code == 302
    assert "Your session ended 12 hours after you signed in." in client.get(response.location).text


def test_last_seen_written_at_most_once_a_minute(app, client_for):
    client = client_for("doctor")
    _age(app, seen=timedelta(seconds=30))
    (before,) = _rows(app)
    for _ in range(3):
        assert client.get("/patients").status_code == 200
    assert _rows(app) == [before]  # no write within the minute
    _age(app, seen=timedelta(seconds=40))  # now 70 s ago
    assert client.get("/patients").status_code == 200
    (after,) = _rows(app)
    assert after[3] > before[3]


def test_password_change_ends_only_the_other_sessions(app, users, client_for):
    here, there = client_for("doctor"), client_for("doctor")
    other_doctor = client_for("other")
    assert len(_rows(app, users["doctor"].id)) == 2
    response = here.post("/account/password", data={
        "current_password": PASSWORD, "password": "velvet tundra oboe lantern",
        "confirm": "velvet tundra oboe lantern"})
    assert response.status_code == 302
    assert len(_rows(app, users["doctor"].id)) == 1
    assert here.get("/patients").status_code == 200
    assert there.get("/patients").status_code == 302
    assert other_doctor.get("/patients").status_code == 200


def test_deactivation_and_reset_delete_the_sessions(app, users, client_for):
    admin = client_for("admin")
    client_for("doctor"), client_for("other")
    assert admin.post(f"/admin/users/{users['doctor'].id}/deactivate").status_code == 302
    assert _rows(app, users["doctor"].id) == []
    assert admin.post(f"/admin/users/{users['other'].id}/password",
                      data={"password": "velvet tundra oboe lantern",
                            "confirm": "velvet tundra oboe lantern"}).status_code == 302
    assert _rows(app, users["other"].id) == []
    assert len(_rows(app, users["admin"].id)) == 1


def test_old_sessions_are_purged_at_sign_in(app, users, client_for):
    client_for("doctor")
    client_for("other")
    _age(app, seen=timedelta(hours=1))
    login(app.test_client(), "admin@example.org")
    assert [r[1] for r in _rows(app)] == [users["admin"].id]


def test_signing_in_again_replaces_the_session(app, users, client_for):
    client = client_for("doctor")
    (first,) = _rows(app)
    assert login(client, "doctor@example.org").status_code == 302
    (second,) = _rows(app)
    assert second[0] != first[0]  # a new token: a cookie from before does not carry over


def test_sessions_on_database(database_url, tmp_path, model_path):
    """The same on SQLite and PostgreSQL: a saved cookie dies with signing out, an idle session ends."""
    from webtools import BASE_CONFIG, add_user

    from ecgad.web import create_app
    from ecgad.web.extensions import db

    app = create_app({**BASE_CONFIG, "INSTANCE_PATH": str(tmp_path / "instance"), "MODEL_PATH": str(model_path),
                      "SQLALCHEMY_DATABASE_URI": database_url})
    try:
        add_user(app, "doctor@example.org", "doctor")
        client = app.test_client()
        assert login(client, "doctor@example.org").status_code == 302
        saved = client.get_cookie(COOKIE).value
        assert client.post("/logout").status_code == 302
        assert _replay(app, saved).get("/patients").status_code == 302
        assert login(client, "doctor@example.org").status_code == 302
        _age(app, seen=timedelta(minutes=31))
        assert client.get("/patients").status_code == 302
        assert _rows(app) == []
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
