"""Signal quality: non-ECG and unreadable recordings are refused or flagged, noisy stretches left out,
clean records kept whole; no numpy or scipy warning reaches the terminal."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from heartbeats import synthetic_ecg
from test_cli_core import assert_one_line_error, invoke

from ecgad.data.quality import NOISE, assess_quality
from ecgad.data.rpeaks import detect_r_peaks
from ecgad.recording import UnreadableRecording, load_recording_detector

# any warning fails the test, but for one that wfdb's own import raises under pandas 3 (not shown to users)
pytestmark = [pytest.mark.filterwarnings("error"), pytest.mark.filterwarnings("ignore:The inplace keyword")]
FS = 250.0
SRC = Path(__file__).resolve().parents[1] / "src"


class Signal:
    """Stands in for ``ecgad.data.readers.Signal``."""

    def __init__(self, samples: np.ndarray, fs: float, source: str = "test") -> None:
        self.samples, self.fs, self.lead, self.source = np.asarray(samples, np.float32), fs, "II", source
        self.duration_s = self.samples.size / fs


@pytest.fixture(scope="module")
def detector():
    return load_recording_detector()


def pyedflib_file(name: str) -> Path:
    pyedflib = pytest.importorskip("pyedflib")
    path = Path(pyedflib.__file__).parent / "tests" / "data" / name
    if not path.is_file():
        pytest.skip(f"pyedflib ships no {name} here")
    return path


def non_ecg(kind: str, seconds: float = 60.0, fs: float = 360.0) -> np.ndarray:
    t = np.arange(int(seconds * fs)) / fs
    return {"sine": np.sin(2 * np.pi * 5 * t), "square": np.sign(np.sin(2 * np.pi * 1 * t)),
            "noise": np.random.default_rng(0).standard_normal(t.size) * 0.3, "flat": 0 * t}[kind]


def noisy(x: np.ndarray, fs: float, start_s: float, end_s: float, sd: float = 1.0) -> np.ndarray:
    y = np.asarray(x, dtype=np.float64).copy()
    a, b = int(start_s * fs), int(end_s * fs)
    y[a:b] += np.random.default_rng(1).standard_normal(b - a) * sd
    return y


def write_csv(path: Path, x: np.ndarray, fs: float) -> Path:
    path.write_text("time,II\n" + "".join(f"{i / fs:.4f},{v:.5f}\n" for i, v in enumerate(x)))
    return path


# ------------------------------------------------------------------ not an ECG


@pytest.mark.parametrize("name", ["test_generator.bdf", "test_generator.edf", "test_subsecond.edf"])
def test_pyedflib_test_files_are_refused_with_one_line(name: str) -> None:
    """A fresh process, as a user runs it: exit 2, one line on stderr saying why, no beats, no warning."""
    path = pyedflib_file(name)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run([sys.executable, "-m", "ecgad.cli", "analyze", str(path)], capture_output=True,
                         text=True, env=env, timeout=300)
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: "), run.stderr
    assert "readable ECG is needed" in lines[0] and "beats" not in lines[0]


@pytest.mark.parametrize("kind, reason", [("sine", "not ECG-like 100%"), ("square", "saturated 100%"),
                                          ("noise", "noise 100%"), ("flat", "flat 100%")])
def test_non_ecg_signals_are_refused(detector, kind: str, reason: str) -> None:
    with pytest.raises(UnreadableRecording, match=reason):
        detector.analyze(Signal(non_ecg(kind), 360.0))


def test_cli_refuses_a_sine_wave(tmp_path: Path) -> None:
    result = invoke("analyze", write_csv(tmp_path / "sine.csv", non_ecg("sine", 30.0), 360.0))
    assert_one_line_error(result)
    assert "nothing in it looks like an ECG" in result.stderr and "not ECG-like 100%" in result.stderr


# ------------------------------------------------------------------ noisy stretches


def test_noisy_stretch_is_marked_and_its_beats_left_out(detector) -> None:
    x, peaks = synthetic_ecg("N" * 150, FS, seed=2)
    y = noisy(x, FS, 40.0, 70.0)
    result = detector.analyze(Signal(y, FS))
    segments = result.quality.segments()
    assert segments and all(r == NOISE for _, _, r in segments)
    covered = np.zeros(y.size, bool)
    for a, b, _ in segments:
        covered[a:b] = True
    assert covered[int(40 * FS):int(70 * FS)].mean() >= 0.8      # the stretch is marked...
    assert not covered[:int(35 * FS)].any() and not covered[int(75 * FS):].any()  # ...and nothing far from it
    kept = result.sample
    assert not ((kept >= int(45 * FS)) & (kept < int(65 * FS))).any()
    outside = peaks[(peaks < int(35 * FS)) | (peaks >= int(75 * FS))]
    assert np.isin(outside, kept).mean() > 0.95                  # the clean beats stay
    # no RR interval spans the gap: the first beat after it has none, the heart rate stays sinus-like
    gap = np.flatnonzero(np.diff(kept) > 3 * FS)
    assert gap.size == 1 and np.isnan(result.rr_s[gap[0] + 1])
    assert 55 < result.summary["mean_hr_bpm"] < 90
    assert [w["code"] for w in result.warnings] == ["low_quality"]
    assert f"Only {100 * result.quality.readable_fraction:.0f}% of this recording" in result.warnings[0]["message"]


def test_clean_synthetic_recording_is_fully_readable(detector) -> None:
    x, _ = synthetic_ecg("N" * 100, FS, seed=3)
    result = detector.analyze(Signal(x, FS))
    assert result.quality.readable_fraction == 1.0 and result.warnings == [] and result.quality.segments() == []


def test_cli_json_and_text_say_what_was_left_out(tmp_path: Path) -> None:
    x, _ = synthetic_ecg("N" * 150, FS, seed=2)
    path = write_csv(tmp_path / "noisy.csv", noisy(x, FS, 40.0, 70.0), FS)
    result = invoke("analyze", path, "--json")
    assert result.exit_code == 0 and result.stderr == ""
    out = json.loads(result.stdout)
    assert [w["code"] for w in out["warnings"]] == ["low_quality"] and out["warnings"][0]["message"]
    assert 0.5 < out["readable_fraction"] < 0.9 and out["window_s"] == 5.0
    assert out["unreadable"] and all(r == "noise" and a < b for a, b, r in out["unreadable"])
    assert out["summary"]["beats"] == len(out["beats"])
    text = invoke("analyze", path)
    assert text.exit_code == 0 and text.stderr == ""
    assert f"readable ECG: {100 * out['readable_fraction']:.1f}% of the recording (left out: noise" in text.stdout
    assert "  unreadable 00:00:" in text.stdout and "warning (low_quality): Only" in text.stdout
    report = invoke("analyze", path, "--report", tmp_path / "report")
    page = (tmp_path / "report" / "report.html").read_text()
    assert report.exit_code == 0 and "<dt>readable ECG</dt>" in page and "Warning: Only" in page


# ------------------------------------------------------------------ real records


def test_clean_mitdb_record_is_fully_readable(data_dir: Path, detector) -> None:
    from ecgad.data.readers import read_recording

    signal = read_recording(data_dir / "mitdb" / "115")
    quality = assess_quality(signal.samples, signal.fs, detect_r_peaks(signal.samples, signal.fs))
    assert quality.readable_fraction == 1.0 and quality.warnings() == [] and quality.refusal() is None


def test_mitdb_record_with_a_noisy_stretch(data_dir: Path, detector) -> None:
    """Record 101 is one of the shipped model's training records; the test is about the quality check
    and the R-peak detector, not the model's verdicts."""
    from ecgad.data.annotations import read_annotations
    from ecgad.data.readers import read_recording

    signal = read_recording(data_dir / "mitdb" / "101")
    fs = signal.fs
    x = signal.samples[:int(180 * fs)]
    clean = detector.analyze(Signal(x, fs))
    assert clean.quality.readable_fraction == 1.0
    result = detector.analyze(Signal(noisy(x, fs, 60.0, 90.0), fs))
    marked = [(a / fs, b / fs) for a, b, _ in result.quality.segments()]
    assert marked and min(a for a, _ in marked) >= 55 and max(b for _, b in marked) <= 95
    assert sum(min(b, 90) - max(a, 60) for a, b in marked if b > 60 and a < 90) >= 25
    t = result.time_s
    assert not ((t > 65) & (t < 85)).any()
    ref, sym = read_annotations(data_dir / "mitdb" / "101")
    outside = ref[((ref < 55 * fs) | ((ref > 95 * fs) & (ref < 179 * fs))) & (ref > fs)]
    found = np.abs(outside[:, None] - result.sample[None, :]).min(axis=1) <= 0.15 * fs
    assert found.mean() > 0.95  # the R-peak detector re-adapts within seconds after a loud artefact
    assert abs(result.summary["mean_hr_bpm"] - clean.summary["mean_hr_bpm"]) < 3


def test_stretch_stuck_at_the_rail_is_saturated_and_a_lead_off_flat() -> None:
    x, _ = synthetic_ecg("N" * 100, FS, seed=6)
    y = x.astype(np.float64).copy()
    y[int(30 * FS):int(50 * FS)] = 5.0                      # the amplifier's positive rail
    y[int(60 * FS):int(75 * FS)] = np.random.default_rng(0).normal(0, 0.002, int(15 * FS))  # electrode off
    quality = assess_quality(y, FS, detect_r_peaks(y, FS))
    assert [(a // int(FS), b // int(FS), r) for a, b, r in quality.segments()] == \
        [(30, 50, "saturated"), (60, 75, "flat")]
    assert quality.readable_fraction == pytest.approx(1 - 35 / (y.size / FS), abs=1e-9)
