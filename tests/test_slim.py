"""The slim install: scoring, analysing and serving without torch (onnxruntime and the shipped
models' ONNX graphs).

Two checks. In this environment, with torch and scikit-learn made unimportable by an import
blocker, the library, the CLI and the app's health endpoint work and import neither. And a
fresh virtual environment with the base install only (``pip install .``, no extras) runs
``ecgad score``, ``ecgad analyze`` and the health endpoint (a few minutes: it downloads the
dependencies unless pip's cache has them).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import venv
from pathlib import Path

import numpy as np
import pytest
from heartbeats import synthetic_ecg

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "src" / "ecgad" / "assets" / "examples"
TRAINING_ONLY = ("torch", "sklearn", "onnxscript")

# Put first on sys.meta_path: importing a training-only package then fails as if it were not installed.
BLOCKER = textwrap.dedent(f"""
    import sys
    class _Blocked:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {TRAINING_ONLY!r}:
                raise ModuleNotFoundError(f"No module named {{name!r}} (blocked: the slim install)", name=name)
    sys.meta_path.insert(0, _Blocked())
""")

HEALTH = textwrap.dedent("""
    import json, sys
    from ecgad.web import create_app
    app = create_app({"INSTANCE_PATH": sys.argv[1], "SECRET_KEY": "slim-test", "TESTING": True})
    response = app.test_client().get("/api/v1/health")
    print(json.dumps({"status": response.status_code, "body": response.get_json(),
                      "loaded": sorted(m for m in sys.modules if m.split(".")[0] in sys.argv[2].split(","))}))
""")


@pytest.fixture(scope="module")
def recording_csv(tmp_path_factory) -> Path:
    """A minute of synthetic ECG at 250 Hz with a few abnormal beats: ``time,II`` rows."""
    x, _ = synthetic_ecg("N" * 30 + "V" + "N" * 20 + "W" + "N" * 20)
    path = tmp_path_factory.mktemp("slim") / "ecg.csv"
    t = np.arange(x.size) / 250.0
    path.write_text("time,II\n" + "".join(f"{a:.4f},{b:.5f}\n" for a, b in zip(t, x, strict=True)))
    return path


def run(python: str, *args: str, code: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    command = [python, "-c", code, *args] if code is not None else [python, *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)
    assert done.returncode == 0, f"{command[:3]}: exit {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    return done


def check_outputs(python: str, tmp_path: Path, csv: Path, *, prefix: str = "", env: dict | None = None) -> None:
    """``ecgad score``, ``ecgad analyze`` and GET /api/v1/health in ``python``; ``prefix`` runs first."""
    cli = prefix + "from ecgad.cli import main\nmain()"
    scored = json.loads(run(python, "score", str(EXAMPLES / "abnormal_beats.csv"), "--json", code=cli, env=env).stdout)
    assert len(scored["beats"]) == 5 and all(b["is_anomaly"] for b in scored["beats"])
    assert scored["model"]["model_id"] == "hybrid-ec8f5785c44b"
    analysed = json.loads(run(python, "analyze", str(csv), "--json", code=cli, env=env).stdout)
    assert analysed["summary"]["beats"] >= 70 and analysed["summary"]["anomalies"] >= 1
    health = json.loads(run(python, str(tmp_path / "instance"), ",".join(TRAINING_ONLY),
                            code=prefix + HEALTH, env=env).stdout)
    assert health["status"] == 200 and health["body"]["models"] == {"beat": "ok", "recording": "ok"}, health
    assert health["loaded"] == []


def test_no_torch_on_the_inference_path(tmp_path: Path, recording_csv: Path) -> None:
    pytest.importorskip("onnxruntime")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    probe = BLOCKER + textwrap.dedent("""
        import sys
        import ecgad, ecgad.detector, ecgad.recording, ecgad.web, ecgad.cli
        from ecgad import load_detector
        from ecgad.recording import load_recording_detector
        detector, recording = load_detector(), load_recording_detector()
        assert detector.backend == recording.beat.backend == "onnx"
        assert detector.score([[float(i % 7) for i in range(140)]]).shape == (1,)
        print(sorted(m for m in sys.modules if m.split(".")[0] in {"torch", "sklearn", "onnxscript"}))
    """)
    assert run(sys.executable, code=probe, env=env).stdout.strip() == "[]"
    check_outputs(sys.executable, tmp_path, recording_csv, prefix=BLOCKER, env=env)
    # training needs the extra, and says so
    train = ["train", "--data", str(tmp_path), "--out", str(tmp_path / "m.safetensors")]
    done = subprocess.run([sys.executable, "-c", BLOCKER + "from ecgad.cli import main\nmain()", *train],
                          capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert done.returncode == 2 and "pip install 'ecgad[train]'" in done.stderr, done.stderr


@pytest.mark.timeout(1200)
def test_a_fresh_base_install_scores_analyses_and_serves(tmp_path: Path, recording_csv: Path) -> None:
    """``pip install .`` alone, in a new virtual environment (no torch, no scikit-learn)."""
    folder = tmp_path / "venv"
    venv.create(folder, with_pip=True)
    python = str(folder / "bin" / "python")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    pip = subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(ROOT)],
                         capture_output=True, text=True, timeout=1100, env=env)
    assert pip.returncode == 0, pip.stderr[-4000:]
    installed = run(python, "-m", "pip", "list", "--format=json", env=env).stdout
    names = {p["name"].lower() for p in json.loads(installed)}
    assert "onnxruntime" in names and not names & {"torch", "scikit-learn", "onnxscript"}
    check_outputs(python, tmp_path, recording_csv, env={**env, "HOME": str(tmp_path)})
