"""The ECG viewer's endpoints: strip.json (every stored lead and the beats' labels of a window, clamped
and bounded) and abnormal.json (the next or previous abnormal beat); who may read them."""
from __future__ import annotations

import numpy as np
import pytest
from heartbeats import synthetic_ecg
from test_web_recordings import FS, KINDS, SYMBOLS, _analysis_id, stored, write_wfdb
from webtools import upload_recording


@pytest.fixture(scope="module")
def two_leads():
    x, peaks = synthetic_ecg(KINDS, FS)
    return x, peaks


@pytest.fixture
def recording(app, client_for, world, two_leads) -> int:
    """A two-lead CSV (II, and V1 = -II / 2) of the synthetic signal, uploaded by the doctor."""
    x, _ = two_leads
    data = ("time,II,V1\n" + "".join(f"{i / FS:.4f},{v:.5f},{-v / 2:.5f}\n" for i, v in enumerate(x))).encode()
    return _analysis_id(upload_recording(client_for("doctor"), world.p, [(data, "two.csv")]))


def _strip(client, analysis_id, start, end, status=200):
    response = client.get(f"/analyses/{analysis_id}/strip.json?start={start}&end={end}")
    assert response.status_code == status, response.text
    return response.get_json()


def test_strip_has_every_lead_and_the_beats(app, client_for, recording, two_leads):
    x, _ = two_leads
    client = client_for("doctor")
    s = stored(app, recording)
    assert s.recording.lead_names == ["II", "V1"]
    w = _strip(client, recording, 10, 20)
    assert w["start"] == 10 and w["end"] == pytest.approx(20 + 1 / FS) and w["fs"] == FS and w["step"] == 1
    assert [lead["name"] for lead in w["leads"]] == ["II", "V1"]
    np.testing.assert_allclose(w["leads"][0]["samples"], x[2500:5001], atol=1e-4)
    np.testing.assert_allclose(w["leads"][1]["samples"], -x[2500:5001] / 2, atol=1e-4)
    inside = np.flatnonzero((s.sample >= 10 * FS) & (s.sample <= 20 * FS))
    assert [b["number"] for b in w["beats"]] == list(inside + 1)
    for b in w["beats"]:
        i = b["number"] - 1
        assert b["time"] == pytest.approx(s.sample[i] / FS) and b["anomalous"] == s.is_anomaly[i]
        assert b["abnormal"] == (bool(s.is_anomaly[i]) or b["class"] not in (None, "N"))
        assert b["annotation"] is None  # no reference uploaded


def test_strip_is_clamped_and_bounded(app, client_for, recording, two_leads, monkeypatch):
    from ecgad.web.analyses import strip

    x, _ = two_leads
    client = client_for("doctor")
    duration = x.size / FS
    w = _strip(client, recording, "-inf", "inf")  # a minute at most, from the start
    assert w["start"] == 0 and w["end"] == pytest.approx(strip.MAX_STRIP_S + 1 / FS)
    assert all(len(lead["samples"]) == strip.MAX_STRIP_S * FS + 1 for lead in w["leads"])
    w = _strip(client, recording, duration + 5, duration + 10)
    assert all(lead["samples"] == [] for lead in w["leads"]) and w["beats"] == []
    monkeypatch.setattr(strip, "MAX_STRIP_FS", 100.0)  # 250 Hz thinned by 3: peaks kept
    w = _strip(client, recording, 0, 30)
    assert w["step"] == 3 and w["fs"] == pytest.approx(FS / 3)
    ii = np.array(w["leads"][0]["samples"])
    assert ii.size == pytest.approx(30 * FS / 3, abs=2)
    assert ii.max() == pytest.approx(x[:7501].max(), abs=1e-3) and ii.min() == pytest.approx(x[:7501].min(), abs=1e-3)
    for query in ("", "?start=1", "?start=5&end=5", "?start=nan&end=5", "?start=1&end=inf&x", "?start=-inf&end=inf"):
        response = client.get(f"/analyses/{recording}/strip.json{query}")
        assert response.status_code == (200 if "inf" in query else 400), query


def test_abnormal_beats_next_and_previous(app, client_for, recording):
    client = client_for("doctor")
    s = stored(app, recording)
    abnormal = np.flatnonzero(s.is_anomaly)  # no class model here: abnormal means flagged
    assert abnormal.size >= 4
    t = 0.0
    seen = []
    while True:
        beat = client.get(f"/analyses/{recording}/abnormal.json?after={t}").get_json()["beat"]
        if beat is None:
            break
        seen.append(beat["number"] - 1)
        t = beat["time"]
    assert seen == list(abnormal)
    back = client.get(f"/analyses/{recording}/abnormal.json?before={t}").get_json()["beat"]
    assert back["number"] - 1 == abnormal[-2]
    assert client.get(f"/analyses/{recording}/abnormal.json?before=0").get_json() == {"beat": None}
    for query in ("", "?after=nan", "?after=1&before=2", "?after=x"):
        assert client.get(f"/analyses/{recording}/abnormal.json{query}").status_code == 400, query


def test_reference_symbols_on_the_strip(app, client_for, world, tmp_path):
    x, peaks = synthetic_ecg(KINDS, FS)
    files = write_wfdb(tmp_path / "rec", x, peaks, [SYMBOLS[k] for k in KINDS])
    analysis = _analysis_id(upload_recording(client_for("doctor"), world.p, files))
    w = _strip(client_for("doctor"), analysis, 0, 60)
    symbols = {b["number"]: b["annotation"] for b in w["beats"]}
    s = stored(app, analysis)
    assert symbols == {i + 1: s.annotation[i] for i in range(len(s.sample)) if s.sample[i] <= 60 * FS}
    assert set(symbols.values()) >= {"N", "V"}


def test_only_who_may_see_the_patient(app, client_for, recording, world):
    for role, status in (("other", 404), ("anonymous", 302), ("admin", 200)):
        client = client_for(role)
        assert client.get(f"/analyses/{recording}/strip.json?start=0&end=5").status_code == status, role
        assert client.get(f"/analyses/{recording}/abnormal.json?after=0").status_code == status, role
    doctor = client_for("doctor")
    assert doctor.get(f"/analyses/{world.a}/strip.json?start=0&end=5").status_code == 404  # a beats analysis


def values(data) -> np.ndarray:
    """A plotly JSON array: a list, or a typed array ({"dtype", "bdata": base64})."""
    import base64

    if isinstance(data, dict):
        return np.frombuffer(base64.b64decode(data["bdata"]), dtype=np.dtype(data["dtype"])).astype(float)
    return np.array(data, dtype=float)


def test_beat_figure_overlays_the_dominant_beat_and_explains_the_parts(app, client_for, recording):
    """The beat JSON's figure has the patient's dominant beat, the one RecordingDetector.dominant_beat gives
    from the whole stored lead; a flagged V beat lies farther from it than a normal beat; each part of the
    score is explained, largest first, with the stored value."""
    from ecgad.web.detection import recording_detector_of

    client = client_for("doctor")
    s = stored(app, recording)
    kinds = np.array(list(KINDS))
    distances = {}
    for kind in ("N", "V"):
        n = int(np.flatnonzero(kinds == kind)[2]) + 1  # past the first block
        beat = client.get(f"/analyses/{recording}/beats/{n}.json").get_json()
        traces = {t["name"]: t for t in beat["figure"]["data"]}
        dominant = values(traces["patient's dominant beat (template)"]["y"])
        with app.app_context():
            detector = recording_detector_of(s.analysis.model_id)
            expected = detector.dominant_beat(s.samples, FS, s.sample, n - 1)
        np.testing.assert_allclose(dominant, expected, atol=1e-6)
        shape = values(traces["beat"]["y"])
        distances[kind] = float(np.sqrt(((shape - dominant) ** 2).mean()))
        lines = beat["explanation"]
        assert len(lines) == 3 and [line.split(" part ")[0] for line in lines] == \
            [p.capitalize() for p in sorted(beat["parts"], key=lambda p: -abs(beat["parts"][p]))]
        template = next(line for line in lines if line.startswith("Template part"))
        assert template.startswith(f"Template part {beat['parts']['template']:+.2f}: ") and "dotted green" in template
    assert distances["V"] > 2 * distances["N"]
    page = client.get(f"/analyses/{recording}?beat=14").text
    assert page.count("<li>Template part ") == 1 and page.count("<li>Autoencoder part ") == 1
