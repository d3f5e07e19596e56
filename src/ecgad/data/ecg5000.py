"""ECG5000: find, read (TSV, TXT, TS, ARFF), split by protocol, write and download.

ECG5000 (UCR archive) holds 5000 heartbeats of 140 samples from one patient's
ECG; class 1 is normal, classes 2-5 abnormal. The official split is 500 TRAIN
and 4500 TEST beats.
"""
from __future__ import annotations

import contextlib
import hashlib
import math
import os
import re
import shutil
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

BEAT_LENGTH = 140
LABELS = (1, 2, 3, 4, 5)
PROTOCOLS = ("ucr", "resplit")
FORMATS = (".tsv", ".txt", ".ts", ".arff")  # in order of preference
PARTS = ("train", "validation", "test")

DEFAULT_URL = "https://www.timeseriesclassification.com/aeon-toolkit/ECG5000.zip"
# No SHA-256 of the public zip is published anywhere we could find, and we cannot
# download it to measure one, so by default the zip is not checked as bytes.
DEFAULT_SHA256: str | None = None
# Instead the *parsed content* is checked: fingerprint() of the archive's beats,
# computed once from the UCR 2018 TSV files (../shared/data/ECG5000; the 2018
# archive kept ECG5000 as it was). Values are rounded to 4 decimals so the same
# beats written as TSV, TXT, TS or ARFF agree. Replace both once the zip's real
# SHA-256 is measured: bytes are the stronger check.
DEFAULT_FINGERPRINT: str | None = "02e8b3847e34e3d9a6e87cf61614f88615cc349182e87eb37a6f3b216e2d1d9a"

_MAX_MEMBER_BYTES = 200 * 2**20  # the real files are a few MB; refuse zip bombs
_CHUNK = 2**16


# ------------------------------------------------------------------ types


@dataclass(frozen=True)
class Beats:
    values: np.ndarray  # (n, 140) float32
    labels: np.ndarray  # (n,) int 1..5

    def __post_init__(self) -> None:
        values = np.asarray(self.values, dtype=np.float32)
        labels = np.asarray(self.labels, dtype=np.int64)
        if values.ndim != 2 or labels.ndim != 1 or len(values) != len(labels):
            raise ValueError(
                f"Beats need values (n, length) and labels (n,), got {values.shape} and {labels.shape}"
            )
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "labels", labels)

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def is_anomaly(self) -> np.ndarray:
        return self.labels != 1

    @property
    def normals(self) -> np.ndarray:
        return self.values[self.labels == 1]

    def take(self, index: np.ndarray) -> Beats:
        return Beats(self.values[index], self.labels[index])

    @staticmethod
    def concat(*parts: Beats) -> Beats:
        return Beats(
            np.concatenate([p.values for p in parts]), np.concatenate([p.labels for p in parts])
        )


@dataclass(frozen=True)
class Split:
    protocol: str
    seed: int
    train: Beats
    validation: Beats
    test: Beats
    normal_share: float | None  # prior share of normals (ucr), None when validation is stratified

    def part(self, name: str) -> Beats:
        if name not in PARTS:
            raise ValueError(f"unknown part {name!r}; known: {', '.join(PARTS)}")
        return getattr(self, name)


# ------------------------------------------------------------------ finding


def _pick(folder: Path, role: str) -> Path | None:
    for ext in FORMATS:
        candidate = folder / f"ECG5000_{role}{ext}"
        if candidate.is_file():
            return candidate
    return None


def _files(folder: Path) -> tuple[Path, Path] | None:
    train, test = _pick(folder, "TRAIN"), _pick(folder, "TEST")
    return (train, test) if train and test else None


def find(path: str | os.PathLike[str]) -> Path:
    """The folder holding ECG5000_TRAIN.* and ECG5000_TEST.*: ``path`` itself or ``path/ECG5000``."""
    path = Path(path).expanduser()
    wanted = f"ECG5000_TRAIN and ECG5000_TEST ({'/'.join(FORMATS)})"
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist (looked for {wanted} there)")
    if not path.is_dir():
        raise ValueError(f"{path} is a file; give the folder holding {wanted}")
    for folder in (path, path / "ECG5000"):
        if _files(folder):
            return folder
    raise FileNotFoundError(f"no {wanted} in {path} or {path / 'ECG5000'}")


# ------------------------------------------------------------------ reading


@dataclass(frozen=True)
class _Row:
    line: int
    label: str
    values: list[str]
    label_first: bool  # where the label sits, to name the right column in messages


def _parse_row(row: _Row, where: str) -> tuple[int, list[float]]:
    """(label, values) of one data line; ``where`` ('file line n') prefixes errors."""
    if len(row.values) != BEAT_LENGTH:
        raise ValueError(f"{where}: expected {BEAT_LENGTH} values, found {len(row.values)}")
    offset = 2 if row.label_first else 1
    label_column = 1 if row.label_first else len(row.values) + 1
    tokens = [(label_column, row.label.strip("'\"")), *((i + offset, v) for i, v in enumerate(row.values))]
    numbers = []
    for column, token in tokens:  # ARFF may quote the class value, stripped above
        token = token.strip()
        try:
            number = float(token)
        except ValueError:
            raise ValueError(f"{where}, column {column}: {token!r} is not a number") from None
        if not math.isfinite(number):
            raise ValueError(f"{where}, column {column}: {token!r} is not a finite number")
        numbers.append(number)
    label = numbers[0]
    if not label.is_integer() or int(label) not in LABELS:
        raise ValueError(f"{where}: label {tokens[0][1].strip()!r} is not one of 1, 2, 3, 4, 5")
    return int(label), numbers[1:]


def _rows(path: Path) -> list[_Row]:
    """Every data line, whatever the format, split into label and value tokens."""
    ext = path.suffix.lower()
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    rows: list[_Row] = []
    in_data = ext in (".tsv", ".txt")  # ARFF and TS data start after an @data line
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or (ext == ".arff" and line.startswith("%")) or (ext == ".ts" and line.startswith("#")):
            continue
        if ext in (".arff", ".ts") and line.startswith("@"):
            in_data = line.lower().startswith("@data")
            continue
        if not in_data:
            continue
        if ext == ".arff":  # the class is the last column
            *values, label = line.split(",")
            rows.append(_Row(number, label, values, label_first=False))
        elif ext == ".ts":  # v1,...,v140:label
            series, sep, label = line.rpartition(":")
            if not sep:
                raise ValueError(f"{path.name} line {number}: expected 'v1,...,v{BEAT_LENGTH}:label'")
            rows.append(_Row(number, label, series.split(","), label_first=False))
        else:  # .tsv (tabs) or .txt (spaces): the label first
            label, *values = line.split()
            rows.append(_Row(number, label, values, label_first=True))
    return rows


def read_file(path: str | os.PathLike[str]) -> Beats:
    """Read one ECG5000 file (.tsv, .txt, .ts or .arff), checking every row."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ValueError(f"{path.name}: unknown format; accepted: {', '.join(FORMATS)}")
    rows = _rows(path)
    if not rows:
        raise ValueError(f"{path.name}: no beats found")
    labels = np.empty(len(rows), dtype=np.int64)
    values = np.empty((len(rows), BEAT_LENGTH), dtype=np.float32)
    for i, row in enumerate(rows):
        labels[i], values[i] = _parse_row(row, f"{path.name} line {row.line}")
    return Beats(values, labels)


def load(path: str | os.PathLike[str]) -> tuple[Beats, Beats]:
    """(train, test) beats of the official split, in file order."""
    files = _files(find(path))
    assert files is not None  # find() succeeded
    return read_file(files[0]), read_file(files[1])


def fingerprint(train: Beats, test: Beats) -> str:
    """SHA-256 of the content (labels, values to 4 decimals), the same for every file format."""
    digest = hashlib.sha256()
    for beats in (train, test):
        digest.update(beats.labels.astype(np.int8).tobytes())
    for beats in (train, test):
        # + 0.0 turns -0.0 (a tiny negative value, rounded) into 0.0, whose bytes differ
        digest.update((np.round(beats.values, 4) + np.float32(0.0)).astype(np.float32).tobytes())
    return digest.hexdigest()


# ------------------------------------------------------------------ protocols


def make_split(train: Beats, test: Beats, protocol: str, seed: int = 0) -> Split:
    """Split already-loaded official TRAIN/TEST beats by ``protocol`` (see ``split``)."""
    if protocol == "ucr":
        normal = np.flatnonzero(train.labels == 1)
        shuffled = np.random.default_rng(seed).permutation(normal)
        n_fit = round(0.8 * len(normal))
        fit = np.sort(shuffled[:n_fit])
        held = np.setdiff1d(np.arange(len(train)), fit)  # the other normals and every abnormal beat
        return Split(
            protocol, seed, train.take(fit), train.take(held), test,
            normal_share=float(np.mean(train.labels == 1)),
        )
    if protocol == "resplit":
        from sklearn.model_selection import train_test_split

        merged = Beats.concat(train, test)
        index = np.arange(len(merged))
        rest, test_index = train_test_split(
            index, test_size=0.2, stratify=merged.labels, random_state=seed
        )
        fit, val = train_test_split(  # 25% of the remaining 80% = 20% of all
            rest, test_size=0.25, stratify=merged.labels[rest], random_state=seed
        )
        return Split(
            protocol, seed, merged.take(np.sort(fit)), merged.take(np.sort(val)),
            merged.take(np.sort(test_index)), normal_share=None,
        )
    raise ValueError(f"unknown protocol {protocol!r}; known: {', '.join(PROTOCOLS)}")


def split(path: str | os.PathLike[str], protocol: str, seed: int = 0) -> Split:
    """Train / validation / test beats of ECG5000 under an evaluation protocol.

    ``ucr``: train is 80% of TRAIN's normal beats; validation the other 20% plus
    all of TRAIN's abnormal beats; test is all of TEST. ``normal_share`` is the
    share of normals in TRAIN, the prior to re-weight validation to.
    ``resplit``: all 5000 beats, stratified by label into 60/20/20%.
    Models fit on ``train.normals``.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; known: {', '.join(PROTOCOLS)}")
    train, test = load(path)
    return make_split(train, test, protocol, seed)


# ------------------------------------------------------------------ writing


def write_ucr_tsv(beats: Beats, path: str | os.PathLike[str]) -> None:
    """Write beats in UCR 2018 TSV: integer label, then the values.

    Each value is the shortest text that reads back as the same float32 (numpy's ``str``).
    """
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for label, row in zip(beats.labels.tolist(), beats.values, strict=True):
            out.write(f"{label}\t" + "\t".join(map(str, row)) + "\n")


# ------------------------------------------------------------------ download


class DownloadError(OSError):
    """The archive could not be downloaded (network, HTTP status)."""


_MEMBER = re.compile(r"ECG5000_(TRAIN|TEST)\.(tsv|txt|ts|arff)", re.IGNORECASE)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(2**20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _download(url: str, target: Path, progress: bool) -> None:
    import urllib.error  # here: http and ssl cost every `ecgad` command's start a tenth of a second
    import urllib.request

    from tqdm import tqdm

    try:
        response = urllib.request.urlopen(url, timeout=60)
    except urllib.error.HTTPError as e:
        raise DownloadError(f"download of {url} failed: HTTP {e.code} {e.reason}") from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise DownloadError(f"download of {url} failed: {reason}") from None
    with response, open(target, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(
            total=total, unit="B", unit_scale=True, desc="ECG5000.zip",
            disable=not progress, file=sys.stderr,
        ) as bar:
            try:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    out.write(chunk)
                    bar.update(len(chunk))
            except OSError as e:
                raise DownloadError(f"download of {url} broke off: {e}") from None


def _unpack(archive: Path, into: Path) -> list[Path]:
    """Extract only the ECG5000_TRAIN/TEST files, flat into ``into``."""
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile:
        raise ValueError("the download is not a zip archive") from None
    written: list[Path] = []
    with zf:
        for info in zf.infolist():
            name = PurePosixPath(info.filename.replace("\\", "/"))
            if info.is_dir() or not _MEMBER.fullmatch(name.name):
                continue
            if name.is_absolute() or ".." in name.parts or ":" in info.filename:
                raise ValueError(f"the archive holds an unsafe path {info.filename!r}")
            if info.file_size > _MAX_MEMBER_BYTES:
                raise ValueError(f"{info.filename} in the archive is too large ({info.file_size} bytes)")
            target = into / name.name
            if target.exists():
                raise ValueError(f"the archive holds {name.name} twice")
            with zf.open(info) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
            written.append(target)
    if not _files(into):
        raise ValueError("the archive holds no ECG5000_TRAIN and ECG5000_TEST files")
    return written


def fetch(
    dest: str | os.PathLike[str],
    url: str = DEFAULT_URL,
    sha256: str | None = DEFAULT_SHA256,
    progress: bool = True,
    expected_fingerprint: str | None = DEFAULT_FINGERPRINT,
) -> Path:
    """Download the ECG5000 zip, verify it, unpack its TRAIN/TEST files into ``dest/ECG5000``.

    With ``sha256`` the zip's bytes are checked before anything is unpacked;
    without it the parsed beats must match ``expected_fingerprint`` (None: not
    checked). On any failure nothing is left in ``dest``. Returns the ECG5000 folder.
    """
    dest = Path(dest).expanduser()
    created = not dest.exists()
    dest.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".ecg5000-", dir=dest))  # same disk: the final move is a rename
    try:
        archive = work / "ECG5000.zip"
        _download(url, archive, progress)
        if sha256 is not None:
            want, got = sha256.strip().lower(), _sha256_file(archive)
            if got != want:
                raise ValueError(f"SHA-256 mismatch for {url}: expected {want}, got {got}")
        unpacked = work / "ECG5000"
        unpacked.mkdir()
        files = _unpack(archive, unpacked)
        train, test = load(unpacked)  # raises with file and line if a file does not parse
        if sha256 is None and expected_fingerprint is not None:
            got = fingerprint(train, test)
            if got != expected_fingerprint:
                raise ValueError(
                    f"content fingerprint mismatch for {url}: expected {expected_fingerprint}, got {got}"
                    " (not the ECG5000 beats we know; to accept this archive anyway, give its SHA-256)"
                )
        folder = dest / "ECG5000"
        folder.mkdir(exist_ok=True)
        for file in files:
            os.replace(file, folder / file.name)
        return folder
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        if created:
            with contextlib.suppress(OSError):
                dest.rmdir()  # only if empty: never remove what others put there meanwhile
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
