"""Band-pass filtering and R-peak detection: real excerpts against their annotations, chunking, streams."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from heartbeats import synthetic_ecg as synthetic_recording
from scipy.signal import resample_poly

from ecgad.data.annotations import BEAT_SYMBOLS, match_peaks, read_annotations
from ecgad.data.readers import read_recording
from ecgad.data.rpeaks import RPeakStream, bandpass, detect_r_peaks, detect_r_peaks_chunked


def excerpt(data_dir: Path, record: str, seconds: float) -> tuple[np.ndarray, float, np.ndarray]:
    """(MLII samples, fs, annotated beat samples) of the first ``seconds`` of a MIT-BIH record."""
    path = data_dir / "mitdb" / record
    if not path.with_suffix(".hea").is_file():
        pytest.skip(f"no MIT-BIH record {record} in {path.parent}")
    signal = read_recording(path)
    n = int(seconds * signal.fs)
    samples, symbols = read_annotations(path)
    beats = samples[np.isin(symbols, list(BEAT_SYMBOLS)) & (samples < n)]
    return signal.samples[:n], signal.fs, beats


def se_ppv(found: np.ndarray, reference: np.ndarray, fs: float) -> tuple[float, float]:
    tp, fp, fn = match_peaks(found, reference, fs, tolerance_s=0.150)
    return tp / (tp + fn), tp / (tp + fp)


# ------------------------------------------------------------------ real excerpts


@pytest.mark.parametrize("record", ["101", "208"])
def test_first_minute_against_annotations(data_dir: Path, record: str) -> None:
    x, fs, beats = excerpt(data_dir, record, 60)
    peaks = detect_r_peaks(x, fs)
    assert peaks.dtype == np.int64 and np.all(np.diff(peaks) > 0)
    se, ppv = se_ppv(peaks, beats, fs)
    assert se >= 0.99 and ppv >= 0.99, (se, ppv)


def test_inverted_lead_gives_the_same_peaks(data_dir: Path) -> None:
    """208's PVCs and normal beats point different ways; flipping the lead changes nothing."""
    x, fs, beats = excerpt(data_dir, "208", 60)
    np.testing.assert_array_equal(detect_r_peaks(-x, fs), detect_r_peaks(x, fs))


def test_low_sampling_rate(data_dir: Path) -> None:
    x, fs, beats = excerpt(data_dir, "208", 60)
    low = resample_poly(x, 32, 90)  # 360 -> 128 Hz
    se, ppv = se_ppv(detect_r_peaks(low, 128.0), np.round(beats * 128 / fs).astype(int), 128.0)
    assert se >= 0.99 and ppv >= 0.99, (se, ppv)


def test_ptb_at_1000_hz_has_a_steady_rhythm(data_dir: Path) -> None:
    record = data_dir / "wfdb" / "s0010_re"
    if not record.with_suffix(".hea").is_file():
        pytest.skip(f"no PTB record in {record.parent}")
    signal = read_recording(record)
    rr = np.diff(detect_r_peaks(signal.samples, signal.fs)) / signal.fs
    assert len(rr) > 45  # 38.4 s at about 80 bpm
    assert 0.6 < np.median(rr) < 0.9 and rr.std() < 0.03


def test_chunked_gives_the_whole_signal_peaks(data_dir: Path) -> None:
    x, fs, _ = excerpt(data_dir, "208", 300)  # many PVCs: the hardest seams
    whole = detect_r_peaks(x, fs)
    np.testing.assert_array_equal(detect_r_peaks_chunked(x, fs, chunk_s=60, overlap_s=2), whole)
    np.testing.assert_array_equal(detect_r_peaks_chunked(x, fs, chunk_s=7.3, overlap_s=1.5), whole)
    # a stream of uneven blocks, as a reader of a long file would give them
    rng = np.random.default_rng(0)
    cuts = np.sort(rng.choice(np.arange(1, x.size), size=300, replace=False))
    blocks = (block for block in np.split(x, cuts))
    np.testing.assert_array_equal(detect_r_peaks_chunked(blocks, fs, chunk_s=45), whole)


def stream_in_pieces(x: np.ndarray, fs: float, seed: int, **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """Feed ``x`` to an RPeakStream in random pieces, a third of them one sample long:
    (the peaks, and for each how many samples had been fed before the piece that returned it)."""
    rng = np.random.default_rng(seed)
    stream, peaks, fed_before, start = RPeakStream(fs, **kwargs), [], [], 0
    while start < x.size:
        size = 1 if rng.random() < 1 / 3 else int(rng.integers(2, int(2 * fs)))
        new = stream.feed(x[start:start + size])
        peaks.append(new)
        fed_before.append(np.full(new.size, start))
        start += size
    peaks.append(stream.finish())
    fed_before.append(np.full(peaks[-1].size, x.size))
    with pytest.raises(ValueError, match="finished"):
        stream.feed(x[:10])
    return np.concatenate(peaks), np.concatenate(fed_before)


def test_stream_in_random_pieces_gives_the_whole_signal_peaks(data_dir: Path) -> None:
    chunk_s, overlap_s = 5.0, 2.0
    recordings = [synthetic_recording("NNANNVNNWNNNVNAN" * 5, fs=250.0)[0], synthetic_ecg(360.0, 50.0)[0]]
    rates = [250.0, 360.0]
    if (data_dir / "mitdb" / "208.hea").is_file():
        x, fs, _ = excerpt(data_dir, "208", 150)  # many PVCs
        recordings.append(x)
        rates.append(fs)
    for seed, (x, fs) in enumerate(zip(recordings, rates, strict=True)):
        whole = detect_r_peaks(x, fs)
        assert whole.size > 50
        # as analyze finds them (60 s chunks), and in short chunks: the whole signal's peaks, each once
        np.testing.assert_array_equal(stream_in_pieces(x, fs, seed)[0], whole)
        peaks, fed_before = stream_in_pieces(x, fs, seed, chunk_s=chunk_s, overlap_s=overlap_s)
        np.testing.assert_array_equal(peaks, whole)
        # how late: a peak comes once the chunk after it and the filter margin have arrived
        late_s = (fed_before - peaks)[fed_before < x.size] / fs
        assert late_s.max() < chunk_s + overlap_s, late_s.max()


# ------------------------------------------------------------------ synthetic


def synthetic_ecg(fs: float, seconds: float = 20.0, rr: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
    """Narrow QRS spikes with wide T waves, baseline wander and noise; (signal, true R samples)."""
    t = np.arange(int(seconds * fs)) / fs
    r_times = np.arange(0.5, seconds - 0.5, rr)
    x = 0.3 * np.sin(2 * np.pi * 0.2 * t) + 0.02 * np.random.default_rng(1).standard_normal(t.size)
    for r in r_times:
        x += 1.5 * np.exp(-0.5 * ((t - r) / 0.012) ** 2)         # QRS
        x += 0.35 * np.exp(-0.5 * ((t - r - 0.28) / 0.05) ** 2)  # T wave
    return x, np.round(r_times * fs).astype(int)


@pytest.mark.parametrize("fs", [125.0, 360.0, 1000.0])
def test_synthetic_ecg_at_several_rates(fs: float) -> None:
    x, truth = synthetic_ecg(fs)
    peaks = detect_r_peaks(x, fs)
    assert len(peaks) == len(truth)
    assert np.abs(peaks - truth).max() <= max(1, round(0.004 * fs))


def test_flat_and_empty_signals_have_no_peaks() -> None:
    assert detect_r_peaks(np.zeros(3600), 360.0).size == 0
    assert detect_r_peaks(np.zeros(0), 360.0).size == 0
    assert detect_r_peaks_chunked(iter([]), 360.0).size == 0


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="1-D"):
        detect_r_peaks(np.zeros((2, 100)), 360.0)
    with pytest.raises(ValueError, match="sampling rate"):
        detect_r_peaks(np.zeros(100), 0)
    with pytest.raises(ValueError, match="overlap_s"):
        detect_r_peaks_chunked(np.zeros(1000), 360.0, overlap_s=0.1)


def test_bandpass_keeps_the_band_zero_phase() -> None:
    fs = 360.0
    t = np.arange(int(20 * fs)) / fs
    drift, wave, hum = np.sin(2 * np.pi * 0.05 * t), np.sin(2 * np.pi * 10 * t), np.sin(2 * np.pi * 100 * t)
    middle = slice(int(5 * fs), int(15 * fs))  # away from the edges
    assert np.abs(bandpass(drift, fs)[middle]).max() < 0.05
    assert np.abs(bandpass(hum, fs)[middle]).max() < 0.05
    passed = bandpass(wave, fs)[middle]
    assert np.abs(passed - wave[middle]).max() < 0.02  # no attenuation, no phase shift
    assert bandpass(wave.astype(np.float32), fs).dtype == np.float64


def test_match_peaks_by_hand() -> None:
    reference = np.array([100, 400, 700, 1000])
    found = np.array([90, 410, 412, 1300])  # at 100 Hz the tolerance is 15 samples; 412 matches 400 again
    assert match_peaks(found, reference, fs=100.0, tolerance_s=0.15) == (2, 2, 2)
    assert match_peaks(np.array([], dtype=int), reference, fs=100.0) == (0, 0, 4)
    # closest pairs first: 112 goes to 120 (8 away), not to 100 (12 away)
    assert match_peaks(np.array([112]), np.array([100, 120]), fs=100.0) == (1, 0, 1)
