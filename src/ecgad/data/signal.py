"""What every reader shares: the ``Signal`` read, ``RecordingError``, the size limits and the checks
of rates, lengths, units and lead names (see ``readers`` for the limits' reasons)."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from . import formats as _formats

MIN_FS, MAX_FS = 100.0, 20_000.0  # Hz: QRS complexes need 100; the web form accepts the same range
MAX_DURATION_S = 24 * 3600.0        # a day-long Holter recording
MAX_LEADS = 256                     # leads of one recording (CSV columns besides time, WFDB or EDF signals)
MAX_LINE = 64 * 1024                # characters in one CSV/TSV line
MAX_HEADER_BYTES = 256 * 1024       # a WFDB header (a 15-lead PTB header is 1.5 kB)
# all_leads: the leads kept beside the analysed one, in file order, while both bounds hold (PTB's 15
# leads fit; 2**28 float32 samples are 1 GiB: a 12-lead day at 250 Hz is 259M samples)
MAX_STORED_LEADS = 16
MAX_STORED_SAMPLES = 1 << 28
# from the one table of formats (formats.py)
FORMATS = tuple(f.name for f in _formats.FORMATS)
WFDB_EXTENSIONS = _formats.WFDB.extensions
EDF_EXTENSIONS = _formats.EDF.extensions
TEXT_EXTENSIONS = {ext: f.name for f in (_formats.CSV, _formats.TSV) for ext in f.extensions}

# physical units accepted for a lead, as a factor to millivolts
_TO_MV = {"mv": 1.0, "millivolt": 1.0, "millivolts": 1.0, "uv": 1e-3, "µv": 1e-3, "μv": 1e-3,
          "microvolt": 1e-3, "microvolts": 1e-3, "nv": 1e-6, "v": 1e3, "volt": 1e3, "volts": 1e3}


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
    start: datetime | None = None  # when the recording began (the header's local time), None when not told
    # with read_recording(all_leads=True): the other leads kept, (name, samples in mV of the same length),
    # in file order; leads at another rate or in no voltage unit are not kept (see other_lead_indices)
    other_leads: tuple[tuple[str, np.ndarray], ...] = ()

    def __post_init__(self) -> None:
        samples = np.asarray(self.samples, dtype=np.float32)
        if samples.ndim != 1:
            raise ValueError(f"Signal samples must be 1-D, got shape {samples.shape}")
        for name, other in self.other_leads:
            if np.shape(other) != samples.shape:
                raise ValueError(f"lead {name}: {np.shape(other)} samples where the analysed lead has {samples.shape}")
        object.__setattr__(self, "samples", samples)
        object.__setattr__(self, "fs", float(self.fs))
        object.__setattr__(self, "leads", tuple(self.leads))

    def __len__(self) -> int:
        return int(self.samples.size)

    @property
    def duration_s(self) -> float:
        return self.samples.size / self.fs

    @property
    def stored_leads(self) -> list[tuple[str, np.ndarray]]:
        """Every lead kept, the analysed lead first."""
        return [(self.lead, self.samples), *self.other_leads]


def other_lead_indices(n_leads: int, index: int, n_samples: int) -> list[int]:
    """The leads read beside lead ``index`` with ``all_leads``: the others in file order, at most
    ``MAX_STORED_LEADS`` leads and ``MAX_STORED_SAMPLES`` samples in all (memory in proportion)."""
    room = min(MAX_STORED_LEADS, MAX_STORED_SAMPLES // max(1, n_samples)) - 1
    return [i for i in range(n_leads) if i != index][:max(0, room)]


def other_lead(samples: np.ndarray, units: str | None) -> np.ndarray | None:
    """A lead kept beside the analysed one, in mV with missing samples patched; None when it is in no
    voltage unit or holds no sample (it is then left out: only the analysed lead must be ECG)."""
    try:
        factor = _units_to_mv(units, "")
    except RecordingError:
        return None
    x = np.asarray(samples, dtype=np.float32).reshape(-1) * np.float32(factor)
    bad = ~np.isfinite(x)
    if bad.all():
        return None
    if bad.any():
        idx = np.arange(x.size)
        x[bad] = np.interp(idx[bad], idx[~bad], x[~bad]).astype(np.float32)
    return x


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


def _finish(samples: np.ndarray, fs: float, lead: str, leads, source: str, max_duration_s: float,
            start: datetime | None = None, other_leads=()) -> Signal:
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
    return Signal(x, fs, str(lead), tuple(str(n) for n in leads), source, start, tuple(other_leads))


def _check_fs(given: float | None, actual: float, source: str) -> None:
    if given is not None and abs(float(given) - actual) > 0.005 * actual:
        raise RecordingError(f"{source} says {actual:g} Hz but fs={given:g} was given; "
                             f"leave fs out for files that carry their sampling rate")


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

