"""Metrics against hand-computed cases, leakage refusal, summaries and the HTML report."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

from ecgad.data.ecg5000 import Beats, Split
from ecgad.detector import Detector, fit_split
from ecgad.evaluate import Evaluation, SeedResult, check_leakage, evaluate_detector, metrics, run, summary, write_report
from ecgad.train import TrainConfig

TINY = TrainConfig(epochs=1)


def synthetic_beats(labels: np.ndarray, seed: int = 0) -> Beats:
    """Normal beats are one smooth wave; each abnormal class bends it its own way."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, 140)
    normal = np.exp(-((t - 0.3) / 0.04) ** 2) - 0.3 * np.exp(-((t - 0.7) / 0.1) ** 2)
    rows = [normal + 0.05 * (k - 1) * np.sin(2 * np.pi * k * t) * (k > 1) + 0.05 * rng.standard_normal(140)
            for k in labels]
    return Beats(np.asarray(rows, np.float32), labels)


def synthetic_split(seed: int = 0) -> Split:
    train = synthetic_beats(np.ones(30, int), seed)
    validation = synthetic_beats(np.array([1] * 10 + [2, 3, 4, 5] * 2), seed + 1)
    test = synthetic_beats(np.array([1] * 12 + [2, 2, 3, 3, 4, 4, 5, 5]), seed + 2)
    return Split("ucr", seed, train, validation, test, normal_share=0.6)


# ---------------------------------------------------------------- metrics
def test_perfect_and_reversed_rankings():
    y = np.array([False, False, True, True])
    perfect = metrics([0.1, 0.2, 0.8, 0.9], y, threshold=0.5)
    assert perfect["roc_auc"] == 1.0 and perfect["pr_auc"] == 1.0
    assert perfect["accuracy"] == perfect["precision"] == perfect["recall"] == perfect["f1"] == 1.0
    assert perfect["confusion"] == {"tn": 2, "fp": 0, "fn": 0, "tp": 2}
    reversed_ = metrics([0.9, 0.8, 0.2, 0.1], y, threshold=0.5)
    assert reversed_["roc_auc"] == 0.0
    assert reversed_["accuracy"] == 0.0 and reversed_["f1"] == 0.0


def test_counts_for_a_small_known_case():
    scores = [0.1, 0.4, 0.6, 0.3, 0.7, 0.9, 0.5]
    y = [False, False, False, True, True, True, False]
    m = metrics(scores, y, threshold=0.5)  # a score equal to the threshold is normal
    assert m["confusion"] == {"tn": 3, "fp": 1, "fn": 1, "tp": 2}
    assert m["accuracy"] == pytest.approx(5 / 7)
    assert m["precision"] == pytest.approx(2 / 3) and m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 / 3)
    assert m["roc_auc"] == pytest.approx(9 / 12)  # pairs where the abnormal beat scores higher
    assert m["threshold"] == 0.5 and m["n_test"] == 7


def test_undefined_figures_are_none_or_zero():
    one_class = metrics([0.1, 0.2], [False, False], threshold=1.0)
    assert one_class["roc_auc"] is None and one_class["pr_auc"] is None and one_class["accuracy"] == 1.0
    nothing_flagged = metrics([0.1, 0.9], [False, True], threshold=5.0)
    assert nothing_flagged["precision"] == 0.0 and nothing_flagged["f1"] == 0.0
    with pytest.raises(ValueError):
        metrics([0.1, 0.2], [True], threshold=0.5)


# ---------------------------------------------------------------- leakage
@pytest.mark.parametrize("meta, protocol, seeds", [
    ({"protocol": "resplit", "seed": 3}, "ucr", (3,)),
    ({"protocol": "resplit", "seed": 3}, "resplit", (0,)),
    ({"protocol": "resplit", "seed": 3}, "resplit", (3, 4)),
    ({"protocol": "ucr", "seed": 0}, "resplit", (0,)),
])
def test_leaky_evaluations_are_refused(meta, protocol, seeds):
    with pytest.raises(ValueError, match="leakage"):
        check_leakage(meta, protocol, seeds)


def test_clean_evaluations_pass():
    assert check_leakage({"protocol": "resplit", "seed": 3}, "resplit", (3,)) is None
    assert check_leakage({"protocol": "ucr", "seed": 0}, "ucr", (0, 1, 2)) is None
    assert "cannot be checked" in check_leakage({"protocol": None}, "ucr", (0,))


def test_run_refuses_a_saved_resplit_model_before_touching_data(tmp_path):
    det = Detector(train_config=TINY).fit(synthetic_beats(np.ones(20, int)).values, protocol="resplit", seed=3,
                                          progress=False)
    path = det.save(tmp_path / "m.safetensors")
    for protocol, seeds in (("ucr", (0,)), ("resplit", (0,))):
        with pytest.raises(ValueError, match="leakage.*seed 3"):
            run(tmp_path / "no-data-here", protocol, seeds, model_path=path)


# ---------------------------------------------------------------- results and report
@pytest.fixture(scope="module")
def evaluation() -> Evaluation:
    results = []
    for seed in (0, 1):
        part = synthetic_split(seed)
        results.append(evaluate_detector(fit_split(part, train_config=TINY, progress=False), part, train_seconds=1.0))
    return Evaluation(protocol="ucr", seeds=(0, 1), results=results, arch="hybrid")


def test_seed_result_holds_scores_and_examples_of_every_class(evaluation):
    result = evaluation.results[0]
    part = synthetic_split(0)
    assert isinstance(result, SeedResult)
    assert result.scores.shape == (20,) and list(result.labels) == list(part.test.labels)
    assert set(result.examples) == {1, 2, 3, 4, 5}
    for label, verdicts in result.examples.items():
        for v in verdicts:  # indices point into the test part
            assert part.test.labels[v.index] == label
            assert v.score == pytest.approx(result.scores[v.index], rel=1e-5)
    assert result.model["model_id"].startswith("hybrid-")


def test_summary_means_and_sample_std_over_seeds():
    def fake(seed: int, auc: float) -> SeedResult:
        m = metrics([0.1, 0.9], [False, True], 0.5) | {"roc_auc": auc}
        return SeedResult(seed, np.zeros(2), np.array([1, 2]), m, {}, {"model_id": f"m{seed}"})

    s = summary(Evaluation("resplit", (0, 1, 2), [fake(0, 0.9), fake(1, 0.8), fake(2, 0.7)]))
    for key in ("roc_auc", "pr_auc", "accuracy", "precision", "recall", "f1", "threshold", "n_test", "protocol"):
        assert key in s
    assert s["roc_auc"] == pytest.approx(0.8) and s["roc_auc_std"] == pytest.approx(0.1)
    assert s["accuracy_std"] == 0.0 and s["f1_std"] == 0.0
    assert s["seeds"] == [0, 1, 2] and s["protocol"] == "resplit" and s["n_test"] == 2
    assert [p["model_id"] for p in s["per_seed"]] == ["m0", "m1", "m2"]
    single = summary(Evaluation("ucr", (0,), [fake(0, 0.9)]))
    assert single["roc_auc_std"] == 0.0


def test_report_is_one_self_contained_page_with_all_figures(evaluation, tmp_path):
    path = write_report(evaluation, tmp_path / "out")
    assert path == tmp_path / "out" / "report.html"
    saved = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert saved["seeds"] == [0, 1] and len(saved["per_seed"]) == 2 and "roc_auc_std" in saved
    page = path.read_text()
    assert not re.search(r"<script[^>]+src=", page)  # nothing fetched from the network
    assert page.count("window.PlotlyConfig") == 1  # plotly.js is embedded once
    assert page.count('class="plotly-graph-div"') == 4
    for text in ("ROC curve", "recall curve", "Anomaly scores by class", "Example reconstructions",
                 "R-on-T PVC", "unclassified", "<td>std</td>", evaluation.results[1].model["model_id"]):
        assert text in page
