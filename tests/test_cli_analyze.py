"""`ecgad analyze` and `ecgad train --data-format wfdb`."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_cli_core import assert_one_line_error, invoke
from test_recording import FS, KINDS, TINY, synthetic_ecg, unit_combination

from ecgad.data.beats import beat_windows
from ecgad.data.rpeaks import bandpass
from ecgad.detector import Detector
from ecgad.recording import RecordingDetector, load_recording_detector
from ecgad.train import TrainConfig

BEAT_KEYS = ["sample", "time_s", "rr_s", "score", "threshold", "is_anomaly", "confidence"]


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    x, peaks = synthetic_ecg("N" * 120, seed=5)
    windows, _ = beat_windows(bandpass(x, FS), peaks, FS)
    beat = Detector("hybrid", TINY, TrainConfig(epochs=2, batch_size=32)).fit(windows, progress=False)
    detector = RecordingDetector(beat, unit_combination(), meta={"model_id": "recording-test"})
    return detector.save(tmp_path_factory.mktemp("model") / "rec.safetensors")


@pytest.fixture(scope="module")
def csv_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    x, peaks = synthetic_ecg(KINDS)
    path = tmp_path_factory.mktemp("csv") / "ecg.csv"
    t = np.arange(x.size) / FS
    path.write_text("time,II\n" + "".join(f"{a:.4f},{b:.5f}\n" for a, b in zip(t, x, strict=True)))
    return path, peaks


def check_json(stdout: str, classes: bool = False) -> dict:
    """The JSON of `ecgad analyze`; ``classes``: from a model with a beat classifier (format /3)."""
    out = json.loads(stdout)  # exactly one object
    assert list(out) == ["fs", "lead", "duration_s", "model", "warnings", "readable_fraction", "unreadable",
                         "window_s", "summary", "beats", "holter"]
    assert out["warnings"] == [] and out["readable_fraction"] == 1.0 and out["unreadable"] == []
    classes = "classes" in out["summary"]  # when the model has a beat classifier
    assert set(out["summary"]) == {"beats", "anomalies", "mean_hr_bpm"} | ({"classes"} if classes else set())
    assert out["summary"]["beats"] == len(out["beats"]) > 0
    assert out["summary"]["anomalies"] == sum(b["is_anomaly"] for b in out["beats"])
    for b in out["beats"]:
        assert list(b) == BEAT_KEYS + (["class", "class_confidence"] if classes else [])
        assert isinstance(b["sample"], int) and 0 <= b["confidence"] <= 1
        assert b["time_s"] == pytest.approx(b["sample"] / out["fs"], abs=1e-3)
    assert out["model"]["model_id"].startswith("recording-")
    assert out["holter"]["beats"] == len(out["beats"]) and out["holter"]["start"] is None  # a CSV tells no start
    return out


def test_analyze_csv_json(model: Path, csv_file) -> None:
    path, peaks = csv_file
    result = invoke("analyze", path, "--model", model, "--json")
    assert result.exit_code == 0, result.stderr
    out = check_json(result.stdout)
    assert out["fs"] == pytest.approx(FS) and out["lead"] == "II"
    assert out["duration_s"] == pytest.approx(len(path.read_text().splitlines()[1:]) / FS, abs=0.01)
    found = np.array([b["sample"] for b in out["beats"]])
    assert len(found) == len(peaks) and np.abs(found - peaks).max() <= 5
    assert out["summary"]["mean_hr_bpm"] == pytest.approx(60 / np.diff(peaks / FS).mean(), rel=0.01)


def test_analyze_csv_with_fs_and_table(model: Path, csv_file, tmp_path: Path) -> None:
    path, _ = csv_file
    bare = tmp_path / "bare.tsv"  # one column of samples, no header: the rate comes from --fs
    bare.write_text("".join(line.split(",")[1].strip() + "\n" for line in path.read_text().splitlines()[1:]))
    result = invoke("analyze", bare, "--model", model, "--fs", FS, "--report", tmp_path / "report")
    assert result.exit_code == 0, result.stderr
    assert "beats" in result.stdout and "abnormal" in result.stdout and "report:" in result.stdout
    page = (tmp_path / "report" / "report.html").read_text()
    assert "rangeslider" in page
    # the timeline is drawn with the one plot config: no button that sends the chart to a cloud service
    from ecgad.report.figures import PLOT_CONFIG

    assert page.count("Plotly.newPlot(") == 1 and page.count(json.dumps(PLOT_CONFIG)) == 1


@pytest.mark.parametrize("case", ["missing", "no-rate", "bad-fs", "bad-model", "beat-model", "bad-lead", "too-short"])
def test_analyze_bad_input_exits_2_with_one_line(case: str, model: Path, csv_file, tmp_path: Path) -> None:
    path, _ = csv_file
    args: list = ["analyze", path, "--model", model]
    if case == "missing":
        args[1] = tmp_path / "nothing.csv"
    elif case == "no-rate":
        bare = tmp_path / "bare.csv"
        bare.write_text("0.1\n0.2\n0.3\n" * 200)
        args[1] = bare
    elif case == "bad-fs":
        args += ["--fs", "-5"]
    elif case == "bad-model":
        junk = tmp_path / "junk.safetensors"
        junk.write_bytes(b"junk")
        args[3] = junk
    elif case == "beat-model":
        args[3] = _beat_file(tmp_path)
    elif case == "bad-lead":
        args += ["--lead", "V9"]
    elif case == "too-short":
        short = tmp_path / "short.csv"
        short.write_text("time,II\n" + "".join(f"{i / 250:.3f},0.{i % 7}\n" for i in range(10)))
        args[1] = short
    assert_one_line_error(invoke(*args))


def test_analyze_three_seconds_says_what_is_accepted_and_writes_nothing(model: Path, csv_file, tmp_path: Path) -> None:
    """A 3-s recording: one line naming the file as given and the 5 s accepted; no report is written."""
    path, _ = csv_file
    short = tmp_path / "three.csv"
    short.write_text("".join(path.read_text().splitlines(keepends=True)[:1 + int(3 * FS)]))
    result = invoke("analyze", short, "--model", model, "--report", tmp_path / "report")
    assert_one_line_error(result)
    assert result.stderr == (f"error: {short}: the recording lasts 3.00 s, too short to find heartbeats in; "
                             "recordings of at least 5 s are accepted\n")
    assert not (tmp_path / "report").exists()


def _beat_file(tmp_path: Path) -> Path:
    x, peaks = synthetic_ecg("N" * 40, seed=9)
    windows, _ = beat_windows(bandpass(x, FS), peaks, FS)
    det = Detector("hybrid", TINY, TrainConfig(epochs=1)).fit(windows, progress=False)
    return det.save(tmp_path / "beat.safetensors")


def test_analyze_real_wfdb_excerpt_with_the_shipped_model(data_dir: Path, tmp_path: Path) -> None:
    """The first two minutes of MIT-BIH 119 (ventricular bigeminy), written as a WFDB record. 119 is one of
    the shipped model's 22 training records: this checks the file path end to end and the fit, not how it
    does on a new patient (tests/test_recording_rules.py: a PTB record and synthetic signals)."""
    import wfdb

    from ecgad.data.annotations import label_peaks, read_annotations
    from ecgad.data.readers import read_recording

    source = data_dir / "mitdb" / "119"
    signal = read_recording(source)
    n = int(120 * signal.fs)
    wfdb.wrsamp("ex119", fs=signal.fs, units=["mV"], sig_name=["MLII"], fmt=["16"],
                p_signal=signal.samples[:n, None].astype(np.float64), write_dir=str(tmp_path))
    result = invoke("analyze", tmp_path / "ex119", "--json")
    assert result.exit_code == 0, result.stderr
    out = check_json(result.stdout, classes=True)
    assert out["lead"] == "MLII" and out["fs"] == 360 and out["duration_s"] == pytest.approx(120)
    assert out["model"] == load_recording_detector().model_info()
    ref, sym = read_annotations(source)
    samples = np.array([b["sample"] for b in out["beats"]])
    labels = label_peaks(samples, ref[ref < n], sym[ref < n], 360.0)
    flagged = np.array([b["is_anomaly"] for b in out["beats"]])
    assert (labels == "V").sum() > 20
    assert flagged[labels == "V"].mean() > 0.9 and flagged[labels == "N"].mean() < 0.1
    classes = np.array([b["class"] for b in out["beats"]])
    assert (classes[labels == "V"] == "V").mean() > 0.9 and (classes[labels == "N"] == "N").mean() > 0.9
    assert out["summary"]["classes"]["V"] == (classes == "V").sum()
    # the Holter summary of its beats: 119's bigeminy is there as episodes of isolated V beats
    holter = out["holter"]
    assert holter["classes"]["V"] == (classes == "V").sum() and holter["ventricular"]["bigeminy"]["count"] >= 1
    for episode in holter["ventricular"]["bigeminy"]["events"]:
        first = episode["beat"] - 1
        assert "".join(classes[first:first + 2 * episode["cycles"] - 1]) == "VN" * (episode["cycles"] - 1) + "V"
        assert (labels[first:first + 2 * episode["cycles"] - 1:2] == "V").mean() > 0.9  # the annotations agree


def test_train_wfdb_writes_a_recording_model(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "rec.safetensors"
    result = invoke("train", "--data-format", "wfdb", "--data", data_dir, "--records", "119", "101",
                    "--epochs", "1", "--out", out)
    assert result.exit_code == 0, result.stderr
    assert "2 records" in result.stdout
    detector = RecordingDetector.load(out)
    assert detector.meta["trained_on"]["records"] == ["119", "101"]
    assert detector.meta["trained_on"]["abnormal_beats"] > 400
    assert detector.classifier is not None and detector.classifier.info["beats"]["V"] > 400


@pytest.mark.parametrize("case", ["unknown-record", "records-without-wfdb", "no-records", "reference-arch"])
def test_train_wfdb_bad_input_exits_2(case: str, data_dir: Path, tmp_path: Path) -> None:
    args = ["train", "--data-format", "wfdb", "--data", data_dir, "--records", "119", "--out", tmp_path / "m.st"]
    if case == "unknown-record":
        args[6] = "999"
    elif case == "records-without-wfdb":
        args[2] = "ecg5000"
    elif case == "no-records":
        args[4] = tmp_path
    elif case == "reference-arch":
        args += ["--arch", "reference"]
    assert_one_line_error(invoke(*args))


@pytest.mark.parametrize("name, expected", [("scan.csv", "scan.csv: not a text file (it holds NUL bytes)"),
                                            ("scan.hea", "not a WFDB header: not a text file"),
                                            ("scan.edf", "scan.edf: not a readable EDF/EDF+ file")])
def test_binary_file_gets_a_short_printable_message(model: Path, tmp_path: Path, name: str, expected: str) -> None:
    """Raw bytes of a binary file were echoed to the terminal; now only printable, shortened text."""
    path = tmp_path / name
    path.write_bytes(bytes(range(256)) * 40)
    result = invoke("analyze", path, "--model", model)
    assert_one_line_error(result)
    assert expected in result.stderr
    assert all(ch.isprintable() for ch in result.stderr.rstrip("\n")) and len(result.stderr) < 400


def test_header_above_20_khz_is_refused(model: Path, tmp_path: Path) -> None:
    (tmp_path / "fast.hea").write_text("fast 1 1000000 1000\nfast.dat 16 200 16 0 0 0 0 II\n")
    (tmp_path / "fast.dat").write_bytes(b"\x00" * 2000)
    result = invoke("analyze", tmp_path / "fast", "--model", model)
    assert_one_line_error(result)
    assert "sampling rate 1e+06 Hz is above the 20000 Hz accepted; accepted: 100 to 20000 Hz" in result.stderr


def test_analyze_pdf_report(model: Path, csv_file, tmp_path: Path) -> None:
    """--pdf writes the Holter report (Letter with --paper Letter); the text output gives the summary lines."""
    from pypdf import PdfReader

    path, peaks = csv_file
    out = tmp_path / "holter.pdf"
    result = invoke("analyze", path, "--model", model, "--pdf", out, "--paper", "Letter")
    assert result.exit_code == 0, result.stderr
    assert f"pdf: {out}" in result.stdout and "heart rate (8-beat average): min" in result.stdout
    reader = PdfReader(out)
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx((612.0, 792.0))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "Holter ECG report" in text and "ecg" in text and "recording-test" in text
    assert f"Beats {peaks.size}" in " ".join(text.split()) or f"Beats\n{peaks.size}" in text
    bad = invoke("analyze", path, "--model", model, "--pdf", tmp_path / "missing" / "x.pdf")
    assert bad.exit_code == 2 and "--pdf" in bad.stderr
