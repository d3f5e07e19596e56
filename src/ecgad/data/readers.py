"""Read one lead of an ECG recording: WFDB, EDF/EDF+ or CSV/TSV, in millivolts.

    signal = read_recording("mitdb/101")            # WFDB record (also 101.hea or 101.dat)
    signal = read_recording("holter.edf", lead="II")
    signal = read_recording("export.csv")           # with a time column
    signal = read_recording("trace.tsv", fs=250)    # samples only

Whatever is wrong with a file raises ``RecordingError`` (a ``ValueError``) with a
message that names the file and says what is accepted.

Sizes are checked before anything is decoded, so that memory stays in proportion
to the file: sampling rates from ``MIN_FS`` to ``MAX_FS``, at most ``max_duration_s``
(24 hours by default), at most ``MAX_LEADS`` leads, CSV/TSV lines of at most
``MAX_LINE`` characters, WFDB headers of at most ``MAX_HEADER_BYTES``, and WFDB
signal files as long as their header says, in a storage format whose bytes per
sample are known (FLAC-compressed formats are refused: their size tells nothing).

Leads are chosen by name, case-insensitively, with the limb lead II spelled
``II``, ``ii``, ``MLII`` (modified lead II, as in MIT-BIH), ``ECG II`` or
``lead II`` alike; or by index (an ``int``, or a string of digits that names no
lead). Default: lead II when there is one, else the first lead.
"""
from __future__ import annotations

import csv
import math
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import formats as _formats

MIN_FS, MAX_FS = 100.0, 20_000.0  # Hz: QRS complexes need 100; the web form accepts the same range
MAX_DURATION_S = 24 * 3600.0        # a day-long Holter recording
MAX_LEADS = 256                     # leads of one recording (CSV columns besides time, WFDB or EDF signals)
MAX_LINE = 64 * 1024                # characters in one CSV/TSV line
MAX_HEADER_BYTES = 256 * 1024       # a WFDB header (a 15-lead PTB header is 1.5 kB)
_CHUNK = 1 << 20                    # bytes read at a time when checking a text file
# from the one table of formats (formats.py)
FORMATS = tuple(f.name for f in _formats.FORMATS)
WFDB_EXTENSIONS = _formats.WFDB.extensions
EDF_EXTENSIONS = _formats.EDF.extensions
TEXT_EXTENSIONS = {ext: f.name for f in (_formats.CSV, _formats.TSV) for ext in f.extensions}

# physical units accepted for a lead, as a factor to millivolts
_TO_MV = {"mv": 1.0, "millivolt": 1.0, "millivolts": 1.0, "uv": 1e-3, "µv": 1e-3, "μv": 1e-3,
          "microvolt": 1e-3, "microvolts": 1e-3, "nv": 1e-6, "v": 1e3, "volt": 1e3, "volts": 1e3}

# WFDB storage formats: bytes per sample (FLAC-compressed 5xx formats cannot be sized: refused)
_WFDB_BYTES = {"8": 1.0, "16": 2.0, "24": 3.0, "32": 4.0, "61": 2.0, "80": 1.0, "160": 2.0,
               "212": 1.5, "310": 4 / 3, "311": 4 / 3}


class RecordingError(ValueError):
    """A recording that cannot be read as asked; the message says what was wrong."""


def shown(text: object, limit: int = 40) -> str:
    """``text`` quoted for a message: printable characters only, at most ``limit`` of them."""
    clean = "".join(ch if ch.isprintable() else "\ufffd" for ch in str(text))
    return repr(clean if len(clean) <= limit else clean[:limit] + "…")


def _clean_name(name: object, index: int) -> str:
    """A lead name as files give it, without control characters (NUL...), at most 64 characters."""
    clean = "".join(ch for ch in str(name) if ch.isprintable()).strip()[:64]
    return clean or f"lead {index + 1}"


@dataclass(frozen=True)
class Signal:
    """One lead of a recording, in millivolts."""

    samples: np.ndarray        # (n,) float32, mV
    fs: float                  # sampling rate, Hz
    lead: str                  # the lead read
    leads: tuple[str, ...]     # every lead the recording holds
    source: str                # the file (or WFDB record) it came from

    def __post_init__(self) -> None:
        samples = np.asarray(self.samples, dtype=np.float32)
        if samples.ndim != 1:
            raise ValueError(f"Signal samples must be 1-D, got shape {samples.shape}")
        object.__setattr__(self, "samples", samples)
        object.__setattr__(self, "fs", float(self.fs))
        object.__setattr__(self, "leads", tuple(self.leads))

    def __len__(self) -> int:
        return int(self.samples.size)

    @property
    def duration_s(self) -> float:
        return self.samples.size / self.fs


# ------------------------------------------------------------------ shared checks


def _lead_key(name: str) -> str:
    """Comparable form of a lead name: 'MLII', 'II', 'ECG II', 'lead ii' -> 'ii'."""
    key = re.sub(r"[\s_\-.:]+", " ", str(name).strip().lower())
    key = re.sub(r"^(ecg|ekg)\s*", "", key)
    key = re.sub(r"^lead\s*", "", key).replace(" ", "")
    return "ii" if key in ("mlii", "ml2") else key


def _units_to_mv(units: str | None, what: str) -> float:
    unit = (units or "mV").strip().lower().replace(" ", "")
    if unit in ("", "nu"):  # no unit given: WFDB's default is millivolts
        return 1.0
    if unit not in _TO_MV:
        raise RecordingError(f"{what} is in {shown(units)}, not a voltage; accepted units: V, mV, uV (µV)")
    return _TO_MV[unit]


def choose_lead(leads: list[str] | tuple[str, ...], lead: str | int | None, source: str) -> int:
    """Index of the lead asked for (see the module docstring); ``RecordingError`` listing them if absent."""
    names = [str(name) for name in leads]
    available = ", ".join(shown(n) for n in names[:20]) or "none"
    if len(names) > 20:
        available += f"… ({len(names)} leads)"
    if not names:
        raise RecordingError(f"{source} holds no signals")
    if lead is None:
        for i, name in enumerate(names):
            if _lead_key(name) == "ii":
                return i
        return 0
    if isinstance(lead, (int, np.integer)) and not isinstance(lead, bool):
        if 0 <= int(lead) < len(names):
            return int(lead)
        raise RecordingError(f"{source}: lead index {lead} out of range; "
                             f"it has {len(names)} lead{'s' if len(names) != 1 else ''} "
                             f"(0 to {len(names) - 1}): {available}")
    wanted = str(lead)
    for i, name in enumerate(names):  # exact spelling first, then equivalent names
        if name.strip().lower() == wanted.strip().lower():
            return i
    for i, name in enumerate(names):
        if _lead_key(name) == _lead_key(wanted):
            return i
    if wanted.strip().isascii() and wanted.strip().isdigit() and int(wanted) < len(names):  # not '²'
        return int(wanted)
    raise RecordingError(f"{source}: no lead {shown(wanted)}; available: {available}")


def _check_rate(fs: float, source: str) -> None:
    if not math.isfinite(fs) or fs < MIN_FS:
        raise RecordingError(f"{source}: sampling rate {fs:g} Hz is below {MIN_FS:g} Hz; "
                             f"QRS complexes need at least {MIN_FS:g} Hz")
    if fs > MAX_FS:
        raise RecordingError(f"{source}: sampling rate {fs:g} Hz is above the {MAX_FS:g} Hz accepted; "
                             f"accepted: {MIN_FS:g} to {MAX_FS:g} Hz")


def _check_length(n_samples: int, fs: float, max_duration_s: float, source: str) -> None:
    """Refuse, before reading, a recording longer than ``max_duration_s`` at ``fs``."""
    if n_samples / fs > max_duration_s:
        raise RecordingError(f"{source}: {n_samples} samples at {fs:g} Hz last {_duration(n_samples / fs)}; "
                             f"at most {_duration(max_duration_s)} are accepted: split the recording")


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.3g} hours"
    return f"{seconds / 60:.3g} minutes" if seconds >= 60 else f"{seconds:.3g} s"


def _finish(samples: np.ndarray, fs: float, lead: str, leads, source: str, max_duration_s: float) -> Signal:
    """Check rate, length and content, patch short gaps, wrap as a Signal."""
    _check_rate(fs, source)
    _check_length(np.size(samples), fs, max_duration_s, source)
    x = np.asarray(samples, dtype=np.float32).reshape(-1)
    if x.size == 0:
        raise RecordingError(f"{source}: lead {shown(lead)} is empty (no samples)")
    bad = ~np.isfinite(x)
    if bad.all():
        raise RecordingError(f"{source}: lead {shown(lead)} is empty (every sample is missing)")
    if bad.any():  # invalid samples (WFDB's 'no value', lost packets): interpolate across them
        idx = np.arange(x.size)
        x[bad] = np.interp(idx[bad], idx[~bad], x[~bad]).astype(np.float32)
    if float(np.max(x)) - float(np.min(x)) < 1e-6:
        raise RecordingError(f"{source}: lead {shown(lead)} is flat (constant {float(x[0]):g} mV): "
                             f"no ECG on it; choose another lead")
    return Signal(x, fs, str(lead), tuple(str(n) for n in leads), source)


def _check_fs(given: float | None, actual: float, source: str) -> None:
    if given is not None and abs(float(given) - actual) > 0.005 * actual:
        raise RecordingError(f"{source} says {actual:g} Hz but fs={given:g} was given; "
                             f"leave fs out for files that carry their sampling rate")


# ------------------------------------------------------------------ WFDB


def _record_base(path: Path) -> Path:
    """The record path without extension (``dir/101`` for 101, 101.hea or 101.dat)."""
    return path.with_suffix("") if path.suffix.lower() in WFDB_EXTENSIONS else path


def _binary_reason(data: bytes) -> str | None:
    """Why ``data`` (the start of a file) is not text, or None when it may be."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16 encoded: save it as UTF-8"
    if b"\x00" in data:
        return "it holds NUL bytes"
    controls = sum(data.count(bytes([c])) for c in (*range(1, 9), *range(14, 32)) if c != 27)
    if controls > max(8, len(data) // 100):  # text has tabs and line breaks, not other control codes
        return "it holds control characters"
    return None


def _check_wfdb_header_text(header: Path) -> None:
    """Refuse, before wfdb parses it (slowly: 30 s for 100,000 lines), a header too large, not text,
    or with more signals than ``MAX_LEADS``."""
    size = header.stat().st_size
    if size > MAX_HEADER_BYTES:
        raise RecordingError(f"{header}: a WFDB header of {size} bytes; at most {MAX_HEADER_BYTES // 1024} kB "
                             f"are accepted (one line per signal, at most {MAX_LEADS} signals)")
    data = header.read_bytes()
    reason = _binary_reason(data)
    if reason:
        raise RecordingError(f"{header}: not a WFDB header: not a text file ({reason})")
    lines = [line for line in data.splitlines() if line.strip() and not line.lstrip().startswith(b"#")]
    if len(lines) - 1 > MAX_LEADS:
        raise RecordingError(f"{header} describes {len(lines) - 1} signals; at most {MAX_LEADS} are accepted")


def _wfdb_header(base: Path):
    import wfdb

    header = base.with_name(base.name + ".hea")
    if not header.is_file():
        raise RecordingError(f"WFDB header {header} not found (a WFDB record needs RECORD.hea "
                             f"beside its signal files)")
    _check_wfdb_header_text(header)
    try:
        return wfdb.rdheader(str(base))
    except Exception as e:  # wfdb raises assorted types for a malformed header
        raise RecordingError(f"{header}: not a readable WFDB header ({shown(e, 100)})") from None


def wfdb_signal_files(path: str | os.PathLike[str]) -> list[str]:
    """The signal file names (``["101.dat"]``) that a WFDB record's header names; ``path`` as for
    ``read_recording``. Raises ``RecordingError`` for a missing or unreadable header."""
    return list(_wfdb_header(_record_base(Path(path).expanduser())).file_name or [])


def _check_wfdb_files(base: Path, hdr) -> None:
    """Every signal file named by the header exists, is stored in a format of known size, and is
    long enough for sig_len: then reading it takes memory in proportion to the file."""
    header = base.with_name(base.name + ".hea")
    if getattr(hdr, "n_seg", None):  # its segments' sizes would need their own headers read first
        raise RecordingError(f"{header}: multi-segment WFDB records are not accepted; join the segments "
                             f"into one record (one .hea with its .dat files)")
    files: dict[str, dict] = {}
    offsets = hdr.byte_offset or [None] * len(hdr.file_name or [])
    for i, name in enumerate(hdr.file_name or []):
        info = files.setdefault(name, {"per_frame": 0.0, "offset": 0})
        fmt = str(hdr.fmt[i])
        spf = (hdr.samps_per_frame[i] if hdr.samps_per_frame else 1) or 1
        if fmt not in _WFDB_BYTES and name != "~":
            kind = "FLAC-compressed format" if fmt.startswith("5") else "format"
            raise RecordingError(
                f"{header}: signal {i + 1} is stored in {kind} {shown(fmt, 8)}, whose size cannot be checked "
                f"before decoding; accepted formats: {', '.join(_WFDB_BYTES)} (rewrite the record in format "
                f"16, e.g. with wfdb.wrsamp)")
        info["per_frame"] += spf * _WFDB_BYTES.get(fmt, 0.0)
        info["offset"] = max(info["offset"], int(offsets[i] or 0))
    for name, info in files.items():
        if name == "~":  # no file: the signal is absent by design
            continue
        if Path(name).name != name or name in (".", ".."):  # a header must not point elsewhere
            raise RecordingError(f"{header} names a signal file outside its folder ({shown(name)}); "
                                 f"signal files must sit beside the header")
        target = base.parent / name
        if not target.is_file():
            raise RecordingError(f"signal file {target} named in {header} not found "
                                 f"(WFDB records need the .hea and its signal files together)")
        if not hdr.sig_len:
            continue
        need = info["offset"] + math.ceil(hdr.sig_len * info["per_frame"])
        have = target.stat().st_size
        if have < need:
            raise RecordingError(
                f"{target} holds {have} bytes but {header} describes {hdr.sig_len} samples per "
                f"signal, {need} bytes: the header does not match its data (truncated or wrong file?)")


def _read_wfdb(path: Path, lead, fs, max_duration_s: float) -> Signal:
    import wfdb

    base = _record_base(path)
    if path.suffix.lower() == ".dat" and not base.with_name(base.name + ".hea").is_file():
        raise RecordingError(f"{path} is a WFDB signal file without its header "
                             f"{base.with_name(base.name + '.hea')}: upload or place both together")
    hdr = _wfdb_header(base)
    source = str(base)
    if not hdr.fs:
        raise RecordingError(f"{source}.hea gives no sampling rate")
    rate = float(hdr.fs)
    _check_fs(fs, rate, source)
    _check_rate(rate, source)
    names = [_clean_name(name, i) for i, name in enumerate(hdr.sig_name or [])]
    index = choose_lead(names, lead, source)
    _check_wfdb_files(base, hdr)
    if not hdr.sig_len:
        raise RecordingError(f"{source}: lead {shown(names[index])} is empty (the header gives 0 samples)")
    _check_length(int(hdr.sig_len), rate, max_duration_s, source)
    try:
        record = wfdb.rdrecord(str(base), channels=[index], physical=True, return_res=32)
    except Exception as e:
        raise RecordingError(f"{source}: cannot read the signal data ({type(e).__name__}: {shown(e, 100)})") from None
    units = (record.units or [None])[0]
    factor = _units_to_mv(units, f"{source} lead {shown(names[index])}")
    samples = record.p_signal[:, 0]
    if factor != 1.0:
        samples = samples * np.float32(factor)
    return _finish(samples, rate, names[index], names, source, max_duration_s)


# ------------------------------------------------------------------ EDF


def _read_edf(path: Path, lead, fs, max_duration_s: float) -> Signal:
    import pyedflib

    source = str(path)
    try:
        reader = pyedflib.EdfReader(source)
    except Exception as e:  # pyedflib says OSError for anything from a bad header to a short file
        if "filesize" in str(e).lower():
            raise RecordingError(f"{source}: the header does not match its data (the file is not as long "
                                 f"as the header says: truncated?)") from None
        raise RecordingError(f"{source}: not a readable EDF/EDF+ file ({shown(e, 100)})") from None
    try:
        labels = reader.getSignalLabels()
        if len(labels) > MAX_LEADS:
            raise RecordingError(f"{source} holds {len(labels)} signals; at most {MAX_LEADS} are accepted")
        names = [_clean_name(label, i) for i, label in enumerate(labels)]
        index = choose_lead(names, lead, source)
        rate = float(reader.getSampleFrequency(index))
        _check_fs(fs, rate, source)
        _check_rate(rate, source)
        factor = _units_to_mv(reader.getPhysicalDimension(index), f"{source} lead {shown(names[index])}")
        n_samples = int(reader.getNSamples()[index])
        if n_samples == 0:
            raise RecordingError(f"{source}: lead {shown(names[index])} is empty (no samples)")
        _check_length(n_samples, rate, max_duration_s, source)
        samples = reader.readSignal(index).astype(np.float32)
    finally:
        reader.close()
    if factor != 1.0:
        samples = samples * np.float32(factor)
    return _finish(samples, rate, names[index], names, source, max_duration_s)


# ------------------------------------------------------------------ CSV / TSV

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


def _read_text(path: Path, kind: str, lead, fs, max_duration_s: float) -> Signal:
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
    columns = [lead_cols[index]] + ([time_col] if fs is None else [])  # only these are kept in memory
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
    return _finish(samples, rate, lead_names[index], lead_names, source, max_duration_s)


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


# ------------------------------------------------------------------ dispatch


def _kind(path: Path, format: str | None) -> str:
    if format is not None:
        kind = format.strip().lower().lstrip(".")
        kind = {"edf+": "edf", "bdf": "edf", "txt": "tsv", "hea": "wfdb", "dat": "wfdb"}.get(kind, kind)
        if kind not in FORMATS:
            raise RecordingError(f"unknown format {shown(format)}; known: {', '.join(FORMATS)}")
        return kind
    ext = path.suffix.lower()
    if ext in WFDB_EXTENSIONS:
        return "wfdb"
    if ext in EDF_EXTENSIONS:
        return "edf"
    if ext in TEXT_EXTENSIONS:
        return TEXT_EXTENSIONS[ext]
    if path.with_name(path.name + ".hea").is_file():
        return "wfdb"
    if not path.exists():
        raise RecordingError(f"{path} not found (nor a WFDB header {path.name}.hea beside it)")
    raise RecordingError(
        f"{path.name}: unknown recording format; accepted: a WFDB record (RECORD, RECORD.hea or "
        f"RECORD.dat), EDF/EDF+ (.edf), CSV (.csv) or TSV (.tsv, .txt)")


def read_recording(path: str | os.PathLike[str], *, lead: str | int | None = None,
                   fs: float | None = None, format: str | None = None,
                   max_duration_s: float = MAX_DURATION_S) -> Signal:
    """Read one lead of a recording as a ``Signal`` in mV.

    ``path``: a WFDB record (``dir/101``, ``dir/101.hea`` or ``dir/101.dat``),
    an EDF/EDF+ file, or a CSV/TSV file of one column per lead, with an optional
    header row; a header column named ``time``/``t``/``seconds``/``s`` (or ``ms``)
    gives the sampling rate, otherwise ``fs`` must. Lead units may be given in
    the header as ``II (uV)``; values are taken as mV otherwise. ``format``
    (wfdb, edf, csv, tsv) overrides the guess from the extension. Longer
    recordings than ``max_duration_s`` seconds are refused before they are read.
    """
    path = Path(path).expanduser()
    kind = _kind(path, format)
    if kind == "wfdb":
        return _read_wfdb(path, lead, fs, max_duration_s)
    if not path.is_file():
        raise RecordingError(f"{path} not found")
    if kind == "edf":
        return _read_edf(path, lead, fs, max_duration_s)
    return _read_text(path, kind, lead, fs, max_duration_s)
