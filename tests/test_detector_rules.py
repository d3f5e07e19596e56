"""The rules the beat detector's figures rest on: threshold, early stopping and score
standardisation come from the validation part alone; the confidence is measured in the spread
of the validation normals; the shipped model holds its figure on the test part it never saw."""
from __future__ import annotations

import math
from dataclasses import replace
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest
from heartbeats import heartbeats
from sklearn.metrics import roc_auc_score

from ecgad.data import ecg5000
from ecgad.data.beatfile import read_beats
from ecgad.data.ecg5000 import Beats, Split
from ecgad.detector import Detector, fit_split, load_detector
from ecgad.train import TrainConfig

TINY = TrainConfig(epochs=3, batch_size=32)
SMALL = {"members": 2, "cnn_channels": 4, "lstm_hidden": 8, "features": 8, "latent": 4, "decoder_hidden": 16}


def beats(normal: int, abnormal: int, seed: int) -> Beats:
    values = np.concatenate([heartbeats(normal, seed=seed), heartbeats(abnormal, abnormal=True, seed=seed + 1)])
    return Beats(values, np.r_[np.ones(normal, int), np.full(abnormal, 3)])


@pytest.fixture(scope="module")
def split() -> Split:
    return Split("synthetic", 0, beats(120, 10, seed=1), beats(40, 20, seed=3), beats(40, 20, seed=5), None)


def fitted(split: Split) -> Detector:
    return fit_split(split, config=SMALL, train_config=TINY, progress=False)


def rules(det: Detector) -> dict:
    """Everything fitting decides, the training time aside."""
    return {"meta": {k: v for k, v in det.meta.items() if k != "trained_at"}, "threshold": det.threshold,
            "log_scale": det.log_scale, "standardise": det.standardise, "training": det.training,
            "data_fit": det.fit_check.to_json() if det.fit_check else None}


@pytest.fixture(scope="module")
def reference(split: Split) -> Detector:
    return fitted(split)


# ------------------------------------------------------------------ validation only
def test_fit_split_never_looks_at_the_test_part(split: Split, reference: Detector) -> None:
    """Garbage for the test part (noise of another length and count, shuffled labels): the same model."""
    rng = np.random.default_rng(0)
    noise = Beats(rng.normal(0, 50, (33, 90)), rng.permutation(np.r_[np.ones(20, int), np.full(13, 4)]))
    shuffled = Beats(split.test.values, rng.permutation(split.test.labels))
    for garbage in (noise, shuffled):
        det = fitted(replace(split, test=garbage))
        assert det.meta["model_id"] == reference.meta["model_id"]
        assert rules(det) == rules(reference)


def test_the_validation_part_does_decide(split: Split, reference: Detector) -> None:
    """The other side of the rule, so that the test above can fail: other validation beats, another model."""
    other = fitted(replace(split, validation=beats(40, 20, seed=11)))
    assert other.threshold != reference.threshold
    assert other.standardise != reference.standardise
    assert other.training["member_val_neg_error"] != reference.training["member_val_neg_error"]


# ------------------------------------------------------------------ confidence
def test_confidence_is_068_one_validation_normal_spread_from_the_threshold(split: Split,
                                                                          reference: Detector) -> None:
    """The README: 0 at the threshold, 0.68 one spread away, 0.95 two, 0.997 three, either side;
    the spread is that of the validation normals' log scores (not the training normals', not all
    validation beats')."""
    val_normals = split.validation.normals
    sigma = float(np.std(np.log(reference.score(val_normals))))
    assert reference.log_scale == pytest.approx(sigma, rel=1e-5)
    others = (np.std(np.log(reference.score(split.train.normals))),
              np.std(np.log(reference.score(split.validation.values))))
    assert all(abs(s - sigma) > 1e-3 * sigma for s in others)  # the tests would tell them apart
    t = reference.threshold
    for spreads, expected in ((1, 0.6827), (2, 0.9545), (3, 0.9973)):
        conf = reference.confidence(np.array([t * math.exp(spreads * sigma), t * math.exp(-spreads * sigma)]))
        np.testing.assert_allclose(conf, expected, atol=1e-4)
    assert reference.confidence(np.array([t]))[0] == 0.0


# ------------------------------------------------------------------ the shipped model
def test_shipped_model_reaches_its_figure_on_the_resplit_seed_0_test_part(data_dir: Path) -> None:
    """ROC AUC >= 0.99 on the 1000 test beats of the split it was trained on (RESULTS.md: "shipped")."""
    shipped = load_detector()
    assert (shipped.meta["protocol"], shipped.meta["seed"]) == ("resplit", 0)
    test = ecg5000.split(data_dir, "resplit", 0).test
    scores = shipped.score(test.values)
    assert roc_auc_score(test.is_anomaly, scores) >= 0.99
    assert ((scores > shipped.threshold) == test.is_anomaly).mean() >= 0.97


def test_example_files_hold_only_beats_the_shipped_model_never_saw(data_dir: Path) -> None:
    """The web app's examples (and the README's analysis screenshot) come from the test part of the
    shipped model's split: neither trained on nor used for its threshold."""
    shipped = load_detector()
    parts = ecg5000.split(data_dir, shipped.meta["protocol"], shipped.meta["seed"])
    seen = {row.tobytes() for part in (parts.train, parts.validation) for row in part.values}
    held_out = {row.tobytes() for row in parts.test.values}
    for name in ("normal", "abnormal"):
        rows = np.asarray(read_beats(files("ecgad") / "assets" / "examples" / f"{name}_beats.csv"), dtype=np.float32)
        assert len(rows) == 5
        assert all(row.tobytes() in held_out and row.tobytes() not in seen for row in rows), name
