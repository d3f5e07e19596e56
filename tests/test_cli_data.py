"""`ecgad data fetch ecg5000` and `ecgad data split`."""
from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result

from ecgad.cli import main
from ecgad.data import ecg5000
from ecgad.data.ecg5000 import Beats

N = ecg5000.BEAT_LENGTH


def synthetic(n: int, seed: int) -> Beats:
    rng = np.random.default_rng(seed)
    return Beats(np.round(rng.normal(size=(n, N)), 4), rng.choice([1, 1, 2, 3, 4, 5], size=n))


TRAIN, TEST = synthetic(60, 1), synthetic(90, 2)


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """A small ECG5000-shaped data set in UCR TSV, as a parent folder holding ECG5000/."""
    folder = tmp_path / "data" / "ECG5000"
    folder.mkdir(parents=True)
    ecg5000.write_ucr_tsv(TRAIN, folder / "ECG5000_TRAIN.tsv")
    ecg5000.write_ucr_tsv(TEST, folder / "ECG5000_TEST.tsv")
    return folder.parent


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def assert_user_error(result: Result, *parts: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for part in parts:
        assert part in lines[0], lines[0]


# ------------------------------------------------------------------ split


@pytest.mark.parametrize("protocol", ecg5000.PROTOCOLS)
@pytest.mark.parametrize("part", ecg5000.PARTS)
def test_split_writes_the_part(dataset: Path, tmp_path: Path, protocol: str, part: str) -> None:
    out = tmp_path / "part.tsv"
    result = run("data", "split", "--data", str(dataset), "--protocol", protocol,
                 "--seed", "3", "--part", part, "--out", str(out))
    assert result.exit_code == 0, result.output
    expected = ecg5000.make_split(TRAIN, TEST, protocol, seed=3).part(part)
    back = ecg5000.read_file(out)
    np.testing.assert_array_equal(back.values, expected.values)
    np.testing.assert_array_equal(back.labels, expected.labels)
    assert f"wrote {len(expected)} beats" in result.stdout


def test_split_reads_the_data_folder_from_the_environment(dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "train.tsv"
    result = run("data", "split", "--protocol", "ucr", "--part", "train", "--out", str(out),
                 env={"ECGAD_DATA_DIR": str(dataset / "ECG5000")})
    assert result.exit_code == 0, result.output
    assert len(ecg5000.read_file(out)) == len(ecg5000.make_split(TRAIN, TEST, "ucr").train)


def test_split_user_errors_are_one_line(dataset: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    assert_user_error(
        run("data", "split", "--data", str(missing), "--protocol", "ucr", "--part", "test",
            "--out", str(tmp_path / "x.tsv")),
        str(missing), "does not exist",
    )
    assert_user_error(
        run("data", "split", "--data", str(dataset), "--protocol", "ucr", "--part", "test",
            "--out", str(tmp_path / "no" / "such" / "dir" / "x.tsv")),
        "x.tsv",
    )
    bad = dataset / "ECG5000" / "ECG5000_TEST.tsv"
    bad.write_text(bad.read_text().replace("\t", "\tabc\t", 1))
    assert_user_error(
        run("data", "split", "--data", str(dataset), "--protocol", "ucr", "--part", "test",
            "--out", str(tmp_path / "x.tsv")),
        "ECG5000_TEST.tsv line 1",
    )


def test_split_needs_a_data_folder(tmp_path: Path) -> None:
    result = run("data", "split", "--protocol", "ucr", "--part", "test", "--out", str(tmp_path / "x.tsv"),
                 env={"ECGAD_DATA_DIR": ""})
    assert result.exit_code == 2 and "--data" in result.stderr
    result = run("data", "split", "--data", str(tmp_path), "--protocol", "kfold", "--part", "test",
                 "--out", str(tmp_path / "x.tsv"))
    assert result.exit_code == 2 and "kfold" in result.stderr


# ------------------------------------------------------------------ fetch


@pytest.fixture
def served_zip(local_server: tuple[str, Path], tmp_path: Path) -> tuple[str, str]:
    """(URL of a small ECG5000-shaped zip on a local server, its SHA-256)."""
    url, root = local_server
    with zipfile.ZipFile(root / "ECG5000.zip", "w") as zf:
        for name, beats in (("ECG5000_TRAIN.tsv", TRAIN), ("ECG5000_TEST.tsv", TEST)):
            ecg5000.write_ucr_tsv(beats, tmp_path / name)
            zf.write(tmp_path / name, name)
    return f"{url}/ECG5000.zip", hashlib.sha256((root / "ECG5000.zip").read_bytes()).hexdigest()


def test_fetch_with_the_right_hash(served_zip: tuple[str, str], tmp_path: Path) -> None:
    url, digest = served_zip
    dest = tmp_path / "dest"
    result = run("data", "fetch", "ecg5000", "--dest", str(dest), "--url", url, "--sha256", digest)
    assert result.exit_code == 0, result.output
    assert str(dest / "ECG5000") in result.stdout
    train, test = ecg5000.load(dest)
    np.testing.assert_array_equal(train.values, TRAIN.values)
    assert len(test) == len(TEST)


def test_fetch_user_errors_are_one_line(served_zip: tuple[str, str], tmp_path: Path) -> None:
    url, digest = served_zip
    dest = tmp_path / "dest"
    wrong = "f" * 64
    assert_user_error(run("data", "fetch", "ecg5000", "--dest", str(dest), "--url", url, "--sha256", wrong),
                      "SHA-256 mismatch", f"expected {wrong}", f"got {digest}")
    assert_user_error(run("data", "fetch", "ecg5000", "--dest", str(dest), "--url", url, "--sha256", "xyz"),
                      "--sha256 must be 64 hexadecimal digits")
    assert_user_error(run("data", "fetch", "ecg5000", "--dest", str(dest), "--url", url + ".missing"),
                      "HTTP 404")
    # No --sha256: the parsed content must match the real ECG5000's fingerprint, which this zip does not.
    assert_user_error(run("data", "fetch", "ecg5000", "--dest", str(dest), "--url", url),
                      "content fingerprint mismatch")
    assert not dest.exists()
