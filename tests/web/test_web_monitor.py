"""The live monitor's pages and the pieces of signal they play (the stream itself: test_stream.py; the page in
a browser: tests/browser/test_browser_monitor.py): the example's samples, a stored recording's samples, a
streamed beat's link to the stored beat, bad parameters, and who may see what. The recording is analysed by
the recording model shipped with ecgad."""
from __future__ import annotations

import re

import numpy as np
import pytest
from heartbeats import synthetic_ecg
from webtools import upload_recording

from ecgad.data.synthetic import example_recording

FS = 250.0


@pytest.fixture
def recording(app, world, client_for) -> int:
    """A recording analysis of the doctor's patient p: 40 beats with one PVC; its id."""
    x, _ = synthetic_ecg("N" * 20 + "V" + "N" * 19, FS)
    csv = ("time,II\n" + "".join(f"{i / FS:.4f},{v:.5f}\n" for i, v in enumerate(x))).encode()
    response = upload_recording(client_for("doctor"), world.p, [(csv, "holter.csv")])
    assert response.status_code == 302, response.text[:1000]
    return int(re.fullmatch(r"/analyses/(\d+)", response.location).group(1))


def stored(app, analysis_id: int):
    from sqlalchemy import select

    from ecgad.web.extensions import db
    from ecgad.web.models import Analysis, RecordingBeat

    with app.app_context():
        samples = db.session.get(Analysis, analysis_id).recording.samples()
        beats = db.session.execute(select(RecordingBeat.position, RecordingBeat.sample, RecordingBeat.is_anomaly)
                                   .where(RecordingBeat.analysis_id == analysis_id)
                                   .order_by(RecordingBeat.position)).all()
    return samples, beats


def test_the_example_page(client_for):
    client = client_for("doctor")
    response = client.get("/monitor")
    assert response.status_code == 200
    html = response.text
    assert 'id="nav-monitor" href="/monitor"\n                 aria-current="page"' in html
    assert 'data-source="example"' in html and 'data-samples-url="/monitor/example/samples.json"' in html
    assert 'data-ws-url="ws://localhost/monitor/ws"' in html
    # no inline script (the CSP allows none): scripts are files or JSON data
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert re.search(r'<option value="" selected>the example recording</option>\s*</select>', html)


def test_the_example_samples(client_for):
    example = example_recording()
    n = example.samples.size
    client = client_for("doctor")
    piece = client.get("/monitor/example/samples.json?start=100&count=720").json
    assert piece["fs"] == 360.0 and piece["start"] == 100 and piece["total"] is None and not piece["ended"]
    assert np.allclose(piece["samples"], example.samples[100:820], atol=5e-5)
    # it repeats without end: the piece across the end goes on from the start
    across = client.get(f"/monitor/example/samples.json?start={n - 5}&count=10").json["samples"]
    assert np.allclose(across, np.concatenate([example.samples[-5:], example.samples[:5]]), atol=5e-5)
    later = client.get(f"/monitor/example/samples.json?start={3 * n + 7}&count=3").json["samples"]
    assert np.allclose(later, example.samples[7:10], atol=5e-5)


@pytest.mark.parametrize("query", ["", "start=0", "count=10", "start=-1&count=10", "start=0&count=0",
                                   "start=0&count=21601", "start=x&count=10", "start=0&count=1e3",
                                   f"start={2**53 + 1}&count=10"])
def test_bad_pieces_are_refused(client_for, recording, query):
    client = client_for("doctor")
    for url in ("/monitor/example/samples.json", f"/monitor/recordings/{recording}/samples.json"):
        response = client.get(f"{url}?{query}")
        assert response.status_code == 400, (url, query)
        assert response.json["message"].startswith("Give start (a sample number, 0 or more) and count (1 to ")


def test_a_stored_recording(app, client_for, world, recording):
    samples, beats = stored(app, recording)
    client = client_for("doctor")
    html = client.get(f"/monitor/recordings/{recording}").text
    assert "Live monitor: Recording holter.csv" in html and 'data-source="recording"' in html
    assert f'data-total="{samples.size}"' in html and 'data-lead="II"' in html and 'data-fs="250.0"' in html
    assert f'<option value="{recording}" selected>' in html
    # its samples, as stored; fewer at its end, which the last piece says
    piece = client.get(f"/monitor/recordings/{recording}/samples.json?start=1000&count=500").json
    assert piece["total"] == samples.size and not piece["ended"]
    assert np.allclose(piece["samples"], samples[1000:1500], atol=5e-5)
    last = client.get(f"/monitor/recordings/{recording}/samples.json?start={samples.size - 10}&count=500").json
    assert len(last["samples"]) == 10 and last["ended"]
    past = client.get(f"/monitor/recordings/{recording}/samples.json?start={samples.size + 10}&count=5").json
    assert past["samples"] == [] and past["ended"]
    # the menu opens it; the patient's page and the recording's page link to it
    assert client.get(f"/monitor?recording={recording}").location == f"/monitor/recordings/{recording}"
    assert f'href="/monitor/recordings/{recording}" class="monitor-link"' in client.get(f"/patients/{world.p}").text
    assert f'id="live-monitor" href="/monitor/recordings/{recording}"' in client.get(f"/analyses/{recording}").text


def test_a_streamed_beat_links_to_the_stored_one(app, client_for, recording):
    _, beats = stored(app, recording)
    client = client_for("doctor")
    pvc = next(b for b in beats if b.is_anomaly)
    for offset in (0, 20, -20):  # within 150 ms: the nearest stored beat
        response = client.get(f"/monitor/recordings/{recording}/beat?sample={pvc.sample + offset}")
        assert response.status_code == 302
        assert response.location == f"/analyses/{recording}?beat={pvc.position + 1}#beat-plot-section"
    # no stored beat there: the recording's page, saying so
    response = client.get(f"/monitor/recordings/{recording}/beat?sample=5", follow_redirects=True)
    assert response.request.path == f"/analyses/{recording}"
    assert "The stored analysis has no beat at 0.0 s" in response.text
    for bad in ("", "?sample=x", "?sample=-3", f"?sample={2**40}"):
        response = client.get(f"/monitor/recordings/{recording}/beat{bad}")
        assert response.status_code == 302 and response.location == f"/analyses/{recording}"


def test_who_may_play_what(app, client_for, world, recording):
    paths = [f"/monitor/recordings/{recording}", f"/monitor/recordings/{recording}/samples.json?start=0&count=5",
             f"/monitor/recordings/{recording}/beat?sample=100"]
    other = client_for("other")
    for path in paths:
        assert other.get(path).status_code == 404, path
    assert f'value="{recording}"' not in other.get("/monitor").text  # not offered either
    admin = client_for("admin")  # admins see every analysis, as on the recording's page
    assert [admin.get(p).status_code for p in paths] == [200, 200, 302]
    anonymous = client_for("anonymous")
    for path in [*paths, "/monitor", "/monitor/example/samples.json?start=0&count=5"]:
        response = anonymous.get(path)
        assert response.status_code == 302 and response.location.startswith("/login"), path
    # a beat-file analysis is no recording: not found
    doctor = client_for("doctor")
    assert doctor.get(f"/monitor/recordings/{world.a}").status_code == 404
    assert doctor.get(f"/monitor/recordings/{world.a}/samples.json?start=0&count=5").status_code == 404
