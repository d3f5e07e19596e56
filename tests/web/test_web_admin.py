"""Admin pages: doctors' accounts and the audit log."""
from __future__ import annotations

import re

from webtools import PASSWORD, audit_actions, login

NEW_DOCTOR = {"email": "New.Doctor@Example.org", "name": "Dr New", "password": "a long enough pw",
              "confirm": "a long enough pw"}


def test_admin_creates_doctor(app, client_for):
    admin = client_for("admin")
    response = admin.post("/admin/users/new", data=NEW_DOCTOR)
    assert response.status_code == 302 and response.location == "/admin/users"
    page = admin.get("/admin/users").text
    assert 'data-email="new.doctor@example.org"' in page
    assert login(app.test_client(), "new.doctor@example.org", "a long enough pw").status_code == 302
    assert "user.create" in audit_actions(app)


def test_create_doctor_validation(app, client_for):
    admin = client_for("admin")
    short = admin.post("/admin/users/new", data={**NEW_DOCTOR, "password": "too short", "confirm": "too short"})
    assert short.status_code == 400 and "at least 10 characters" in short.text
    dup = admin.post("/admin/users/new", data={**NEW_DOCTOR, "email": "doctor@example.org"})
    assert dup.status_code == 400 and "exists already" in dup.text
    bad = admin.post("/admin/users/new", data={**NEW_DOCTOR, "email": "not an email"})
    assert bad.status_code == 400 and "Enter an email address" in bad.text
    differ = admin.post("/admin/users/new", data={**NEW_DOCTOR, "confirm": "something else!"})
    assert differ.status_code == 400 and "The two passwords differ." in differ.text
    same = admin.post("/admin/users/new", data={**NEW_DOCTOR, "email": "longaddress@example.org",
                                               "password": "longaddress@example.org",
                                               "confirm": "longaddress@example.org"})
    assert same.status_code == 400 and "must not be the email address" in same.text


def test_reset_password_ends_sessions(app, users, client_for):
    doctor = client_for("doctor")
    admin = client_for("admin")
    uid = users["doctor"].id
    assert admin.get(f"/admin/users/{uid}/password").status_code == 200
    short = admin.post(f"/admin/users/{uid}/password", data={"password": "short", "confirm": "short"})
    assert short.status_code == 400 and "at least 10 characters" in short.text
    new = {"password": "brand new secret", "confirm": "brand new secret"}
    ok = admin.post(f"/admin/users/{uid}/password", data=new)
    assert ok.status_code == 302
    assert doctor.get("/patients").status_code == 302
    assert login(app.test_client(), "doctor@example.org", PASSWORD).status_code == 200
    assert login(app.test_client(), "doctor@example.org", "brand new secret").status_code == 302
    assert "user.password_reset" in audit_actions(app)


def test_users_page_lists_everyone(client_for, users):
    page = client_for("admin").get("/admin/users").text
    assert page.count('data-testid="user-row"') == 3
    assert page.count('data-testid="deactivate-user"') == 2  # doctors only, not the admin


def test_audit_log_newest_first_and_paginated(app, client_for, users):
    app.config["AUDIT_PER_PAGE"] = 5
    for _ in range(4):
        login(app.test_client(), "doctor@example.org", "not the password")
    admin = client_for("admin")
    first = admin.get("/admin/audit").text
    actions = re.findall(r'data-testid="audit-row" data-action="([^"]+)"', first)
    assert len(actions) == 5 and actions[0] == "login.success"  # the admin's own sign-in, newest
    assert actions[1:5] == ["login.failure"] * 4
    assert "Page 1 of 2" in first and "127.0.0.1" in first and "doctor@example.org" in first
    second = admin.get("/admin/audit?page=2").text
    assert re.findall(r'data-action="([^"]+)"', second)[-1] == "user.create"  # the oldest, last
    only = admin.get("/admin/audit?action=login.failure").text
    assert set(re.findall(r'data-testid="audit-row" data-action="([^"]+)"', only)) == {"login.failure"}


def test_audit_covers_patient_and_analysis_changes(app, client_for, world):
    client = client_for("doctor")
    client.post(f"/patients/{world.p}/edit", data={"name": "Renamed", "identifier": "MRN-001", "sex": "male"})
    client.post(f"/patients/{world.p}/analyses/example/normal")
    client.post(f"/analyses/{world.a}/delete")
    client.post(f"/patients/{world.p}/delete")
    actions = audit_actions(app)
    for action in ("patient.update", "analysis.create", "analysis.delete", "patient.delete"):
        assert action in actions
    from sqlalchemy import select

    from ecgad.web.extensions import db
    from ecgad.web.models import AuditEvent

    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "patient.update")).one()
        assert event.actor_id == world.users["doctor"].id and event.ip == "127.0.0.1"
        assert event.target_type == "patient" and event.target_id == world.p
        assert "name" in event.detail and "sex" in event.detail and event.created_at is not None
