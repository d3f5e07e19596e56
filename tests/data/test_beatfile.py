"""Beat files a user uploads: every accepted shape and every error."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ecgad.data.beatfile import BeatFileError, read_beats, read_labelled, read_named

BEATS = [[0.5, -1.25, 3.0, 2e-3], [1.0, 2.0, 3.5], [-4.0, 0.0, 7.75, 8.0, 9.5]]  # ragged on purpose


def as_lists(beats: list[np.ndarray]) -> list[list[float]]:
    assert all(b.dtype == np.float64 and b.ndim == 1 for b in beats)
    return [b.tolist() for b in beats]


def text(rows: list[list[float]], sep: str) -> str:
    return "\n".join(sep.join(repr(v) for v in row) for row in rows) + "\n"


# ------------------------------------------------------------------ accepted shapes


@pytest.mark.parametrize(("sep", "filename"), [
    (",", "beats.csv"), (";", "beats.csv"), ("\t", "beats.tsv"), (" ", "beats.txt"), ("   ", "beats.txt"),
])
def test_delimited_text(tmp_path: Path, sep: str, filename: str) -> None:
    path = tmp_path / filename
    path.write_text(text(BEATS, sep))
    assert as_lists(read_beats(path)) == BEATS
    assert as_lists(read_beats(path.read_bytes(), name=filename)) == BEATS


def test_header_bom_crlf_and_blank_lines() -> None:
    body = "v1,v2,v3,v4\r\n\r\n" + text(BEATS, ",").replace("\n", "\r\n") + "\r\n  \r\n"
    assert as_lists(read_beats(b"\xef\xbb\xbf" + body.encode(), name="x.csv")) == BEATS


def test_old_mac_line_endings_and_trailing_whitespace() -> None:
    assert as_lists(read_beats(b"1 2 3 \r4 5\r")) == [[1, 2, 3], [4, 5]]


def test_semicolon_files_may_use_decimal_commas() -> None:
    assert as_lists(read_beats(b"a;b;c\n1,5;-2,25;3\n")) == [[1.5, -2.25, 3.0]]


def test_spreadsheet_padding_of_short_rows_is_dropped() -> None:
    assert as_lists(read_beats(b"1,2,3\n4,5,,\n")) == [[1, 2, 3], [4, 5]]


def test_utf16_export_with_bom() -> None:
    assert as_lists(read_beats(text(BEATS, "\t").encode("utf-16"), name="x.txt")) == BEATS


def test_json_one_beat_and_many(tmp_path: Path) -> None:
    assert as_lists(read_beats(json.dumps(BEATS[0]).encode(), name="b.json")) == [BEATS[0]]
    path = tmp_path / "beats.json"
    path.write_text(json.dumps(BEATS, indent=2))
    assert as_lists(read_beats(path)) == BEATS
    assert as_lists(read_beats(b"\xef\xbb\xbf[[1, 2], [3]]")) == [[1, 2], [3]]  # no name: by content


def test_labelled_first_column_is_the_label(tmp_path: Path) -> None:
    path = tmp_path / "ECG5000_TEST.tsv"
    path.write_text("1\t0.5\t0.25\n3\t1.5\t2.5\t3.5\n")
    beats, labels = read_labelled(path)
    assert as_lists(beats) == [[0.5, 0.25], [1.5, 2.5, 3.5]]
    assert labels.tolist() == [1, 3] and labels.dtype == np.int64
    beats, labels = read_labelled(b"[[2, 1.0, 2.0], [1.0, 3.0, 4.0]]")
    assert labels.tolist() == [2, 1] and as_lists(beats) == [[1.0, 2.0], [3.0, 4.0]]


def test_limits_allow_what_fits(tmp_path: Path) -> None:
    data = text(BEATS, ",").encode()
    assert len(read_beats(data, max_beats=3, max_bytes=len(data))) == 3


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(("data", "name", "message"), [
    (b"1,2,3\n4,5,abc,6\n", "beats.csv", "beats.csv line 2, column 3: 'abc' is not a number"),
    (b"h1,h2\n1,2\n4,x\n", "beats.csv", "beats.csv line 3, column 2: 'x' is not a number"),
    (b"1;2;3\n4;nan;6\n", "beats.csv", "beats.csv line 2, column 2: 'nan' is not a finite number"),
    (b"1 2 inf\n", "b.txt", "b.txt line 1, column 3: 'inf' is not a finite number"),
    (b"1,2,3\n4,,6\n", "beats.csv", "beats.csv line 2, column 2: empty value"),
    (b"1\t2\t1_000\n", "b.tsv", "b.tsv line 1, column 3: '1_000' is not a number"),
    (b"1,2,x\n4,5,6\n", "beats.csv", "beats.csv line 1, column 3: 'x' is not a number"),  # not a header
    (b"", "beats.csv", "beats.csv: empty file: no beats found"),
    (b"\n  \r\n", None, "input: empty file: no beats found"),
    (b"time,value\n", "beats.csv", "beats.csv: only a header line, no beats found"),
    (b"\xff\xfe\x00\xd8", "beats.csv", "beats.csv: file is not UTF-8 text"),
    (b"1,2,\xe9\n", "beats.csv", "beats.csv: file is not UTF-8 text"),
    (b"[1, 2,", "beats.json", "beats.json: not valid JSON (line 1, column 7)"),
    (b"[[1, 2],\n [3, 4]]]", "beats.json", "beats.json: not valid JSON (line 2, column 9)"),
    (b"1,2,3", "beats.json", "beats.json: not valid JSON (line 1, column 2)"),
    (b"[1, 2,\n  NaN]", "beats.json", "beats.json line 2, column 3: 'NaN' is not a finite number"),
    (b"[1, -Infinity]", "beats.json", "beats.json line 1, column 5: '-Infinity' is not a finite number"),
    (b"[1, 1e999]", "beats.json", "beats.json line 1, column 5: '1e999' is not a finite number"),
    (b"[]", "beats.json", "beats.json: empty array: no beats found"),
    (b'{"beats": [1, 2]}', "beats.json", "beats.json: expected a JSON array of numbers"),
    (b"42", "beats.json", "beats.json: expected a JSON array of numbers"),
    (b'[1, "2"]', "beats.json", 'beats.json, value 2: "2" is not a number'),
    (b"[[1, 2], [3, true]]", "beats.json", "beats.json: beat 2, value 2: true is not a number"),
    (b"[[1, 2], [3, [4]]]", "beats.json", "beats.json: beat 2, value 2: [4] is not a number"),
    (b"[[1, 2], 3]", "beats.json", "beats.json: beat 2: is not an array"),
    (b"[[1, 2], []]", "beats.json", "beats.json: beat 2: is an empty array"),
])
def test_errors_say_what_and_where(data: bytes, name: str | None, message: str) -> None:
    with pytest.raises(BeatFileError) as err:
        read_beats(data, name=name)
    assert str(err.value).startswith(message), str(err.value)
    assert "\n" not in str(err.value)
    assert isinstance(err.value, ValueError)


def test_file_level_errors_say_what_is_accepted() -> None:
    for data in (b"", b"\xff\xfe\x00\xd8"):
        with pytest.raises(BeatFileError, match="accepted: CSV"):
            read_beats(data, name="x.csv")


def test_limits_refuse_too_large_inputs(tmp_path: Path) -> None:
    data = text(BEATS, ",").encode()
    with pytest.raises(BeatFileError, match=r"x.csv: more than 2 beats; at most 2 are accepted"):
        read_beats(data, name="x.csv", max_beats=2)
    with pytest.raises(BeatFileError, match=r"x.json: 3 beats; at most 2 are accepted"):
        read_beats(json.dumps(BEATS).encode(), name="x.json", max_beats=2)
    with pytest.raises(BeatFileError, match=rf"x.csv: {len(data)} bytes is more than the 10 bytes accepted"):
        read_beats(data, name="x.csv", max_bytes=10)
    path = tmp_path / "big.csv"
    path.write_bytes(b"1,2,3\n" * 50_000)
    with pytest.raises(BeatFileError, match=r"big.csv: 0.3 MB is more than the 0.2 MB accepted"):
        read_beats(path, max_bytes=200_000)


def test_missing_path_and_folder(tmp_path: Path) -> None:
    with pytest.raises(BeatFileError, match="no such file"):
        read_beats(tmp_path / "absent.csv")
    with pytest.raises(BeatFileError, match="is a folder"):
        read_beats(tmp_path)


def test_labelled_errors() -> None:
    with pytest.raises(BeatFileError, match=r"x.tsv line 2: label 1.5 is not a whole number"):
        read_labelled(b"1\t2\t3\n1.5\t2\t3\n", name="x.tsv")
    with pytest.raises(BeatFileError, match=r"x.tsv line 1: a label but no values"):
        read_labelled(b"1\n", name="x.tsv")
    with pytest.raises(BeatFileError, match=r"x.tsv line 1, column 1: 'abc' is not a number"):
        read_labelled(b"abc\t1\t2\t3\n2\t1\t2\t3\n", name="x.tsv")


@pytest.mark.parametrize("label", ["1e20", "-1e20", "1e300", "9007199254740994"])
def test_labelled_huge_label_is_a_beat_file_error(label: str) -> None:
    with pytest.raises(BeatFileError, match=r"x.csv line 2: label .* is too large"):
        read_labelled(f"1,0.5,0.25\n{label},1,2\n".encode(), name="x.csv")
    with pytest.raises(BeatFileError, match=r"x.json: beat 1: label .* is too large"):
        read_labelled(f"[[{label}, 1, 2]]".encode(), name="x.json")
    beats, labels = read_labelled(b"9007199254740992,1,2\n", name="x.csv")  # 2**53: still exact, accepted
    assert labels.tolist() == [2**53] and beats[0].tolist() == [1.0, 2.0]


@pytest.mark.parametrize("data, name, message", [
    (b"[" * 5000 + b"]" * 5000, "deep.json", "deep.json: JSON nested too deeply; expected a JSON array of numbers"),
    (b"[[1, " + b"7" * 5000 + b"]]", "big.json",
     "big.json line 1, column 6: '" + "7" * 40 + "…' is not a finite number"),
    (b"[1, -" + b"7" * 5000 + b"]", "big.json", "big.json line 1, column 5: '-" + "7" * 39 + "…' is not a finite"),
    (b"1,2," + b"7" * 5000 + b"\n", "big.csv", "big.csv line 1, column 3: '" + "7" * 40 + "…' is not a finite"),
])
def test_deep_json_and_huge_numbers_are_refused_briefly(data: bytes, name: str, message: str) -> None:
    """JSON 5,000 deep hit Python's recursion limit, a 5,000-digit integer its int-from-text limit:
    both were server errors; the messages show at most 40 characters of the number."""
    with pytest.raises(BeatFileError) as err:
        read_beats(data, name=name)
    assert str(err.value).startswith(message), str(err.value)
    assert len(str(err.value)) < 200


def test_long_json_integers_that_fit_are_numbers() -> None:
    assert read_beats(b"[[1, 20000000000000000000000, 3]]", name="x.json")[0][1] == 2e22


# ------------------------------------------------------------------ labels as the file names them


def test_named_labels_are_kept_as_written_and_numbers_in_their_plainest_form() -> None:
    body = "label,v1,v2,v3\nN,1,2,3\n\"V\",4,5,6\n 7 ;x\n1.0000000e+00,1,2,3\n-1,3,4,5\n2.5,1,1,1\n"
    beats, labels = read_named(body.replace(" 7 ;x\n", "").encode(), name="x.csv")
    assert labels == ["N", "V", "1", "-1", "2.5"]
    assert as_lists(beats) == [[1, 2, 3], [4, 5, 6], [1, 2, 3], [3, 4, 5], [1, 1, 1]]
    beats, labels = read_named(b"S\t0.5\t0.25\nN\t1\t2\n", name="x.tsv")
    assert labels == ["S", "N"] and as_lists(beats) == [[0.5, 0.25], [1.0, 2.0]]
    beats, labels = read_named(b'[["N", 1, 2], [2, 3, 4], [2.0, 5, 6]]', name="x.json")
    assert labels == ["N", "2", "2"] and as_lists(beats) == [[1, 2], [3, 4], [5, 6]]


@pytest.mark.parametrize(("body", "name", "message"), [
    (b"N,1,2\n,1,2\n", "x.csv", r"x.csv line 2: empty label"),
    (b"N\n", "x.tsv", r"x.tsv line 1: a label but no values"),
    (b"N,1,abc\n", "x.csv", r"x.csv line 1, column 3: 'abc' is not a number"),
    (("A" * 41 + ",1,2\n").encode(), "x.csv", r"x.csv line 1: label .* is not a short printable name"),
    (b'[[null, 1, 2]]', "x.json", r"x.json: beat 1: label null is not a text or a number"),
    (b'[["N", 1, "a"]]', "x.json", r"x.json: beat 1, value 3: \"a\" is not a number"),
])
def test_named_label_errors_say_where(body: bytes, name: str, message: str) -> None:
    with pytest.raises(BeatFileError, match=message):
        read_named(body, name=name)
