"""`ecgad evaluate`: option parsing, errors for people, JSON output on real data."""
from __future__ import annotations

import json
import re

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
    from ecgad.report.figures import PLOT_CONFIG

    page = (tmp_path / "report" / "report.html").read_text()
    assert page.count("Plotly.newPlot(") == 4 and page.count(json.dumps(PLOT_CONFIG)) == 4


def test_a_saved_model_is_evaluated_without_training(data_dir, tmp_path):
    model = small_model(tmp_path, "ucr")
    result = CliRunner().invoke(main, ["evaluate", "--model", str(model), "--data", str(data_dir),
                                       "--protocol", "ucr"])
    assert result.exit_code == 0, result.output
    assert "ROC AUC" in result.stdout and "ucr" in result.stdout


# ------------------------------------------------------------------ one's own labelled beat files
def own_files(tmp_path):
    from heartbeats import labelled_file

    labelled_file(tmp_path / "train.csv", 30, 10, seed=0, labels=("7", "x"))
    labelled_file(tmp_path / "test.csv", 20, 8, seed=5, labels=("7", "x"))
    return tmp_path / "train.csv", tmp_path / "test.csv"


def test_own_files_are_evaluated_with_their_own_label_names(tmp_path):
    train, test = own_files(tmp_path)
    result = CliRunner().invoke(main, ["evaluate", "--data", str(train), "--test", str(test), "--normal-label", "7",
                                       "--epochs", "2", "--json", "--report", str(tmp_path / "report")])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["protocol"] == "file" and summary["n_test"] == 28
    assert summary["files"] == {"train": str(train), "test": str(test), "normal_label": "7",
                                "test_labels": {"7": 20, "x": 8}}
    page = (tmp_path / "report" / "report.html").read_text()
    assert "x (n=8)" in page and "7 (n=20)" in page  # the file's names, not ECG5000's classes
    words = re.sub(r'"bdata":"[^"]*"', "", page)  # base64 arrays (plotly's bdata) can spell anything
    assert "PVC" not in words and "R-on-T" not in words
    text = CliRunner().invoke(main, ["evaluate", "--data", str(train), "--test", str(test), "--normal-label", "7",
                                     "--epochs", "1"])
    assert text.exit_code == 0, text.output
    assert "normal label '7'" in text.stdout and "28 beats (7 20, x 8)" in text.stdout


def test_own_files_with_bad_options_fail_with_one_line(tmp_path):
    train, test = own_files(tmp_path)
    model = small_model(tmp_path, "resplit")
    cases = [
        (["--data", str(train), "--normal-label", "7"], "give the labelled test file with --test"),
        (["--data", str(tmp_path), "--test", str(test), "--normal-label", "7"], "--data is the labelled training"),
        (["--data", str(train), "--test", str(test)], "--normal-label"),
        (["--data", str(train), "--test", str(test), "--normal-label", "7", "--protocol", "ucr"], "--protocol"),
        (["--data", str(train), "--test", str(test), "--normal-label", "7", "--model", str(model)], "--model"),
        (["--data", str(train), "--test", str(test), "--normal-label", "N"], "no beat is labelled 'N'"),
        (["--data", str(tmp_path)], "--protocol (ucr or resplit) is needed"),
        (["--data", str(tmp_path), "--protocol", "ucr", "--normal-label", "N"], "--normal-label goes with --test"),
    ]
    for args, expected in cases:
        result = CliRunner().invoke(main, ["evaluate", *args])
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith("error: ") and expected in result.stderr, result.stderr
        assert result.stderr.count("\n") == 1 and result.stdout == ""


def test_own_beats_from_mit_bih_find_the_v_beats_of_later_minutes(data_dir, tmp_path):
    """Record 119's first 15 minutes train (60 beats, 15 of them V), its last 15 test."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import small_data

    if not (data_dir / "mitdb" / "119.hea").is_file():
        pytest.skip(f"no MIT-BIH record 119 in {data_dir / 'mitdb'}")
    train_pool, test_pool = small_data.pools(data_dir / "mitdb", {"records": ["119"]})
    for name, (values, labels) in (("train.tsv", small_data.sample_file(train_pool, 60, np.random.default_rng(0))),
                                   ("test.tsv", test_pool)):
        (tmp_path / name).write_text("".join(f"{label}\t" + "\t".join(f"{v:.4f}" for v in row) + "\n"
                                             for label, row in zip(labels, values, strict=True)))
    result = CliRunner().invoke(main, ["evaluate", "--data", str(tmp_path / "train.tsv"), "--test",
                                       str(tmp_path / "test.tsv"), "--normal-label", "N", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert set(summary["files"]["test_labels"]) == {"N", "V"}
    assert summary["roc_auc"] > 0.97 and summary["f1"] > 0.9
