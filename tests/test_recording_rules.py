"""The recording model's own rules: its threshold (best accuracy on the training records' beats), its
spread (1.4826 x the MAD of the training normals' scores), its non-negative weights and the stand-in
for missing features, and its cross-fitting (each training record's autoencoder features come from
an autoencoder that never saw that record). Then the shipped recording model on signals it never
saw: a PTB record and synthetic recordings (all 22 MIT-BIH records here are its training records).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from heartbeats import synthetic_ecg

from ecgad.detector import choose_threshold
from ecgad.recording import (
    AnnotatedRecord,
    Combination,
    beat_table,
    fit_beat_model,
    load_recording_detector,
    training_tables,
)
from ecgad.train import TrainConfig

FS = 250.0
TINY = {"members": 1, "cnn_channels": 4, "lstm_hidden": 8, "features": 8, "latent": 4, "decoder_hidden": 16}
NAMES = ("template", "premature", "pause")  # real feature names: parts() maps them to parts


def training_features(seed: int = 0) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Two features that rise with abnormality, one that falls (its weight must stay 0), some missing."""
    rng = np.random.default_rng(seed)
    y = np.r_[np.zeros(300, bool), np.ones(60, bool)]
    rises, rises_less, falls = (rng.normal(0, 1, y.size) + shift * y for shift in (2.5, 1.0, -1.5))
    rises_less[rng.choice(y.size, 20, replace=False)] = np.nan
    features = dict(zip(NAMES, (rises, rises_less, falls), strict=True))
    return features, y


# ------------------------------------------------------------------ threshold, spread, weights
def test_threshold_is_the_best_accuracy_cut_of_the_training_beats() -> None:
    features, y = training_features()
    c = Combination.fit(features, y, NAMES)
    scores = c.score(features)
    assert c.threshold == choose_threshold(scores, y)
    cuts = np.r_[scores.min() - 1, np.sort(scores)]
    best = max(((scores > cut) == y).mean() for cut in cuts)
    assert ((scores > c.threshold) == y).mean() == best


def test_spread_is_the_robust_spread_of_the_training_normals_scores() -> None:
    features, y = training_features()
    c = Combination.fit(features, y, NAMES)
    normal = c.score(features)[~y]
    assert c.sigma == pytest.approx(1.4826 * np.median(np.abs(normal - np.median(normal))), rel=1e-12)
    everything = c.score(features)
    assert abs(c.sigma - 1.4826 * np.median(np.abs(everything - np.median(everything)))) > 1e-3 * c.sigma
    t = c.threshold
    for spreads, expected in ((1, 0.6827), (2, 0.9545), (3, 0.9973)):
        conf = c.confidence(np.array([t + spreads * c.sigma, t - spreads * c.sigma]))
        np.testing.assert_allclose(conf, expected, atol=1e-4)
    assert c.confidence(np.array([t]))[0] == 0.0


def test_weights_are_non_negative_and_a_missing_feature_counts_as_a_typical_normal() -> None:
    features, y = training_features()
    c = Combination.fit(features, y, NAMES)
    assert c.weights[0] > 0 and c.weights[1] > 0 and c.weights[2] == 0.0  # the third falls with abnormality: no say
    medians = {n: np.array([np.nanmedian(features[n][~y])]) for n in NAMES}
    np.testing.assert_allclose(c.normal_median, [m[0] for m in medians.values()])
    missing = {n: np.array([np.nan]) for n in NAMES}
    assert c.score(missing) == pytest.approx(c.score(medians))
    assert all(v[0] == pytest.approx(0.0) for v in c.parts(missing).values())


# ------------------------------------------------------------------ cross-fitting
class _Signal:
    def __init__(self, samples: np.ndarray, fs: float) -> None:
        self.samples, self.fs = samples, fs


@pytest.fixture(scope="module")
def records() -> list:
    """Four synthetic annotated records, of two slightly different shapes, with ectopic beats."""
    loaded = []
    for i in range(4):
        kinds = ("N" * 8 + "V" + "N" * 6 + "A") * 3
        x, peaks = synthetic_ecg(kinds, FS, rr=0.75 + 0.1 * (i % 2), seed=20 + i)
        symbols = np.array(list(kinds))
        loaded.append((_Signal(x, FS), AnnotatedRecord(f"r{i}", Path(f"r{i}"), FS, "II", peaks, symbols, peaks,
                                                       symbols)))
    return loaded


FIT = {"config": TINY, "train_config": TrainConfig(epochs=2, batch_size=32), "progress": False}


def test_crossfitting_scores_each_record_with_an_autoencoder_that_never_saw_it(records) -> None:
    """``crossfit=2``: records 0 and 2 are scored by the autoencoder trained on 1 and 3 (seed + 1),
    records 1 and 3 by the one trained on 0 and 2 (seed + 2); the returned autoencoder saw all four."""
    full = training_tables(records, crossfit=2, seed=7, **FIT)
    assert full.meta["n_train"] > 0
    for k in range(2):
        seen = [pair for i, pair in enumerate(records) if i % 2 != k]
        fold = fit_beat_model(seen, seed=7 + 1 + k, **FIT)
        assert fold.meta["model_id"] != full.meta["model_id"]
        for signal, record in records[k::2]:
            expected = beat_table(signal.samples, signal.fs, fold, peaks=record.peaks).features
            for name in ("autoencoder", "latent"):
                np.testing.assert_array_equal(record.table.features[name], expected[name])
            by_full = beat_table(signal.samples, signal.fs, full, peaks=record.peaks).features
            assert not np.allclose(record.table.features["autoencoder"], by_full["autoencoder"], equal_nan=True)


def test_without_crossfitting_the_autoencoder_scores_its_own_training_records(records) -> None:
    full = training_tables(records, crossfit=0, seed=7, **FIT)
    signal, record = records[0]
    expected = beat_table(signal.samples, signal.fs, full, peaks=record.peaks).features
    np.testing.assert_array_equal(record.table.features["autoencoder"], expected["autoencoder"])


# ------------------------------------------------------------------ the shipped model on signals it never saw
@pytest.fixture(scope="module")
def shipped():
    return load_recording_detector()


def test_shipped_model_was_trained_on_every_mitdb_record_here(shipped) -> None:
    """So a test on these records measures fit, not generalisation (the tests that use them say so)."""
    assert len(shipped.meta["trained_on"]["records"]) == 22 and "119" in shipped.meta["trained_on"]["records"]


def test_shipped_model_on_a_ptb_record_it_never_saw(shipped, data_dir: Path) -> None:
    """PTB s0010_re: another database, another patient, 1000 Hz, sinus rhythm: no beat is flagged."""
    from ecgad.data.readers import read_recording

    record = data_dir / "wfdb" / "s0010_re"
    if not record.with_suffix(".hea").is_file():
        pytest.skip(f"no PTB record s0010_re in {record.parent}")
    signal = read_recording(record)
    result = shipped.analyze(signal)
    assert signal.lead == "ii" and signal.fs == 1000.0
    assert len(result) >= 48 and 75 < result.summary["mean_hr_bpm"] < 90
    assert not result.is_anomaly.any()


@pytest.mark.parametrize("seed", [0, 1])
def test_shipped_model_on_synthetic_recordings(shipped, seed: int) -> None:
    """Premature beats (A, V) flagged, normal ones not; wide beats on time (W) score above every N."""
    kinds = np.array(list(("N" * 12 + "V" + "N" * 10 + "A" + "N" * 9 + "W") * 3))
    x, peaks = synthetic_ecg("".join(kinds), FS, seed=seed)
    signal = _Signal(x.astype(np.float32), FS)
    signal.lead, signal.source, signal.duration_s = "II", "synthetic", x.size / FS
    result = shipped.analyze(signal)
    assert np.array_equal(result.sample, peaks) or np.abs(result.sample - peaks).max() <= 0.05 * FS
    flagged = result.is_anomaly
    assert flagged[np.isin(kinds, ["A", "V"])].all() and not flagged[kinds == "N"].any()
    assert result.score[kinds == "W"].min() > result.score[kinds == "N"].max()
    assert math.isclose(result.threshold, shipped.threshold)
