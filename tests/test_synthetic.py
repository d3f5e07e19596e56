"""The synthesised example recording (the live monitor's example): deterministic, beats where they were
put, and a shipped recording model that flags its premature ventricular beats and little else."""
from __future__ import annotations

import numpy as np
import pytest

from ecgad.data.signal import Signal
from ecgad.data.synthetic import example_recording
from ecgad.recording.detector import load_recording_detector


@pytest.fixture(scope="module")
def example():
    return example_recording()


def nearest(found: np.ndarray, peaks: np.ndarray, fs: float) -> np.ndarray:
    """Index into ``found`` of the detection nearest each peak (-1 when none lies within 150 ms)."""
    j = np.clip(np.searchsorted(found, peaks), 1, found.size - 1)
    j = np.where(np.abs(found[j - 1] - peaks) < np.abs(found[j] - peaks), j - 1, j)
    return np.where(np.abs(found[j] - peaks) <= 0.15 * fs, j, -1)


def test_deterministic_by_seed(example):
    again, other = example_recording(), example_recording(seed=1)
    assert np.array_equal(example.samples, again.samples) and example.kinds == again.kinds
    assert not np.array_equal(example.samples[:1000], other.samples[:1000])
    assert example.samples.dtype == np.float32 and example.fs == 360.0
    assert 170 < example.duration_s < 190 and len(example.kinds) == example.peaks.size
    counts = {k: example.kinds.count(k) for k in "NVA"}
    assert counts["V"] >= 10 and counts["A"] >= 3 and sum(counts.values()) == len(example.kinds)
    assert set(example.kinds[:40]) == {"N"}  # the dominant beat is learned from normal beats


def test_premature_beats_come_early_and_pvcs_pause(example):
    rr = np.diff(example.peaks) / example.fs
    kinds = np.array(list(example.kinds))
    before = rr[np.flatnonzero(kinds[1:] == "V")]          # the RR that ends at a PVC
    after = rr[np.flatnonzero(kinds[1:] == "V") + 1]       # and the pause after it
    normal = np.median(rr[(kinds[1:] == "N") & (kinds[:-1] == "N")])
    assert (before < 0.7 * normal).all() and (after > 1.25 * normal).all()
    assert (rr[np.flatnonzero(kinds[1:] == "A")] < 0.8 * normal).all()


def test_the_shipped_model_flags_the_pvcs(example):
    result = load_recording_detector().analyze(Signal(example.samples, example.fs, "II", ("II",), "example"))
    match = nearest(result.sample, example.peaks, example.fs)
    assert (match >= 0).all() and result.sample.size == example.peaks.size  # every beat found, no extra
    flagged = result.is_anomaly[match]
    kinds = np.array(list(example.kinds))
    assert flagged[kinds == "V"].mean() >= 0.9
    assert flagged[kinds == "N"].mean() <= 0.02


def test_it_repeats_seamlessly(example):
    """Played twice in a row, the join is one more normal beat: the same beats, none flagged near it."""
    twice = np.concatenate([example.samples, example.samples])
    result = load_recording_detector().analyze(Signal(twice, example.fs, "II", ("II",), "example"))
    n = example.samples.size
    assert result.sample.size == 2 * example.peaks.size
    near = np.abs(result.sample - n) < 5 * example.fs
    assert near.sum() >= 5 and not result.is_anomaly[near].any()
    assert abs(float(example.samples[-1] - example.samples[0])) < 0.1
