"""Every API error is problem+json, never an HTML page: bad JSON (400), a body over the limit (413,
refused from its Content-Length before it is read), a wrong media type (415), unknown paths (404),
wrong methods (405) and an unexpected failure (500). 401, 403, 404, 409, 422 and 429 are in the
other test_api_* modules."""
from __future__ import annotations

import io

import pytest
from apitools import assert_problem, auth, make_token
from webtools import row_counts


@pytest.fixture
def doctor(app, world):
    return auth(make_token(app, world.users["doctor"].id))


def test_bad_json_is_400(app, doctor):
    response = app.test_client().post("/api/v1/patients", data=b'{"name": ', headers=doctor,
                                      content_type="application/json")
    assert_problem(response, 400)


def test_wrong_media_type_is_415(app, world, doctor):
    client = app.test_client()
    response = client.post(f"/api/v1/patients/{world.p}/analyses", data=b"1,2,3", headers=doctor,
                           content_type="text/csv")
    assert_problem(response, 415)
    form = client.post("/api/v1/patients", data={"name": "A", "identifier": "B"}, headers=doctor)
    assert "application/json" in assert_problem(form, 415)["detail"]
    upload = client.post("/api/v1/score", data={"files": [(io.BytesIO(b"1"), "a.csv")]}, headers=doctor,
                         content_type="multipart/form-data")
    assert_problem(upload, 415)  # files go to a patient's analyses only


def test_body_over_the_limit_is_413_before_it_is_read(make_app, users):
    app = make_app(MAX_CONTENT_LENGTH=4096, MAX_RECORDING_BYTES=8192)
    token = auth(make_token(app, users["doctor"].id))
    client = app.test_client()
    from webtools import add_patient

    patient = add_patient(app, users["doctor"].id)
    before = row_counts(app)
    big = {"beats": [[0.5, 1.0] * 200] * 10}
    body = assert_problem(client.post("/api/v1/score", json=big, headers=token), 413)
    assert "4096 bytes" in body["detail"]
    assert_problem(client.post(f"/api/v1/patients/{patient}/analyses", json=big, headers=token), 413)
    upload = client.post(f"/api/v1/patients/{patient}/analyses", headers=token,
                         data={"files": [(io.BytesIO(b"0.1\n" * 3000), "trace.csv")], "fs": "250"},
                         content_type="multipart/form-data")
    assert "8192 bytes" in assert_problem(upload, 413)["detail"]  # a recording: the recording limit

    class Endless(io.RawIOBase):  # would never end: only the Content-Length can refuse it
        def readable(self):
            return True

        def readinto(self, buffer):
            raise AssertionError("the body was read")

    environ = {"CONTENT_LENGTH": str(10**9), "CONTENT_TYPE": "application/json", "wsgi.input": Endless()}
    response = client.post("/api/v1/score", headers=token, environ_overrides=environ)
    assert_problem(response, 413)
    assert row_counts(app) == before


def test_unknown_paths_and_methods(app, doctor):
    client = app.test_client()
    for path in ("/api/v1/nothing", "/api/v1/patients/abc", "/api/v1/patients/99999999999", "/api/v2/patients"):
        assert_problem(client.get(path, headers=doctor), 404)
    response = client.put("/api/v1/patients", json={}, headers=doctor)
    assert_problem(response, 405)
    assert "POST" in response.headers["Allow"]
    assert_problem(client.post("/api/v1/nothing", json={}), 404)  # no CSRF check on unknown API paths


def test_unexpected_failure_is_500_problem(app, doctor):
    """A broken database (the patients table gone): a 500 problem, with nothing of the failure in it."""
    from sqlalchemy import text

    from ecgad.web.extensions import db

    with app.app_context():
        db.session.execute(text("PRAGMA foreign_keys=OFF"))
        db.session.execute(text("DROP TABLE patients"))
        db.session.commit()
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: TESTING would re-raise
    body = assert_problem(app.test_client().get("/api/v1/patients", headers=doctor), 500)
    assert "patients" not in body["detail"] and "sqlite" not in body["detail"].lower()


def test_pages_keep_their_html_errors(client_for):
    response = client_for("doctor").get("/no-such-page")
    assert response.status_code == 404 and response.mimetype == "text/html"


ODD_BODIES = [None, [], "text", 5, {"name": "\ud800", "identifier": "X"}, {"name": "A", "identifier": "\x00"},
              {"beats": None}, {"beats": [[1e308] * 20, [-1e308] * 20]}, {"beats": [[1] * 20], "filename": "\ud800"},
              {"beats": [[[1.0]] * 20]}, {"name": {"a": 1}, "identifier": []}, {"birth_date": "0000-00-00"}]


def test_odd_bodies_are_4xx_never_5xx(app, world, doctor):
    """What a fuzzer sends first: wrong types, lone surrogates, NUL, overflow; nothing stored."""
    import json

    client = app.test_client()
    before = row_counts(app)
    targets = [("POST", "/api/v1/score"), ("POST", "/api/v1/patients"), ("PATCH", f"/api/v1/patients/{world.p}"),
               ("POST", f"/api/v1/patients/{world.p}/analyses")]
    for method, path in targets:
        for body in ODD_BODIES:
            response = client.open(path, method=method, data=json.dumps(body), content_type="application/json",
                                   headers=doctor)
            assert 400 <= response.status_code < 500, (method, path, body, response.text[:300])
            assert_problem(response, response.status_code)
    assert row_counts(app) == before
