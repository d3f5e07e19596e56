"""Beat classes (N, S, V, F, Q) of a recording: rhythm context, the classifier, its file, the CLI (issue 13)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_cli_core import invoke
from test_recording import FS, KINDS, TINY, Signal, synthetic_ecg

from ecgad.data.synthetic import example_recording
from ecgad.recording import (
    CLASSES,
    AnnotatedRecord,
    BeatClassifier,
    RecordingDetector,
    aami_classes,
    beat_table,
    context_features,
    fit_on_records,
    load_recording_detector,
)
from ecgad.recording.classes import CONTEXT_FEATURES, context_at, context_window
from ecgad.recording.detector import METADATA_KEY


def test_aami_classes_of_mitdb_symbols() -> None:
    assert aami_classes(np.array(["N", "L", "R", "e", "j", "A", "a", "J", "S", "V", "E", "F", "/", "f", "Q", "", "~"])
                        ).tolist() == list("NNNNNSSSSVVFQQQ") + ["", ""]


def test_the_underlying_rhythm_is_not_the_majority_beats_in_bigeminy() -> None:
    """N V N V ...: half the RR intervals are premature; the premature beat is early against the
    rhythm and the beat after its pause is not, though the median RR lies between the two."""
    fs, sinus = 360.0, 1.0
    times = np.cumsum([sinus] + [0.6 * sinus, 1.4 * sinus] * 40)  # a PVC, then its compensatory pause
    peaks = np.round(times * fs).astype(np.int64)
    c = context_features(peaks, fs)
    premature, after = np.arange(1, peaks.size, 2)[10:], np.arange(2, peaks.size, 2)[10:]
    assert np.allclose(c["early_ref"][premature], np.log(0.6 / 1.4))     # early against the rhythm
    assert np.allclose(c["early_ref"][after], 0.0)                         # the pause is the reference
    assert np.allclose(c["comp"][premature], np.log(2.0 / 2.8))            # RR before + after = 2 sinus
    assert np.allclose(c["accel"][premature], np.log(0.6 / 1.4))


def test_context_of_a_slice_equals_the_whole_signals() -> None:
    rng = np.random.default_rng(0)
    peaks = np.cumsum(rng.integers(200, 400, 300))
    whole = context_features(peaks, 360.0)
    for first in (0, 5, 70, 200):
        index = np.arange(first, first + 40)
        lo = context_window(first)
        part = context_at(peaks[lo:index[-1] + 2], 360.0, index - lo, ended=False, first_beat=lo)
        for name in CONTEXT_FEATURES:
            assert np.array_equal(part[name], whole[name][index]), (name, first)
    with pytest.raises(ValueError, match="next R peak"):
        context_at(peaks[:10], 360.0, np.arange(10), ended=False)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[RecordingDetector, np.ndarray, np.ndarray]:
    """A recording detector with its classifier fitted on a synthetic record (N, A premature
    normal-shaped, W wide on time, V both): ``(detector, samples, symbols)``."""
    from ecgad.data.beats import beat_windows
    from ecgad.data.rpeaks import bandpass
    from ecgad.detector import Detector
    from ecgad.train import TrainConfig

    x, peaks = synthetic_ecg("N" * 160, seed=3)
    windows, _ = beat_windows(bandpass(x, FS), peaks, FS)
    beat = Detector("hybrid", TINY, TrainConfig(epochs=3, batch_size=32)).fit(windows, progress=False)
    x, truth = synthetic_ecg(KINDS * 3)
    table = beat_table(x, FS, beat)
    symbols = np.array(["N" if k == "N" else ("A" if k == "A" else "V") for k in KINDS * 3])
    record = AnnotatedRecord("syn", tmp_path_factory.mktemp("syn") / "syn", FS, "II", table.peaks, symbols, truth,
                             symbols, table)
    return fit_on_records([record], beat), x, symbols


def test_classifier_learns_the_classes_and_the_file_round_trips(trained, tmp_path: Path) -> None:
    detector, x, symbols = trained
    result = detector.analyze(Signal(x, FS))
    truth = aami_classes(symbols)
    assert result.classes.dtype == np.dtype("<U1") and set(result.classes) <= set(CLASSES)
    assert ((result.class_confidence >= 0) & (result.class_confidence <= 1)).all()
    assert (result.classes == truth).mean() > 0.95
    assert result.summary["classes"] == {c: int((result.classes == c).sum()) for c in CLASSES}
    beat = result.beat(int(np.flatnonzero(truth == "V")[0]))
    assert beat["class"] == result.classes[np.flatnonzero(truth == "V")[0]]
    assert beat["class_confidence"] == pytest.approx(result.class_confidence[np.flatnonzero(truth == "V")[0]])

    path = detector.save(tmp_path / "rec.safetensors")
    loaded = RecordingDetector.load(path)
    again = loaded.analyze(Signal(x, FS))
    assert np.array_equal(again.classes, result.classes)
    assert np.array_equal(again.class_confidence, result.class_confidence)
    assert loaded.classifier.as_dict() == detector.classifier.as_dict()


def rewrite_header(path: Path, change) -> None:
    from safetensors import safe_open
    from safetensors.numpy import load_file, save_file

    with safe_open(str(path), framework="np") as f:
        metadata = dict(f.metadata())
    header = json.loads(metadata[METADATA_KEY])
    change(header)
    save_file(load_file(str(path)), str(path), metadata={**metadata, METADATA_KEY: json.dumps(header)})


def test_a_format_2_file_still_loads_and_gives_no_classes(trained, tmp_path: Path) -> None:
    detector, x, _ = trained
    path = detector.save(tmp_path / "old.safetensors")

    def to_v2(header: dict) -> None:
        header["format"] = "ecgad-recording/2"
        del header["classifier"]

    rewrite_header(path, to_v2)
    old = RecordingDetector.load(path)
    assert old.classifier is None
    result = old.analyze(Signal(x, FS))
    assert result.classes is None and result.class_confidence is None
    assert "classes" not in result.summary and "class" not in result.beats()[0]
    assert np.allclose(result.score, detector.analyze(Signal(x, FS)).score)  # the anomaly score is as before


@pytest.mark.parametrize("change, message", [
    (lambda h: h["classifier"].update(classes=["N", "V"]), "beat classes"),
    (lambda h: h["classifier"]["layers"][0].update(bias=[0.0]), "does not follow"),
    (lambda h: h.update(format="ecgad-recording/1"), "retrain it"),
])
def test_a_broken_classifier_in_a_model_file_is_a_clear_error(trained, tmp_path: Path, change, message) -> None:
    detector, _, _ = trained
    path = detector.save(tmp_path / "broken.safetensors")
    rewrite_header(path, change)
    with pytest.raises(ValueError, match=message):
        RecordingDetector.load(path)


def test_a_beat_whose_shape_cannot_be_measured_is_q() -> None:
    rng = np.random.default_rng(0)
    names = ("template", "premature")
    features = {"template": rng.normal(size=200), "premature": rng.normal(size=200)}
    labels = np.where(features["premature"] > 0.5, "S", "N")
    classifier = BeatClassifier.fit(features, labels, names)
    features["template"][3] = np.nan
    classes, confidence = classifier.classify(features)
    assert classes[3] == "Q" and confidence[3] == 0.0
    assert (classes[np.arange(200) != 3] != "Q").all()
    assert (classes == np.where(features["premature"] > 0.5, "S", "N"))[np.arange(200) != 3].mean() > 0.9


def test_the_shipped_classifier_finds_the_synthetic_pvcs() -> None:
    """MIT-BIH-trained, on a synthetic recording it has never seen: the V beats come out V."""
    rec = example_recording(duration_s=600.0, seed=3)
    result = load_recording_detector().analyze(Signal(rec.samples, rec.fs))
    assert np.array_equal(result.sample.size, rec.peaks.size)
    near = np.abs(result.sample[:, None] - rec.peaks[None, :]).argmin(axis=1)
    truth = np.array(list(rec.kinds))[near]
    v = truth == "V"
    assert v.sum() >= 20
    assert (result.classes[v] == "V").mean() >= 0.9             # sensitivity
    assert (truth[result.classes == "V"] == "V").mean() >= 0.9  # positive predictivity
    assert (result.classes[truth == "N"] == "N").mean() >= 0.95


def test_analyze_json_and_text_carry_the_classes(trained, tmp_path: Path) -> None:
    detector, x, symbols = trained
    model = detector.save(tmp_path / "rec.safetensors")
    csv = tmp_path / "ecg.csv"
    csv.write_text("time,II\n" + "".join(f"{i / FS:.4f},{v:.5f}\n" for i, v in enumerate(x)))
    result = invoke("analyze", csv, "--model", model, "--json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert list(out["summary"]["classes"]) == list(CLASSES)
    assert sum(out["summary"]["classes"].values()) == out["summary"]["beats"] == len(out["beats"])
    for b in out["beats"]:
        assert b["class"] in CLASSES and 0 <= b["class_confidence"] <= 1
    found = {c: sum(b["class"] == c for b in out["beats"]) for c in CLASSES}
    assert found == out["summary"]["classes"]
    truth = aami_classes(symbols)
    assert found["V"] >= 0.8 * (truth == "V").sum() and found["S"] >= 1

    text = invoke("analyze", csv, "--model", model)
    assert text.exit_code == 0, text.stderr
    counts = ", ".join(f"{c} {n}" for c, n in found.items())
    assert f"beat classes: {counts}" in text.stdout
