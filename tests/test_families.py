"""Beat families (recording/families.py) on synthetic signals: shapes apart, numbering, determinism, edges, scale."""
from __future__ import annotations

import sys
import time
import tracemalloc

import numpy as np
import pytest

from ecgad.data.synthetic import example_recording, synthetic_ecg
from ecgad.recording.families import Families, beat_families, cluster


def _kinds_per_family(result: Families, kinds: str) -> dict[int, set[str]]:
    k = np.array(list(kinds))
    return {f.id: set(k[result.family == f.id]) for f in result.families}


def _check_numbering(result: Families) -> None:
    counts = [f.count for f in result.families]
    assert [f.id for f in result.families] == list(range(1, len(counts) + 1))
    assert counts == sorted(counts, reverse=True)
    assert np.bincount(result.family, minlength=len(counts) + 1)[1:].tolist() == counts
    for f in result.families:
        assert 1 <= f.examples.size <= 5 and np.all(result.family[f.examples] == f.id)
        assert f.template.shape == (result.settings.template_length,) and np.isfinite(f.template).all()


@pytest.fixture(scope="module")
def example():
    return example_recording(150.0, fs=250.0, seed=3)


@pytest.mark.parametrize("kind", ["window", "window+rhythm"])
def test_normal_and_ventricular_beats_fall_in_different_families(kind):
    kinds = "NNNNNNVNNNNNNNVNNNNNNNNVNNNNNNVNNNNN"
    samples, peaks = synthetic_ecg(kinds, fs=250.0)
    result = beat_families(samples, 250.0, peaks, representation_kind=kind)
    per_family = _kinds_per_family(result, kinds)
    assert per_family[1] == {"N"}
    v = set(result.family[np.array(list(kinds)) == "V"].tolist())
    assert 1 not in v and all(per_family[f] == {"V"} for f in v)
    _check_numbering(result)


def test_example_recording_families_are_pure_and_few(example):
    result = beat_families(example.samples, example.fs, example.peaks)
    per_family = _kinds_per_family(result, example.kinds)
    assert all(len(kinds) == 1 for kinds in per_family.values()), per_family
    assert per_family[1] == {"N"}
    # the premature atrial beats (normal shape, early) are apart from the normal ones only with rhythm
    assert any(kinds == {"A"} for kinds in per_family.values())
    assert len(result) <= 12
    _check_numbering(result)
    mv = result.families[0].mean_mv
    assert mv.size == round(0.25 * example.fs) + round(0.45 * example.fs) + 1
    assert 0.5 < np.ptp(mv) < 3.0  # about the synthetic R wave's 1 mV


def test_same_input_same_families_and_display(example):
    a = beat_families(example.samples, example.fs, example.peaks)
    b = beat_families(example.samples, example.fs, example.peaks)
    assert np.array_equal(a.family, b.family)
    assert [f.as_dict() for f in a.families] == [f.as_dict() for f in b.families]
    shown, other = a.display(limit=2)
    assert [f.id for f in shown] == [1, 2] and other == sum(f.count for f in a.families[2:])
    shown, other = a.display(limit=50, min_count=10**9)
    assert shown == [] and other == int((a.family > 0).sum())


def test_latent_and_mix_need_the_autoencoder_and_use_it(example):
    with pytest.raises(ValueError, match="autoencoder"):
        beat_families(example.samples, example.fs, example.peaks, representation_kind="latent")
    from ecgad.recording import load_recording_detector

    beat = load_recording_detector().beat
    for kind in ("latent", "mix"):
        result = beat_families(example.samples, example.fs, example.peaks, detector=beat, representation_kind=kind)
        v = set(result.family[np.array(list(example.kinds)) == "V"].tolist())
        assert 1 not in v, kind
        _check_numbering(result)


@pytest.mark.parametrize("n", [0, 1, 2])
def test_zero_one_two_beats(n):
    samples, peaks = synthetic_ecg("NN", fs=250.0)
    result = beat_families(samples, 250.0, peaks[:n])
    assert result.family.shape == (n,)
    assert sum(f.count for f in result.families) == n
    if n:
        assert result.family[0] == 1
    _check_numbering(result)


def test_beats_without_a_window_are_family_zero():
    samples, peaks = synthetic_ecg("NNNN", fs=250.0)
    samples[: peaks[1] + 200] = 0.0  # a flat stretch: no shape to compare
    result = beat_families(samples, 250.0, peaks)
    assert result.family[0] == 0 and result.family[-1] > 0


def test_bad_input_is_refused():
    samples, peaks = synthetic_ecg("NNNN", fs=250.0)
    with pytest.raises(ValueError, match="increasing"):
        beat_families(samples, 250.0, peaks[::-1])
    with pytest.raises(ValueError, match="within the signal"):
        beat_families(samples, 250.0, np.array([10, samples.size]))
    with pytest.raises(ValueError, match="representation"):
        beat_families(samples, 250.0, peaks, representation_kind="colour")
    with pytest.raises(ValueError, match="positive"):
        beat_families(samples, 250.0, peaks, threshold=0.0)


def test_a_day_of_beats_clusters_in_seconds_and_bounded_memory():
    """110k beats (a 24-hour recording) of five shapes plus a few rare ones: the linkage only ever sees a
    sample, so time and memory stay small; the rare shapes missed by the sample still get their own families."""
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 1, (8, 141)).astype(np.float32)
    which = rng.choice(5, 110_000, p=[0.8, 0.1, 0.05, 0.03, 0.02])
    which[rng.choice(110_000, 12, replace=False)] = np.repeat([5, 6, 7], 4)  # three rare shapes, 4 beats each
    x = centres[which] + rng.normal(0, 0.02, (110_000, 141)).astype(np.float32)
    tracemalloc.start()
    started = time.perf_counter()
    labels, found = cluster(x, 1.0)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(found) == 8
    for shape in range(8):  # each shape one family, and each family one shape
        assert np.unique(labels[which == shape]).size == 1
    assert np.unique(labels).size == 8
    assert seconds < 20  # a few seconds on a quiet machine; room for a loaded one
    assert peak < 300 * 2**20


def test_benchmark_purity_and_choice():
    """benchmarks/families.py: purity is the families' majority share of the labelled beats, and the
    choice is the fewest families among the settings pure enough on the records given."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "families.py"
    spec = importlib.util.spec_from_file_location("families_benchmark", path)
    bench = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(bench)
    finally:
        sys.path.remove(str(path.parent))
    labels = np.array([0, 0, 0, 1, 1, 2])
    classes = np.array(["N", "N", "V", "V", "V", ""])
    m = bench.measures(labels, classes)
    assert (m["majority"], m["labelled"], m["families"], m["abnormal"], m["abnormal_apart"]) == (4, 5, 3, 3, 2)
    pure = {"a": {**m, "majority": 5}, "b": {**m, "majority": 5}}
    few = {"a": {**m, "majority": 5, "families": 2}, "b": {**m, "majority": 5, "families": 2}}
    impure = {"a": {**m, "families": 1}, "b": {**m, "families": 1}}
    assert bench.choose({"pure": pure, "few": few, "impure": impure}, ["a", "b"]) == "few"
    assert bench.choose({"impure": impure, "less": {"a": {**m, "majority": 3}, "b": m}}, ["a"]) == "impure"
