"""Who may use each API operation: anonymous, doctor, other doctor, admin, deactivated account and
revoked token, over every endpoint. Another doctor's data answers 404 (its existence is not told);
what an admin may see but not change, 403."""
from __future__ import annotations

import pytest
from apitools import assert_problem, auth, make_token
from webtools import normal_beats

WHO = ("anonymous", "doctor", "other", "admin", "deactivated", "revoked")


@pytest.fixture
def app(make_app):
    """The matrix sends two refused tokens per operation from one address: more than the per-address
    limit of refused tokens allows (test_api_tokens.py tests that limit)."""
    return make_app(API_FAILED_TOKEN_LIMIT="1000 per minute")


@pytest.fixture
def tokens(app, world):
    from webtools import add_user

    from ecgad.web import tokens as tokens_module
    from ecgad.web.accounts import deactivate
    from ecgad.web.extensions import db
    from ecgad.web.models import ApiToken, User

    gone = add_user(app, "gone@example.org", "doctor")
    out = {role: make_token(app, world.users[role].id, role) for role in ("doctor", "other", "admin")}
    out["deactivated"] = make_token(app, gone.id, "gone")
    out["revoked"] = make_token(app, world.users["doctor"].id, "revoked")
    with app.app_context():
        deactivate(db.session.get(User, gone.id))
        tokens_module.revoke(db.session.scalar(db.select(ApiToken).where(ApiToken.name == "revoked")))
    return out


BEATS = [list(map(float, b)) for b in normal_beats()[:3]]


def _cases(world):
    """(method, path, json, expected status for WHO in order). Each case on fresh rows where it deletes."""
    p, a = world.p, world.a
    return [
        ("GET", "/api/v1/health", None, (200, 200, 200, 200, 200, 200)),
        ("GET", "/api/v1/openapi.json", None, (200,) * 6),
        ("GET", "/api/v1/model", None, (401, 200, 200, 200, 401, 401)),
        ("POST", "/api/v1/score", {"beats": BEATS}, (401, 200, 200, 200, 401, 401)),
        ("GET", "/api/v1/patients", None, (401, 200, 200, 200, 401, 401)),
        ("POST", "/api/v1/patients", {"name": "N", "identifier": "NEW-{who}"}, (401, 201, 201, 403, 401, 401)),
        ("GET", f"/api/v1/patients/{p}", None, (401, 200, 404, 200, 401, 401)),
        ("PATCH", f"/api/v1/patients/{p}", {"notes": "seen"}, (401, 200, 404, 403, 401, 401)),
        ("GET", f"/api/v1/patients/{p}/analyses", None, (401, 200, 404, 200, 401, 401)),
        ("POST", f"/api/v1/patients/{p}/analyses", {"beats": BEATS}, (401, 201, 404, 403, 401, 401)),
        ("GET", f"/api/v1/analyses/{a}", None, (401, 200, 404, 200, 401, 401)),
        ("GET", f"/api/v1/analyses/{a}/timeline?start=0&end=1", None, (401, 404, 404, 404, 401, 401)),
        ("DELETE", f"/api/v1/analyses/{a}", None, (401, 204, 404, 403, 401, 401)),
        ("DELETE", f"/api/v1/patients/{p}", None, (401, 204, 404, 403, 401, 401)),
    ]


def test_authorisation_matrix(app, world, tokens):
    """Each role in turn; the doctor goes last on deleting cases, so earlier roles see the rows."""
    client = app.test_client()
    order = ("anonymous", "other", "admin", "deactivated", "revoked", "doctor")
    for method, path, body, expected in _cases(world):
        for who in order:
            want = expected[WHO.index(who)]
            headers = auth(tokens[who]) if who != "anonymous" else {}
            payload = {k: v.format(who=who) if isinstance(v, str) else v for k, v in body.items()} if body else None
            response = client.open(path, method=method, json=payload, headers=headers)
            assert response.status_code == want, (method, path, who, response.status_code, response.text[:300])
            if want >= 400:
                assert_problem(response, want)


def test_recording_timeline_matrix(app, world, tokens):
    """The signal window of a recording: the patient's doctor and admins; not the other doctor."""
    from heartbeats import synthetic_ecg

    x, _ = synthetic_ecg("N" * 40, 250.0)
    csv = ("II\n" + "".join(f"{v:.5f}\n" for v in x)).encode()
    import io

    client = app.test_client()
    created = client.post(f"/api/v1/patients/{world.p}/analyses", headers=auth(tokens["doctor"]),
                          data={"files": [(io.BytesIO(csv), "trace.csv")], "fs": "250"},
                          content_type="multipart/form-data")
    assert created.status_code == 201, created.text
    path = f"/api/v1/analyses/{created.json['id']}/timeline?start=0&end=5"
    for who, want in zip(WHO, (401, 200, 404, 200, 401, 401), strict=True):
        response = client.get(path, headers=auth(tokens[who]) if who != "anonymous" else {})
        assert response.status_code == want, (who, response.text[:300])


def test_review_matrix(app, world, tokens):
    """The review of a recording (families, beats, labels, interpretation, sign, unlock): reads for the
    patient's doctor and admins, changes for the doctor only; the other doctor 404, an admin 403."""
    import io

    from heartbeats import synthetic_ecg

    x, _ = synthetic_ecg("N" * 30 + "V" + "N" * 10, 250.0)
    csv = ("II\n" + "".join(f"{v:.5f}\n" for v in x)).encode()
    client = app.test_client()
    created = client.post(f"/api/v1/patients/{world.p}/analyses", headers=auth(tokens["doctor"]),
                          data={"files": [(io.BytesIO(csv), "trace.csv")], "fs": "250"},
                          content_type="multipart/form-data")
    assert created.status_code == 201, created.text
    a = created.json["id"]
    read, change = (401, 200, 404, 200, 401, 401), (401, 200, 404, 403, 401, 401)
    cases = [("GET", "families", None, read), ("GET", "beats", None, read), ("GET", "review", None, read),
             ("PUT", "families/1/label", {"label": "N"}, change), ("PUT", "beats/1/label", {"label": "V"}, change),
             ("PUT", "interpretation", {"text": "t"}, change), ("POST", "sign", None, change),
             ("POST", "unlock", None, change)]
    order = ("anonymous", "other", "admin", "deactivated", "revoked", "doctor")
    for method, path, body, expected in cases:
        for who in order:
            want = expected[WHO.index(who)]
            response = client.open(f"/api/v1/analyses/{a}/{path}", method=method, json=body,
                                   headers=auth(tokens[who]) if who != "anonymous" else {})
            assert response.status_code == want, (method, path, who, response.text[:300])
            if want >= 400:
                assert_problem(response, want)
    # a beat analysis has no families or beats to label
    assert_problem(client.get(f"/api/v1/analyses/{world.a}/families", headers=auth(tokens["doctor"])), 404)
    assert_problem(client.put(f"/api/v1/analyses/{world.a}/beats/1/label", json={"label": "V"},
                              headers=auth(tokens["doctor"])), 404)
