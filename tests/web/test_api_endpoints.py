"""The API's operations on the real app and a real SQLite database: score (nothing stored), model,
health, patients (the web form's rules), analyses (JSON beats and a recording upload, stored by the
web layer's own functions), and the OpenAPI document and its offline docs page."""
from __future__ import annotations

import io

import numpy as np
import pytest
from apitools import assert_problem, auth, make_token
from heartbeats import synthetic_ecg
from webtools import normal_beats, row_counts


@pytest.fixture
def doctor(app, world):
    return auth(make_token(app, world.users["doctor"].id))


@pytest.fixture
def admin(app, world):
    return auth(make_token(app, world.users["admin"].id))


def _beats(n: int = 5) -> list[list[float]]:
    return [[float(v) for v in b] for b in normal_beats()[:n]]


def test_score_stores_nothing(app, doctor):
    client = app.test_client()
    before = row_counts(app)
    beats = _beats(5)
    beats[1] = beats[1][::2]  # any length of at least 16: resampled
    response = client.post("/api/v1/score", json={"beats": beats}, headers=doctor)
    assert response.status_code == 200, response.text
    body = response.json
    assert set(body) == {"model", "warnings", "beats"} and len(body["beats"]) == 5
    assert set(body["beats"][0]) == {"beat", "score", "threshold", "is_anomaly", "confidence"}
    assert body["beats"][0]["threshold"] == pytest.approx(body["model"]["threshold"])
    assert all(0 <= b["confidence"] <= 1 for b in body["beats"])
    from ecgad.web.detection import get_detector

    with app.app_context():
        expected = get_detector().predict(beats)
    assert [b["score"] for b in body["beats"]] == pytest.approx([v.score for v in expected])
    detailed = client.post("/api/v1/score?detail=1", json={"beats": beats}, headers=doctor).json["beats"][0]
    assert len(detailed["reconstruction"]) == len(detailed["error"]) == body["model"]["length"]
    after = row_counts(app)
    assert {k: v for k, v in after.items() if k != "audit_events"} == \
        {k: v for k, v in before.items() if k != "audit_events"}


@pytest.mark.parametrize("beats, message", [
    ([], "non-empty"), ([[1.0] * 15], "15 samples"), ([[1.0, "x"] * 10], "numbers"),
    ([[1.0] * 20], "constant"), ([[True] * 20], "numbers"), ("1,2,3", "non-empty"),
    ([[1e308, -1e308] * 10], "too large"),  # schemathesis found these: the scores were NaN (a 500 when stored)
])
def test_score_refuses_bad_beats_with_422(app, doctor, beats, message):
    body = assert_problem(app.test_client().post("/api/v1/score", json={"beats": beats}, headers=doctor), 422)
    assert message in str(body), body


def test_score_limit_of_beats(app, doctor):
    beats = [[0.0, 1.0] * 8] * 10_001
    body = assert_problem(app.test_client().post("/api/v1/score", json={"beats": beats}, headers=doctor), 422)
    assert "at most 10,000" in str(body["errors"])


def test_model_and_health(app, doctor):
    client = app.test_client()
    models = client.get("/api/v1/model", headers=doctor).json
    beat, recording = models["beat"], models["recording"]
    assert beat["id"].startswith("hybrid-") and beat["threshold"] > 0 and beat["calibration"]["sigma"] > 0
    assert recording["id"].startswith("recording-") and recording["trained_on"]["trained_on"]["database"] == "mitdb"
    health = client.get("/api/v1/health")
    assert health.status_code == 200
    assert health.json == {"status": "ok", "database": "ok", "models": {"beat": "ok", "recording": "ok"}}


def test_health_says_when_a_model_is_missing(make_app, tmp_path):
    app = make_app(MODEL_PATH=str(tmp_path / "missing.safetensors"))
    response = app.test_client().get("/api/v1/health")
    assert response.status_code == 503 and response.json["models"]["beat"] == "unavailable"


def test_patients_crud_paging_and_search(app, world, doctor):
    client = app.test_client()
    created = client.post("/api/v1/patients", headers=doctor, json={
        "name": "  Zoe Zed ", "identifier": "MRN-777", "birth_date": "1980-02-29", "sex": "other",
        "notes": "allergic"})
    assert created.status_code == 201, created.text
    zoe = created.json
    assert zoe["name"] == "Zoe Zed" and zoe["birth_date"] == "1980-02-29" and isinstance(zoe["id"], int)
    assert created.headers["Location"].endswith(f"/api/v1/patients/{zoe['id']}")
    assert client.get(f"/api/v1/patients/{zoe['id']}", headers=doctor).json == zoe
    for i in range(3):
        client.post("/api/v1/patients", headers=doctor, json={"name": f"Page {i}", "identifier": f"P-{i}"})
    listing = client.get("/api/v1/patients?per_page=2&page=2", headers=doctor).json
    assert listing["total"] == 5 and listing["pages"] == 3 and len(listing["items"]) == 2
    assert [p["name"] for p in client.get("/api/v1/patients?q=zed", headers=doctor).json["items"]] == ["Zoe Zed"]
    assert client.get("/api/v1/patients?q=MRN-0", headers=doctor).json["total"] == 1  # search by record number

    patched = client.patch(f"/api/v1/patients/{zoe['id']}", headers=doctor, json={"notes": "", "birth_date": None})
    assert patched.status_code == 200 and patched.json["notes"] == "" and patched.json["birth_date"] is None
    assert patched.json["name"] == "Zoe Zed"  # not given: kept
    taken = client.patch(f"/api/v1/patients/{zoe['id']}", headers=doctor, json={"identifier": "MRN-001"})
    assert_problem(taken, 409)
    assert_problem(client.post("/api/v1/patients", headers=doctor, json={"name": "X", "identifier": "MRN-777"}), 409)
    assert client.delete(f"/api/v1/patients/{zoe['id']}", headers=doctor).status_code == 204
    assert_problem(client.get(f"/api/v1/patients/{zoe['id']}", headers=doctor), 404)
    from webtools import audit_actions

    actions = audit_actions(app)
    assert {"patient.create", "patient.update", "patient.delete"} <= set(actions)


@pytest.mark.parametrize("body, field", [
    ({"name": "A"}, "identifier"), ({"name": " ", "identifier": "X"}, "name"),
    ({"name": "A", "identifier": "X", "birth_date": "2999-01-01"}, "birth_date"),
    ({"name": "A", "identifier": "X", "birth_date": "1850-01-01"}, "birth_date"),
    ({"name": "A", "identifier": "X", "birth_date": "31/12/1980"}, "birth_date"),
    ({"name": "A", "identifier": "X", "sex": "f"}, "sex"), ({"name": "A" * 201, "identifier": "X"}, "name"),
    ({"name": "A", "identifier": "X", "notes": "n" * 5001}, "notes"), ({"name": "A\x00", "identifier": "X"}, "name"),
    ({"name": "A", "identifier": "X", "doctor_id": 1}, "doctor_id"), ({"name": 5, "identifier": "X"}, "name"),
])
def test_patient_rules_are_the_web_forms(app, doctor, body, field):
    before = row_counts(app)["patients"]
    problem = assert_problem(app.test_client().post("/api/v1/patients", headers=doctor, json=body), 422)
    assert field in problem["errors"], problem
    assert row_counts(app)["patients"] == before


def test_beat_analysis_stored_listed_shown_deleted(app, world, doctor):
    client = app.test_client()
    beats = _beats(7)
    created = client.post(f"/api/v1/patients/{world.p}/analyses", headers=doctor,
                          json={"beats": beats, "filename": "gateway-0001.json"})
    assert created.status_code == 201, created.text
    a = created.json
    assert a["kind"] == "beats" and a["filename"] == "gateway-0001.json" and a["summary"]["n_beats"] == 7
    assert set(a) >= {"id", "created_at", "kind", "summary", "warnings"}
    listing = client.get(f"/api/v1/patients/{world.p}/analyses", headers=doctor).json
    assert [x["id"] for x in listing["items"]] == [a["id"], world.a] and listing["total"] == 2
    shown = client.get(f"/api/v1/analyses/{a['id']}", headers=doctor).json
    assert [b["beat"] for b in shown["beats"]] == list(range(1, 8)) and shown["beats_page"] is None
    scored = client.post("/api/v1/score", json={"beats": beats}, headers=doctor).json["beats"]
    assert [b["score"] for b in shown["beats"]] == pytest.approx([b["score"] for b in scored], rel=1e-5)
    assert [b["length"] for b in shown["beats"]] == [140] * 7
    page = client.get(f"/api/v1/analyses/{a['id']}", headers={**doctor}).get_json()
    assert page == shown
    assert_problem(client.get(f"/api/v1/analyses/{a['id']}/timeline?start=0&end=1", headers=doctor), 404)
    assert client.delete(f"/api/v1/analyses/{a['id']}", headers=doctor).status_code == 204
    assert_problem(client.get(f"/api/v1/analyses/{a['id']}", headers=doctor), 404)
    from sqlalchemy import select

    from ecgad.web.extensions import db
    from ecgad.web.models import AuditEvent

    with app.app_context():
        events = db.session.execute(select(AuditEvent.action, AuditEvent.detail, AuditEvent.actor_id)
                                    .where(AuditEvent.target_id == a["id"], AuditEvent.target_type == "analysis")).all()
    # what changed it, and that it was read (once in 10 minutes however many times: audit.viewed)
    assert [(e.action, e.actor_id) for e in events] == [("analysis.create", world.users["doctor"].id),
                                                         ("analysis.view", world.users["doctor"].id),
                                                         ("analysis.delete", world.users["doctor"].id)]
    assert all("via API token" in e.detail for e in events)


def test_analysis_with_a_bad_beat_stores_nothing(app, world, doctor):
    before = row_counts(app)
    beats = _beats(3) + [[2.0] * 40]
    problem = assert_problem(app.test_client().post(f"/api/v1/patients/{world.p}/analyses", headers=doctor,
                                                    json={"beats": beats}), 422)
    assert "beat 4" in problem["detail"] and "Nothing was stored" in problem["detail"]
    huge = _beats(1) + [[1e200, -1e200] * 20]  # finite, but the normalisation overflowed: NaN scores, a 500
    problem = assert_problem(app.test_client().post(f"/api/v1/patients/{world.p}/analyses", headers=doctor,
                                                    json={"beats": huge}), 422)
    assert "beat 2" in problem["detail"] and "too large" in problem["detail"]
    assert row_counts(app) == before


def test_recording_upload_paged_beats_and_window(app, world, doctor):
    x, peaks = synthetic_ecg("N" * 12 + "V" + "N" * 20, 250.0)
    csv = ("II\n" + "".join(f"{v:.5f}\n" for v in x)).encode()
    client = app.test_client()
    created = client.post(f"/api/v1/patients/{world.p}/analyses", headers=doctor,
                          data={"files": [(io.BytesIO(csv), "holter.csv")], "fs": "250", "lead": "II"},
                          content_type="multipart/form-data")
    assert created.status_code == 201, created.text
    a = created.json
    assert a["kind"] == "recording" and a["filename"] == "holter.csv" and a["summary"]["fs"] == 250
    n = a["summary"]["n_beats"]
    assert abs(n - len(peaks)) <= 1
    first = client.get(f"/api/v1/analyses/{a['id']}?per_page=10", headers=doctor).json
    second = client.get(f"/api/v1/analyses/{a['id']}?per_page=10&page=2", headers=doctor).json
    assert first["beats_page"] == {"page": 1, "per_page": 10, "total": n, "pages": -(-n // 10)}
    assert [b["beat"] for b in first["beats"] + second["beats"]] == list(range(1, 21))
    assert set(first["beats"][0]["parts"]) == {"autoencoder", "template", "rhythm"}
    samples = [b["sample"] for b in first["beats"]]
    assert np.all(np.diff(samples) > 0)
    window = client.get(f"/api/v1/analyses/{a['id']}/timeline?start=0&end=4", headers=doctor)
    assert window.status_code == 200, window.text
    w = window.json
    assert w["start"] == 0 and w["end"] == 4 and len(w["signal"]["x"]) == 4 * 250 + 1
    np.testing.assert_allclose(w["signal"]["y"], x[:1001], atol=1e-3)
    assert_problem(client.get(f"/api/v1/analyses/{a['id']}/timeline?start=4&end=1", headers=doctor), 422)
    assert_problem(client.get(f"/api/v1/analyses/{a['id']}/timeline?start=0", headers=doctor), 422)


def test_recording_upload_errors_store_nothing(app, world, doctor):
    client = app.test_client()
    before = row_counts(app)
    no_rate = client.post(f"/api/v1/patients/{world.p}/analyses", headers=doctor,
                          data={"files": [(io.BytesIO(b"II\n0.1\n0.2\n"), "trace.csv")]},
                          content_type="multipart/form-data")
    assert "Nothing was stored" in assert_problem(no_rate, 422)["detail"]
    bad_fs = client.post(f"/api/v1/patients/{world.p}/analyses", headers=doctor,
                         data={"files": [(io.BytesIO(b"II\n0.1\n"), "trace.csv")], "fs": "5"},
                         content_type="multipart/form-data")
    assert "fs" in assert_problem(bad_fs, 422)["errors"]
    no_files = client.post(f"/api/v1/patients/{world.p}/analyses", headers=doctor, data={"fs": "250"},
                           content_type="multipart/form-data")
    assert "files" in assert_problem(no_files, 422)["errors"]
    exe = client.post(f"/api/v1/patients/{world.p}/analyses", headers=doctor,
                      data={"files": [(io.BytesIO(b"MZ"), "run.exe")]}, content_type="multipart/form-data")
    assert "not accepted" in assert_problem(exe, 422)["detail"]
    assert row_counts(app) == before


def test_openapi_document_describes_every_operation(app):
    spec = app.test_client().get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    operations = {(path, method) for path, item in spec["paths"].items() for method in item if method != "parameters"}
    routes = {(str(rule).replace("<int:", "{").replace(">", "}"), method.lower())
              for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert operations == routes and len(routes) == 21  # 13, and the review's 8 (api/review.py)
    for (path, method) in operations:
        op = spec["paths"][path][method]
        assert op.get("summary") or op.get("description"), (path, method)
        default = op["responses"]["default"]
        ref = default["$ref"].rsplit("/", 1)[1]
        assert "application/problem+json" in spec["components"]["responses"][ref]["content"]
    assert spec["paths"]["/api/v1/health"]["get"]["security"] == []
    upload = spec["paths"]["/api/v1/patients/{patient_id}/analyses"]["post"]["requestBody"]["content"]
    assert set(upload) == {"application/json", "multipart/form-data"}
    from openapi_spec_validator import validate

    validate(spec)


def test_docs_page_works_offline_under_the_csp(app):
    """Swagger UI's files come from the app; the page has no inline script and names no other host."""
    import re

    client = app.test_client()
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.text) and "http" not in page.text
    for src in re.findall(r'(?:src|href)="([^"]+)"', page.text):
        assert src.startswith("/"), src
        asset = client.get(src)
        assert asset.status_code == 200 and len(asset.data) > 100, src
    assert client.get("/api/v1/docs/assets/index.html").status_code == 404
    assert client.get("/api/v1/docs/assets/..%2f__init__.py").status_code == 404


def test_window_is_strict_json_when_a_part_is_missing(app, world, doctor):
    """A beat whose part of the score is missing (NULL; NaN in memory) gives null, never NaN."""
    import json

    from sqlalchemy import update

    from ecgad.web.extensions import db
    from ecgad.web.models import RecordingBeat

    x, _peaks = synthetic_ecg("N" * 12, 250.0)
    csv = ("II\n" + "".join(f"{v:.5f}\n" for v in x)).encode()
    client = app.test_client()
    a = client.post(f"/api/v1/patients/{world.p}/analyses", headers=doctor,
                    data={"files": [(io.BytesIO(csv), "holter.csv")], "fs": "250"},
                    content_type="multipart/form-data").json
    with app.app_context():
        db.session.execute(update(RecordingBeat).where(RecordingBeat.analysis_id == a["id"],
                                                       RecordingBeat.position == 0).values(part_template=None))
        db.session.commit()
    response = client.get(f"/api/v1/analyses/{a['id']}/timeline?start=0&end=20", headers=doctor)
    assert response.status_code == 200, response.text

    def refuse(constant):
        raise AssertionError(f"{constant} is not JSON")

    window = json.loads(response.get_data(as_text=True), parse_constant=refuse)
    rows = window["normal"]["customdata"] + window["abnormal"]["customdata"]
    first = next(row for row in rows if row[0] == 1)
    assert None in first and all(v is not None for row in rows if row[0] != 1 for v in row)
