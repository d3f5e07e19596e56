"""`ecgad train` and `ecgad score`."""
from __future__ import annotations

import inspect
import json
import os
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result
from heartbeats import heartbeats, labelled_file

from ecgad.cli import main
from ecgad.detector import Detector
from ecgad.train import TrainConfig


def runner() -> CliRunner:
    """A runner keeping stderr apart from stdout (click < 8.2 mixes them unless told not to)."""
    if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters:
        return CliRunner(mix_stderr=False)
    return CliRunner()


def invoke(*args: str | Path) -> Result:
    return runner().invoke(main, [str(a) for a in args])


def assert_one_line_error(result: Result) -> None:
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Detector]:
    det = Detector(train_config=TrainConfig(epochs=3, batch_size=32)).fit(
        heartbeats(150, seed=1), protocol="synthetic", seed=0, progress=False)
    return det.save(tmp_path_factory.mktemp("model") / "tiny.safetensors"), det


@pytest.fixture(scope="module")
def beats() -> list[np.ndarray]:
    """Two normal and two abnormal beats, of different lengths (rows may differ)."""
    n, a = heartbeats(2, seed=11), heartbeats(2, abnormal=True, seed=12, length=180)
    return [n[0], a[0], n[1], a[1]]


def _text(beats: list[np.ndarray], sep: str) -> str:
    return "\n".join(sep.join(repr(float(x)) for x in beat) for beat in beats) + "\n"


WRITERS = {
    "comma.csv": lambda beats: _text(beats, ","),
    "semicolon.csv": lambda beats: _text(beats, ";"),
    "tabs.tsv": lambda beats: _text(beats, "\t"),
    "spaces.txt": lambda beats: _text(beats, "  "),
    "beats.json": lambda beats: json.dumps([[float(x) for x in beat] for beat in beats]),
}


# ------------------------------------------------------------------ score
@pytest.mark.parametrize("name", WRITERS)
def test_score_json_prints_one_object_with_a_verdict_per_beat_in_file_order(
        name: str, model, beats, tmp_path: Path) -> None:
    path, det = model
    file = tmp_path / name
    file.write_text(WRITERS[name](beats))
    result = invoke("score", file, "--model", path, "--json")
    assert result.exit_code == 0, result.stderr
    output = json.loads(result.stdout)  # exactly one JSON document: trailing text would fail here
    assert result.stdout.strip().count("\n") == 0
    assert set(output) == {"model", "warnings", "beats"}
    assert output["warnings"] == [] and result.stderr == ""  # 4 beats: too few for the data-fit check
    assert output["model"]["model_id"] == det.meta["model_id"]
    expected = det.score(beats)
    assert [b["beat"] for b in output["beats"]] == list(range(1, len(beats) + 1))  # numbered from 1
    for beat, score in zip(output["beats"], expected, strict=True):
        assert set(beat) == {"beat", "score", "threshold", "is_anomaly", "confidence"}
        assert beat["score"] == pytest.approx(score, rel=1e-5)
        assert beat["threshold"] == det.threshold
        assert beat["is_anomaly"] == (beat["score"] > beat["threshold"])
        assert 0 <= beat["confidence"] <= 1


def test_score_a_json_flat_array_is_one_beat(model, beats, tmp_path: Path) -> None:
    path, _ = model
    file = tmp_path / "one.json"
    file.write_text(json.dumps([float(x) for x in beats[0]]))
    result = invoke("score", file, "--model", path, "--json")
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)["beats"]) == 1


def test_score_table_summarises_the_verdicts(model, beats, tmp_path: Path) -> None:
    path, det = model
    file = tmp_path / "beats.csv"
    file.write_text(_text(beats, ","))
    result = invoke("score", file, "--model", path)
    assert result.exit_code == 0, result.stderr
    flagged = int((det.score(beats) > det.threshold).sum())
    assert det.meta["model_id"] in result.stdout
    assert f"{flagged} of {len(beats)} beats anomalous" in result.stdout
    rows = [line.split() for line in result.stdout.splitlines()[2:-1]]
    assert [int(row[0]) for row in rows] == [1, 2, 3, 4]  # beats are numbered from 1, as on the web


def test_score_labelled_shows_each_beats_label_in_the_table_and_in_json(model, beats, tmp_path: Path) -> None:
    path, det = model
    file = tmp_path / "labelled.tsv"
    file.write_text("".join(f"{label}\t" + "\t".join(map(repr, map(float, beat))) + "\n"
                            for label, beat in zip(["1", "3", "N", "V7"], beats, strict=True)))
    result = invoke("score", file, "--model", path, "--labelled")
    assert result.exit_code == 0, result.stderr
    rows = [line.split(maxsplit=2) for line in result.stdout.splitlines()[2:-1]]
    # the shipped kind of model (trained on ECG5000) names its classes; other labels are shown as written
    assert [row[:2] for row in rows] == [["1", "1"], ["2", "3"], ["3", "N"], ["4", "V7"]]
    assert rows[0][2].startswith("(normal)") and rows[1][2].startswith("(PVC)")
    output = json.loads(invoke("score", file, "--model", path, "--labelled", "--json").stdout)
    assert [b["label"] for b in output["beats"]] == [1, 3, "N", "V7"]
    assert "shown with each beat's verdict" in " ".join(invoke("score", "--help").stdout.split())


@pytest.mark.parametrize("as_json", [False, True])
def test_score_warns_on_stderr_when_the_beats_are_unlike_the_training_data(model, tmp_path: Path, as_json) -> None:
    path, det = model
    rng = np.random.default_rng(0)
    sines = np.sin(2 * np.pi * np.linspace(0, 1, 140) * rng.uniform(0.5, 5, (20, 1)) + rng.uniform(0, 6, (20, 1)))
    for beats, warned in ((sines, True), (heartbeats(20, seed=7), False)):
        file = tmp_path / "beats.csv"
        file.write_text(_text(list(beats), ","))
        result = invoke("score", file, "--model", path, *(["--json"] if as_json else []))
        assert result.exit_code == 0, result.stderr
        lines = result.stderr.splitlines()
        if warned:
            assert len(lines) == 1 and lines[0].startswith("warning: ") and "trained on" in lines[0], result.stderr
        else:
            assert lines == []
        if as_json:
            warnings = json.loads(result.stdout)["warnings"]
            assert [w["code"] for w in warnings] == (["unlike_training_data"] if warned else [])
            assert warnings == det.data_fit(beats)
        else:
            assert f"of {len(beats)} beats anomalous" in result.stdout  # the table is there as ever


BAD_FILES = {
    "not-numbers": "0.1,0.2,abc," + ",".join(["0.3"] * 137) + "\n",
    "empty": "",
    "nan-beat": ",".join(["0.5"] * 70 + ["1.5"] * 69) + ",nan\n",
    "too-short": ",".join(str(x) for x in range(140)) + "\n" + ",".join(str(x) for x in range(10)) + "\n",
    "constant": ",".join(["0.5"] * 140) + "\n",
    "bad-json": "[[1, 2, 3",
}


@pytest.mark.parametrize("kind", BAD_FILES)
def test_score_a_bad_file_exits_2_with_one_line(kind: str, model, tmp_path: Path) -> None:
    path, _ = model
    file = tmp_path / ("beats.json" if kind == "bad-json" else "beats.csv")
    file.write_text(BAD_FILES[kind])
    result = invoke("score", file, "--model", path, "--json")
    assert_one_line_error(result)
    assert str(file) in result.stderr


def test_score_a_missing_file_exits_2(model, tmp_path: Path) -> None:
    assert_one_line_error(invoke("score", tmp_path / "absent.csv", "--model", model[0]))


@pytest.mark.parametrize("kind", ["random-bytes", "missing", "csv-as-model"])
def test_score_with_a_bad_model_file_exits_2(kind: str, beats, tmp_path: Path) -> None:
    file = tmp_path / "beats.csv"
    file.write_text(_text(beats, ","))
    bad = tmp_path / "bad.safetensors"
    if kind == "random-bytes":
        bad.write_bytes(os.urandom(300))
    elif kind == "csv-as-model":
        bad = file
    result = invoke("score", file, "--model", bad, "--json")
    assert_one_line_error(result)
    assert f"error: {bad}: " in result.stderr  # the message is about the model, not the beats


# ------------------------------------------------------------------ train (real data)
def test_train_writes_a_loadable_model(data_dir: Path, tmp_path: Path, beats) -> None:
    out = tmp_path / "m.safetensors"
    result = invoke("train", "--data", data_dir, "--protocol", "resplit", "--seed", "0",
                    "--epochs", "2", "--out", out)
    assert result.exit_code == 0, result.stderr
    det = Detector.load(out)
    assert det.arch == "hybrid"
    assert det.meta["protocol"] == "resplit" and det.meta["seed"] == 0
    assert max(det.training["epochs_run"]) <= 2
    assert det.meta["model_id"] in result.stdout
    assert det.score(beats).shape == (len(beats),)


def test_train_without_the_data_set_exits_2(tmp_path: Path) -> None:
    result = invoke("train", "--data", tmp_path / "nothing-here", "--epochs", "1", "--out", tmp_path / "m.safetensors")
    assert_one_line_error(result)
    assert not (tmp_path / "m.safetensors").exists()


# ------------------------------------------------------------------ train on one's own labelled beats
def _train_file(tmp_path: Path, file: Path, *extra: str) -> Result:
    return invoke("train", "--data", file, "--normal-label", "N", "--seed", "0", "--epochs", "3",
                  "--out", tmp_path / "own.safetensors", *extra)


def test_train_on_a_labelled_file_keeps_its_labels_and_score_shows_them(tmp_path: Path) -> None:
    file = tmp_path / "mine.csv"
    labelled_file(file, 30, 10, length=96)
    result = _train_file(tmp_path, file)
    assert result.exit_code == 0, result.stderr
    det = Detector.load(tmp_path / "own.safetensors")
    assert det.meta["labels"] == {"normal": "N", "names": ["N", "V"], "source": "mine.csv"}
    assert det.meta["protocol"] == "file" and det.meta["n_train"] == 24  # 30 normals less 6 for validation
    assert det.meta["selection"]["chosen"] in result.stdout and "validation ROC AUC" in result.stdout
    assert "validation: 6 N, 10 V" in result.stderr
    scored = invoke("score", file, "--model", tmp_path / "own.safetensors", "--labelled")
    assert scored.exit_code == 0, scored.stderr
    labels = [line.split()[1] for line in scored.stdout.splitlines()[2:-1]]
    assert labels == ["N"] * 30 + ["V"] * 10  # the file's own names, never ECG5000's classes
    assert "PVC" not in scored.stdout and "(normal)" not in scored.stdout


@pytest.mark.parametrize(("normal", "abnormal", "extra", "message"), [
    (14, 10, [], "14 normal beats (label 'N'); training needs at least 15"),
    (30, 0, [], "every beat is labelled 'N'; the validation part needs abnormal beats"),
    (30, 10, ["--normal-label", "Q"], "no beat is labelled 'Q'"),
    (30, 10, ["--protocol", "ucr"], "--protocol does not apply to a labelled beat file"),
    (30, 10, ["--arch", "reference"], "hybrid autoencoder only"),
])
def test_train_on_a_file_that_cannot_train_exits_2_with_one_line(
        normal: int, abnormal: int, extra: list[str], message: str, tmp_path: Path) -> None:
    file = tmp_path / "mine.tsv"
    labelled_file(file, normal, abnormal, sep="\t")
    result = _train_file(tmp_path, file, *extra)
    assert_one_line_error(result)
    assert message in result.stderr
    assert not (tmp_path / "own.safetensors").exists()


def test_train_on_a_file_needs_its_normal_label(tmp_path: Path) -> None:
    file = tmp_path / "mine.csv"
    labelled_file(file, 30, 10)
    result = invoke("train", "--data", file, "--out", tmp_path / "m.safetensors")
    assert_one_line_error(result)
    assert "--normal-label" in result.stderr


def test_file_options_without_a_file_exit_2(tmp_path: Path) -> None:
    for extra in (["--normal-label", "N"], ["--validation-fraction", "0.3"]):
        result = invoke("train", "--data", tmp_path, *extra, "--out", tmp_path / "m.safetensors")
        assert_one_line_error(result)
        assert "labelled beat file" in result.stderr
