"""Scoring a recording: beats found, features, combination, results, files."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from heartbeats import synthetic_ecg

from ecgad.data.annotations import label_peaks
from ecgad.detector import Detector
from ecgad.provenance import code_commit
from ecgad.recording import (
    DEFAULT_FEATURES,
    PARTS,
    AnnotatedRecord,
    Combination,
    RecordingDetector,
    RecordingTooShort,
    Settings,
    UnreadableRecording,
    analyze,
    beat_table,
    fit_on_records,
    read_annotated,
    rhythm_features,
    write_report,
)
from ecgad.train import TrainConfig

FS = 250.0
TINY = {"members": 1, "cnn_channels": 4, "lstm_hidden": 8, "features": 8, "latent": 4, "decoder_hidden": 16}


class Signal:
    """Stands in for ``ecgad.data.readers.Signal`` (only what analyze reads)."""

    def __init__(self, samples: np.ndarray, fs: float, lead: str = "II", source: str = "synthetic"):
        self.samples, self.fs, self.lead, self.source = samples.astype(np.float32), fs, lead, source

    @property
    def duration_s(self) -> float:
        return self.samples.size / self.fs


KINDS = "N" * 20 + "A" + "N" * 15 + "W" + "N" * 15 + "V" + "N" * 20 + "A" + "N" * 12 + "W" + "N" * 10


@pytest.fixture(scope="module")
def recording() -> tuple[np.ndarray, np.ndarray]:
    return synthetic_ecg(KINDS)


@pytest.fixture(scope="module")
def beat_model() -> Detector:
    """A tiny beat autoencoder fitted for a few epochs on synthetic normal windows."""
    from ecgad.data.beats import beat_windows
    from ecgad.data.rpeaks import bandpass

    x, peaks = synthetic_ecg("N" * 160, seed=3)
    windows, _ = beat_windows(bandpass(x, FS), peaks, FS)
    return Detector("hybrid", TINY, TrainConfig(epochs=3, batch_size=32)).fit(windows, progress=False)


def unit_combination(threshold: float = 3.0) -> Combination:
    """Every feature counts once, relative to zero: parts are plain sums of features."""
    n = len(DEFAULT_FEATURES)
    return Combination(DEFAULT_FEATURES, np.ones(n), 0.0, np.zeros(n), threshold, 1.0)


def test_rhythm_features_mark_the_premature_beat_and_its_pause() -> None:
    peaks = np.cumsum([0, 200, 200, 200, 120, 280, 200, 200, 200])
    f = rhythm_features(peaks, 250.0, context=4)
    assert np.argmax(f["premature"]) == 4 and f["premature"][4] > 0.4
    assert np.argmax(f["pause"]) == 4          # short before, long after
    assert np.argmax(f["premature_local"]) == 4
    assert abs(f["premature"][2]) < 1e-9      # a regular beat is on time
    assert rhythm_features(np.array([5]), 250.0)["premature"].shape == (1,)


def test_analyze_fields_and_shapes(recording, beat_model) -> None:
    x, truth = recording
    detector = RecordingDetector(beat_model, unit_combination(), Settings(block_beats=16), {"model_id": "unit"})
    result = analyze(Signal(x, FS), detector)
    n = len(result)
    assert n == len(truth) and np.abs(result.sample - truth).max() <= 0.02 * FS
    assert result.sample.dtype == np.int64
    for name in ("rr_s", "score", "is_anomaly", "confidence", "time_s"):
        assert getattr(result, name).shape == (n,), name
    assert set(result.parts) == set(PARTS) and all(v.shape == (n,) for v in result.parts.values())
    assert np.isnan(result.rr_s[0]) and np.allclose(result.rr_s[1:], np.diff(result.sample) / FS)
    assert np.allclose(result.time_s, result.sample / FS)
    assert ((result.confidence >= 0) & (result.confidence <= 1)).all()
    assert (result.is_anomaly == (result.score > result.threshold)).all()
    # parts are the score less a constant
    assert np.allclose(sum(result.parts.values()) - result.score, (sum(result.parts.values()) - result.score)[0])
    d = result.as_dict()
    assert list(d) == ["fs", "lead", "duration_s", "model", "warnings", "readable_fraction", "unreadable",
                       "window_s", "summary", "beats"]
    assert d["warnings"] == [] and d["readable_fraction"] == 1.0 and d["unreadable"] == []
    assert d["summary"]["beats"] == n and d["summary"]["anomalies"] == int(result.is_anomaly.sum())
    assert d["summary"]["mean_hr_bpm"] == pytest.approx(60 / np.nanmean(result.rr_s), abs=0.01)
    assert list(d["beats"][0]) == ["sample", "time_s", "rr_s", "score", "threshold", "is_anomaly", "confidence"]
    assert d["beats"][0]["rr_s"] is None and isinstance(d["beats"][1]["rr_s"], float)
    assert set(result.beats(parts=True)[3]["parts"]) == set(PARTS)


def test_premature_beat_scores_higher_on_the_rhythm_part(recording, beat_model) -> None:
    x, _ = recording
    result = RecordingDetector(beat_model, unit_combination()).analyze(Signal(x, FS))
    kinds = np.array(list(KINDS))
    rhythm = result.parts["rhythm"]
    on_time = kinds == "N"
    on_time[np.flatnonzero(kinds != "N") + 1] = False  # the beat after a pause is late, not early
    assert rhythm[kinds == "A"].min() > rhythm[on_time].max() + 0.5
    assert rhythm[kinds == "V"].min() > rhythm[on_time].max() + 0.5
    assert rhythm[kinds == "W"].max() < rhythm[kinds == "A"].min()  # wide but on time


def test_beat_unlike_the_template_scores_higher_on_the_template_part(recording, beat_model) -> None:
    x, _ = recording
    result = RecordingDetector(beat_model, unit_combination()).analyze(Signal(x, FS))
    kinds = np.array(list(KINDS))
    template = result.parts["template"]
    assert template[kinds == "W"].min() > template[kinds == "N"].max() + 0.5
    assert template[kinds == "V"].min() > template[kinds == "N"].max() + 0.5


def test_wide_qrs_is_measured_against_the_patients_own(recording) -> None:
    x, peaks = recording
    width = beat_table(x, FS, None, peaks=peaks).features["qrs_width"]
    kinds = np.array(list(KINDS))
    wide = np.isin(kinds, ["W", "V"])
    assert np.isfinite(width).all() and (width >= 0).all()  # only wider than usual counts
    assert width[wide].min() > np.log(1.5) and np.median(width[kinds == "N"]) == 0.0
    assert width[kinds == "N"].max() < width[wide].min()
    # the same shapes stretched in time (a patient whose QRS is always wide): nothing is unusual any more
    slow, slow_peaks = synthetic_ecg("W" * 40, seed=5)
    assert np.median(beat_table(slow, FS, None, peaks=slow_peaks).features["qrs_width"]) == 0.0


def test_a_beats_features_do_not_depend_on_later_beats(recording, beat_model) -> None:
    """Causal features: change the signal from some beat on, and every beat whose segment and
    next R peak lie before the change keeps its values (what lets a stream give them early)."""
    x, peaks = recording
    settings = Settings(block_beats=8, reference_beats=24, warmup_beats=8)
    whole = beat_table(x, FS, beat_model, settings=settings, peaks=peaks)
    cut = int(peaks[60])
    changed = x.copy()
    changed[cut:] = x[cut:] * 1.7 + 0.3 * np.sin(np.arange(x.size - cut) / 7)  # other beats from here on
    other = beat_table(changed, FS, beat_model, settings=settings, peaks=peaks)
    segment = int(settings.segment_s * FS) + 1
    final = np.flatnonzero((peaks + segment < cut) & (np.r_[peaks[1:], x.size] < cut))
    assert final.size > 50
    for name, values in whole.features.items():
        assert np.allclose(values[final], other.features[name][final], atol=1e-9, equal_nan=True), name
    assert not np.allclose(whole.features["template"][70:], other.features["template"][70:])  # it did change


def test_r_peak_chunking_does_not_change_the_features(recording, beat_model) -> None:
    x, _ = recording
    one = beat_table(x, FS, beat_model, settings=Settings(peak_chunk_s=1e6))
    chunked = beat_table(x, FS, beat_model, settings=Settings(peak_chunk_s=5.0))
    assert np.array_equal(one.peaks, chunked.peaks)
    for name, values in one.features.items():
        assert np.array_equal(values, chunked.features[name], equal_nan=True), name


def test_fit_on_records_then_save_and_load_round_trip(recording, beat_model, tmp_path: Path) -> None:
    x, truth = recording
    table = beat_table(x, FS, beat_model)
    symbols = np.array(["N" if k == "N" else ("A" if k == "A" else "V") for k in KINDS])
    record = AnnotatedRecord("syn", tmp_path / "syn", FS, "II", table.peaks, symbols, truth, symbols, table)
    detector = fit_on_records([record], beat_model)
    assert (detector.combination.weights >= 0).all()
    assert detector.meta["model_id"].startswith("recording-")
    assert detector.meta["torch_version"] == torch.__version__
    assert detector.meta["torch_threads"] == torch.get_num_threads()
    assert detector.meta["code_commit"] == code_commit()
    before = detector.analyze(Signal(x, FS))
    assert before.is_anomaly[symbols != "N"].mean() > 0.5

    path = detector.save(tmp_path / "rec.safetensors")
    loaded = RecordingDetector.load(path)
    after = loaded.analyze(Signal(x, FS))
    assert np.array_equal(before.sample, after.sample)
    assert np.allclose(before.score, after.score) and loaded.threshold == detector.threshold
    assert loaded.settings == detector.settings and loaded.meta == detector.meta
    assert Detector.load(path).meta == beat_model.meta  # the file is also a beat-model file


def test_loading_a_beat_model_or_junk_as_a_recording_model_fails(beat_model, tmp_path: Path) -> None:
    beat_path = beat_model.save(tmp_path / "beat.safetensors")
    with pytest.raises(ValueError, match="beat model, not a recording model"):
        RecordingDetector.load(beat_path)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="junk.safetensors"):
        RecordingDetector.load(junk)
    with pytest.raises(ValueError, match="no such model file"):
        RecordingDetector.load(tmp_path / "missing.safetensors")


def test_flat_signal_is_refused_and_short_ones_a_clear_error(beat_model) -> None:
    detector = RecordingDetector(beat_model, unit_combination())
    with pytest.raises(UnreadableRecording, match=r"no part of it is readable ECG: flat 100%"):
        detector.analyze(Signal(np.zeros(int(10 * FS)), FS))
    for samples in (np.zeros(0), np.ones(int(2 * FS))):
        with pytest.raises(RecordingTooShort, match=r"^synthetic: the recording lasts \d\.\d\d s, too short to find "
                                                    r"heartbeats in; recordings of at least 5 s are accepted$"):
            detector.analyze(Signal(samples, FS))


def test_report_is_one_self_contained_page(recording, beat_model, tmp_path: Path) -> None:
    x, _ = recording
    signal = Signal(x, FS)
    result = RecordingDetector(beat_model, unit_combination()).analyze(signal)
    page = write_report(result, signal, tmp_path / "report").read_text()
    assert page.startswith("<!doctype html>") and "<script src=\"http" not in page
    assert "rangeslider" in page and f"{int(result.is_anomaly.sum())}" in page


def test_label_peaks_takes_the_nearest_beat_annotation_within_tolerance() -> None:
    ref = np.array([100, 400, 700, 1000])
    sym = np.array(["N", "V", "+", "A"])  # '+' is a rhythm change, not a beat
    labels = label_peaks(np.array([95, 410, 700, 1300, 1040]), ref, sym, fs=360.0)
    assert labels.tolist() == ["N", "V", "", "", "A"]


def test_real_record_labels(data_dir: Path) -> None:
    signal, record = read_annotated(data_dir / "mitdb" / "119")
    assert signal.lead == "MLII" and record.fs == 360.0
    labelled = record.is_normal | record.is_abnormal
    assert labelled.mean() > 0.99
    assert abs(int((record.symbols == "V").sum()) - 444) <= 5


def test_dominant_beat_is_the_template_beat_table_compared_with(recording, beat_model) -> None:
    """RecordingDetector.dominant_beat gives each beat's reference template: its distance to the beat's
    window is beat_table's template feature, in the first (warm-up) block and later ones, from a piece
    of the signal as from the whole."""
    from ecgad.recording.morphology import beat_items

    x, peaks = recording
    settings = Settings(block_beats=8, reference_beats=24, warmup_beats=16)
    detector = RecordingDetector(beat_model, unit_combination(), settings)
    table = beat_table(x, FS, beat_model, settings=settings, peaks=peaks)
    items = beat_items(x, 0, FS, peaks, settings)
    kinds = np.array(list(KINDS))
    checked = [0, 5, 15, 20, KINDS.index("W"), KINDS.index("V"), len(peaks) - 1]
    for i in checked:
        template = detector.dominant_beat(x, FS, peaks, i)
        assert template is not None and template.shape == (settings.template_length,)
        distance = np.log(np.sqrt(((items.z[i] - template) ** 2).mean()))
        assert distance == pytest.approx(table.features["template"][i], abs=1e-9), i
    # from a piece of the signal around the reference beats only
    i = 53
    first = int(peaks[(i // 8) * 8 - 24]) - int(FS * settings.segment_s) - 5
    piece = detector.dominant_beat(x[first:], FS, peaks, i, start=first)
    np.testing.assert_allclose(piece, detector.dominant_beat(x, FS, peaks, i), atol=1e-12)
    assert {kinds[j] for j in checked} >= {"N", "W", "V"}
