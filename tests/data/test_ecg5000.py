"""ECG5000: reading every format, row checks, find(), protocols, writing."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from ecgad.data import ecg5000
from ecgad.data.ecg5000 import Beats

N = ecg5000.BEAT_LENGTH


def synthetic(n: int, seed: int = 0, labels: list[int] | None = None) -> Beats:
    """Distinct beats with 4-decimal values (exact in every text format)."""
    rng = np.random.default_rng(seed)
    if labels is None:
        labels = rng.choice([1, 1, 1, 2, 3, 4, 5], size=n).tolist()
    return Beats(np.round(rng.normal(size=(n, N)), 4), np.array(labels))


# ------------------------------------------------------------------ writers in each format


def _txt_number(v: float) -> str:
    mantissa, exponent = f"{v:.7e}".split("e")  # the old UCR style: 3-digit exponent
    return f"{mantissa}e{exponent[0]}{int(exponent[1:]):03d}"


def rows_as_text(beats: Beats, ext: str) -> list[str]:
    """Data lines of ``beats`` in one format, with 'rows' as (label, values) text."""
    lines = []
    for label, row in zip(beats.labels.tolist(), beats.values.astype(np.float64).tolist(), strict=True):
        if ext == ".tsv":
            lines.append("\t".join([str(label), *map(str, row)]))
        elif ext == ".txt":
            lines.append("  " + "  ".join([_txt_number(label), *map(_txt_number, row)]))
        elif ext == ".arff":
            lines.append(",".join([*map(repr, row), f"'{label}'" if label == 2 else str(label)]))
        else:  # .ts
            lines.append(",".join(map(repr, row)) + f":{label}")
    return lines


def header(ext: str) -> list[str]:
    if ext == ".arff":
        return ["% ECG5000", "@relation ECG5000", "",
                *[f"@attribute att{i} numeric" for i in range(1, N + 1)],
                "@attribute target {1,2,3,4,5}", "", "@data"]
    if ext == ".ts":
        return ["# ECG5000 in sktime format", "@problemName ECG5000", "@timeStamps false",
                "@univariate true", "@equalLength true", f"@seriesLength {N}",
                "@classLabel true 1 2 3 4 5", "@data"]
    return []


def write_format(beats: Beats, path: Path, data_lines: list[str] | None = None) -> Path:
    lines = header(path.suffix) + (data_lines if data_lines is not None else rows_as_text(beats, path.suffix))
    path.write_text("\n".join(lines) + "\n")
    return path


def write_dataset(folder: Path, train: Beats, test: Beats, ext: str = ".tsv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_format(train, folder / f"ECG5000_TRAIN{ext}")
    write_format(test, folder / f"ECG5000_TEST{ext}")
    return folder


def row_keys(beats: Beats) -> set[bytes]:
    return {row.tobytes() for row in beats.values}


# ------------------------------------------------------------------ reading


@pytest.mark.parametrize("ext", ecg5000.FORMATS)
def test_every_format_reads_the_same_beats(tmp_path: Path, ext: str) -> None:
    beats = synthetic(12)
    got = ecg5000.read_file(write_format(beats, tmp_path / f"ECG5000_TRAIN{ext}"))
    assert got.values.dtype == np.float32 and got.values.shape == (12, N)
    np.testing.assert_array_equal(got.values, beats.values)
    np.testing.assert_array_equal(got.labels, beats.labels)


def test_windows_line_endings_and_bom_are_read(tmp_path: Path) -> None:
    beats = synthetic(3)
    path = tmp_path / "ECG5000_TRAIN.tsv"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(rows_as_text(beats, ".tsv")).encode() + b"\r\n\r\n")
    np.testing.assert_array_equal(ecg5000.read_file(path).values, beats.values)


def test_beats_properties() -> None:
    beats = Beats(np.zeros((4, N)), np.array([1, 2, 1, 5]))
    assert len(beats) == 4
    assert beats.is_anomaly.tolist() == [False, True, False, True]
    assert beats.normals.shape == (2, N)
    with pytest.raises(ValueError, match="labels"):
        Beats(np.zeros((3, N)), np.array([1, 2]))


def _bad_rows(ext: str) -> list[tuple[str, list[str], str]]:
    """(case, data lines where the 2nd is bad, expected message part)."""
    good = rows_as_text(synthetic(2), ext)
    values = [f"{0.5 + i / 1000:.4f}" for i in range(N)]

    def row(label: str, vals: list[str]) -> str:
        if ext == ".tsv":
            return "\t".join([label, *vals])
        if ext == ".txt":
            return "  ".join([label, *vals])
        if ext == ".arff":
            return ",".join([*vals, label])
        return ",".join(vals) + f":{label}"

    return [
        ("too few values", [good[0], row("1", values[:-1]), good[1]], f"expected {N} values, found {N - 1}"),
        ("too many values", [good[0], row("1", values + ["0.1"]), good[1]], f"expected {N} values, found {N + 1}"),
        ("label out of range", [good[0], row("7", values), good[1]], "label '7' is not one of 1, 2, 3, 4, 5"),
        ("label not whole", [good[0], row("1.5", values), good[1]], "label '1.5'"),
        ("nan value", [good[0], row("1", values[:16] + ["nan"] + values[17:]), good[1]], "'nan' is not a finite"),
        ("inf value", [good[0], row("1", values[:3] + ["-inf"] + values[4:]), good[1]], "'-inf' is not a finite"),
        ("word value", [good[0], row("1", values[:9] + ["abc"] + values[10:]), good[1]], "'abc' is not a number"),
        ("word label", [good[0], row("x", values), good[1]], "'x' is not a number"),
    ]


@pytest.mark.parametrize("ext", ecg5000.FORMATS)
def test_a_bad_row_names_file_and_line(tmp_path: Path, ext: str) -> None:
    bad_line = len(header(ext)) + 2  # the second data line
    for case, lines, message in _bad_rows(ext):
        path = write_format(synthetic(0, labels=[]), tmp_path / f"ECG5000_TEST{ext}", lines)
        with pytest.raises(ValueError) as err:
            ecg5000.read_file(path)
        text = str(err.value)
        assert text.startswith(f"ECG5000_TEST{ext} line {bad_line}"), (case, text)
        assert message in text, (case, text)


def test_column_of_a_bad_value_is_named(tmp_path: Path) -> None:
    values = ["0.1"] * N
    values[16] = "abc"
    path = tmp_path / "ECG5000_TRAIN.tsv"
    path.write_text("\t".join(["1", *values]) + "\n")
    with pytest.raises(ValueError, match=r"ECG5000_TRAIN.tsv line 1, column 18: 'abc' is not a number"):
        ecg5000.read_file(path)
    arff = write_format(synthetic(0, labels=[]), tmp_path / "ECG5000_TRAIN.arff", [",".join([*values, "1"])])
    with pytest.raises(ValueError, match=r"column 17: 'abc'"):  # the class is last: values start at 1
        ecg5000.read_file(arff)
    values[16] = "0.1"
    arff.write_text("@data\n" + ",".join([*values, "oops"]) + "\n")
    with pytest.raises(ValueError, match=rf"ECG5000_TRAIN.arff line 2, column {N + 1}: 'oops'"):
        ecg5000.read_file(arff)


def test_ts_row_without_label_and_empty_file(tmp_path: Path) -> None:
    path = write_format(synthetic(0, labels=[]), tmp_path / "ECG5000_TRAIN.ts", [",".join(["0.1"] * N)])
    with pytest.raises(ValueError, match=r"ECG5000_TRAIN.ts line 9: expected 'v1,...,v140:label'"):
        ecg5000.read_file(path)
    empty = tmp_path / "ECG5000_TEST.tsv"
    empty.write_text("\n\n")
    with pytest.raises(ValueError, match="ECG5000_TEST.tsv: no beats found"):
        ecg5000.read_file(empty)


# ------------------------------------------------------------------ find


def test_find_accepts_the_folder_or_its_parent(tmp_path: Path) -> None:
    folder = write_dataset(tmp_path / "ECG5000", synthetic(5), synthetic(4, seed=1))
    assert ecg5000.find(folder) == folder
    assert ecg5000.find(tmp_path) == folder
    train, test = ecg5000.load(tmp_path)
    assert (len(train), len(test)) == (5, 4)


def test_find_says_what_it_looked_for_where(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nowhere does not exist .*ECG5000_TRAIN"):
        ecg5000.find(tmp_path / "nowhere")
    (tmp_path / "ECG5000").mkdir()
    (tmp_path / "ECG5000" / "ECG5000_TRAIN.tsv").write_text("")  # TEST is missing
    with pytest.raises(FileNotFoundError) as err:
        ecg5000.find(tmp_path)
    assert str(tmp_path) in str(err.value) and str(tmp_path / "ECG5000") in str(err.value)
    assert "ECG5000_TEST" in str(err.value)
    with pytest.raises(ValueError, match="is a file"):
        ecg5000.find(tmp_path / "ECG5000" / "ECG5000_TRAIN.tsv")


@pytest.mark.parametrize(("present", "used"), [
    ((".arff", ".ts", ".txt", ".tsv"), ".tsv"),
    ((".arff", ".ts", ".txt"), ".txt"),
    ((".arff", ".ts"), ".ts"),
    ((".arff",), ".arff"),
])
def test_format_preference(tmp_path: Path, present: tuple[str, ...], used: str) -> None:
    for i, ext in enumerate(present):  # each format holds different beats
        write_dataset(tmp_path, synthetic(3, seed=10 + i), synthetic(2, seed=20 + i), ext)
    expected = synthetic(3, seed=10 + present.index(used))
    train, _ = ecg5000.load(tmp_path)
    np.testing.assert_array_equal(train.values, expected.values)


# ------------------------------------------------------------------ fingerprint and writing


def test_fingerprint_is_the_same_for_every_format_and_sees_changes(tmp_path: Path) -> None:
    train, test = synthetic(6), synthetic(5, seed=1)
    prints = {
        ext: ecg5000.fingerprint(*ecg5000.load(write_dataset(tmp_path / ext[1:], train, test, ext)))
        for ext in ecg5000.FORMATS
    }
    assert len(set(prints.values())) == 1
    relabelled = Beats(train.values, np.where(np.arange(6) == 0, 5 if train.labels[0] != 5 else 1, train.labels))
    nudged = Beats(train.values + np.float32(0.001), train.labels)
    assert ecg5000.fingerprint(relabelled, test) != prints[".tsv"]
    assert ecg5000.fingerprint(nudged, test) != prints[".tsv"]
    assert ecg5000.fingerprint(test, train) != prints[".tsv"]


def test_write_ucr_tsv_round_trips_float32_exactly(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    values = (rng.normal(size=(7, N)) * 10.0 ** rng.integers(-8, 8, size=(7, 1))).astype(np.float32)
    values[0, :3] = [np.float32(1 / 3), np.float32(-0.0), np.float32(1e-38)]
    beats = Beats(values, np.array([1, 2, 3, 4, 5, 1, 1]))
    path = tmp_path / "out.tsv"
    ecg5000.write_ucr_tsv(beats, path)
    back = ecg5000.read_file(path)
    np.testing.assert_array_equal(back.values, beats.values)
    np.testing.assert_array_equal(back.labels, beats.labels)
    assert path.read_text().splitlines()[1].startswith("2\t")  # integer labels


# ------------------------------------------------------------------ protocols


def check_ucr(s: ecg5000.Split, train: Beats, test: Beats) -> None:
    n_normal = int((train.labels == 1).sum())
    assert len(s.train) == round(0.8 * n_normal)
    assert np.all(s.train.labels == 1)
    assert len(s.train) + len(s.validation) == len(train)
    assert not row_keys(s.train) & row_keys(s.validation)
    assert row_keys(s.train) | row_keys(s.validation) == row_keys(train)
    assert Counter(s.validation.labels.tolist())[1] == n_normal - len(s.train)
    assert (s.validation.labels != 1).sum() == (train.labels != 1).sum()  # every abnormal beat
    np.testing.assert_array_equal(s.test.values, test.values)
    np.testing.assert_array_equal(s.test.labels, test.labels)
    assert s.normal_share == pytest.approx(np.mean(train.labels == 1))


def check_resplit(s: ecg5000.Split, train: Beats, test: Beats) -> None:
    merged = Beats.concat(train, test)
    total = len(merged)
    parts = (s.train, s.validation, s.test)
    assert [len(p) for p in parts] == [round(0.6 * total), round(0.2 * total), round(0.2 * total)]
    keys = [row_keys(p) for p in parts]
    assert not (keys[0] & keys[1] or keys[0] & keys[2] or keys[1] & keys[2])
    assert keys[0] | keys[1] | keys[2] == row_keys(merged)
    overall = Counter(merged.labels.tolist())
    for part, share in zip(parts, (0.6, 0.2, 0.2), strict=True):
        counts = Counter(part.labels.tolist())
        for label, n in overall.items():
            assert abs(counts[label] - share * n) <= 1.5, (label, counts[label], share * n)
    assert s.normal_share is None


def test_protocols_on_synthetic_data() -> None:
    train = synthetic(100, seed=1)
    test = synthetic(150, seed=2)
    check_ucr(ecg5000.make_split(train, test, "ucr", seed=0), train, test)
    check_resplit(ecg5000.make_split(train, test, "resplit", seed=0), train, test)


@pytest.mark.parametrize("protocol", ecg5000.PROTOCOLS)
def test_a_seed_fixes_the_split_and_another_changes_it(protocol: str) -> None:
    train, test = synthetic(100, seed=1), synthetic(150, seed=2)
    a, b, c = (ecg5000.make_split(train, test, protocol, seed=s) for s in (5, 5, 6))
    for part in ecg5000.PARTS:
        np.testing.assert_array_equal(a.part(part).values, b.part(part).values)
    assert row_keys(a.train) != row_keys(c.train)
    assert row_keys(a.validation) != row_keys(c.validation)


def test_unknown_protocol_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown protocol 'kfold'; known: ucr, resplit"):
        ecg5000.split(tmp_path / "not-even-there", "kfold")
    with pytest.raises(ValueError, match="known: ucr, resplit"):
        ecg5000.make_split(synthetic(3), synthetic(3), "kfold")


# ------------------------------------------------------------------ the real data set


def test_real_data_loads(data_dir: Path) -> None:
    train, test = ecg5000.load(data_dir)
    assert train.values.shape == (500, N) and test.values.shape == (4500, N)
    assert set(np.unique(np.concatenate([train.labels, test.labels]))) <= set(ecg5000.LABELS)
    assert ecg5000.fingerprint(train, test) == ecg5000.DEFAULT_FINGERPRINT


@pytest.mark.parametrize("protocol", ecg5000.PROTOCOLS)
def test_real_data_protocols(data_dir: Path, protocol: str) -> None:
    train, test = ecg5000.load(data_dir)
    s = ecg5000.split(data_dir, protocol, seed=0)
    assert (s.protocol, s.seed) == (protocol, 0)
    (check_ucr if protocol == "ucr" else check_resplit)(s, train, test)
    other = ecg5000.split(data_dir, protocol, seed=1)
    assert row_keys(s.train) != row_keys(other.train)
