"""The Detector: fit on normal beats, score, predict, threshold, confidence, files."""
from __future__ import annotations

import json
import os
import pickle
from dataclasses import dataclass, replace
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest
import torch
from heartbeats import heartbeats
from safetensors.torch import safe_open, save_file

from ecgad import Detector, Verdict, load_detector
from ecgad.data.beats import prepare
from ecgad.detector import FORMAT, FORMATS, SHIPPED_MODEL, choose_threshold
from ecgad.provenance import code_commit
from ecgad.train import TrainConfig

TINY = TrainConfig(epochs=4, batch_size=32)


@pytest.fixture(scope="module")
def normal() -> np.ndarray:
    return heartbeats(30, seed=2)


@pytest.fixture(scope="module")
def abnormal() -> np.ndarray:
    return heartbeats(30, abnormal=True, seed=3)


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector(train_config=TINY).fit(heartbeats(200, seed=1), protocol="synthetic", seed=0, progress=False)


def fit_small(seed: int = 0, arch: str = "hybrid") -> Detector:
    return Detector(arch, train_config=TrainConfig(epochs=2, batch_size=32)).fit(
        heartbeats(80, seed=5), seed=seed, progress=False)


# ------------------------------------------------------------------ fit and score
def test_fit_on_normals_separates_abnormal_beats(detector: Detector, normal, abnormal) -> None:
    normal_scores, abnormal_scores = detector.score(normal), detector.score(abnormal)
    assert abnormal_scores.mean() > normal_scores.mean()
    assert (abnormal_scores > detector.threshold).mean() > (normal_scores > detector.threshold).mean()


def test_score_gives_one_finite_nonnegative_float_per_beat(detector: Detector, normal) -> None:
    scores = detector.score(normal[:5])
    assert scores.shape == (5,) and scores.dtype == np.float64
    assert np.all(np.isfinite(scores)) and np.all(scores >= 0)
    assert detector.score(normal[0]).shape == (1,)  # a 1-D array is one beat
    assert detector.score([normal[0][::2], normal[1]]).shape == (2,)  # ragged: resampled


def test_score_ignores_gain_and_baseline(detector: Detector, normal) -> None:
    np.testing.assert_allclose(detector.score(normal[:5]), detector.score(3.0 * normal[:5] - 1.5), rtol=1e-4)


def test_hybrid_stops_on_validation_normals_error_even_with_labels(normal, abnormal) -> None:
    beats, labels = np.concatenate([normal, abnormal]), np.r_[np.zeros(len(normal)), np.ones(len(abnormal))]
    det = Detector(train_config=TrainConfig(epochs=2)).fit(heartbeats(60, seed=7), validation=(beats, labels),
                                                           progress=False)
    assert det.training["stop_on"] == "error"
    figures = det.training["member_val_neg_error"]
    assert len(figures) == det.model.config.members and all(f < 0 for f in figures)
    # the figure is the member's mean reconstruction error on the normal validation beats alone
    member = det.model.members[0]
    assert -det._error(prepare(normal), member).mean() == pytest.approx(figures[0], rel=1e-5)
    assert np.isfinite(det.threshold)


def test_fit_can_stop_on_validation_auc(normal, abnormal) -> None:
    beats, labels = np.concatenate([normal, abnormal]), np.r_[np.zeros(len(normal)), np.ones(len(abnormal))]
    det = Detector(train_config=TrainConfig(epochs=2), stop_on="auc").fit(
        heartbeats(60, seed=7), validation=(beats, labels), progress=False)
    figures = det.training["member_val_auc"]
    assert det.training["stop_on"] == "auc"
    assert len(figures) == det.model.config.members and all(0 <= f <= 1 for f in figures)
    # without labels there is no AUC: the error it is
    unlabelled = Detector(train_config=TrainConfig(epochs=1), stop_on="auc").fit(normal, progress=False)
    assert unlabelled.training["stop_on"] == "error"


def test_detector_refuses_unknown_options() -> None:
    with pytest.raises(ValueError, match="stop_on"):
        Detector(stop_on="luck")
    with pytest.raises(ValueError, match="latent_neighbours"):
        Detector("reference", latent_neighbours=5)
    with pytest.raises(ValueError, match="latent_neighbours"):
        Detector(latent_neighbours=-1)
    assert Detector().latent_neighbours == 5 and Detector("reference").latent_neighbours == 0


def test_fit_refuses_too_few_beats_and_mismatched_labels(normal) -> None:
    with pytest.raises(ValueError, match="at least 2"):
        Detector(train_config=TrainConfig(epochs=1)).fit(normal[:2], progress=False)
    with pytest.raises(ValueError, match="differ in number"):
        Detector(train_config=TrainConfig(epochs=1)).fit(normal, validation=(normal[:5], [0, 0, 1]),
                                                         progress=False)


# ------------------------------------------------------------------ verdicts
def test_predict_gives_a_verdict_per_beat(detector: Detector, normal, abnormal) -> None:
    beats = np.concatenate([normal[:3], abnormal[:3]])
    verdicts = detector.predict(beats)
    scores = detector.score(beats)
    assert [v.index for v in verdicts] == list(range(6))
    for v, score in zip(verdicts, scores, strict=True):
        assert isinstance(v, Verdict)
        assert v.score == pytest.approx(score)
        assert v.threshold == detector.threshold
        assert v.is_anomaly == (v.score > v.threshold)
        assert 0.0 <= v.confidence <= 1.0
        assert v.beat.shape == v.reconstruction.shape == v.error.shape == (detector.length,)
        np.testing.assert_allclose(v.error, (v.beat - v.reconstruction) ** 2, rtol=1e-5, atol=1e-6)
        assert v.error.mean() == pytest.approx(detector.score_parts(beats)["reconstruction"][v.index], rel=1e-4)
        assert v.label == ("anomalous" if v.is_anomaly else "normal") and v.label in v.describe()
        assert v.as_dict() == {"beat": v.index + 1, "score": v.score, "threshold": v.threshold,
                               "is_anomaly": v.is_anomaly, "confidence": v.confidence}  # people count from 1
    meta = verdicts[0].meta
    assert meta["model_id"].startswith("hybrid-") and meta["version"]
    assert len(meta["training_data_sha256"]) == 64
    assert meta["protocol"] == "synthetic" and meta["seed"] == 0
    assert meta["threshold"] == detector.threshold


def test_confidence_is_zero_at_the_threshold_and_grows_with_distance(detector: Detector) -> None:
    t, sigma = detector.threshold, detector.log_scale
    assert detector.confidence(np.array([t]))[0] == 0.0
    z = np.linspace(0.1, 3.0, 12)
    above, below = detector.confidence(t * np.exp(sigma * z)), detector.confidence(t * np.exp(-sigma * z))
    assert np.all(np.diff(above) > 0) and np.all(np.diff(below) > 0)
    np.testing.assert_allclose(above, below)  # same distance (in log spread) on either side
    assert np.all((above > 0) & (above < 1))


# ------------------------------------------------------------------ the score's parts
def test_hybrid_score_combines_reconstruction_error_and_latent_distance(detector: Detector, normal, abnormal) -> None:
    beats = np.concatenate([normal, abnormal])
    parts = detector.score_parts(beats)
    assert set(parts) == {"reconstruction", "latent"}
    assert all(p.shape == (len(beats),) and np.all(p > 0) for p in parts.values())
    z = sum((np.log(parts[k]) - detector.standardise[k][0]) / detector.standardise[k][1] for k in parts)
    mean, std = detector.standardise["reconstruction"]
    np.testing.assert_allclose(detector.score(beats), np.exp(mean + std * z), rtol=1e-9)
    # both parts grow with abnormality, the score with either part
    assert parts["latent"][len(normal):].mean() > parts["latent"][:len(normal)].mean()


def test_latent_part_is_the_distance_to_the_nearest_training_codes() -> None:
    train, val = heartbeats(40, seed=11), heartbeats(20, seed=12)
    det = Detector(train_config=TrainConfig(epochs=1, batch_size=32), latent_neighbours=1).fit(
        train, validation=val, progress=False)
    assert det.latent_train.shape == (det.model.config.members, len(train), det.model.config.latent)
    # a training beat's nearest training code is its own
    np.testing.assert_allclose(det.score_parts(train)["latent"], 0, atol=1e-5)
    assert np.all(det.score_parts(val)["latent"] > 1e-5)
    # the standardisation is that of the validation normals: their log parts average 0
    for name, values in det.score_parts(val).items():
        assert np.log(values).mean() == pytest.approx(det.standardise[name][0], abs=1e-9)


def test_without_latent_neighbours_the_score_is_the_reconstruction_error(normal, tmp_path: Path) -> None:
    det = Detector(train_config=TrainConfig(epochs=1, batch_size=32), latent_neighbours=0).fit(
        heartbeats(40, seed=5), progress=False)
    np.testing.assert_array_equal(det.score(normal), det.score_parts(normal)["reconstruction"])
    assert set(det.score_parts(normal)) == {"reconstruction"}
    path = det.save(tmp_path / "plain.safetensors")
    from safetensors import safe_open
    with safe_open(str(path), framework="pt") as f:
        assert json.loads(f.metadata()["ecgad"])["format"] == FORMATS[0]  # readable by older versions
        assert "latent.train" not in list(f.keys())
    np.testing.assert_array_equal(Detector.load(path).score(normal), det.score(normal))


# ------------------------------------------------------------------ threshold
def test_threshold_falls_between_perfectly_separated_groups() -> None:
    t = choose_threshold([0.1, 0.3, 0.2, 0.9, 0.7, 0.8], [0, 0, 0, 1, 1, 1])
    assert 0.3 < t < 0.7


def test_normal_share_moves_the_threshold_towards_the_rarer_class() -> None:
    scores, labels = [1, 2, 3, 5, 4, 6, 7, 8], [0, 0, 0, 0, 1, 1, 1, 1]  # normal 5 and abnormal 4 overlap
    mostly_normal = choose_threshold(scores, labels, normal_share=0.9)
    mostly_abnormal = choose_threshold(scores, labels, normal_share=0.1)
    plain = choose_threshold(scores, labels)
    assert mostly_abnormal <= plain <= mostly_normal
    assert 5 < mostly_normal < 6  # calling normal 5 abnormal costs more than missing abnormal 4
    assert 3 < mostly_abnormal < 4  # and the other way round


@pytest.mark.parametrize("labels", [[0, 0, 0], [1, 1, 1]])
def test_threshold_needs_both_classes(labels) -> None:
    with pytest.raises(ValueError, match="both normal and abnormal"):
        choose_threshold([0.1, 0.2, 0.3], labels)


# ------------------------------------------------------------------ determinism
def test_same_seed_same_model_other_seed_other_model(normal) -> None:
    a, b, c = fit_small(seed=0), fit_small(seed=0), fit_small(seed=1)
    np.testing.assert_array_equal(a.score(normal), b.score(normal))
    assert a.threshold == b.threshold and a.meta["model_id"] == b.meta["model_id"]
    assert not np.array_equal(a.score(normal), c.score(normal))
    assert a.meta["model_id"] != c.meta["model_id"]


def test_fit_records_torch_version_threads_and_code_commit(tmp_path: Path) -> None:
    det = fit_small()
    assert det.meta["torch_version"] == torch.__version__
    assert det.meta["torch_threads"] == torch.get_num_threads() >= 1
    commit = det.meta["code_commit"]  # this test runs from a git checkout
    assert isinstance(commit, str) and len(commit) == 40 and int(commit, 16) >= 0
    assert Detector.load(det.save(tmp_path / "m.safetensors")).meta == det.meta


def test_code_commit_is_none_without_git(monkeypatch) -> None:
    monkeypatch.setenv("PATH", "")  # no git to run: training must still work
    assert code_commit() is None


def test_the_shipped_model_keeps_its_id_and_loads_without_the_new_fields() -> None:
    shipped = load_detector()
    assert shipped.meta["model_id"] == "hybrid-ec8f5785c44b"
    assert "code_commit" not in shipped.meta  # trained before the fields existed


# ------------------------------------------------------------------ files
def test_save_and_load_round_trip(detector: Detector, normal, abnormal, tmp_path: Path) -> None:
    path = detector.save(tmp_path / "sub" / "m.safetensors")
    loaded = Detector.load(path)
    beats = np.concatenate([normal, abnormal])
    np.testing.assert_array_equal(loaded.score(beats), detector.score(beats))
    assert loaded.threshold == detector.threshold and loaded.log_scale == detector.log_scale
    assert loaded.latent_neighbours == detector.latent_neighbours == 5
    np.testing.assert_array_equal(loaded.latent_train, detector.latent_train)
    assert loaded.standardise == detector.standardise
    assert loaded.meta == detector.meta and loaded.model_info() == detector.model_info()
    assert loaded.training == detector.training and loaded.arch == detector.arch
    assert loaded.train_config == detector.train_config
    assert [v.as_dict() for v in loaded.predict(beats)] == [v.as_dict() for v in detector.predict(beats)]
    assert load_detector(path).meta == detector.meta


class _Trap:
    """Unpickling this creates a file: the proof that a loader executed pickled code."""

    def __init__(self, sentinel: Path):
        self.sentinel = sentinel

    def __reduce__(self):
        return open, (str(self.sentinel), "w")


def _write_bad(kind: str, path: Path) -> None:
    if kind == "random":
        path.write_bytes(os.urandom(512))
    elif kind == "pickle":
        path.write_bytes(pickle.dumps({"model.weight": [1.0, 2.0], "trap": _Trap(path.with_suffix(".pwned"))}))
    elif kind == "torch":
        torch.save({"model.weight": torch.zeros(2), "trap": _Trap(path.with_suffix(".pwned"))}, path)
    elif kind == "no-metadata":
        save_file({"x": torch.zeros(2)}, str(path))
    elif kind == "other-format":
        save_file({"x": torch.zeros(2)}, str(path), metadata={"ecgad": json.dumps({"format": "other/9"})})
    elif kind == "bad-json":
        save_file({"x": torch.zeros(2)}, str(path), metadata={"ecgad": "{not json"})


@pytest.mark.parametrize(("kind", "message"), [
    ("random", "not a safetensors model file"),
    ("pickle", "not a safetensors model file"),
    ("torch", "not a safetensors model file"),
    ("no-metadata", "without ecgad metadata"),
    ("other-format", f"format 'other/9'.*expected '{FORMAT}'"),
    ("bad-json", "metadata is not JSON"),
])
def test_load_refuses_files_that_are_not_our_models(kind: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    _write_bad(kind, path)
    with pytest.raises(ValueError, match=message) as caught:
        Detector.load(path)
    assert str(path) in str(caught.value)
    assert not path.with_suffix(".pwned").exists(), "the file was unpickled"


def test_load_refuses_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no such model file"):
        Detector.load(tmp_path / "absent.safetensors")


def test_load_refuses_our_format_with_wrong_weights(detector: Detector, tmp_path: Path) -> None:
    path = detector.save(tmp_path / "m.safetensors")
    from safetensors import safe_open
    with safe_open(str(path), framework="pt") as f:
        metadata = f.metadata()
    save_file({"model.nothing": torch.zeros(3)}, str(path), metadata=metadata)
    with pytest.raises(ValueError, match="not an ecgad model file"):
        Detector.load(path)


def test_load_refuses_a_latent_score_without_its_codes(detector: Detector, tmp_path: Path) -> None:
    path = detector.save(tmp_path / "m.safetensors")
    from safetensors import safe_open
    from safetensors.torch import load_file
    with safe_open(str(path), framework="pt") as f:
        metadata = f.metadata()
    assert json.loads(metadata["ecgad"])["format"] == FORMAT
    tensors = {k: v for k, v in load_file(str(path)).items() if k != "latent.train"}
    save_file(tensors, str(path), metadata=metadata)
    with pytest.raises(ValueError, match="not an ecgad model file"):
        Detector.load(path)


def test_an_unfitted_detector_refuses_to_score(normal, tmp_path: Path) -> None:
    det = Detector()
    for call in (lambda: det.score(normal), lambda: det.predict(normal),
                 lambda: det.save(tmp_path / "m.safetensors"), lambda: det.confidence(np.ones(2))):
        with pytest.raises(RuntimeError, match="not fitted"):
            call()
    assert not (tmp_path / "m.safetensors").exists()


def test_reference_architecture_fits_saves_and_loads(normal, abnormal, tmp_path: Path) -> None:
    det = fit_small(arch="reference")
    assert det.input_min is not None and det.input_min.shape == (det.length,)
    assert np.all(det.input_max >= det.input_min)
    loaded = Detector.load(det.save(tmp_path / "ref.safetensors"))
    assert loaded.arch == "reference"
    np.testing.assert_array_equal(loaded.input_min, det.input_min)
    np.testing.assert_array_equal(loaded.input_max, det.input_max)
    beats = np.concatenate([normal, abnormal])
    np.testing.assert_array_equal(loaded.score(beats), det.score(beats))
    assert loaded.threshold == det.threshold


def test_shipped_model_loads_without_arguments() -> None:
    shipped = files("ecgad") / "assets" / SHIPPED_MODEL
    if not shipped.is_file():
        pytest.skip(f"no shipped model at src/ecgad/assets/{SHIPPED_MODEL} yet")
    det = load_detector()
    assert det.arch == "hybrid"
    assert det.meta["protocol"] == "resplit" and det.meta["seed"] == 0
    beats = heartbeats(3, seed=9)
    assert det.score(beats).shape == (3,)
    if det.latent_neighbours == 0:  # written before ecgad-detector/2: the reconstruction error alone
        np.testing.assert_array_equal(det.score(beats), det.score_parts(beats)["reconstruction"])


# ------------------------------------------------------------------ own labelled beats
def test_a_model_trained_on_its_own_file_keeps_its_labels_and_older_files_have_none(
        detector: Detector, normal, abnormal, tmp_path: Path) -> None:
    from ecgad import own_beats

    values = np.concatenate([normal[:30], abnormal[:8]])
    labels = np.array(["N"] * 30 + ["V"] * 5 + ["S"] * 3)
    data = own_beats.LabelledBeats(prepare(values), labels, "N", "mine.tsv")
    part = own_beats.split(data, 0.2, seed=0)
    assert (part.train.labels == "N").all() and len(part.train.labels) == 24
    assert sorted(part.validation.labels.tolist()) == ["N"] * 6 + ["S"] * 3 + ["V"] * 5  # every abnormal beat
    fast = tuple(replace(c, train=replace(c.train, epochs=2)) for c in own_beats.CANDIDATES[:2])
    fitted, selection = own_beats.fit(part, seed=0, candidates=fast)
    assert [t["name"] for t in selection.tried] == [c.name for c in fast]
    assert selection.chosen in {t["name"] for t in selection.tried}
    loaded = Detector.load(fitted.save(tmp_path / "own.safetensors"))
    assert own_beats.label_info(loaded.meta) == {"normal": "N", "names": ["N", "V", "S"], "source": "mine.tsv"}
    assert own_beats.label_info(detector.meta) is None  # trained without a file: no labels of its own
    # A model file written before models kept labels loads, and has none.
    path = detector.save(tmp_path / "old.safetensors")
    with safe_open(str(path), framework="pt") as f:
        header = json.loads(f.metadata()["ecgad"])
    assert "labels" not in header["meta"]
    assert own_beats.label_info(Detector.load(path).meta) is None


# ------------------------------------------------------------------ embed
def test_embed_gives_each_members_codes_and_the_reconstruction_error(detector: Detector, normal, abnormal) -> None:
    beats = np.concatenate([normal, abnormal])
    embedding = detector.embed(beats)
    cfg = detector.model.config
    assert embedding.codes.shape == (cfg.members, len(beats), cfg.latent) and embedding.codes.dtype == np.float32
    assert embedding.errors.shape == (len(beats),) and embedding.errors.dtype == np.float64
    np.testing.assert_allclose(embedding.errors, detector.score_parts(beats)["reconstruction"], rtol=1e-5)
    # Batches (padded to one shape) change nothing but float rounding.
    small = detector.embed(beats, batch=7)
    np.testing.assert_allclose(small.codes, embedding.codes, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(small.errors, embedding.errors, rtol=1e-5)


def test_embed_codes_are_those_the_latent_part_measures(detector: Detector) -> None:
    train = heartbeats(200, seed=1)
    order = np.random.default_rng(0).permutation(len(train))  # fit's own hold-out of a fifth
    kept = train[order[len(train) // 5:]]
    np.testing.assert_allclose(detector.embed(kept).codes, detector.latent_train, rtol=1e-5, atol=1e-6)


def test_embed_of_no_beats_is_empty_and_bad_beats_fail_as_in_scoring(detector: Detector) -> None:
    empty = detector.embed(np.empty((0, detector.length)))
    assert empty.codes.shape == (detector.model.config.members, 0, detector.model.config.latent)
    assert empty.errors.shape == (0,)
    with pytest.raises(ValueError, match="beat 2: is constant"):
        detector.embed([np.sin(np.arange(140.0)), np.ones(140)])
    with pytest.raises(RuntimeError, match="not fitted"):
        Detector().embed(heartbeats(2))


def test_embed_of_the_reference_design_gives_its_one_code_and_its_own_error(normal) -> None:
    det = fit_small(arch="reference")
    embedding = det.embed(normal)
    assert embedding.codes.shape == (1, len(normal), det.model.config.latent)
    np.testing.assert_allclose(embedding.errors, det.score(normal), rtol=1e-5)


# ------------------------------------------------------------------ the architecture contract
@dataclass(frozen=True)
class TinyConfig:
    length: int = 140
    latent: int = 3


class TinyAutoencoder(torch.nn.Module):
    """A new architecture the Detector has never heard of: linear, its own input shift, L1 mean error."""

    default_latent_neighbours = 2
    latent_in_score = True
    default_stop_on = "auc"
    scaling_names = ("centre",)

    def __init__(self, config: TinyConfig | None = None):
        super().__init__()
        self.config = config or TinyConfig()
        self.enc = torch.nn.Linear(self.config.length, self.config.latent)
        self.dec = torch.nn.Linear(self.config.latent, self.config.length)

    def forward(self, x):
        return self.dec(self.enc(x))

    def parts(self):
        return [self]

    def latent_codes(self, x):
        return self.enc(x)[None]

    def decode(self, codes):
        return self.dec(codes[0])

    @staticmethod
    def error(reconstruction, target):
        return abs(reconstruction - target).mean(axis=1)

    @staticmethod
    def loss(output, target):
        return (output - target).abs().mean()

    def fit_scaling(self, normals):
        return {"centre": normals.mean(axis=0)}

    def to_model(self, beats, scaling):
        return beats - scaling["centre"]

    def from_model(self, values, scaling):
        return values + scaling["centre"]


def test_a_new_architecture_needs_only_the_contract(monkeypatch, normal, abnormal, tmp_path: Path) -> None:
    from ecgad import nn as ecgad_nn
    monkeypatch.setitem(ecgad_nn.ARCHITECTURES, "tiny", (TinyConfig, TinyAutoencoder))
    det = Detector("tiny", train_config=TrainConfig(epochs=2, batch_size=32))
    assert det.latent_neighbours == 2 and det.stop_on == "auc"
    labels = np.r_[np.zeros(len(normal), bool), np.ones(len(abnormal), bool)]
    det.fit(heartbeats(80, seed=5), validation=(np.concatenate([normal, abnormal]), labels), progress=False)
    assert det.training["stop_on"] == "auc" and set(det.scaling) == {"centre"}
    assert det.latent_train.shape == (1, 80, 3) and set(det.standardise) == {"reconstruction", "latent"}
    beats = np.concatenate([normal, abnormal])
    reconstruction = det.score_parts(beats)["reconstruction"]
    centred = prepare(beats) - det.scaling["centre"]
    with torch.no_grad():
        expected = np.abs(det.model(torch.from_numpy(centred)).numpy() - centred).mean(axis=1)
    np.testing.assert_allclose(reconstruction, expected, rtol=1e-5)  # its error, in its input space
    loaded = Detector.load(det.save(tmp_path / "tiny.safetensors"))
    np.testing.assert_array_equal(loaded.scaling["centre"], det.scaling["centre"])
    np.testing.assert_array_equal(loaded.score(beats), det.score(beats))
    assert det.embed(beats).codes.shape == (1, len(beats), 3)


def test_load_refuses_input_scaling_the_architecture_does_not_name(detector: Detector, tmp_path: Path) -> None:
    path = detector.save(tmp_path / "m.safetensors")
    with safe_open(str(path), framework="pt") as f:
        metadata, tensors = f.metadata(), {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    tensors["input.min"] = torch.zeros(detector.length)
    save_file(tensors, str(path), metadata=metadata)
    with pytest.raises(ValueError, match=r"input scaling tensors \['min'\], the hybrid architecture needs \[\]"):
        Detector.load(path)
