"""ecg5000.fetch against a local HTTP server serving small zips made here."""
from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import numpy as np
import pytest

from ecgad.data import ecg5000
from ecgad.data.ecg5000 import Beats

N = ecg5000.BEAT_LENGTH


def synthetic(n: int, seed: int) -> Beats:
    rng = np.random.default_rng(seed)
    return Beats(np.round(rng.normal(size=(n, N)), 4), rng.integers(1, 6, size=n))


def txt(beats: Beats) -> str:
    """The old UCR whitespace format, as in the public zip."""
    return "".join(
        "  " + "  ".join(f"{v:.7e}" for v in [float(label), *row]) + "\n"
        for label, row in zip(beats.labels.tolist(), beats.values.astype(np.float64).tolist(), strict=True)
    )


TRAIN, TEST = synthetic(8, 1), synthetic(6, 2)


def make_zip(path: Path, members: dict[str, str]) -> str:
    with zipfile.ZipFile(path, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return hashlib.sha256(path.read_bytes()).hexdigest()


GOOD = {
    "ECG5000_TRAIN.txt": txt(TRAIN),
    "ECG5000_TEST.txt": txt(TEST),
    "ECG5000.txt": "a description the project does not need",
    "Extra/readme.md": "neither",
}


def test_good_hash_unpacks_only_the_data_files(local_server: tuple[str, Path], tmp_path: Path) -> None:
    url, root = local_server
    digest = make_zip(root / "ECG5000.zip", GOOD)
    dest = tmp_path / "data"
    folder = ecg5000.fetch(dest, url=f"{url}/ECG5000.zip", sha256=digest.upper(), progress=False)
    assert folder == dest / "ECG5000"
    assert sorted(p.name for p in dest.iterdir()) == ["ECG5000"]  # no zip, no temporary folder left
    assert sorted(p.name for p in folder.iterdir()) == ["ECG5000_TEST.txt", "ECG5000_TRAIN.txt"]
    train, test = ecg5000.load(dest)
    np.testing.assert_array_equal(train.values, TRAIN.values)
    np.testing.assert_array_equal(test.labels, TEST.labels)


def test_progress_bar_goes_to_stderr(local_server: tuple[str, Path], tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    url, root = local_server
    digest = make_zip(root / "ECG5000.zip", GOOD)
    ecg5000.fetch(tmp_path / "d", url=f"{url}/ECG5000.zip", sha256=digest, progress=True)
    captured = capsys.readouterr()
    assert "ECG5000.zip" in captured.err and captured.out == ""


def test_wrong_hash_leaves_nothing(local_server: tuple[str, Path], tmp_path: Path) -> None:
    url, root = local_server
    digest = make_zip(root / "ECG5000.zip", GOOD)
    wrong = "0" * 64
    fresh, existing = tmp_path / "fresh", tmp_path / "existing"
    existing.mkdir()
    for dest in (fresh, existing):
        with pytest.raises(ValueError) as err:
            ecg5000.fetch(dest, url=f"{url}/ECG5000.zip", sha256=wrong, progress=False)
        assert f"expected {wrong}, got {digest}" in str(err.value)
    assert not fresh.exists()
    assert list(existing.iterdir()) == []


def test_http_404_is_a_clear_error(local_server: tuple[str, Path], tmp_path: Path) -> None:
    url, _ = local_server
    with pytest.raises(ecg5000.DownloadError, match=r"download of .*/missing.zip failed: HTTP 404"):
        ecg5000.fetch(tmp_path / "d", url=f"{url}/missing.zip", sha256=None, progress=False)
    assert not (tmp_path / "d").exists()


def test_without_a_hash_the_content_fingerprint_is_checked(local_server: tuple[str, Path], tmp_path: Path) -> None:
    url, root = local_server
    make_zip(root / "ECG5000.zip", GOOD)
    right = ecg5000.fingerprint(TRAIN, TEST)
    folder = ecg5000.fetch(tmp_path / "ok", url=f"{url}/ECG5000.zip", sha256=None,
                           progress=False, expected_fingerprint=right)
    assert ecg5000.fingerprint(*ecg5000.load(folder)) == right
    with pytest.raises(ValueError, match=rf"content fingerprint mismatch .*expected {'1' * 64}, got {right}"):
        ecg5000.fetch(tmp_path / "bad", url=f"{url}/ECG5000.zip", sha256=None,
                      progress=False, expected_fingerprint="1" * 64)
    assert not (tmp_path / "bad").exists()


@pytest.mark.parametrize(("members", "message"), [
    ({"../ECG5000_TRAIN.txt": txt(TRAIN), "ECG5000_TEST.txt": txt(TEST)}, "unsafe path '../ECG5000_TRAIN.txt'"),
    ({"/abs/ECG5000_TRAIN.txt": txt(TRAIN), "ECG5000_TEST.txt": txt(TEST)}, "unsafe path"),
    ({"ECG5000_TRAIN.txt": txt(TRAIN)}, "no ECG5000_TRAIN and ECG5000_TEST files"),
    ({"ECG5000_TRAIN.txt": txt(TRAIN), "ECG5000_TEST.txt": txt(TEST) + "  1.0 2.0\n"},
     f"ECG5000_TEST.txt line {len(TEST) + 1}: expected {N} values, found 1"),
])
def test_bad_archives_leave_nothing(local_server: tuple[str, Path], tmp_path: Path,
                                    members: dict[str, str], message: str) -> None:
    url, root = local_server
    digest = make_zip(root / "ECG5000.zip", members)
    dest = tmp_path / "deep" / "data"
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        ecg5000.fetch(dest, url=f"{url}/ECG5000.zip", sha256=digest, progress=False)
    assert not dest.exists()
    assert not (tmp_path / "deep" / "ECG5000_TRAIN.txt").exists()


def test_not_a_zip(local_server: tuple[str, Path], tmp_path: Path) -> None:
    url, root = local_server
    (root / "page.html").write_text("<html>moved</html>")
    with pytest.raises(ValueError, match="not a zip archive"):
        ecg5000.fetch(tmp_path / "d", url=f"{url}/page.html", sha256=None, progress=False)
