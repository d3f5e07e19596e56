"""Admin pages: doctors' accounts and the audit log."""
from __future__ import annotations

import html
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


def test_nav_and_page_say_accounts(client_for, users):
    page = client_for("admin").get("/admin/users").text
    assert re.search(r'id="nav-users"[^>]*>Accounts</a>', page)
    assert "<title>Accounts · ecgad</title>" in page and "<h1>Accounts</h1>" in page
    assert "Doctors" not in page


def test_admin_refuses_easy_passwords(app, users, client_for):
    admin = client_for("admin")
    for password in ("aaaaaaaaaa", "1234567890", "New.Doctor@Example.org1"):
        created = admin.post("/admin/users/new", data={**NEW_DOCTOR, "password": password, "confirm": password})
        assert created.status_code == 400 and "too easy to guess" in created.text, password
    reset = admin.post(f"/admin/users/{users['doctor'].id}/password",
                       data={"password": "1234567890", "confirm": "1234567890"})
    assert reset.status_code == 400 and "This is a top-100 common password." in reset.text
    assert "user.password_reset" not in audit_actions(app)
    assert login(app.test_client(), "doctor@example.org", PASSWORD).status_code == 302


def test_deactivation_asks_first(app, users, client_for, world):
    admin = client_for("admin")
    uid = users["doctor"].id
    listing = admin.get("/admin/users").text
    # the list links to a confirmation page: no form on the list deactivates anyone
    assert f'href="/admin/users/{uid}/deactivate"' in listing
    assert f'action="/admin/users/{uid}/deactivate"' not in listing
    page = admin.get(f"/admin/users/{uid}/deactivate")
    assert page.status_code == 200
    assert "Deactivate Dr Dora?" in page.text and 'id="confirm-deactivate"' in page.text
    assert "has <strong>1</strong> patient." in page.text and 'id="reassign-form"' in page.text
    assert f'<option value="{users["other"].id}">' in page.text  # the other active doctor
    assert "user.deactivate" not in audit_actions(app)  # looking is not doing
    assert admin.post(f"/admin/users/{uid}/deactivate").status_code == 302
    assert "user.deactivate" in audit_actions(app)
    # deactivated: the confirmation page is not offered again
    assert admin.get(f"/admin/users/{uid}/deactivate").location == "/admin/users"


def test_deactivation_needs_the_csrf_token(make_app):
    from webtools import add_user, csrf_token

    app = make_app(WTF_CSRF_ENABLED=True)
    add_user(app, "admin@example.org", "admin")
    doctor = add_user(app, "doctor@example.org", "doctor")
    admin = app.test_client()
    admin.post("/login", data={"email": "admin@example.org", "password": PASSWORD,
                               "csrf_token": csrf_token(admin.get("/login").text)})
    assert admin.post(f"/admin/users/{doctor.id}/deactivate").status_code == 400
    page = admin.get(f"/admin/users/{doctor.id}/deactivate").text
    assert admin.post(f"/admin/users/{doctor.id}/deactivate",
                      data={"csrf_token": csrf_token(page)}).status_code == 302
    assert "user.deactivate" in audit_actions(app)


def _patients_of(app, doctor_id):
    from sqlalchemy import select

    from ecgad.web.extensions import db
    from ecgad.web.models import Patient

    with app.app_context():
        return sorted(db.session.scalars(select(Patient.id).where(Patient.doctor_id == doctor_id)))


def test_reassign_patients_with_their_analyses(app, users, client_for, world):
    from webtools import add_patient

    second = add_patient(app, users["doctor"].id, name="Bea Second", identifier="MRN-002")
    admin = client_for("admin")
    d, o = users["doctor"].id, users["other"].id
    # the other doctor already has MRN-001 (world.q): a clash, and nothing moves
    clash = admin.post(f"/admin/users/{d}/reassign", data={"target": o})
    assert clash.status_code == 400
    assert "Nothing was moved: other@example.org already has patients with the record numbers MRN-001" in clash.text
    assert _patients_of(app, d) == sorted([world.p, second])
    # a third doctor without clashes takes them over, with the analysis
    from webtools import add_user

    third = add_user(app, "third@example.org", "doctor", name="Dr Third")
    moved = admin.post(f"/admin/users/{d}/reassign", data={"target": third.id, "back": "deactivate"})
    assert moved.status_code == 302 and moved.location == f"/admin/users/{d}/deactivate"
    assert _patients_of(app, d) == [] and _patients_of(app, third.id) == sorted([world.p, second])
    assert "2 patients of doctor@example.org moved to third@example.org." in admin.get(moved.location).text
    thirds = app.test_client()
    assert login(thirds, "third@example.org").status_code == 302
    assert thirds.get(f"/analyses/{world.a}").status_code == 200  # the analysis moved with its patient
    assert thirds.get(f"/patients/{world.p}").status_code == 200
    assert client_for("doctor").get(f"/patients/{world.p}").status_code == 404
    from sqlalchemy import select

    from ecgad.web.extensions import db
    from ecgad.web.models import AuditEvent

    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "patient.reassign")).all()
        assert sorted(e.target_id for e in events) == sorted([world.p, second])
        assert all(e.detail == "from doctor@example.org to third@example.org" for e in events)
        assert all(e.actor_id == users["admin"].id for e in events)
    assert "Patient moved to another doctor" in admin.get("/admin/audit").text


def test_reassign_only_to_an_active_doctor(app, users, client_for, world):
    admin = client_for("admin")
    d, o, ad = users["doctor"].id, users["other"].id, users["admin"].id
    page = admin.get(f"/admin/users/{d}/reassign").text
    assert f'<option value="{o}">' in page and f'<option value="{ad}">' not in page
    assert f'<option value="{d}">' not in page
    for target in (ad, d, 999999, "x", ""):
        response = admin.post(f"/admin/users/{d}/reassign", data={"target": target})
        assert response.status_code == 400, target
    assert admin.post(f"/admin/users/{o}/deactivate").status_code == 302
    page = admin.get(f"/admin/users/{d}/reassign").text
    assert 'id="no-other-doctor"' in page and "create one first" in page
    assert admin.post(f"/admin/users/{d}/reassign", data={"target": o}).status_code == 400
    assert _patients_of(app, d) == [world.p]


def test_patients_of_a_deactivated_doctor_can_be_moved(app, users, client_for, world):
    admin = client_for("admin")
    d = users["doctor"].id
    assert admin.post(f"/admin/users/{d}/deactivate").status_code == 302
    listing = admin.get("/admin/users").text
    assert f'href="/admin/users/{d}/reassign"' in listing  # the list offers it
    from webtools import add_user

    third = add_user(app, "third@example.org", "doctor")
    assert admin.post(f"/admin/users/{d}/reassign", data={"target": third.id}).location == "/admin/users"
    assert _patients_of(app, third.id) == [world.p]


def test_reassign_pages_are_for_admins_only(client_for, world):
    d = world.users["doctor"].id
    ad = world.users["admin"].id
    for role in ("doctor", "other"):
        client = client_for(role)
        assert client.get(f"/admin/users/{d}/deactivate").status_code == 403
        assert client.get(f"/admin/users/{d}/reassign").status_code == 403
        assert client.post(f"/admin/users/{d}/reassign", data={"target": 1}).status_code == 403
    anonymous = client_for("anonymous")
    assert anonymous.get(f"/admin/users/{d}/reassign").location.startswith("/login")
    admin = client_for("admin")
    assert admin.get(f"/admin/users/{ad}/reassign").status_code == 403  # admins have no patients
    assert admin.get("/admin/users/999999/reassign").status_code == 404


def _events(app, action: str | None = None):
    from sqlalchemy import select

    from ecgad.web.extensions import db
    from ecgad.web.models import AuditEvent

    with app.app_context():
        query = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            query = query.where(AuditEvent.action == action)
        return [(e.action, e.actor_email, e.target_type, e.target_id, e.patient_id) for e in db.session.scalars(query)]


def test_views_of_patient_data_are_audited(app, client_for, world):
    """Opening a patient or an analysis writes a line each time; a beat's JSON once per user and analysis
    in 10 minutes (a page fetches one a click); what one may not see writes nothing."""
    doctor, admin, other = client_for("doctor"), client_for("admin"), client_for("other")
    assert doctor.get(f"/patients/{world.p}").status_code == 200
    assert doctor.get(f"/patients/{world.p}").status_code == 200
    assert doctor.get(f"/analyses/{world.a}").status_code == 200
    for number in (1, 2, 3):
        assert doctor.get(f"/analyses/{world.a}/beats/{number}.json").status_code == 200
    assert admin.get(f"/patients/{world.p}").status_code == 200
    assert other.get(f"/patients/{world.p}").status_code == 404
    assert other.get(f"/analyses/{world.a}").status_code == 404
    assert _events(app, "patient.view") == [("patient.view", "doctor@example.org", "patient", world.p, world.p)] * 2 \
        + [("patient.view", "admin@example.org", "patient", world.p, world.p)]
    assert _events(app, "analysis.view") == [("analysis.view", "doctor@example.org", "analysis", world.a, world.p)]
    assert _events(app, "analysis.beats_view") == \
        [("analysis.beats_view", "doctor@example.org", "analysis", world.a, world.p)]
    # ten minutes on, the next beat is written again
    from datetime import timedelta

    from ecgad.web.extensions import db

    with app.app_context():
        line = db.session.scalars(select_last("analysis.beats_view")).one()
        line.created_at -= timedelta(minutes=11)
        db.session.commit()
    assert doctor.get(f"/analyses/{world.a}/beats/4.json").status_code == 200
    assert len(_events(app, "analysis.beats_view")) == 2
    # through the API, with a token: the same lines, saying which token
    from ecgad.web import tokens
    from ecgad.web.models import User

    with app.app_context():
        _, token = tokens.create(db.session.get(User, world.users["doctor"].id), "reader", 1)
    response = app.test_client().get(f"/api/v1/patients/{world.p}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    with app.app_context():
        line = db.session.scalars(select_last("patient.view")).one()
        assert line.actor_email == "doctor@example.org" and "via API token" in line.detail


def select_last(action: str):
    from sqlalchemy import select

    from ecgad.web.models import AuditEvent

    return select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id.desc()).limit(1)


def test_audit_log_filters(app, client_for, world):
    from datetime import UTC, datetime, timedelta

    doctor, other, admin = client_for("doctor"), client_for("other"), client_for("admin")
    doctor.get(f"/patients/{world.p}")
    other.get(f"/patients/{world.q}")
    doctor.post(f"/patients/{world.p}/edit", data={"name": "Renamed", "identifier": "MRN-001", "sex": "male"})

    def rows(query: str) -> list[str]:
        page = admin.get(f"/admin/audit?{query}")
        assert page.status_code == 200
        return re.findall(r'data-testid="audit-row" data-action="([^"]+)"', page.text)

    assert rows(f"user={world.users['other'].id}") == ["patient.view", "login.success"]
    assert rows(f"patient=%23{world.p}") == ["patient.update", "patient.view", "analysis.create"]
    assert rows("patient=quentin") == ["patient.view"]          # part of the other patient's name
    assert sorted(rows("patient=MRN-001")) == ["analysis.create", "patient.update", "patient.view",
                                               "patient.view"]  # both patients have this record number
    assert rows(f"patient=%23{world.p}&user={world.users['other'].id}") == []
    today = datetime.now(UTC).date()
    everything = rows("")
    assert rows(f"from={today}&to={today}") == everything and len(everything) > 5
    assert rows(f"from={today + timedelta(days=1)}") == [] and rows(f"to={today - timedelta(days=1)}") == []
    bad = admin.get("/admin/audit?from=yesterday").text
    assert "is not a date" in bad and re.findall(r'data-testid="audit-row"', bad)
    # pages keep the filters
    app.config["AUDIT_PER_PAGE"] = 2
    first = admin.get(f"/admin/audit?user={world.users['doctor'].id}").text
    link = re.search(r'id="page-next" href="([^"]+)"', first).group(1)
    assert f"user={world.users['doctor'].id}" in html.unescape(link)
    assert set(re.findall(r'data-action="([^"]+)"', admin.get(html.unescape(link)).text)) <= \
        {"patient.view", "patient.update", "login.success", "analysis.create"}
    assert client_for("doctor").get("/admin/audit?patient=1").status_code == 403
