"""Who may use which route: anonymous, the patient's doctor, another doctor, an admin.

302 for anonymous users means "sent to the sign-in page". A doctor gets 404 for
anything that is not theirs; admins read everything but do not change patients (403).
"""
from __future__ import annotations

import pytest
from webtools import ROLES

A, D, OT, AD = "anonymous", "doctor", "other", "admin"

# (method, path, {role: status}); {p} patient of doctor, {a} its analysis, {d} the doctor's account,
# {ad} the admin's account. Unlisted roles expect the "*" entry.
MATRIX = [
    ("GET", "/", {"*": 302}),
    ("GET", "/healthz", {"*": 200}),
    ("GET", "/vendor/plotly.min.js", {"*": 200}),
    ("GET", "/static/css/ecgad.css", {"*": 200}),
    ("GET", "/login", {A: 200, "*": 302}),
    ("POST", "/logout", {"*": 302}),
    ("GET", "/account/password", {A: 302, "*": 200}),
    ("GET", "/patients", {A: 302, "*": 200}),
    ("GET", "/patients/new", {A: 302, D: 200, OT: 200, AD: 403}),
    ("POST", "/patients/new", {A: 302, D: 400, OT: 400, AD: 403}),  # empty form: 400 with messages
    ("GET", "/patients/{p}", {A: 302, D: 200, OT: 404, AD: 200}),
    ("GET", "/patients/{p}/edit", {A: 302, D: 200, OT: 404, AD: 403}),
    ("POST", "/patients/{p}/edit", {A: 302, D: 302, OT: 404, AD: 403}),  # empty form: nothing changes
    ("GET", "/patients/{p}/delete", {A: 302, D: 200, OT: 404, AD: 403}),
    ("POST", "/patients/{p}/delete", {A: 302, D: 302, OT: 404, AD: 403}),
    ("GET", "/patients/999999", {A: 302, "*": 404}),
    ("POST", "/patients/{p}/analyses", {A: 302, D: 400, OT: 404, AD: 403}),  # no file: 400
    ("POST", "/patients/{p}/recordings", {A: 302, D: 400, OT: 404, AD: 403}),  # no file: 400
    ("GET", "/patients/{p}/recordings", {"*": 405}),
    ("GET", "/analyses/{a}/timeline.json?start=0&end=1", {A: 302, D: 404, OT: 404, AD: 404}),  # not a recording
    ("POST", "/patients/{p}/analyses/example/normal", {A: 302, D: 302, OT: 404, AD: 403}),
    ("POST", "/patients/{p}/analyses/example/nonesuch", {A: 302, D: 404, OT: 404, AD: 403}),
    ("GET", "/analyses/{a}", {A: 302, D: 200, OT: 404, AD: 200}),
    ("GET", "/analyses/{a}?beat=2&sort=-score&only=anomalies&page=3", {A: 302, D: 200, OT: 404, AD: 200}),
    ("GET", "/analyses/{a}?beat=9999", {A: 302, "*": 404}),
    ("GET", "/analyses/{a}/beats/1.json", {A: 302, D: 200, OT: 404, AD: 200}),
    ("GET", "/analyses/{a}/delete", {A: 302, D: 200, OT: 404, AD: 403}),
    ("POST", "/analyses/{a}/delete", {A: 302, D: 302, OT: 404, AD: 403}),
    ("GET", "/analyses/999999", {A: 302, "*": 404}),
    ("GET", "/admin/users", {A: 302, D: 403, OT: 403, AD: 200}),
    ("GET", "/admin/users/new", {A: 302, D: 403, OT: 403, AD: 200}),
    ("POST", "/admin/users/new", {A: 302, D: 403, OT: 403, AD: 400}),
    ("POST", "/admin/users/{d}/deactivate", {A: 302, D: 403, OT: 403, AD: 302}),
    ("POST", "/admin/users/{d}/reactivate", {A: 302, D: 403, OT: 403, AD: 302}),
    ("GET", "/admin/users/{d}/password", {A: 302, D: 403, OT: 403, AD: 200}),
    ("POST", "/admin/users/{d}/password", {A: 302, D: 403, OT: 403, AD: 400}),
    ("POST", "/admin/users/{ad}/deactivate", {A: 302, D: 403, OT: 403, AD: 403}),
    ("GET", "/admin/users/{ad}/password", {A: 302, D: 403, OT: 403, AD: 403}),
    ("GET", "/admin/users/999999/password", {A: 302, D: 403, OT: 403, AD: 404}),
    ("GET", "/admin/audit", {A: 302, D: 403, OT: 403, AD: 200}),
    ("GET", "/admin/audit?page=999&action=login.success", {A: 302, D: 403, OT: 403, AD: 200}),
    ("GET", "/no/such/page", {"*": 404}),
    ("DELETE", "/patients/{p}", {"*": 405}),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method,path,expected", MATRIX, ids=[f"{m} {p}" for m, p, _ in MATRIX])
def test_authorisation_matrix(client_for, world, role, method, path, expected):
    url = path.format(p=world.p, a=world.a, d=world.users["doctor"].id, ad=world.users["admin"].id)
    client = client_for(role)
    response = client.open(url, method=method)
    want = expected.get(role, expected.get("*"))
    assert response.status_code == want, f"{role} {method} {url}: {response.status_code}\n{response.text[:500]}"
    if response.status_code == 302 and role == "anonymous" and not path.startswith(("/login", "/logout", "/healthz")):
        if path != "/":
            assert response.location.startswith("/login")
    if response.status_code in (403, 404, 405):
        assert 'data-testid="error-page"' in response.text  # a friendly page, not a bare error


def test_other_doctor_does_not_see_patient_in_list(client_for, world):
    text = client_for("other").get("/patients").text
    assert "Ann Example" not in text and "Quentin Other" in text
    admin_text = client_for("admin").get("/patients").text
    assert "Ann Example" in admin_text and "Quentin Other" in admin_text


def test_other_doctor_cannot_change_anything(app, client_for, world):
    from webtools import row_counts

    before = row_counts(app)
    other = client_for("other")
    for url in (f"/patients/{world.p}/delete", f"/analyses/{world.a}/delete",
                f"/patients/{world.p}/analyses/example/abnormal"):
        assert other.post(url).status_code == 404
    assert other.post(f"/patients/{world.p}/edit", data={"name": "Hacked", "identifier": "X"}).status_code == 404
    after = row_counts(app)
    assert after["patients"] == before["patients"] and after["analyses"] == before["analyses"]


def test_anonymous_is_sent_to_login_with_next(client_for, world):
    response = client_for("anonymous").get(f"/patients/{world.p}")
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")
