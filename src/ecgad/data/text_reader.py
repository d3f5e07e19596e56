"""CSV/TSV recordings: one column per lead, an optional header row and time column."""
from __future__ import annotations

import csv
import math
import re
import warnings
from pathlib import Path

import numpy as np

from .signal import (
    _TO_MV,
    MAX_LEADS,
    MAX_LINE,
    RecordingError,
    Signal,
    _binary_reason,
    _check_length,
    _check_rate,
    _clean_name,
    _finish,
    choose_lead,
    other_lead,
    other_lead_indices,
    shown,
)

_CHUNK = 1 << 20                    # bytes read at a time when checking a text file
_TIME = re.compile(
    r"(elapsed[\s_]*)?(time|t|sec|secs|seconds|s|ms|msec|milliseconds|timestamp)"
    r"([\s_]*[(\[]?\s*(s|sec|seconds|ms|msec|milliseconds)\s*[)\]]?)?")
_UNIT = re.compile(r"^(.*?)[\s_]*[(\[]\s*([^()\[\]]+?)\s*[)\]]$")


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _time_scale(name: str) -> float | None:
    """Seconds per unit when ``name`` names a time column, else None."""
    key = name.strip().lower()
    if not _TIME.fullmatch(key):
        return None
    return 1e-3 if re.search(r"ms|msec|milli", key) else 1.0


def _split_unit(name: str) -> tuple[str, float]:
    """'II (uV)' -> ('II', 0.001); names without a voltage unit are taken as mV."""
    m = _UNIT.match(name.strip())
    if m and m.group(2).strip().lower().replace(" ", "") in _TO_MV:
        return m.group(1).strip() or name.strip(), _TO_MV[m.group(2).strip().lower().replace(" ", "")]
    return name.strip(), 1.0


def _delimiter(line: str, kind: str) -> str | None:
    if "\t" in line:
        return "\t"
    if kind == "csv":
        for d in (",", ";"):
            if d in line:
                return d
        return ","
    return None  # whitespace


def _lines(path: Path):
    """(line number, text) of every non-blank, non-comment line."""
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
        for number, line in enumerate(f, start=1):
            text = line.strip()
            if text and not text.startswith("#"):
                yield number, line.rstrip("\r\n")


def _split(line: str, delimiter: str | None) -> list[str]:
    if delimiter is None:
        return line.split()
    return [cell.strip() for cell in next(csv.reader([line], delimiter=delimiter))]


def _first_bad_cell(path: Path, delimiter: str | None, skip_header: bool, width: int) -> str | None:
    """'line L, column C: ...' for the first cell that is not a finite number."""
    rows = _lines(path)
    if skip_header:
        next(rows, None)
    for number, line in rows:
        cells = _split(line, delimiter)
        if len(cells) != width:
            return f"line {number}: {len(cells)} columns where the first row has {width}"
        for column, cell in enumerate(cells, start=1):
            if cell == "":
                return f"line {number}, column {column}: empty cell"
            try:
                value = float(cell)
            except ValueError:
                return f"line {number}, column {column}: {shown(cell)} is not a number"
            if not math.isfinite(value):
                return f"line {number}, column {column}: {shown(cell)} is not a finite number"
    return None


def _scan_text(path: Path, source: str) -> int:
    """Check, a megabyte at a time, that ``path`` is text whose lines are at most ``MAX_LINE``
    characters long (numpy's parser takes gigabytes for one line of millions of columns); its
    number of lines."""
    lines, current = 0, 0  # line breaks so far; length of the line still open
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            reason = _binary_reason(chunk[:8192]) if lines == current == 0 else (
                "it holds NUL bytes" if b"\x00" in chunk else None)
            if reason:
                raise RecordingError(f"{source}: not a text file ({reason}); accepted: CSV or TSV text, "
                                     f"EDF/EDF+, or a WFDB record (.hea and .dat)")
            codes = np.frombuffer(chunk, dtype=np.uint8)
            breaks = np.flatnonzero((codes == 10) | (codes == 13))
            if breaks.size:
                gaps = np.diff(breaks, prepend=-1 - current) - 1
                longest, at = int(gaps.max()), int(np.argmax(gaps))
                current = len(chunk) - int(breaks[-1]) - 1
            else:
                longest, at, current = current + len(chunk), 0, current + len(chunk)
            if max(longest, current) > MAX_LINE:
                raise RecordingError(
                    f"{source}: line {lines + at + 1} is longer than {MAX_LINE // 1024} kB; a CSV/TSV recording "
                    f"has one row per sample and one column per lead (at most {MAX_LEADS} leads and a time column)")
            lines += int(breaks.size)
    return lines + (current > 0)


def _read_text(path: Path, kind: str, lead, fs, max_duration_s: float, all_leads: bool = False) -> Signal:
    source = str(path)
    n_lines = _scan_text(path, source)
    first = next(_lines(path), None)
    if first is None:
        raise RecordingError(f"{source} is empty: no samples")
    delimiter = _delimiter(first[1], kind)
    cells = _split(first[1], delimiter)
    has_header = not all(_is_number(c) for c in cells if c != "")
    width = len(cells)
    if width > MAX_LEADS + 1:
        raise RecordingError(f"{source} has {width} columns; at most {MAX_LEADS} leads and a time column are "
                             f"accepted (one row per sample, one column per lead)")
    names = cells if has_header else [f"lead {i + 1}" for i in range(width)]
    time_col = None
    time_scale = 1.0
    if has_header:
        for i, name in enumerate(names):
            scale = _time_scale(name)
            if scale is not None:
                time_col, time_scale = i, scale
                break
    lead_cols = [i for i in range(width) if i != time_col]
    if not lead_cols:
        raise RecordingError(f"{source} holds only a time column, no signal")
    split = [_split_unit(names[i]) for i in lead_cols]
    lead_names = [_clean_name(name, i) for i, (name, _) in enumerate(split)]
    if fs is not None:
        rate = float(fs)
        if not math.isfinite(rate) or rate <= 0:
            raise RecordingError(f"fs must be a positive number of Hz, got {shown(fs)}")
        _check_rate(rate, source)
        _check_length(n_lines - has_header, rate, max_duration_s, source)
    elif time_col is None:
        raise RecordingError(
            f"{source}: no sampling rate: give fs (the sampling rate in Hz) or add a time column to the header "
            f"(named time, t, seconds, s or ms)")
    index = choose_lead(lead_names, lead, source)
    others = other_lead_indices(len(lead_cols), index, n_lines) if all_leads else []
    columns = [lead_cols[index]] + ([time_col] if fs is None else []) + [lead_cols[i] for i in others]
    # only these columns are kept in memory
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # 'input contained no data': said below
            data = np.loadtxt(path, delimiter=delimiter, skiprows=first[0] if has_header else 0, usecols=columns,
                              comments="#", ndmin=2, encoding="utf-8-sig", quotechar='"', dtype=np.float64)
        if data.size == 0:
            raise RecordingError(f"{source}: no samples (only a header row)")
        if not np.isfinite(data).all():
            raise ValueError
    except ValueError as e:  # a word, an empty cell, a ragged row, nan/inf: rescan to say where
        if isinstance(e, RecordingError):
            raise
        where = _first_bad_cell(path, delimiter, has_header, width) or "unreadable content"
        raise RecordingError(f"{source} {where}; expected numbers only"
                             f"{' after one header row' if has_header else ''}") from None
    if fs is None:
        rate = _rate_from_time(data[:, 1] * time_scale, source, names[time_col])
    samples = data[:, 0] * split[index][1]
    first_other = 1 + (fs is None)
    kept = [(lead_names[i], other_lead(data[:, first_other + k] * split[i][1], "mV")) for k, i in enumerate(others)]
    return _finish(samples, rate, lead_names[index], lead_names, source, max_duration_s, None, kept)


def _rate_from_time(t: np.ndarray, source: str, column: str) -> float:
    """Sampling rate from a time column (seconds), checking the steps are regular.

    The rate comes from the whole span ((n - 1) / (t_last - t_first)), which is
    exact where timestamps are rounded (360 Hz written in whole milliseconds has
    steps of 2 and 3 ms, whose median would say 333 Hz); every timestamp must lie
    within half a step of the regular grid.
    """
    if t.size < 2:
        raise RecordingError(f"{source}: one sample is not enough to tell the sampling rate from {shown(column)}")
    steps = np.diff(t)
    if np.any(steps <= 0):
        i = int(np.flatnonzero(steps <= 0)[0])
        raise RecordingError(f"{source}: the time column {shown(column)} does not increase at sample {i + 2} "
                             f"({t[i]:g} then {t[i + 1]:g})")
    step = (t[-1] - t[0]) / (t.size - 1)
    drift = np.abs(t - (t[0] + step * np.arange(t.size)))
    if drift.max() > 0.5 * step:
        i = int(np.argmax(drift))
        raise RecordingError(
            f"{source}: the time column {shown(column)} is not regular (sample {i + 1} at {t[i]:g} s is "
            f"{drift[i] / step:.1f} steps off a {1 / step:g} Hz grid: gaps or jitter); "
            f"resample it, or give fs to ignore the time column")
    return float(1.0 / step)
