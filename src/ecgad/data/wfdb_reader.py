"""WFDB records (a ``.hea`` header and its signal files): sized from the header before decoding."""
from __future__ import annotations

import math
import os
from datetime import datetime
from pathlib import Path

import numpy as np

from .signal import (
    MAX_HEADER_BYTES,
    MAX_LEADS,
    WFDB_EXTENSIONS,
    RecordingError,
    Signal,
    _binary_reason,
    _check_fs,
    _check_length,
    _check_rate,
    _clean_name,
    _finish,
    _units_to_mv,
    choose_lead,
    other_lead,
    other_lead_indices,
    shown,
)

# WFDB storage formats: bytes per sample (FLAC-compressed 5xx formats cannot be sized: refused)
_WFDB_BYTES = {"8": 1.0, "16": 2.0, "24": 3.0, "32": 4.0, "61": 2.0, "80": 1.0, "160": 2.0,
               "212": 1.5, "310": 4 / 3, "311": 4 / 3}


def _record_base(path: Path) -> Path:
    """The record path without extension (``dir/101`` for 101, 101.hea or 101.dat)."""
    return path.with_suffix("") if path.suffix.lower() in WFDB_EXTENSIONS else path


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


def _read_wfdb(path: Path, lead, fs, max_duration_s: float, all_leads: bool = False) -> Signal:
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
    others = other_lead_indices(len(names), index, int(hdr.sig_len)) if all_leads else []
    others = [i for i in others if (hdr.file_name or ["~"] * len(names))[i] != "~"]  # absent by design
    try:
        record = wfdb.rdrecord(str(base), channels=[index, *others], physical=True, return_res=32)
    except Exception as e:
        raise RecordingError(f"{source}: cannot read the signal data ({type(e).__name__}: {shown(e, 100)})") from None
    units = (record.units or [None])[0]
    factor = _units_to_mv(units, f"{source} lead {shown(names[index])}")
    samples = record.p_signal[:, 0]
    if factor != 1.0:
        samples = samples * np.float32(factor)
    kept = [(names[i], other_lead(record.p_signal[:, k], (record.units or [None] * (k + 1))[k]))
            for k, i in enumerate(others, start=1)]
    return _finish(samples, rate, names[index], names, source, max_duration_s, _start(hdr),
                   [(name, x) for name, x in kept if x is not None])


def _start(hdr) -> datetime | None:
    """The record's start from its header's base date and time; None unless both are given (a time
    of day alone names no day, and the hourly table would put it on a wrong one)."""
    date, time = getattr(hdr, "base_date", None), getattr(hdr, "base_time", None)
    if date is None or time is None:
        return None
    return datetime.combine(date, time)
