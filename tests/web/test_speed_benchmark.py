"""benchmarks/speed.py (issue 12), shortened: a whole run of a small part writes its section and JSON, the
in-process timing and the HTTP load generator give figures of the right shape, and a target is judged
met or missed with the margin."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from apitools import auth, make_token
from servers import served

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import speed  # noqa: E402


def test_a_quick_run_writes_its_section_between_the_markers_and_prints_json(tmp_path):
    """``--quick --json --only cold``: the machine, the peak estimate, the networks' FLOPs and the cold start
    of this install, through main() in a process of its own (the slim install is not built in --quick)."""
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\n<!-- other:start -->\nanother benchmark's\n<!-- other:end -->\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(BENCHMARKS.parent / "src"),
                                                        os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run([sys.executable, str(BENCHMARKS / "speed.py"), "--quick", "--json", "--only", "cold",
                          "--data", str(tmp_path), "--results", str(results), "--out-json", str(tmp_path / "s.json")],
                         capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out == json.loads((tmp_path / "s.json").read_text())
    assert out["quick"] is True and out["parts"] == ["cold"]
    machine = out["machine"]
    assert machine["cores"] >= 1 and machine["flops_per_cycle"] in (8, 16, 32)
    if machine["clock_ghz"]:
        assert machine["peak_gflops"] == pytest.approx(machine["cores"] * machine["clock_ghz"]
                                                       * machine["flops_per_cycle"])
    flops = out["flops"]
    assert flops["reference"] > flops["hybrid"] > 0 and flops["recording"] > 0  # counted on the real networks
    cold = out["cold"]
    full = next(v for k, v in cold.items() if k.startswith("full"))
    assert full["runs"] == 1 and full["median_s"] > 0
    slim = next(v for k, v in cold.items() if k.startswith("slim"))
    assert "skipped" in slim or slim["median_s"] > 0
    text = results.read_text()
    assert "another benchmark's" in text  # the other sections are left alone
    section = text[text.index("<!-- speed:start -->"):text.index("<!-- speed:end -->")]
    assert "| cold start | `ecgad score` of one beat, full" in section and "--quick" in section
    assert "< 1 s" in section  # the slim install's target, met, missed or not measured
    assert len(out["rows"]) == 2 and all(set(r) >= {"part", "figure", "value", "target", "verdict"}
                                         for r in out["rows"])


def test_in_process_timing_of_the_onnx_backend(data_dir, tmp_path):
    """One design in its own process: both batch sizes, single-beat percentiles, its peak memory."""
    if not (data_dir / "ECG5000" / "ECG5000_TEST.tsv").is_file():
        pytest.skip(f"no ECG5000 in {data_dir}")
    results, reference = speed.in_process(data_dir, tmp_path, speed.QUICK, kinds=("onnx",))
    r = results["onnx"]
    assert reference is None and r["backend"] == "onnx" and r["beats"] == 4500
    for batch in speed.BATCHES:
        assert r[f"batch_{batch}"]["beats_per_s"] > 0 and r[f"batch_{batch}"]["calls"] >= 2
    assert 0 < r["single"]["p50_ms"] <= r["single"]["p99_ms"] and r["single"]["n"] == speed.QUICK["singles"]
    assert r["peak_memory_mb"] > 10


def test_load_generator_counts_requests_latencies_and_errors(app, world):
    """The HTTP part's load generator against the app over real HTTP: 4 threads for half a second."""
    token = make_token(app, world.users["doctor"].id)
    beat = json.dumps({"beats": [np.sin(np.linspace(0, 6.28, 140)).tolist()]}).encode()
    with served(app) as base:
        port = int(base.rsplit(":", 1)[1])
        good = speed.load(port, "/api/v1/score", {**auth(token), "Content-Type": "application/json"}, beat, 4, 0.5)
        bad = speed.load(port, "/api/v1/score", {**auth(token + "x"), "Content-Type": "application/json"}, beat,
                         1, 0.2)
    assert good["requests"] > 0 and good["errors"] == 0 and good["requests_per_s"] > 0
    assert 0 < good["p50_ms"] <= good["p99_ms"]
    assert bad["requests"] == 0 and bad["errors"] > 0 and set(bad["error_statuses"]) <= {401, 429}


def test_targets_are_judged_with_their_margin():
    assert speed.judged(12.0, 10.0, True) == ("met", True)
    verdict, met = speed.judged(4.0, 10.0, True, "x")
    assert met is False and "2.5x short" in verdict
    assert speed.judged(0.04, 0.05, False) == ("met", True)
    verdict, met = speed.judged(7.5, 5.0, False, " s")
    assert met is False and "1.5x the limit" in verdict and "+2.5 s" in verdict
    assert speed.judged(None, 1.0, False) == ("not measured", None)
