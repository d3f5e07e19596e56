"""The web app with the beat model shipped with ecgad (the other web tests use a 3-epoch one, which can
score beats but not judge them): what it stores and shows is what the shipped model says, and on
ECG5000 beats it never trained on it says what the labels say."""
from __future__ import annotations

from importlib.resources import files

import numpy as np
import pytest
from test_web_analyses import _analysis
from webtools import csv_bytes, upload

from ecgad.detector import SHIPPED_MODEL, load_detector

SHIPPED = files("ecgad") / "assets" / SHIPPED_MODEL


@pytest.fixture
def app(make_app):
    return make_app(MODEL_PATH=str(SHIPPED))


def _stored_verdicts(app, response) -> tuple:
    assert response.status_code == 302, response.text
    analysis, stored = _analysis(app, int(response.location.rsplit("/", 1)[1]))
    return analysis, [row for row, _, _ in stored]


def test_examples_are_judged_by_the_shipped_model(app, client_for, world):
    detector = load_detector()
    client = client_for("doctor")
    for name, most_anomalous in (("normal", False), ("abnormal", True)):
        response = client.post(f"/patients/{world.p}/analyses/example/{name}")
        analysis, rows = _stored_verdicts(app, response)
        assert analysis.model_id == detector.meta["model_id"] == load_detector(SHIPPED).meta["model_id"]
        flagged = [row.is_anomaly for row in rows]
        assert (sum(flagged) > len(flagged) / 2) == most_anomalous, (name, flagged)
        page = client.get(response.location).text
        assert f'data-testid="summary-anomalies">{sum(flagged)}<' in page


def test_held_out_ecg5000_beats_get_their_labels(app, client_for, world, data_dir):
    """Beats of the resplit seed-0 test part (never trained on, nor used for the threshold)."""
    from ecgad.data import ecg5000

    test = ecg5000.split(data_dir, "resplit", 0).test
    rng = np.random.default_rng(0)
    pick = np.r_[rng.choice(np.flatnonzero(~test.is_anomaly), 30, replace=False),
                 rng.choice(np.flatnonzero(test.is_anomaly), 30, replace=False)]
    beats = test.values[pick]
    response = upload(client_for("doctor"), world.p, csv_bytes(beats), "held-out.csv")
    _, rows = _stored_verdicts(app, response)
    verdicts = load_detector().predict(list(beats))
    assert [row.is_anomaly for row in rows] == [v.is_anomaly for v in verdicts]
    flagged = np.array([row.is_anomaly for row in rows])
    assert (flagged == test.is_anomaly[pick]).mean() >= 0.95
