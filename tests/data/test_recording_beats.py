"""Beats of a recording: windows aligned like ECG5000 (R peak at index 3, one RR long), RR intervals."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ecgad.data.beats import BEAT_LENGTH, R_INDEX, beat_windows, prepare, rr_intervals
from ecgad.data.ecg5000 import load
from ecgad.data.readers import read_recording
from ecgad.data.rpeaks import bandpass, detect_r_peaks

FS = 360.0


def spikes(peaks: np.ndarray, n: int) -> np.ndarray:
    """Zero everywhere but 1 at each peak: where a window puts it is plain to see."""
    x = np.zeros(n)
    x[peaks] = 1.0
    return x


def test_windows_put_each_r_peak_at_index_3() -> None:
    peaks = np.array([200, 500, 790, 1100, 1500, 1800])
    windows, kept = beat_windows(spikes(peaks, 2000), peaks, FS)
    assert R_INDEX == 3
    assert windows.dtype == np.float32 and windows.shape == (5, BEAT_LENGTH)
    np.testing.assert_array_equal(kept, [0, 1, 2, 3, 4])  # the last peak has no next one
    assert np.all(np.argmax(windows, axis=1) == R_INDEX)
    np.testing.assert_allclose(windows[:, R_INDEX], 1.0)
    # one RR long: the next R peak would be sample 140, just past the end
    assert np.all(windows[:, R_INDEX + 1:] < 1.0)


def test_a_window_spans_its_rr_interval() -> None:
    x = np.arange(3000, dtype=np.float64)  # a ramp: a window's values are its sample times
    peaks = np.array([100, 460, 1000])
    windows, kept = beat_windows(x, peaks, FS)
    for window, i in zip(windows, kept, strict=True):
        rr = peaks[i + 1] - peaks[i]
        step = rr / BEAT_LENGTH
        np.testing.assert_allclose(window[R_INDEX], peaks[i], atol=1e-3)
        np.testing.assert_allclose(np.diff(window), step, rtol=1e-4)
        np.testing.assert_allclose(window[0], peaks[i] - R_INDEX * step, rtol=1e-5)


def test_fixed_span_and_longest_span() -> None:
    x = np.arange(20000, dtype=np.float64)
    peaks = np.array([1000, 1300, 3000, 3300])  # a 4.7 s pause after the second beat
    windows, kept = beat_windows(x, peaks, FS)
    spans = (windows[:, -1] - windows[:, 0]) * BEAT_LENGTH / (BEAT_LENGTH - 1) / FS
    np.testing.assert_allclose(spans, [300 / FS, 2.0, 300 / FS], rtol=1e-4)  # the pause is cut at 2 s
    fixed, kept_fixed = beat_windows(x, peaks, FS, span_s=0.7)
    np.testing.assert_array_equal(kept_fixed, [0, 1, 2, 3])  # no next peak needed
    np.testing.assert_allclose(np.diff(fixed, axis=1), 0.7 * FS / BEAT_LENGTH, rtol=1e-3)  # a float32 ramp
    np.testing.assert_allclose(fixed[:, R_INDEX], peaks, atol=1e-3)


def test_peaks_too_close_to_the_ends_are_dropped() -> None:
    peaks = np.array([5, 400, 700, 990])
    windows, kept = beat_windows(spikes(peaks, 1000), peaks, FS, span_s=0.8)
    np.testing.assert_array_equal(kept, [1, 2])  # 5: starts before 0; 990: runs past the end
    assert windows.shape == (2, BEAT_LENGTH)
    empty, none = beat_windows(np.zeros(100), np.array([50]), FS)
    assert empty.shape == (0, BEAT_LENGTH) and none.size == 0


def test_other_lengths_keep_the_r_peak_in_proportion() -> None:
    peaks = np.array([200, 560, 920])
    windows, _ = beat_windows(spikes(peaks, 1200), peaks, FS, length=280)
    assert windows.shape == (2, 280) and np.all(np.argmax(windows, axis=1) == 2 * R_INDEX)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="increasing"):
        beat_windows(np.zeros(1000), np.array([500, 300]), FS)
    with pytest.raises(ValueError, match="length"):
        beat_windows(np.zeros(1000), np.array([300, 500]), FS, length=8)


def test_rr_intervals_by_hand() -> None:
    previous, following = rr_intervals(np.array([0, 360, 900, 1260]), FS)
    np.testing.assert_allclose(previous, [np.nan, 1.0, 1.5, 1.0])
    np.testing.assert_allclose(following, [1.0, 1.5, 1.0, np.nan])
    previous, following = rr_intervals(np.array([7]), FS)
    assert np.isnan(previous).all() and np.isnan(following).all()
    assert rr_intervals(np.array([], dtype=int), FS)[0].size == 0


# ------------------------------------------------------------------ real data


def test_ecg5000_puts_the_r_peak_at_index_3(data_dir: Path) -> None:
    """The finding beat_windows copies: ECG5000's normal beats have their (inverted) R at index 3."""
    if not (data_dir / "ECG5000").is_dir():
        pytest.skip(f"no ECG5000 in {data_dir}")
    train, _ = load(data_dir / "ECG5000")
    normals = train.normals
    assert int(np.argmin(normals.mean(axis=0))) == R_INDEX
    assert np.median(np.argmin(normals, axis=1)) == R_INDEX


def test_mitdb_beats_are_aligned_like_ecg5000(data_dir: Path) -> None:
    record = data_dir / "mitdb" / "101"
    if not record.with_suffix(".hea").is_file():
        pytest.skip(f"no MIT-BIH record 101 in {record.parent}")
    signal = read_recording(record)
    x = signal.samples[: int(300 * signal.fs)]
    clean = bandpass(x, signal.fs)
    peaks = detect_r_peaks(x, signal.fs)
    windows, kept = beat_windows(clean, peaks, signal.fs)
    assert len(kept) >= len(peaks) - 2 and windows.shape[1] == BEAT_LENGTH
    # the R peak (upright in MLII) sits at index 3 of nearly every window
    assert np.mean(np.argmax(windows, axis=1) == R_INDEX) > 0.95
    beats = prepare(windows)
    assert int(np.argmax(beats.mean(axis=0))) == R_INDEX
    previous, following = rr_intervals(peaks, signal.fs)
    assert 0.8 < np.nanmedian(following) < 1.2  # 101 runs at about 60-75 bpm
