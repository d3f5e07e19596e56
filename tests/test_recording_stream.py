"""A recording fed in pieces gives the beats and scores of the whole recording (issue 9)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from heartbeats import synthetic_ecg

from ecgad.data.quality import QualityStream, window_features
from ecgad.data.rpeaks import RPeakStream, detect_r_peaks_chunked
from ecgad.recording import RecordingStream, load_recording_detector

# Features and scores agree to this: the z-normalised windows are the same numbers, but torch
# and numpy may sum a beat's values in another order when other beats go through with it.
TOLERANCE = 1e-9


def pieces(x: np.ndarray, rng: np.random.Generator, largest: int):
    """``x`` in random-sized pieces, one in four a single sample."""
    i = 0
    while i < x.size:
        n = 1 if rng.random() < 0.25 else int(rng.integers(2, largest))
        yield x[i:i + n]
        i += n


def streamed(detector, x: np.ndarray, fs: float, seed: int, largest: int = 4000):
    stream = RecordingStream(detector, fs)
    beats = []
    for block in pieces(x, np.random.default_rng(seed), largest):
        beats += stream.feed(block)
    beats += stream.finish()
    return stream, beats


def assert_same(whole, stream, beats) -> None:
    result = stream.result()
    assert np.array_equal(result.sample, whole.sample)               # the same beats, exactly
    assert [b["sample"] for b in beats] == whole.sample.tolist()      # each given once, in order
    assert np.array_equal(result.quality.bounds, whole.quality.bounds)
    assert np.array_equal(result.quality.reasons, whole.quality.reasons)
    for name, values in whole.features.items():
        assert np.array_equal(np.isnan(values), np.isnan(result.features[name])), name
        assert np.nanmax(np.abs(values - result.features[name]), initial=0.0) <= TOLERANCE, name
    assert np.max(np.abs(result.score - whole.score), initial=0.0) <= TOLERANCE
    near = np.abs(whole.score - whole.threshold) <= TOLERANCE
    assert np.array_equal(result.is_anomaly[~near], whole.is_anomaly[~near])
    assert np.array_equal(np.isnan(result.rr_s), np.isnan(whole.rr_s))
    assert np.nanmax(np.abs(result.rr_s - whole.rr_s), initial=0.0) == 0.0
    # beat classes: the same (probabilities to 1e-6: the autoencoder's codes differ in the last bits;
    # two classes within that of each other, which could swap, are a chance of about 1e-6 a beat)
    assert whole.classes is not None and whole.classes.size == whole.sample.size
    assert np.max(np.abs(result.class_confidence - whole.class_confidence), initial=0.0) <= 1e-6
    assert np.array_equal(result.classes, whole.classes)
    assert [b["class"] for b in beats] == result.classes.tolist()
    assert result.summary == whole.summary


class Signal:
    def __init__(self, samples: np.ndarray, fs: float):
        self.samples, self.fs, self.lead, self.source = samples, fs, "II", "synthetic"

    @property
    def duration_s(self) -> float:
        return self.samples.size / self.fs


@pytest.fixture(scope="module")
def shipped():
    return load_recording_detector()


@pytest.mark.parametrize("seed", [0, 1])
def test_synthetic_recording_streamed_in_pieces_equals_the_whole(shipped, seed: int) -> None:
    x, _ = synthetic_ecg("N" * 30 + "V" + "N" * 20 + "A" + "N" * 40 + "V" + "N" * 25, fs=360.0, seed=seed)
    whole = shipped.analyze(Signal(x, 360.0))
    assert len(whole) > 100
    stream, beats = streamed(shipped, x, 360.0, seed, largest=900)
    assert_same(whole, stream, beats)


@pytest.mark.parametrize("record", ["208", "201"])
def test_mitdb_record_streamed_in_pieces_equals_the_whole(shipped, data_dir: Path, record: str) -> None:
    """208 has many PVCs, 201 atrial fibrillation and supraventricular beats."""
    from ecgad.data.readers import read_recording

    signal = read_recording(data_dir / "mitdb" / record)
    x = signal.samples[: int(8 * 60 * signal.fs)]   # eight minutes: over a hundred blocks of beats
    whole = shipped.analyze(Signal(x, signal.fs))
    stream, beats = streamed(shipped, x, signal.fs, seed=int(record))
    assert_same(whole, stream, beats)
    assert whole.is_anomaly.sum() > 10


def test_r_peak_stream_with_short_chunks_finds_the_whole_signals_peaks(data_dir: Path) -> None:
    """The stream's 1-s chunks give the peaks of a whole file's 60-s chunks."""
    from ecgad.data.readers import read_recording

    signal = read_recording(data_dir / "mitdb" / "207")  # flutter, noise: the hardest record here
    x = signal.samples[: int(600 * signal.fs)]
    stream = RPeakStream(signal.fs, chunk_s=1.0, overlap_s=1.0)
    found, settled = [], []
    for block in pieces(x, np.random.default_rng(7), 3000):
        found.append(stream.feed(block))
        settled.append((stream.settled, sum(f.size for f in found)))
    found.append(stream.finish())
    peaks = np.concatenate(found)
    assert np.array_equal(peaks, detect_r_peaks_chunked(x, signal.fs, chunk_s=60.0))
    for bound, count in settled:  # every peak before `settled` had been given by then
        assert np.sum(peaks < bound) <= count


def test_quality_stream_judges_windows_as_the_whole_signal(data_dir: Path) -> None:
    from ecgad.data.readers import read_recording

    signal = read_recording(data_dir / "mitdb" / "203")  # noisy stretches: some windows unreadable
    x = signal.samples[: int(300 * signal.fs) + 123]   # a last, short piece
    peaks = detect_r_peaks_chunked(x, signal.fs)
    bounds, whole = window_features(x, signal.fs, peaks)
    stream = QualityStream(signal.fs)
    i = 0
    for block in pieces(x, np.random.default_rng(3), 5000):
        stream.feed(block, peaks[(peaks >= i) & (peaks < i + block.size)], settled=i + block.size)
        i += block.size
    stream.finish()
    assert np.array_equal(np.asarray(stream.bounds), bounds)
    assert bounds[-1] - bounds[-2] == 123
    for name, values in whole.items():  # windows judged alone or ten minutes at a time: see _store
        assert np.allclose(np.asarray(stream.features[name]), values, rtol=0, atol=1e-12), name


def test_verdicts_come_soon_after_each_beat(shipped) -> None:
    """The stated delay: after the first ``warmup_beats``, each verdict comes within the next RR,
    the R-peak chunk and margin (2 s), and the quality window and its margin (5 + 2 s)."""
    fs = 360.0
    x, _ = synthetic_ecg("N" * 120, fs=fs, seed=5)
    stream = RecordingStream(shipped, fs)
    delays, arrived = [], 0
    for block in pieces(x, np.random.default_rng(1), 90):  # 0.25 s at most: a live feed
        arrived += block.size
        delays += [(arrived - b["sample"]) / fs for b in stream.feed(block)]
    warm = delays[shipped.settings.warmup_beats:]
    assert max(warm) <= 2.0 + 1.0 + 7.0 + 0.25
    assert np.median(warm) < 6.0


def test_a_finished_stream_takes_no_more_samples(shipped) -> None:
    stream = RecordingStream(shipped, 360.0)
    stream.feed(np.zeros(100))
    stream.finish()
    with pytest.raises(ValueError, match="ended"):
        stream.feed(np.zeros(10))
    with pytest.raises(ValueError, match="finite"):
        RecordingStream(shipped, 360.0).feed(np.array([0.0, np.nan]))
