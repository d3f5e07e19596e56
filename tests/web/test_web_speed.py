"""What makes the server fast (issue 12): compressed responses, Plotly's script gzipped once and cached
under its version, the models warmed up in each process, and the worker/thread sizing for the cores."""
from __future__ import annotations

import gzip
import json
import re

import pytest
from apitools import auth, make_token
from webtools import normal_beats

GZIP = {"Accept-Encoding": "gzip"}


@pytest.fixture
def doctor(app, world):
    return auth(make_token(app, world.users["doctor"].id))


def _identity(client, url: str, **kwargs):
    return client.get(url, headers={"Accept-Encoding": "identity"}, **kwargs)


# ------------------------------------------------------------------ Plotly's script
def test_plotly_script_is_gzipped_to_the_same_bytes_and_cached_under_its_version(app, client_for, world):
    from ecgad.web.vendor import plotly_js_path, plotly_script

    client = client_for("doctor")
    page = client.get(f"/analyses/{world.a}").text
    url = re.search(r'<script src="(/vendor/plotly\.min\.js\?v=([0-9a-f]{16}))" defer>', page)
    assert url and url.group(2) == plotly_script().version
    raw = plotly_js_path().read_bytes()
    zipped = client.get(url.group(1), headers=GZIP)
    assert zipped.status_code == 200 and zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.mimetype == "text/javascript" and "Accept-Encoding" in zipped.headers["Vary"]
    assert gzip.decompress(zipped.data) == raw and len(zipped.data) < len(raw) / 2
    assert int(zipped.headers["Content-Length"]) == len(zipped.data)
    cache = zipped.headers["Cache-Control"]
    assert "immutable" in cache and "public" in cache and "max-age=31536000" in cache and "no-store" not in cache
    assert "default-src 'self'" in zipped.headers["Content-Security-Policy"]  # the headers of every response
    plain = _identity(client, url.group(1))
    assert "Content-Encoding" not in plain.headers and plain.data == raw
    assert "immutable" in plain.headers["Cache-Control"]
    assert plain.headers["ETag"] != zipped.headers["ETag"]  # one representation, one validator
    again = client.get(url.group(1), headers={**GZIP, "If-None-Match": zipped.headers["ETag"]})
    assert again.status_code == 304 and not again.data


def test_plotly_script_is_compressed_once_not_per_request(app, monkeypatch):
    """Every request answers the same bytes object, made once per process (no gzip call per request)."""
    from ecgad.web import vendor

    first = app.test_client().get("/vendor/plotly.min.js", headers=GZIP).data
    monkeypatch.setattr(vendor.gzip, "compress", lambda *a, **k: pytest.fail("compressed again"))
    assert app.test_client().get("/vendor/plotly.min.js", headers=GZIP).data == first == vendor.plotly_script().gzipped


def test_plotly_script_of_another_version_is_not_kept_for_good(app):
    """A stale or missing version gets today's script, cached only for a week (it may change)."""
    for url in ("/vendor/plotly.min.js", "/vendor/plotly.min.js?v=0000000000000000"):
        response = app.test_client().get(url, headers=GZIP)
        assert response.status_code == 200 and gzip.decompress(response.data)[:200].find(b"plotly.js") >= 0
        assert "immutable" not in response.headers["Cache-Control"] and "max-age=604800" in response.headers[
            "Cache-Control"]


# ------------------------------------------------------------------ compression of the rest
def test_large_json_is_compressed_and_decompresses_to_the_same_document(app):
    client = app.test_client()
    plain = _identity(client, "/api/v1/openapi.json")
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers and len(plain.data) > 10_000
    zipped = client.get("/api/v1/openapi.json", headers=GZIP)
    assert zipped.status_code == 200 and zipped.headers["Content-Encoding"] == "gzip"
    assert len(zipped.data) < len(plain.data) / 3
    assert json.loads(gzip.decompress(zipped.data)) == plain.json
    assert "Accept-Encoding" in zipped.headers["Vary"] and zipped.headers["Content-Security-Policy"]


def test_scoring_api_answers_the_same_compressed_or_not(app, doctor):
    """The JSON API: a large answer (256 beats, with curves) compressed, the same numbers once
    decompressed; a small one (the health check) left as it is; both with their usual headers."""
    client = app.test_client()
    beats = [[float(v) for v in b] for b in normal_beats()[:128]] * 2
    plain = client.post("/api/v1/score?detail=true", json={"beats": beats},
                        headers={**doctor, "Accept-Encoding": "identity"})
    zipped = client.post("/api/v1/score?detail=true", json={"beats": beats}, headers={**doctor, **GZIP})
    assert plain.status_code == zipped.status_code == 200
    assert "Content-Encoding" not in plain.headers and zipped.headers["Content-Encoding"] == "gzip"
    body = json.loads(gzip.decompress(zipped.data))
    assert body == plain.json and len(body["beats"]) == 256
    assert zipped.headers["Cache-Control"] == "no-store"  # still private
    health = client.get("/api/v1/health", headers=GZIP)
    assert health.status_code == 200 and "Content-Encoding" not in health.headers  # under 500 bytes: as it is
    assert health.json["status"] == "ok"


def test_pages_are_not_compressed(client_for, world):
    """HTML holds the CSRF token beside text a request can choose: compressing it could leak the token
    through the response's size (BREACH), so pages go out as they are."""
    client = client_for("doctor")
    page = client.get(f"/patients/{world.p}", headers=GZIP)
    assert page.status_code == 200 and page.mimetype == "text/html" and "Content-Encoding" not in page.headers
    assert "csrf_token" in page.text


def test_errors_under_the_api_stay_problem_json(app):
    response = app.test_client().get("/api/v1/patients", headers=GZIP)  # no token
    assert response.status_code == 401 and response.mimetype == "application/problem+json"
    assert "Content-Encoding" not in response.headers and response.get_json(force=True)["status"] == 401


# ------------------------------------------------------------------ models warmed up at start
def test_warm_up_loads_each_model_once_and_scores_with_it(app, monkeypatch):
    import ecgad.detector
    from ecgad.web import detection

    detection.forget_detectors()
    calls, load = [], ecgad.detector.load_detector
    monkeypatch.setattr(ecgad.detector, "load_detector", lambda *a, **k: calls.append("beat") or load(*a, **k))
    taken = detection.warm_up(app)
    assert set(taken) == {"beat", "recording"} and all(t > 0 for t in taken.values())
    with app.app_context():
        beat, recording = detection.get_detector(), detection.get_recording_detector()
        assert detection.get_detector() is beat and detection.get_recording_detector() is recording
    assert calls == ["beat"]  # loaded by the warm-up, then reused: the first request loads nothing
    response = app.test_client().get("/api/v1/health")
    assert response.json["models"] == {"beat": "ok", "recording": "ok"} and calls == ["beat"]


def test_warm_up_without_a_model_leaves_the_requests_to_say_so(make_app, tmp_path):
    from ecgad.web import detection

    detection.forget_detectors()
    app = make_app(MODEL_PATH=str(tmp_path / "missing.safetensors"))
    assert set(detection.warm_up(app)) == {"recording"}  # no beat model: logged, not fatal
    response = app.test_client().get("/api/v1/health")
    assert response.status_code == 503 and response.json["models"]["beat"] == "unavailable"
    detection.forget_detectors()


# ------------------------------------------------------------------ workers and threads for the cores
@pytest.mark.parametrize(("storage", "cores", "expected"), [
    ("memory://", 1, (1, 8)),
    ("memory://", 2, (1, 8)),
    ("memory://", 4, (1, 16)),
    ("memory://", 64, (1, 32)),
    ("redis://127.0.0.1:6379", 2, (2, 8)),
    ("redis://127.0.0.1:6379", 8, (8, 8)),
    ("redis://127.0.0.1:6379", 64, (16, 16)),
])
def test_sizing_for_the_cores(storage, cores, expected):
    from ecgad.web.server import sizing

    assert sizing(storage, cores=cores) == expected


def test_sizing_keeps_what_is_given():
    from ecgad.web.server import ServeError, check_workers, sizing

    assert sizing("memory://", workers=1, threads=3, cores=16) == (1, 3)
    assert sizing("redis://x", workers=3, cores=12) == (3, 16)
    assert sizing("redis://x", threads=5, cores=4) == (4, 5)
    workers, _ = sizing("memory://", workers=2, cores=8)
    with pytest.raises(ServeError):  # the automatic choice never needs this refusal; a given number may
        check_workers(workers, "memory://")


def test_sizing_counts_the_cores_this_process_may_use(monkeypatch):
    from ecgad.web import server

    monkeypatch.setattr(server.os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    assert server.available_cores() == 3
    assert server.sizing("redis://x") == (3, 8)
