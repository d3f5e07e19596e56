"""The benchmarks' own rules: folds and train/test sets that share no patient or time, baselines that
do what their names say, the shipped-model benchmark on the shipped model's own split, and commands
in RESULTS.md without this machine's paths."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from heartbeats import heartbeats

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import quality  # noqa: E402
import recordings  # noqa: E402
import shipped  # noqa: E402
import small_data  # noqa: E402
from baselines import KNNDistance, PCAReconstruction  # noqa: E402

from ecgad.data.beats import prepare  # noqa: E402
from ecgad.detector import choose_threshold, load_detector  # noqa: E402

DS1 = ["101", "106", "108", "109", "112", "114", "115", "116", "118", "119", "122",
       "124", "201", "203", "205", "207", "208", "209", "215", "220", "223", "230"]


# ------------------------------------------------------------------ folds
@pytest.mark.parametrize("folds", [2, 11, 22])
def test_recording_folds_never_put_a_record_on_both_sides(folds: int) -> None:
    split = recordings.record_folds(DS1, folds)
    assert len(split) == folds
    tested = [name for _, test in split for name in test]
    assert sorted(tested) == sorted(DS1)  # every record tested exactly once
    for train, test in split:
        assert test and not set(train) & set(test) and sorted(train + test) == sorted(DS1)


def test_recording_folds_refuse_impossible_counts() -> None:
    for folds in (1, 23):
        with pytest.raises(ValueError, match="folds over 22 records"):
            recordings.record_folds(DS1, folds)


def test_class_figures_count_the_confusion_matrix_right() -> None:
    truth = np.array(list("NNNNSSVV") + ["", "F"])
    predicted = np.array(list("NNNSSNVN") + ["V", "Q"])
    c = recordings.class_figures(truth, predicted)
    assert c["confusion"][0] == [3, 1, 0, 0, 0] and c["confusion"][2] == [1, 0, 1, 0, 0]
    assert c["confusion"][3] == [0, 0, 0, 0, 1]                         # the unlabelled beat left out
    assert c["N"]["se"] == 3 / 4 and c["N"]["ppv"] == 3 / 5 and c["S"]["f1"] == 2 * 1 / (2 + 2)
    assert c["V"]["predicted"] == 1 and c["F"]["se"] == 0 and c["F"]["ppv"] is None


def test_small_data_across_records_set_shares_no_record() -> None:
    spec = small_data.SETS["across records (N vs S, V, F)"]
    assert not set(spec["train"]) & set(spec["test"])
    assert sorted(spec["train"] + spec["test"]) == DS1


def test_small_data_disjoint_time_sets_split_a_record_at_15_minutes(data_dir: Path) -> None:
    folder = data_dir / "mitdb"
    if not (folder / "119.hea").is_file():
        pytest.skip(f"no MIT-BIH record 119 in {folder}")
    windows, labels, times = small_data.record_beats(folder, "119")
    (train, train_y), (test, test_y) = small_data.pools(folder, {"records": ["119"]})
    early = times < small_data.HALF_S
    np.testing.assert_array_equal(train, windows[early])
    np.testing.assert_array_equal(test, windows[~early])
    assert len(train) > 500 and len(test) > 500
    assert not {row.tobytes() for row in train} & {row.tobytes() for row in test}
    rows, _ = small_data.sample_file((train, train_y), 60, np.random.default_rng(0))
    pool = {row.tobytes() for row in train}
    assert all(row.tobytes() in pool for row in rows)  # a training file is drawn from the early half only


# ------------------------------------------------------------------ baselines
@pytest.fixture(scope="module")
def parts() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(training normals, validation beats, validation labels)."""
    validation = np.concatenate([heartbeats(20, seed=2), heartbeats(10, abnormal=True, seed=3)])
    return heartbeats(30, seed=1), validation, np.r_[np.zeros(20, bool), np.ones(10, bool)]


def test_nearest_neighbour_distance_is_zero_on_a_training_beat(parts) -> None:
    train, validation, y = parts
    knn = KNNDistance(k=1).fit(train, validation, y)
    np.testing.assert_allclose(knn.score(train), 0.0, atol=1e-5)  # float32 beats: 0 up to rounding
    assert (knn.score(validation) > 1e-3).all()
    five = KNNDistance(k=5).fit(train, validation, y)
    distances = np.linalg.norm(prepare(validation)[:, None] - prepare(train)[None], axis=2)
    np.testing.assert_allclose(five.score(validation), np.sort(distances, axis=1)[:, :5].mean(axis=1), rtol=1e-6)


def test_pca_reconstruction_is_exact_at_full_rank(parts) -> None:
    train, validation, y = parts
    pca = PCAReconstruction(max_components=len(train)).fit(train, validation, y)
    residuals = pca._residuals(prepare(train))
    np.testing.assert_allclose(residuals[:, -1], 0.0, atol=1e-10)  # the components span the training beats
    assert (np.diff(residuals, axis=1) <= 1e-12).all()  # each component explains a little more
    assert (pca._residuals(prepare(validation))[:, -1] > 1e-4).all()
    assert 1 <= pca.k <= len(train)


def test_baselines_take_their_threshold_from_the_validation_part(parts) -> None:
    train, validation, y = parts
    for baseline in (KNNDistance(k=5), PCAReconstruction()):
        baseline.fit(train, validation, y)
        assert baseline.threshold == choose_threshold(baseline.score(validation), y)


# ------------------------------------------------------------------ the shipped-model benchmark
def test_shipped_benchmark_splits_with_the_shipped_models_seed() -> None:
    meta = load_detector().meta
    assert shipped.check_model(meta, None) == meta["seed"] == shipped.check_model(meta, meta["seed"])
    with pytest.raises(ValueError, match=f"--seed {meta['seed'] + 1}: the shipped model .* seed {meta['seed']}"):
        shipped.check_model(meta, meta["seed"] + 1)
    with pytest.raises(ValueError, match="protocol 'ucr'"):
        shipped.check_model({**meta, "protocol": "ucr"}, None)


def test_shipped_benchmark_refuses_another_seed_before_any_work(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        shipped.main(["--data", "/nonexistent", "--seed", "3"])
    assert exit_info.value.code == 2 and "--seed 3" in capsys.readouterr().err


# ------------------------------------------------------------------ RESULTS.md
def test_commands_show_data_paths_from_the_repository_root() -> None:
    root = quality.REPO
    command = quality._command(["--data", str(root.parent / "shared" / "data" / "mitdb"), "--work", "/tmp/x",
                                f"--out={root / 'benchmarks' / 'RESULTS.md'}"], str(root / "benchmarks" / "x.py"))
    assert command == "python benchmarks/x.py --data ../shared/data/mitdb --work /tmp/x --out=benchmarks/RESULTS.md"
    results = (root / "benchmarks" / "RESULTS.md").read_text()
    assert str(root.parent) + "/" not in results
