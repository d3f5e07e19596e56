"""The data-fit check: does a group of beats look like the model's training data?"""
from __future__ import annotations

import hashlib
import json
from importlib.resources import files
from math import comb
from pathlib import Path

import numpy as np
import pytest
from heartbeats import heartbeats
from safetensors.torch import load_file, safe_open, save_file

from ecgad import datafit
from ecgad.data.beatfile import read_beats
from ecgad.datafit import CODE, DataFit
from ecgad.detector import Detector, load_detector
from ecgad.train import TrainConfig

TINY = TrainConfig(epochs=3, batch_size=32)
T = np.linspace(0.0, 1.0, 140)


@pytest.fixture(scope="module")
def detector() -> Detector:
    """Fitted on normal beats only: its training side knows no abnormal beat."""
    return Detector(train_config=TINY).fit(heartbeats(150, seed=1), protocol="synthetic", seed=0, progress=False)


def foreign(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"inverted": -heartbeats(n, seed=seed + 20),
            "shifted": np.roll(heartbeats(n, seed=seed + 21), 40, axis=1),
            "noise": rng.normal(0, 1, (n, 140)),
            "sines": np.sin(2 * np.pi * T * rng.uniform(0.5, 5, (n, 1)) + rng.uniform(0, 6, (n, 1)))}


# ------------------------------------------------------------------ the rule
def test_binomial_tail_is_the_exact_sum() -> None:
    for n, k, p in ((5, 3, 0.2), (20, 11, 0.2), (7, 0, 0.3), (7, 7, 0.3)):
        exact = sum(comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(k, n + 1))
        assert datafit.binomial_tail(n, k, p) == pytest.approx(exact, rel=1e-9)
    assert datafit.binomial_tail(3, 4, 0.2) == 0.0
    assert datafit.binomial_tail(5000, 4000, 0.2) == 0.0  # no overflow on large uploads


def test_warns_only_when_most_beats_lie_beyond_the_reach_and_not_by_chance() -> None:
    fit = DataFit(reach=0.0, quantile=0.8, share=0.5, alpha=1e-3, min_beats=5)
    beyond = lambda n, k: np.r_[np.ones(k), -np.ones(n - k)]  # noqa: E731
    assert datafit.warnings(beyond(4, 4), fit) == []          # below the minimum: no check
    assert datafit.assess(beyond(4, 4), fit)["checked"] is False
    assert datafit.warnings(beyond(5, 5), fit)[0]["code"] == CODE  # 0.2 ** 5 = 3e-4
    assert datafit.warnings(beyond(5, 4), fit) == []          # p = 0.0067: could be chance
    assert datafit.warnings(beyond(100, 50), fit) == []       # half the beats: not more than half
    assert datafit.warnings(beyond(100, 51), fit)[0]["code"] == CODE
    message = datafit.warnings(beyond(10, 9), fit)[0]["message"]
    assert "9 of 10" in message and "trained on" in message and "\n" not in message


def test_unknown_method_gives_no_check_and_a_bad_entry_is_refused() -> None:
    assert DataFit.from_json({"method": "ecgad-datafit/99", "reach": 1.0}) is None
    good = DataFit(reach=1.5).to_json()
    assert DataFit.from_json(good) == DataFit(reach=1.5)
    with pytest.raises(ValueError):
        DataFit.from_json({**good, "quantile": 1.5})


# ------------------------------------------------------------------ a detector fitted here
def test_fit_sets_up_the_check(detector: Detector) -> None:
    assert detector.has_data_fit and detector.fit_check.n_calibration == 30  # the held-out fifth of 150
    assert detector.latent_abnormal is None  # no labelled validation: no abnormal beat known


def test_beats_like_the_training_data_give_no_warning(detector: Detector) -> None:
    assert detector.data_fit(heartbeats(60, seed=7)) == []
    assert detector.data_fit(list(heartbeats(8, seed=8, length=180))) == []  # any length, resampled


@pytest.mark.parametrize("kind", ["inverted", "shifted", "noise", "sines"])
def test_foreign_beats_warn(detector: Detector, kind: str) -> None:
    beats = foreign(30)[kind]
    warnings = detector.data_fit(beats)
    assert [w["code"] for w in warnings] == [CODE]
    assert detector.data_fit(beats[:4]) == []  # too few to judge a group


def test_half_foreign_is_not_the_group_unlike(detector: Detector) -> None:
    mixed = np.concatenate([heartbeats(22, seed=9), foreign(8)["sines"]])
    assert detector.data_fit(mixed) == []


def test_predict_with_data_fit_is_predict_and_data_fit(detector: Detector) -> None:
    for beats in (heartbeats(12, seed=10), foreign(12)["noise"]):
        verdicts, warnings = detector.predict_with_data_fit(beats)
        assert [v.as_dict() for v in verdicts] == [v.as_dict() for v in detector.predict(beats)]
        assert warnings == detector.data_fit(beats)
    assert detector.predict_with_data_fit(foreign(12)["noise"])[1] != []


def test_bad_beats_fail_as_in_scoring(detector: Detector) -> None:
    with pytest.raises(ValueError, match="beat 2: "):
        detector.data_fit([heartbeats(1)[0], np.ones(140)])


def test_labelled_validation_makes_abnormal_beats_known(tmp_path: Path) -> None:
    val = np.concatenate([heartbeats(30, seed=3), heartbeats(30, abnormal=True, seed=4)])
    labels = np.r_[np.zeros(30, bool), np.ones(30, bool)]
    det = Detector(train_config=TINY).fit(heartbeats(120, seed=1), validation=(val, labels), seed=0, progress=False)
    assert det.latent_abnormal.shape[:2] == (3, 30)
    abnormal = heartbeats(40, abnormal=True, seed=5)
    assert det.data_fit(abnormal) == []  # abnormal beats of the training side's kind: no warning
    assert det.data_fit(foreign(30)["sines"])[0]["code"] == CODE
    loaded = Detector.load(det.save(tmp_path / "m.safetensors"))
    np.testing.assert_array_equal(loaded.latent_abnormal, det.latent_abnormal)
    assert loaded.fit_check == det.fit_check
    np.testing.assert_allclose(loaded.domain_distance(abnormal), det.domain_distance(abnormal), rtol=1e-6)



def test_stored_abnormal_beats_are_measured_as_the_calibration_measured_them(tmp_path: Path) -> None:
    val = np.concatenate([heartbeats(30, seed=3), heartbeats(30, abnormal=True, seed=4)])
    labels = np.r_[np.zeros(30, bool), np.ones(30, bool)]
    det = Detector(train_config=TINY).fit(heartbeats(120, seed=1), validation=(val, labels), seed=0, progress=False)
    own = det.domain_distance(val, stored_abnormal=labels)
    plain = det.domain_distance(val)
    # the same to float64 rounding (the neighbour search's matrix products round by the queries' shape)
    np.testing.assert_allclose(own[~labels], plain[~labels], rtol=1e-12, atol=0)
    # Against the others only: not zero (itself), farther than counting itself.
    assert np.isfinite(own).all() and np.all(own[labels] > plain[labels])
    assert det.fit_check == datafit.DataFit.calibrate(own)  # exactly the distances the check was set from
    for wrong in (labels & (np.arange(60) > 30), labels[:59]):
        with pytest.raises(ValueError, match="stored_abnormal must mark 30 of the 60 beats"):
            det.domain_distance(val, stored_abnormal=wrong)


# ------------------------------------------------------------------ model files
def _rewrite(path: Path, out: Path, change) -> Path:
    with safe_open(str(path), framework="pt") as f:
        header = json.loads(f.metadata()["ecgad"])
    tensors = load_file(str(path))
    change(header, tensors)
    save_file(tensors, str(out), metadata={"ecgad": json.dumps(header)})
    return out


def test_saved_and_loaded_the_check_is_the_same(detector: Detector, tmp_path: Path) -> None:
    loaded = Detector.load(detector.save(tmp_path / "m.safetensors"))
    assert loaded.fit_check == detector.fit_check
    beats = foreign(20)["inverted"]
    assert loaded.data_fit(beats) == detector.data_fit(beats) != []


def test_a_model_written_before_the_check_gives_none(detector: Detector, tmp_path: Path) -> None:
    path = detector.save(tmp_path / "m.safetensors")

    def drop(header, tensors):
        del header["data_fit"]
    old = Detector.load(_rewrite(path, tmp_path / "old.safetensors", drop))
    assert not old.has_data_fit and old.data_fit(foreign(20)["noise"]) == []
    with pytest.raises(ValueError, match="no data-fit check"):
        old.domain_distance(foreign(20)["noise"])
    np.testing.assert_array_equal(old.score(heartbeats(5)), detector.score(heartbeats(5)))

    def future(header, tensors):
        header["data_fit"] = {"method": "ecgad-datafit/99"}
    assert Detector.load(_rewrite(path, tmp_path / "new.safetensors", future)).data_fit(foreign(20)["noise"]) == []

    def broken(header, tensors):
        header["data_fit"]["reach"] = "far"
    with pytest.raises(ValueError, match="not an ecgad model file"):
        Detector.load(_rewrite(path, tmp_path / "broken.safetensors", broken))


def test_the_check_keeps_the_format_version(detector: Detector, tmp_path: Path) -> None:
    path = detector.save(tmp_path / "m.safetensors")
    with safe_open(str(path), framework="pt") as f:
        assert json.loads(f.metadata()["ecgad"])["format"] == "ecgad-detector/2"


# ------------------------------------------------------------------ the shipped model
@pytest.fixture(scope="module")
def shipped() -> Detector:
    return load_detector()


def test_shipped_model_has_the_check_and_its_weights_are_unchanged(shipped: Detector) -> None:
    assert shipped.has_data_fit and shipped.latent_abnormal is not None
    weights = hashlib.sha256(b"".join(t.numpy().tobytes() for t in shipped.model.state_dict().values()))
    assert shipped.meta["model_id"] == f"hybrid-{weights.hexdigest()[:12]}" == "hybrid-ec8f5785c44b"


def test_shipped_examples_fit_and_synthetic_beats_do_not(shipped: Detector) -> None:
    for name in ("normal_beats.csv", "abnormal_beats.csv"):  # ECG5000 beats, 5 each
        beats = read_beats((files("ecgad") / "assets" / "examples" / name).read_bytes(), name=name)
        assert shipped.data_fit(beats) == [], name
    # An upright lead's beats (ECG5000's lead shows the QRS inverted), and non-ECG curves.
    assert shipped.data_fit(heartbeats(20, seed=1))[0]["code"] == CODE
    assert shipped.data_fit(foreign(20)["sines"])[0]["code"] == CODE


def test_ecg5000_test_file_gives_no_warning(shipped: Detector, data_dir: Path) -> None:
    from ecgad.data import ecg5000

    test = ecg5000.load(data_dir)[1]
    assert shipped.data_fit(test.values) == []
    rng = np.random.default_rng(0)
    for n in (5, 20, 100):
        for _ in range(5):
            assert shipped.data_fit(test.values[rng.choice(len(test), n, replace=False)]) == []
    assert shipped.data_fit(test.values[test.is_anomaly][:200]) == []  # only abnormal beats, too


def test_foreign_ecg_beats_warn_on_the_shipped_model(shipped: Detector, data_dir: Path) -> None:
    from ecgad.data import ecg5000
    from ecgad.data.beats import beat_windows, resample
    from ecgad.data.readers import read_recording
    from ecgad.data.rpeaks import bandpass, detect_r_peaks

    signal = read_recording(data_dir / "mitdb" / "101", lead="MLII")
    x = bandpass(signal.samples, signal.fs)
    windows, _ = beat_windows(x, detect_r_peaks(x, signal.fs), signal.fs)
    for beats in (windows[100:150], -windows[100:150]):  # as recorded, and with ECG5000's polarity
        assert shipped.data_fit(beats)[0]["code"] == CODE
    train = ecg5000.load(data_dir)[0].values[:40]
    shorter = np.array([resample(b[:96], 140) for b in train])  # cut to 96 of 140 samples, as another setup
    assert shipped.data_fit(shorter)[0]["code"] == CODE
    assert shipped.data_fit(train) == []
