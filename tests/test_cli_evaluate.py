"""`ecgad evaluate`: option parsing, errors for people, JSON output on real data."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from ecgad.cli import evaluate_command, main
from ecgad.detector import Detector
from ecgad.train import TrainConfig

SUMMARY_KEYS = {"roc_auc", "pr_auc", "accuracy", "precision", "recall", "f1", "threshold", "n_test", "protocol",
                "roc_auc_std", "f1_std", "seeds", "per_seed"}


def seeds_of(*args: str) -> tuple[int, ...]:
    ctx = evaluate_command.make_context("evaluate", ["--data", "x", "--protocol", "ucr", *args])
    return ctx.params["seeds"]


def test_seeds_accept_every_spelling():
    assert seeds_of() == (0,)
    assert seeds_of("--seeds", "0", "1", "2", "3", "4") == (0, 1, 2, 3, 4)
    assert seeds_of("--seeds", "3", "--json", "--seeds", "5") == (3, 5)
    assert seeds_of("--seeds=1", "2") == (1, 2)
    assert seeds_of("--seeds", "0,1 2") == (0, 1, 2)
    ctx = evaluate_command.make_context("evaluate", ["--seeds", "1", "2", "--protocol", "resplit", "--data", "x"])
    assert ctx.params["protocol"] == "resplit" and ctx.params["seeds"] == (1, 2)


@pytest.mark.parametrize("bad", [["--seeds", "1", "x"], ["--seeds", "1", "1"]])
def test_bad_seeds_are_usage_errors(bad):
    result = CliRunner().invoke(main, ["evaluate", "--data", "x", "--protocol", "ucr", *bad])
    assert result.exit_code == 2 and "--seeds" in result.stderr


def small_model(tmp_path, protocol: str, seed: int = 0):
    rng = np.random.default_rng(0)
    beats = np.sin(np.linspace(0, 6, 140)) + 0.1 * rng.standard_normal((20, 140))
    det = Detector(train_config=TrainConfig(epochs=1)).fit(beats, protocol=protocol, seed=seed, progress=False)
    return det.save(tmp_path / f"{protocol}.safetensors")


def test_leakage_and_bad_inputs_fail_with_one_line(tmp_path):
    runner = CliRunner()
    model = small_model(tmp_path, "resplit", seed=2)
    cases = [
        (["--model", str(model), "--data", str(tmp_path), "--protocol", "ucr"], "leakage"),
        (["--model", str(model), "--data", str(tmp_path), "--protocol", "resplit", "--seeds", "0"], "--seeds 2"),
        (["--model", str(tmp_path / "missing.safetensors"), "--data", str(tmp_path), "--protocol", "ucr"], "no such"),
        (["--data", str(tmp_path / "nowhere"), "--protocol", "ucr", "--epochs", "1"], "does not exist"),
        (["--model", str(model), "--data", str(tmp_path), "--protocol", "resplit", "--epochs", "3"], "--epochs"),
    ]
    for args, expected in cases:
        result = runner.invoke(main, ["evaluate", *args])
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith("error: ") and expected in result.stderr
        assert result.stderr.count("\n") == 1 and result.stdout == ""


def test_json_summary_on_real_data_with_a_report(data_dir, tmp_path):
    result = CliRunner().invoke(main, ["evaluate", "--data", str(data_dir), "--protocol", "ucr", "--seeds", "0",
                                       "--epochs", "2", "--json", "--report", str(tmp_path / "report")])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)  # exactly one JSON object on stdout
    assert SUMMARY_KEYS <= set(summary)
    assert summary["protocol"] == "ucr" and summary["seeds"] == [0] and summary["n_test"] == 4500
    assert 0.5 < summary["roc_auc"] <= 1.0 and summary["roc_auc_std"] == 0.0
    assert (tmp_path / "report" / "report.html").is_file() and (tmp_path / "report" / "metrics.json").is_file()
    # every figure is drawn with the one plot config: no button that sends the chart to a cloud service
    from ecgad.plots import PLOT_CONFIG

    page = (tmp_path / "report" / "report.html").read_text()
    assert page.count("Plotly.newPlot(") == 4 and page.count(json.dumps(PLOT_CONFIG)) == 4


def test_a_saved_model_is_evaluated_without_training(data_dir, tmp_path):
    model = small_model(tmp_path, "ucr")
    result = CliRunner().invoke(main, ["evaluate", "--model", str(model), "--data", str(data_dir),
                                       "--protocol", "ucr"])
    assert result.exit_code == 0, result.output
    assert "ROC AUC" in result.stdout and "ucr" in result.stdout
