"""Analyses: uploads (and every way they can fail, storing nothing), examples, the
analysis page with its table and figure, history and deletion."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest
from webtools import add_analysis, audit_actions, csv_bytes, row_counts, upload


def _analysis(app, analysis_id):
    from sqlalchemy.orm import undefer

    from ecgad.web.extensions import db
    from ecgad.web.models import Analysis, AnalysisBeat

    with app.app_context():
        analysis = db.session.get(Analysis, analysis_id)
        beats = db.session.scalars(db.select(AnalysisBeat).where(AnalysisBeat.analysis_id == analysis_id)
                                   .order_by(AnalysisBeat.position)
                                   .options(undefer(AnalysisBeat.signal), undefer(AnalysisBeat.curves))).all()
        return analysis, [(b, b.samples(), b.curve_arrays()) for b in beats]


def test_upload_stores_analysis_and_beats(app, client_for, world, beats, model_path):
    client = client_for("doctor")
    response = upload(client, world.p, csv_bytes(beats), "holter 1.csv")
    assert response.status_code == 302, response.text
    analysis_id = int(response.location.rsplit("/", 1)[1])
    analysis, stored = _analysis(app, analysis_id)
    from ecgad.detector import load_detector

    detector = load_detector(model_path)
    verdicts = detector.predict(list(beats))
    assert analysis.filename == "holter 1.csv" and analysis.source == "upload"
    assert analysis.n_beats == len(beats) == len(stored)
    assert analysis.n_anomalies == sum(v.is_anomaly for v in verdicts)
    assert analysis.model_id == detector.meta["model_id"] and analysis.model_version == detector.meta["version"]
    assert analysis.threshold == pytest.approx(detector.threshold)
    assert analysis.max_score == pytest.approx(max(v.score for v in verdicts), rel=1e-5)
    assert analysis.created_by_id == world.users["doctor"].id and analysis.created_at is not None
    assert json.loads(analysis.model_info)["model_id"] == analysis.model_id
    for (row, samples, (beat, recon, error)), verdict, original in zip(stored, verdicts, beats, strict=True):
        assert row.score == pytest.approx(verdict.score, rel=1e-5) and row.is_anomaly == verdict.is_anomaly
        assert row.confidence == pytest.approx(verdict.confidence, abs=1e-6) and row.label is None
        as_uploaded = np.array([float(f"{v:.6g}") for v in original])  # the CSV holds 6 digits
        np.testing.assert_array_equal(samples, as_uploaded)
        np.testing.assert_allclose(recon, verdict.reconstruction, rtol=1e-3, atol=1e-4)
        np.testing.assert_allclose(error, verdict.error, rtol=1e-3, atol=1e-4)
        assert beat.shape == recon.shape == error.shape == (140,)
    assert audit_actions(app)[-1] == "analysis.create"

    page = client.get(response.location)
    assert page.status_code == 200
    assert f'data-testid="summary-beats">{len(beats)}<' in page.text
    assert page.text.count('data-testid="beat-row"') == len(beats)
    assert re.search(r'data-testid="beat-verdict">(normal|anomalous), confidence \d\.\d\d<', page.text)


def test_upload_stores_the_data_fit_warnings(app, client_for, world, beats):
    """Beats unlike the model's training data: the analysis is stored, with the warning on it."""
    client = client_for("doctor")
    noise = np.random.default_rng(0).normal(0, 1, (20, 140))
    response = upload(client, world.p, csv_bytes(noise), "other source.csv")
    assert response.status_code == 302, response.text
    analysis, stored = _analysis(app, int(response.location.rsplit("/", 1)[1]))
    assert len(stored) == 20
    assert [w["code"] for w in analysis.warnings] == ["unlike_training_data"]
    assert "do not look like the data the model was trained on" in analysis.warnings[0]["message"]

    response = upload(client, world.p, csv_bytes(beats), "holter.csv")  # the training data's own kind
    assert response.status_code == 302, response.text
    analysis, _ = _analysis(app, int(response.location.rsplit("/", 1)[1]))
    assert analysis.warnings == []


def test_variable_lengths_json_and_labels(app, client_for, world, beats):
    client = client_for("doctor")
    uneven = [beats[0][:100], np.interp(np.linspace(0, 139, 180), np.arange(140), beats[1])]
    response = upload(client, world.p, json.dumps([list(map(float, b)) for b in uneven]).encode(), "beats.json")
    assert response.status_code == 302, response.text
    _, stored = _analysis(app, int(response.location.rsplit("/", 1)[1]))
    assert [row.length for row, _, _ in stored] == [100, 180]
    assert [len(samples) for _, samples, _ in stored] == [100, 180]

    labelled = "\n".join("\t".join([str(label)] + [f"{v:.5f}" for v in beat])
                         for label, beat in zip([1, 3, 1], beats[:3], strict=True)).encode()
    response = upload(client, world.p, labelled, "ECG5000_part.tsv", labelled=True)
    assert response.status_code == 302, response.text
    analysis_id = int(response.location.rsplit("/", 1)[1])
    analysis, stored = _analysis(app, analysis_id)
    assert analysis.has_labels and [row.label for row, _, _ in stored] == [1, 3, 1]
    assert all(row.length == 140 for row, _, _ in stored)  # the label column is not a sample
    page = client.get(response.location).text
    assert "File label" in page and "(PVC)" in page

    # Analysed by a model trained on one's own file: its labels are shown as they are, no ECG5000 names
    from ecgad.web.extensions import db

    with app.app_context():
        stored_analysis = db.session.get(type(analysis), analysis_id)
        stored_analysis.model_info = json.dumps({**analysis.model, "labels": {"normal": "1", "names": ["1", "3"]}})
        db.session.commit()
    page = client.get(response.location).text
    assert "File label" in page and "(PVC)" not in page and "(normal)" not in page


def test_examples(app, client_for, world):
    client = client_for("doctor")
    for name in ("normal", "abnormal"):
        response = client.post(f"/patients/{world.p}/analyses/example/{name}")
        assert response.status_code == 302, response.text
        analysis, stored = _analysis(app, int(response.location.rsplit("/", 1)[1]))
        assert analysis.source == "example" and analysis.filename == f"{name}_beats.csv"
        assert analysis.n_beats == 5 and all(row.length == 140 for row, _, _ in stored)


def test_example_files_are_shipped():
    from importlib.resources import files

    folder = files("ecgad") / "assets" / "examples"
    for name in ("normal_beats.csv", "abnormal_beats.csv"):
        rows = [line.split(",") for line in (folder / name).read_text().splitlines() if line.strip()]
        assert len(rows) == 5 and all(len(row) == 140 for row in rows)
    readme = (folder / "README.md").read_text()
    assert "Dau" in readme and "Goldberger" in readme


NOT_UTF8 = "1,2,3,é\n".encode("latin-1")


def _many_beats(n: int) -> bytes:
    row = ",".join(f"{np.sin(i / 3):.3f}" for i in range(16))
    return ("\n".join([row] * n) + "\n").encode()


def _with_bad_row(beats, row: str) -> bytes:
    text = csv_bytes(beats[:3]).decode().splitlines()
    text.insert(1, row)
    return ("\n".join(text) + "\n").encode()


BAD_UPLOADS = {
    "empty": (b"", "beats.csv", False, "no beats found"),
    "only spaces": (b"  \n\n  \n", "beats.csv", False, "no beats found"),
    "not a number": (b"0.1,0.2,abc,0.4\n", "beats.csv", False, "&#39;abc&#39; is not a number"),
    "too many beats": (_many_beats(10_001), "beats.csv", False, "at most 10000 are accepted"),
    "too short": ("1,2,3,4,5\n", "beats.csv", False, "beat 1: 5 samples; a beat needs at least 16"),
    "not finite": ("1," * 20 + "nan\n", "beats.csv", False, "is not a finite number"),
    "wrong extension": (b"1,2,3", "beats.pdf", False, "files of type .pdf are not accepted"),
    "no extension": (b"1,2,3", "beats", False, "files without an extension are not accepted"),
    "wrong encoding": (NOT_UTF8, "beats.csv", False, "not UTF-8 text"),
    "binary": (bytes(range(256)) * 4, "beats.csv", False, "not UTF-8 text"),
    "bad json": (b"[[1, 2, 3]", "beats.json", False, "not valid JSON"),
    "json object": (b'{"beats": [1, 2]}', "beats.json", False, "expected a JSON array"),
    "label not whole": ("1.5," + "0.1," * 20 + "0.2\n", "beats.csv", True, "is not a whole number"),
    "label too large": ("1e20," + "0.1," * 20 + "0.2\n", "beats.csv", True, "too large"),
    "label out of range": ("3000000000," + "0.1," * 20 + "0.2\n", "beats.csv", True, "labels must be whole numbers"),
    "label only": ("1\n2\n", "beats.csv", True, "a label but no values"),
}


@pytest.mark.parametrize("case", list(BAD_UPLOADS), ids=list(BAD_UPLOADS))
def test_bad_upload_stores_nothing(app, client_for, world, case):
    data, filename, labelled, message = BAD_UPLOADS[case]
    data = data.encode() if isinstance(data, str) else data
    client = client_for("doctor")
    before = row_counts(app)
    response = upload(client, world.p, data, filename, labelled=labelled)
    assert response.status_code == 400, response.text[:300]
    error = re.search(r'data-testid="upload-error">([^<]*)<', response.text)
    assert error, "no upload error on the page"
    assert message in error.group(1) and "Nothing was stored." in error.group(1)
    assert 'id="upload-form"' in response.text  # the page is ready for another try
    assert row_counts(app) == before


@pytest.mark.parametrize("bad_row,message", [
    (",".join(["2.5"] * 40), "beat 2: is constant"),
], ids=["constant beat"])
def test_bad_beat_among_good_ones_stores_nothing(app, client_for, world, beats, bad_row, message):
    client = client_for("doctor")
    before = row_counts(app)
    response = upload(client, world.p, _with_bad_row(beats, bad_row), "beats.csv")
    assert response.status_code == 400
    assert message in response.text and "Nothing was stored." in response.text
    assert row_counts(app) == before


def test_missing_file(app, client_for, world):
    client = client_for("doctor")
    before = row_counts(app)
    response = client.post(f"/patients/{world.p}/analyses", data={},
                                         content_type="multipart/form-data")
    assert response.status_code == 400 and "Choose a file to upload." in response.text
    assert row_counts(app) == before


def test_too_large_upload(app, client_for, world):
    client = client_for("doctor")
    before = row_counts(app)
    big = b"0.5," * (20 * 1024 * 1024 // 4 + 10)
    response = upload(client, world.p, big, "big.csv")
    assert response.status_code == 413
    assert "larger than the 20 MB accepted" in response.text and 'data-testid="error-page"' in response.text
    assert row_counts(app) == before


def test_model_missing_is_a_clear_503(app, client_for, world, tmp_path, beats):
    app.config["MODEL_PATH"] = str(tmp_path / "no-such-model.safetensors")
    client = client_for("doctor")
    before = row_counts(app)
    response = upload(client, world.p, csv_bytes(beats), "beats.csv")
    assert response.status_code == 503 and "model is not available" in response.text
    assert row_counts(app) == before
    # stored analyses still show exactly what they showed, without the model
    page = client.get(f"/analyses/{world.a}")
    assert page.status_code == 200 and 'id="beat-figure-data"' in page.text


def test_analysis_page_figure_table_filter_sort(app, client_for, world, beats):
    from ecgad.web.extensions import db
    from ecgad.web.models import AnalysisBeat

    # a mix of normal and clearly abnormal beats (noise), so both verdicts appear
    rng = np.random.default_rng(1)
    mixed = list(beats[:6]) + [rng.normal(size=140) for _ in range(4)]
    analysis_id = add_analysis(app, world.p, world.users["doctor"].id, beats=mixed)
    client = client_for("doctor")
    page = client.get(f"/analyses/{analysis_id}").text
    with app.app_context():
        rows = db.session.scalars(db.select(AnalysisBeat).where(AnalysisBeat.analysis_id == analysis_id)).all()
        top = max(rows, key=lambda r: r.score)
        n_anomalous = sum(r.is_anomaly for r in rows)
    assert 0 < n_anomalous < len(mixed)
    assert f'<h2 id="beat-heading">Beat {top.number}</h2>' in page  # the highest score is shown first
    data = re.search(r'<script type="application/json" id="beat-figure-data">(.*?)</script>', page, re.S).group(1)
    figure = json.loads(data)
    assert len(figure["data"]) == 4 and figure["layout"]["title"]["text"].startswith(f"Beat {top.number}: ")
    assert "/vendor/plotly.min.js" in page and "/static/js/beat-plot.js" in page and "/vendor/plotly.css" in page
    assert "<script>" not in page  # no inline scripts

    only = client.get(f"/analyses/{analysis_id}?only=anomalies").text
    assert only.count('data-testid="beat-row"') == n_anomalous and 'data-verdict="normal"' not in only

    by_score = client.get(f"/analyses/{analysis_id}?sort=-score").text
    order = [int(n) for n in re.findall(r'data-testid="beat-row" data-beat="(\d+)"', by_score)]
    scores = {r.number: r.score for r in rows}
    assert [scores[n] for n in order] == sorted(scores.values(), reverse=True)
    assert 'aria-sort="descending"' in by_score

    chosen = client.get(f"/analyses/{analysis_id}?beat=2&sort=score").text
    assert '<h2 id="beat-heading">Beat 2</h2>' in chosen and 'class="selected" aria-current="true"' in chosen

    beat = client.get(f"/analyses/{analysis_id}/beats/2.json").get_json()
    assert beat["beat"] == 2 and beat["verdict"].split(",")[0] in ("normal", "anomalous")
    assert beat["figure"]["data"] and beat["threshold"] > 0
    assert client.get(f"/analyses/{analysis_id}/beats/99.json").status_code == 404
    assert client.get(f"/analyses/{analysis_id}?sort=bogus&only=bogus&page=-3").status_code == 200


def test_beat_table_paginates(app, client_for, world, beats):
    app.config["BEATS_PER_PAGE"] = 3
    analysis_id = add_analysis(app, world.p, world.users["doctor"].id, beats=list(beats))  # 8 beats
    client = client_for("doctor")
    first = client.get(f"/analyses/{analysis_id}").text
    assert first.count('data-testid="beat-row"') == 3 and "Page 1 of 3" in first
    last = client.get(f"/analyses/{analysis_id}?page=3").text
    assert last.count('data-testid="beat-row"') == 2


def test_history_newest_first_and_delete(app, client_for, world, beats):
    client = client_for("doctor")
    second = add_analysis(app, world.p, world.users["doctor"].id, beats=list(beats[:2]), filename="later.csv")
    page = client.get(f"/patients/{world.p}").text
    ids = [int(i) for i in re.findall(r'data-testid="analysis-row" data-analysis-id="(\d+)"', page)]
    assert ids == [second, world.a]

    before = row_counts(app)
    confirm = client.get(f"/analyses/{second}/delete")
    assert confirm.status_code == 200 and 'id="confirm-delete"' in confirm.text
    response = client.post(f"/analyses/{second}/delete")
    assert response.status_code == 302 and response.location == f"/patients/{world.p}"
    after = row_counts(app)
    assert after["analyses"] == before["analyses"] - 1 and after["analysis_beats"] == before["analysis_beats"] - 2
    assert client.get(f"/analyses/{second}").status_code == 404
    assert audit_actions(app)[-1] == "analysis.delete"


def test_names_are_escaped(app, client_for, world, beats):
    client = client_for("doctor")
    response = client.post("/patients/new", data={"name": "<script>alert(1)</script>", "identifier": "<b>x</b>"})
    page = client.get(response.location).text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    patient_id = int(response.location.rsplit("/", 1)[1])
    response = upload(client, patient_id, csv_bytes(beats[:2]), "<img src=x onerror=alert(1)>.csv")
    page = client.get(response.location).text
    assert "<img src=x" not in page


def test_upload_filename_is_cleaned(app, client_for, world, beats):
    response = upload(client_for("doctor"), world.p, csv_bytes(beats[:2]), "../../etc/day\x07 1.csv")
    analysis, _ = _analysis(app, int(response.location.rsplit("/", 1)[1]))
    assert analysis.filename == "day 1.csv"
