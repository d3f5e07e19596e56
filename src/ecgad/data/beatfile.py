"""Read beats a user wants scored from a text file or an upload.

Accepted: CSV (``,`` or ``;``), TSV or whitespace-separated text, one beat per
row (rows may differ in length), an optional header line; or JSON, a flat array
of numbers (one beat) or an array of arrays (one per beat). Only parsing is done
here; ``ecgad.data.beats.prepare`` checks lengths and shapes.
"""
from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

import numpy as np

from .readers import shown

ACCEPTED = (
    "accepted: CSV (',' or ';'), TSV or whitespace-separated numbers, one beat per row, "
    "or JSON (an array of numbers, or an array of arrays)"
)
_LABEL_MAX = 2.0**53  # every whole float up to here is exact, and it fits an int64
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_JSON_CONSTANT = re.compile(r"-?(?:NaN|Infinity)")

Source = str | os.PathLike[str] | bytes


class BeatFileError(ValueError):
    """A beat file that cannot be read; the message says what, where and what is accepted."""


# ------------------------------------------------------------------ bytes -> text


def _read_bytes(source: Source, name: str | None, max_bytes: int | None) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data, label = bytes(source), name or "input"
    else:
        path = Path(source)
        label = name or path.name
        try:
            size = path.stat().st_size
            if max_bytes is not None and size > max_bytes:  # refuse before reading it all
                raise BeatFileError(f"{label}: {_size(size)} is more than the {_size(max_bytes)} accepted")
            data = path.read_bytes()
        except FileNotFoundError:
            raise BeatFileError(f"{path}: no such file") from None
        except IsADirectoryError:
            raise BeatFileError(f"{path}: is a folder, not a file") from None
        except PermissionError:
            raise BeatFileError(f"{path}: permission denied") from None
    if max_bytes is not None and len(data) > max_bytes:
        raise BeatFileError(f"{label}: {_size(len(data))} is more than the {_size(max_bytes)} accepted")
    return data, label


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n} bytes"


def _decode(data: bytes, label: str) -> str:
    # Spreadsheet "Unicode text" exports are UTF-16 with a BOM; everything else must be UTF-8.
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"  # drops a UTF-8 BOM
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as e:
        raise BeatFileError(
            f"{label}: file is not UTF-8 text (byte {e.start}); {ACCEPTED}"
        ) from None


# ------------------------------------------------------------------ text -> rows


def _number(token: str, where: str) -> float:
    """A finite float from a cell, with a message naming the cell otherwise."""
    text = token.strip()
    if not text:
        raise BeatFileError(f"{where}: empty value")
    try:
        if "_" in text:  # float() accepts '1_000'; a data file should not
            raise ValueError
        value = float(text)
    except ValueError:
        raise BeatFileError(f"{where}: {shown(text)} is not a number") from None
    if not math.isfinite(value):
        raise BeatFileError(f"{where}: {shown(text)} is not a finite number")
    return value


def _looks_numeric(token: str) -> bool:
    try:
        float(token)  # 'nan' counts: a data row holding one gets its own message
        return True
    except ValueError:
        return False


def _is_header(cells: list[str]) -> bool:
    # Mostly words: a header. Mostly numbers with a typo is a data row, reported rather than
    # silently dropped (a strict "not all numbers" rule would lose that beat without a word).
    return sum(map(_looks_numeric, cells)) * 2 < len(cells)


def _delimiter(line: str) -> str | None:
    for delimiter in (";", ",", "\t"):
        if delimiter in line:
            return delimiter
    return None  # any run of whitespace


def _cells(line: str, delimiter: str | None) -> list[str]:
    if delimiter is None:
        return line.split()
    cells = line.split(delimiter)
    while cells and not cells[-1].strip():  # spreadsheets pad short rows with empty cells
        cells.pop()
    if delimiter == ";":  # ';' files often come from locales that write 1,5 for 1.5
        cells = [c.replace(",", ".") if "." not in c else c for c in cells]
    return cells


LABEL_MAX_LENGTH = 40
_WHOLE = re.compile(r"[+-]?\d+")


def _label_name(cell: str, where: str) -> str:
    """A label as people name it: text as written (quotes and spaces trimmed), a number in its
    plainest form ('1.0000000e+00' in older UCR files is '1'), so that equal labels compare equal."""
    text = cell.strip().strip("'\"").strip()
    if not text:
        raise BeatFileError(f"{where}: empty label (the first column holds each beat's label)")
    if len(text) > LABEL_MAX_LENGTH or not text.isprintable():
        raise BeatFileError(f"{where}: label {text[:LABEL_MAX_LENGTH]!r}... is not a short printable name; "
                            f"labels are class names such as N, V or 1 (at most {LABEL_MAX_LENGTH} characters)")
    if _WHOLE.fullmatch(text):
        return str(int(text))
    try:
        value = float(text)
    except ValueError:
        return text
    if not math.isfinite(value):
        return text
    return str(int(value)) if value.is_integer() and abs(value) <= _LABEL_MAX else f"{value:g}"


# A row is (where it came from, for messages; its label as written, when asked for; its numbers).
Row = tuple[str, str | None, list[float]]


def _text_rows(text: str, label: str, max_rows: int | None, named: bool = False) -> list[Row]:
    lines = [(n, line) for n, line in enumerate(_LINE_BREAK.split(text), start=1) if line.strip()]
    if not lines:
        raise BeatFileError(f"{label}: empty file: no beats found; {ACCEPTED}")
    # The delimiter comes from the first data row: line 2 when line 1 may be a header.
    delimiter = _delimiter(lines[min(1, len(lines) - 1)][1])
    head = _cells(lines[0][1], delimiter)
    if _is_header(head[1:] if named else head):  # a text label is no sign of a header
        lines = lines[1:]
        if not lines:
            raise BeatFileError(f"{label}: only a header line, no beats found; {ACCEPTED}")
    rows: list[Row] = []
    first = 2 if named else 1  # the column numbers of the values, for messages
    for number, line in lines:
        if max_rows is not None and len(rows) >= max_rows:
            raise BeatFileError(f"{label}: more than {max_rows} beats; at most {max_rows} are accepted")
        where = f"{label} line {number}"
        cells = _cells(line, delimiter)
        name = _label_name(cells[0], where) if named else None
        rows.append((where, name, [
            _number(cell, f"{where}, column {column}")
            for column, cell in enumerate(cells[first - 1:], start=first)
        ]))
    return rows


class _NonFinite(Exception):
    def __init__(self, text: str) -> None:
        self.text = text


def _json_rows(text: str, label: str, max_rows: int | None, named: bool = False) -> list[Row]:
    def constant(token: str) -> float:
        raise _NonFinite(token)

    def finite_float(token: str) -> float:
        value = float(token)
        if not math.isfinite(value):  # 1e999 overflows to infinity
            raise _NonFinite(token)
        return value

    shape = "a JSON array of numbers (one beat) or an array of arrays of numbers (one per beat)"
    def whole(token: str) -> int | float:  # a 5,000-digit int would exceed Python's int-from-text limit
        return int(token) if len(token) <= 20 else finite_float(token)

    try:
        data = json.loads(text, parse_constant=constant, parse_float=finite_float, parse_int=whole)
    except json.JSONDecodeError as e:
        raise BeatFileError(f"{label}: not valid JSON (line {e.lineno}, column {e.colno})") from None
    except RecursionError:
        raise BeatFileError(f"{label}: JSON nested too deeply; expected {shape}") from None
    except _NonFinite as e:
        pattern = _JSON_CONSTANT if _JSON_CONSTANT.fullmatch(e.text) else re.compile(re.escape(e.text))
        found = pattern.search(text)
        start = found.start() if found else 0
        line = text.count("\n", 0, start) + 1
        column = start - (text.rfind("\n", 0, start) + 1) + 1
        raise BeatFileError(
            f"{label} line {line}, column {column}: {shown(e.text)} is not a finite number"
        ) from None

    if not isinstance(data, list):
        kind = "object" if isinstance(data, dict) else "single value"
        raise BeatFileError(f"{label}: expected {shape}, found a JSON {kind}")
    if not data:
        raise BeatFileError(f"{label}: empty array: no beats found")
    nested = isinstance(data[0], list)
    beats = data if nested else [data]
    if max_rows is not None and len(beats) > max_rows:
        raise BeatFileError(f"{label}: {len(beats)} beats; at most {max_rows} are accepted")
    rows: list[Row] = []
    for b, beat in enumerate(beats, start=1):
        where = f"{label}: beat {b}" if nested else label
        if not isinstance(beat, list):
            raise BeatFileError(f"{where}: is not an array; expected {shape}")
        if not beat:
            raise BeatFileError(f"{where}: is an empty array")
        name = None
        if named:
            head = beat[0]
            if isinstance(head, bool) or not isinstance(head, (str, int, float)):
                raise BeatFileError(f"{where}: label {json.dumps(head)[:40]} is not a text or a number")
            name = _label_name(head if isinstance(head, str) else json.dumps(head), where)
            beat = beat[1:]
        for v, value in enumerate(beat, start=1 + named):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise BeatFileError(f"{where}, value {v}: {json.dumps(value)[:40]} is not a number")
        rows.append((where, name, [float(value) for value in beat]))
    return rows


def _rows(source: Source, name: str | None, max_beats: int | None, max_bytes: int | None,
          named: bool = False) -> list[Row]:
    data, label = _read_bytes(source, name, max_bytes)
    text = _decode(data, label)
    if label.lower().endswith(".json") or text.lstrip().startswith(("[", "{")):
        return _json_rows(text, label, max_beats, named)
    return _text_rows(text, label, max_beats, named)


# ------------------------------------------------------------------ public


def read_beats(
    source: Source,
    name: str | None = None,
    *,
    max_beats: int | None = None,
    max_bytes: int | None = None,
) -> list[np.ndarray]:
    """Beats (1-D float64 arrays, any lengths) from a path or the bytes of an upload.

    ``name`` is the file name used in messages (uploads). ``max_beats`` and
    ``max_bytes`` refuse larger inputs. Raises ``BeatFileError``.
    """
    return [np.asarray(row, dtype=np.float64) for _, _, row in _rows(source, name, max_beats, max_bytes)]


def read_labelled(
    source: Source,
    name: str | None = None,
    *,
    max_beats: int | None = None,
    max_bytes: int | None = None,
) -> tuple[list[np.ndarray], np.ndarray]:
    """(beats, labels) from a file whose first column is a whole-number label (UCR style)."""
    rows = _rows(source, name, max_beats, max_bytes)
    beats: list[np.ndarray] = []
    labels = np.empty(len(rows), dtype=np.int64)
    for i, (where, _, row) in enumerate(rows):
        if not row[0].is_integer():
            raise BeatFileError(f"{where}: label {row[0]:g} is not a whole number")
        if not -_LABEL_MAX <= row[0] <= _LABEL_MAX:  # int64 would overflow
            raise BeatFileError(f"{where}: label {row[0]:g} is too large; labels are class numbers such as 1 to 5")
        if len(row) < 2:
            raise BeatFileError(f"{where}: a label but no values")
        labels[i] = int(row[0])
        beats.append(np.asarray(row[1:], dtype=np.float64))
    return beats, labels


def read_named(
    source: Source,
    name: str | None = None,
    *,
    max_beats: int | None = None,
    max_bytes: int | None = None,
) -> tuple[list[np.ndarray], list[str]]:
    """(beats, labels) from a file whose first column is each beat's label, kept as the file
    names it: text ('N', 'V') or numbers ('1', '-1'; see ``_label_name``). JSON rows may start
    with a string or a number."""
    rows = _rows(source, name, max_beats, max_bytes, named=True)
    for where, _, row in rows:
        if not row:
            raise BeatFileError(f"{where}: a label but no values")
    return [np.asarray(row, dtype=np.float64) for _, _, row in rows], [label for _, label, _ in rows]
