"""Read one lead of an ECG recording: WFDB, EDF/EDF+ or CSV/TSV, in millivolts.

    signal = read_recording("mitdb/101")            # WFDB record (also 101.hea or 101.dat)
    signal = read_recording("holter.edf", lead="II")
    signal = read_recording("export.csv")           # with a time column
    signal = read_recording("trace.tsv", fs=250)    # samples only

Whatever is wrong with a file raises ``RecordingError`` (a ``ValueError``) with a
message that names the file and says what is accepted.

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

MIN_FS = 100.0
FORMATS = ("wfdb", "edf", "csv", "tsv")
WFDB_EXTENSIONS = (".hea", ".dat")
EDF_EXTENSIONS = (".edf", ".bdf", ".rec")
TEXT_EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".txt": "tsv"}

# physical units accepted for a lead, as a factor to millivolts
_TO_MV = {"mv": 1.0, "millivolt": 1.0, "millivolts": 1.0, "uv": 1e-3, "µv": 1e-3, "μv": 1e-3,
          "microvolt": 1e-3, "microvolts": 1e-3, "nv": 1e-6, "v": 1e3, "volt": 1e3, "volts": 1e3}

# WFDB storage formats: bytes per sample (FLAC-compressed 5xx formats cannot be sized)
_WFDB_BYTES = {"8": 1.0, "16": 2.0, "24": 3.0, "32": 4.0, "61": 2.0, "80": 1.0, "160": 2.0,
               "212": 1.5, "310": 4 / 3, "311": 4 / 3}


class RecordingError(ValueError):
    """A recording that cannot be read as asked; the message says what was wrong."""


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
        raise RecordingError(f"{what} is in {units!r}, not a voltage; accepted units: V, mV, uV (µV)")
    return _TO_MV[unit]


def choose_lead(leads: list[str] | tuple[str, ...], lead: str | int | None, source: str) -> int:
    """Index of the lead asked for (see the module docstring); ``RecordingError`` listing them if absent."""
    names = [str(name) for name in leads]
    available = ", ".join(repr(n) for n in names) or "none"
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
        raise RecordingError(f"{source}: lead index {lead} out of range; it has {len(names)} lead{'s' if len(names) != 1 else ''} "
                             f"(0 to {len(names) - 1}): {available}")
    wanted = str(lead)
    for i, name in enumerate(names):  # exact spelling first, then equivalent names
        if name.strip().lower() == wanted.strip().lower():
            return i
    for i, name in enumerate(names):
        if _lead_key(name) == _lead_key(wanted):
            return i
    if wanted.strip().isdigit() and int(wanted) < len(names):
        return int(wanted)
    raise RecordingError(f"{source}: no lead {wanted!r}; available: {available}")


def _finish(samples: np.ndarray, fs: float, lead: str, leads, source: str) -> Signal:
    """Check rate and content, patch short gaps, wrap as a Signal."""
    if not math.isfinite(fs) or fs < MIN_FS:
        raise RecordingError(f"{source}: sampling rate {fs:g} Hz is below {MIN_FS:g} Hz; "
                             f"QRS complexes need at least {MIN_FS:g} Hz")
    x = np.asarray(samples, dtype=np.float32).reshape(-1)
    if x.size == 0:
        raise RecordingError(f"{source}: lead {lead!r} is empty (no samples)")
    bad = ~np.isfinite(x)
    if bad.all():
        raise RecordingError(f"{source}: lead {lead!r} is empty (every sample is missing)")
    if bad.any():  # invalid samples (WFDB's 'no value', lost packets): interpolate across them
        idx = np.arange(x.size)
        x[bad] = np.interp(idx[bad], idx[~bad], x[~bad]).astype(np.float32)
    if float(np.max(x)) - float(np.min(x)) < 1e-6:
        raise RecordingError(f"{source}: lead {lead!r} is flat (constant {float(x[0]):g} mV): "
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


def _wfdb_header(base: Path):
    import wfdb

    header = base.with_name(base.name + ".hea")
    if not header.is_file():
        raise RecordingError(f"WFDB header {header} not found (a WFDB record needs RECORD.hea "
                             f"beside its signal files)")
    try:
        return wfdb.rdheader(str(base))
    except Exception as e:  # wfdb raises assorted types for a malformed header
        raise RecordingError(f"{header}: not a readable WFDB header ({e})") from None


def _check_wfdb_files(base: Path, hdr) -> None:
    """Every signal file named by the header exists and is long enough for sig_len."""
    if getattr(hdr, "n_seg", None):  # multi-segment records: wfdb checks each segment itself
        return
    header = base.with_name(base.name + ".hea")
    files: dict[str, dict] = {}
    offsets = hdr.byte_offset or [None] * len(hdr.file_name or [])
    for i, name in enumerate(hdr.file_name or []):
        info = files.setdefault(name, {"per_frame": 0.0, "offset": 0, "sized": True})
        fmt = str(hdr.fmt[i])
        spf = (hdr.samps_per_frame[i] if hdr.samps_per_frame else 1) or 1
        if fmt not in _WFDB_BYTES:
            info["sized"] = False
        else:
            info["per_frame"] += spf * _WFDB_BYTES[fmt]
        info["offset"] = max(info["offset"], int(offsets[i] or 0))
    for name, info in files.items():
        if name == "~":  # no file: the signal is absent by design
            continue
        if Path(name).name != name or name in (".", ".."):  # a header must not point elsewhere
            raise RecordingError(f"{header} names a signal file outside its folder ({name!r}); "
                                 f"signal files must sit beside the header")
        target = base.parent / name
        if not target.is_file():
            raise RecordingError(f"signal file {target} named in {header} not found "
                                 f"(WFDB records need the .hea and its signal files together)")
        if not info["sized"] or not hdr.sig_len:
            continue
        need = info["offset"] + math.ceil(hdr.sig_len * info["per_frame"])
        have = target.stat().st_size
        if have < need:
            raise RecordingError(
                f"{target} holds {have} bytes but {header} describes {hdr.sig_len} samples per "
                f"signal, {need} bytes: the header does not match its data (truncated or wrong file?)")


def _read_wfdb(path: Path, lead, fs) -> Signal:
    import wfdb

    base = _record_base(path)
    if path.suffix.lower() == ".dat" and not base.with_name(base.name + ".hea").is_file():
        raise RecordingError(f"{path} is a WFDB signal file without its header "
                             f"{base.with_name(base.name + '.hea')}: upload or place both together")
    hdr = _wfdb_header(base)
    source = str(base)
    if not hdr.fs:
        raise RecordingError(f"{source}.hea gives no sampling rate")
    _check_fs(fs, float(hdr.fs), source)
    names = list(hdr.sig_name or [])
    index = choose_lead(names, lead, source)
    _check_wfdb_files(base, hdr)
    if not hdr.sig_len:
        raise RecordingError(f"{source}: lead {names[index]!r} is empty (the header gives 0 samples)")
    try:
        record = wfdb.rdrecord(str(base), channels=[index], physical=True, return_res=32)
    except Exception as e:
        raise RecordingError(f"{source}: cannot read the signal data ({type(e).__name__}: {e})") from None
    units = (record.units or [None])[0]
    factor = _units_to_mv(units, f"{source} lead {names[index]!r}")
    samples = record.p_signal[:, 0]
    if factor != 1.0:
        samples = samples * np.float32(factor)
    return _finish(samples, float(hdr.fs), names[index], names, source)


def find_annotations(record_path: str | os.PathLike[str], extension: str = "atr") -> Path | None:
    """The annotation file of a WFDB record (``RECORD.atr``), or None when there is none."""
    base = _record_base(Path(record_path))
    target = base.with_name(f"{base.name}.{extension}")
    return target if target.is_file() else None


def read_annotations(record_path: str | os.PathLike[str], extension: str = "atr"
                     ) -> tuple[np.ndarray, np.ndarray]:
    """(sample indices int64, symbols str) of a WFDB record's annotations (``RECORD.atr``).

    Every annotation is returned (beats, rhythm changes, noise marks...);
    ``ecgad.data.rpeaks.BEAT_SYMBOLS`` tells the beats.
    """
    import wfdb

    base = _record_base(Path(record_path))
    target = base.with_name(f"{base.name}.{extension}")
    if not target.is_file():
        raise RecordingError(f"annotation file {target} not found")
    try:
        ann = wfdb.rdann(str(base), extension)
    except Exception as e:
        raise RecordingError(f"{target}: not a readable WFDB annotation file ({e})") from None
    return np.asarray(ann.sample, dtype=np.int64), np.asarray(ann.symbol, dtype=str)


# ------------------------------------------------------------------ EDF


def _read_edf(path: Path, lead, fs) -> Signal:
    import pyedflib

    source = str(path)
    try:
        reader = pyedflib.EdfReader(source)
    except Exception as e:  # pyedflib says OSError for anything from a bad header to a short file
        if "filesize" in str(e).lower():
            raise RecordingError(f"{source}: the header does not match its data (the file is not as long "
                                 f"as the header says: truncated?)") from None
        raise RecordingError(f"{source}: not a readable EDF/EDF+ file ({e})") from None
    try:
        names = [label.strip() for label in reader.getSignalLabels()]
        index = choose_lead(names, lead, source)
        rate = float(reader.getSampleFrequency(index))
        _check_fs(fs, rate, source)
        factor = _units_to_mv(reader.getPhysicalDimension(index), f"{source} lead {names[index]!r}")
        if reader.getNSamples()[index] == 0:
            raise RecordingError(f"{source}: lead {names[index]!r} is empty (no samples)")
        samples = reader.readSignal(index).astype(np.float32)
    finally:
        reader.close()
    if factor != 1.0:
        samples = samples * np.float32(factor)
    return _finish(samples, rate, names[index], names, source)


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
                return f"line {number}, column {column}: {cell!r} is not a number"
            if not math.isfinite(value):
                return f"line {number}, column {column}: {cell!r} is not a finite number"
    return None


def _read_text(path: Path, kind: str, lead, fs) -> Signal:
    source = str(path)
    first = next(_lines(path), None)
    if first is None:
        raise RecordingError(f"{source} is empty: no samples")
    delimiter = _delimiter(first[1], kind)
    cells = _split(first[1], delimiter)
    has_header = not all(_is_number(c) for c in cells if c != "")
    width = len(cells)
    if has_header:
        names = cells
    else:
        names = [f"lead {i + 1}" for i in range(width)]
    time_col = None
    time_scale = 1.0
    if has_header:
        for i, name in enumerate(names):
            scale = _time_scale(name)
            if scale is not None:
                time_col, time_scale = i, scale
                break
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # 'input contained no data': said below
            data = np.loadtxt(path, delimiter=delimiter, skiprows=first[0] if has_header else 0,
                              comments="#", ndmin=2, encoding="utf-8-sig", quotechar='"', dtype=np.float64)
        if data.size == 0:
            raise RecordingError(f"{source}: no samples (only a header row)")
        if data.shape[1] != width or not np.isfinite(data).all():
            raise ValueError
    except ValueError as e:  # a word, an empty cell, a ragged row, nan/inf: rescan to say where
        if isinstance(e, RecordingError):
            raise
        where = _first_bad_cell(path, delimiter, has_header, width) or "unreadable content"
        raise RecordingError(f"{source} {where}; expected numbers only"
                             f"{' after one header row' if has_header else ''}") from None
    lead_cols = [i for i in range(width) if i != time_col]
    if not lead_cols:
        raise RecordingError(f"{source} holds only a time column, no signal")
    lead_names_raw = [names[i] for i in lead_cols]
    split = [_split_unit(n) for n in lead_names_raw]
    lead_names = [name for name, _ in split]
    if fs is not None:
        rate = float(fs)
        if not math.isfinite(rate) or rate <= 0:
            raise RecordingError(f"fs must be a positive number of Hz, got {fs!r}")
    elif time_col is not None:
        rate = _rate_from_time(data[:, time_col] * time_scale, source, names[time_col])
    else:
        raise RecordingError(
            f"{source}: no sampling rate: give fs (the sampling rate in Hz) or add a time column to the header "
            f"(named time, t, seconds, s or ms)")
    index = choose_lead(lead_names, lead, source)
    samples = data[:, lead_cols[index]] * split[index][1]
    return _finish(samples, rate, lead_names[index], lead_names, source)


def _rate_from_time(t: np.ndarray, source: str, column: str) -> float:
    """Sampling rate from a time column (seconds), checking the steps are regular.

    The rate comes from the whole span ((n - 1) / (t_last - t_first)), which is
    exact where timestamps are rounded (360 Hz written in whole milliseconds has
    steps of 2 and 3 ms, whose median would say 333 Hz); every timestamp must lie
    within half a step of the regular grid.
    """
    if t.size < 2:
        raise RecordingError(f"{source}: one sample is not enough to tell the sampling rate from {column!r}")
    steps = np.diff(t)
    if np.any(steps <= 0):
        i = int(np.flatnonzero(steps <= 0)[0])
        raise RecordingError(f"{source}: the time column {column!r} does not increase at sample {i + 2} "
                             f"({t[i]:g} then {t[i + 1]:g})")
    step = (t[-1] - t[0]) / (t.size - 1)
    drift = np.abs(t - (t[0] + step * np.arange(t.size)))
    if drift.max() > 0.5 * step:
        i = int(np.argmax(drift))
        raise RecordingError(
            f"{source}: the time column {column!r} is not regular (sample {i + 1} at {t[i]:g} s is "
            f"{drift[i] / step:.1f} steps off a {1 / step:g} Hz grid: gaps or jitter); "
            f"resample it, or give fs to ignore the time column")
    return float(1.0 / step)


# ------------------------------------------------------------------ dispatch


def _kind(path: Path, format: str | None) -> str:
    if format is not None:
        kind = format.strip().lower().lstrip(".")
        kind = {"edf+": "edf", "bdf": "edf", "txt": "tsv", "hea": "wfdb", "dat": "wfdb"}.get(kind, kind)
        if kind not in FORMATS:
            raise RecordingError(f"unknown format {format!r}; known: {', '.join(FORMATS)}")
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
                   fs: float | None = None, format: str | None = None) -> Signal:
    """Read one lead of a recording as a ``Signal`` in mV.

    ``path``: a WFDB record (``dir/101``, ``dir/101.hea`` or ``dir/101.dat``),
    an EDF/EDF+ file, or a CSV/TSV file of one column per lead, with an optional
    header row; a header column named ``time``/``t``/``seconds``/``s`` (or ``ms``)
    gives the sampling rate, otherwise ``fs`` must. Lead units may be given in
    the header as ``II (uV)``; values are taken as mV otherwise. ``format``
    (wfdb, edf, csv, tsv) overrides the guess from the extension.
    """
    path = Path(path).expanduser()
    kind = _kind(path, format)
    if kind == "wfdb":
        return _read_wfdb(path, lead, fs)
    if not path.is_file():
        raise RecordingError(f"{path} not found")
    if kind == "edf":
        return _read_edf(path, lead, fs)
    return _read_text(path, kind, lead, fs)
