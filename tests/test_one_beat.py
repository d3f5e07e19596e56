"""The single-beat fast path (ecgad.one_beat) gives the batch path's numbers, refuses what it refuses,
and is taken only where it applies."""
from __future__ import annotations

import threading

import numpy as np
import pytest
from heartbeats import heartbeats

from ecgad.data.beats import prepare, prepare_one
from ecgad.detector import load_detector

pytest.importorskip("onnxruntime")
TOLERANCE = 1e-6
CURVES = 1e-5  # relative, for the curves: onnxruntime's float32 products round differently per batch size


@pytest.fixture(scope="module")
def detector():
    det = load_detector(backend="onnx")
    assert det.backend == "onnx"
    return det


def some_beats() -> np.ndarray:
    rng = np.random.default_rng(3)
    beats = np.concatenate([heartbeats(20, seed=4), heartbeats(20, abnormal=True, seed=5)])
    return beats * rng.uniform(0.01, 50, size=(len(beats), 1)) + rng.normal(0, 5, size=(len(beats), 1))


def taken(det, monkeypatch) -> list:
    """Records the beats the fast path scored."""
    calls = []
    original = det._one_beat

    def spy(beats):
        result = original(beats)
        calls.append(result is not None)
        return result

    monkeypatch.setattr(det, "_one_beat", spy)
    return calls


def test_one_beat_gives_the_batch_path_numbers(detector, monkeypatch) -> None:
    beats = some_beats()
    batch_scores = detector.score(beats)  # a batch of 40: the batch path
    batch_parts = detector.score_parts(beats)
    batch_verdicts = detector.predict(beats)
    calls = taken(detector, monkeypatch)
    for i, beat in enumerate(beats):
        for given in (beat, beat[None, :], [list(beat)]):
            np.testing.assert_allclose(detector.score(given), batch_scores[i:i + 1], rtol=TOLERANCE)
            parts = detector.score_parts(given)
            for name in ("reconstruction", "latent"):
                np.testing.assert_allclose(parts[name], batch_parts[name][i:i + 1], rtol=TOLERANCE)
        (v,), w = detector.predict(beat), batch_verdicts[i]
        (u,), warnings = detector.predict_with_data_fit([beat])
        assert warnings == []
        for a in (u, v):
            assert (a.index, a.is_anomaly, a.threshold, a.meta) == (0, w.is_anomaly, w.threshold, w.meta)
            assert a.score == pytest.approx(w.score, rel=TOLERANCE)
            assert a.confidence == pytest.approx(w.confidence, abs=TOLERANCE)
            for name in ("beat", "reconstruction", "error"):
                assert getattr(a, name).dtype == np.float32
                np.testing.assert_allclose(getattr(a, name), getattr(w, name), rtol=CURVES, atol=TOLERANCE)
    assert calls and all(calls)  # every call above took the fast path


def test_other_lengths_and_the_refusals_are_the_batch_paths(detector, monkeypatch) -> None:
    beat = some_beats()[0]
    for length in (60, 187, 400):  # resampled, as prepare does
        other = np.interp(np.linspace(0, 1, length), np.linspace(0, 1, beat.size), beat)
        out = np.empty(140, np.float32)
        assert prepare_one(other, 140, out)
        np.testing.assert_allclose(out, prepare(other)[0], atol=1e-6)
        np.testing.assert_allclose(detector.score(other), detector.score(np.stack([other, other]))[:1],
                                   rtol=TOLERANCE)
    calls = taken(detector, monkeypatch)
    bad = {"contains NaN": np.where(np.arange(140) == 7, np.nan, beat),
           "constant": np.full(140, 3.0), "too large for a heartbeat": beat * 1e12,
           "a beat needs at least 16": beat[:10]}
    for message, beat in bad.items():
        with pytest.raises(ValueError, match=f"beat 1: .*{message}"):
            detector.score(beat)
        with pytest.raises(ValueError, match=f"beat 1: .*{message}"):
            detector.predict_with_data_fit([list(beat)])
    assert calls and not any(calls)  # each went to the batch path, which named the fault


def test_a_torch_detector_and_batches_take_the_batch_path(detector) -> None:
    assert detector._one_beat(some_beats()[:2]) is None
    assert detector._one_beat([[1.0] * 140, [2.0] * 140]) is None
    pytest.importorskip("torch")
    torch_det = load_detector(backend="torch")
    assert torch_det._one_beat(some_beats()[0]) is None
    np.testing.assert_allclose(torch_det.score(some_beats()[0]), detector.score(some_beats()[0]), rtol=1e-4)


def test_threads_have_their_own_buffers(detector) -> None:
    beats = some_beats()
    expected = detector.score(beats)
    found = np.zeros((4, len(beats)))

    def work(row: int) -> None:
        for _ in range(5):
            for i, beat in enumerate(beats):
                found[row, i] = detector.score(beat)[0]

    threads = [threading.Thread(target=work, args=(row,)) for row in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    np.testing.assert_allclose(found, np.broadcast_to(expected, found.shape), rtol=TOLERANCE)
