"""Read one lead of an ECG recording (or every lead: ``all_leads``): WFDB, EDF/EDF+ or CSV/TSV, in millivolts.

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

One module per format (``wfdb_reader``, ``edf_reader``, ``text_reader``); what they share
(``Signal``, ``RecordingError``, the limits and checks) is in ``signal``, importable from here too.
"""
from __future__ import annotations

import os
from pathlib import Path

from .edf_reader import _read_edf
from .signal import (  # noqa: F401 (importable from here, as before)
    EDF_EXTENSIONS,
    FORMATS,
    MAX_DURATION_S,
    MAX_FS,
    MAX_HEADER_BYTES,
    MAX_LEADS,
    MAX_LINE,
    MAX_STORED_LEADS,
    MAX_STORED_SAMPLES,
    MIN_FS,
    TEXT_EXTENSIONS,
    WFDB_EXTENSIONS,
    RecordingError,
    Signal,
    choose_lead,
    shown,
)
from .text_reader import _read_text
from .wfdb_reader import _read_wfdb, _record_base, wfdb_signal_files  # noqa: F401

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
                   max_duration_s: float = MAX_DURATION_S, all_leads: bool = False) -> Signal:
    """Read one lead of a recording as a ``Signal`` in mV.

    ``path``: a WFDB record (``dir/101``, ``dir/101.hea`` or ``dir/101.dat``),
    an EDF/EDF+ file, or a CSV/TSV file of one column per lead, with an optional
    header row; a header column named ``time``/``t``/``seconds``/``s`` (or ``ms``)
    gives the sampling rate, otherwise ``fs`` must. Lead units may be given in
    the header as ``II (uV)``; values are taken as mV otherwise. ``format``
    (wfdb, edf, csv, tsv) overrides the guess from the extension. Longer
    recordings than ``max_duration_s`` seconds are refused before they are read.
    ``all_leads``: also read the other leads into ``Signal.other_leads`` (as many as
    ``MAX_STORED_LEADS`` and ``MAX_STORED_SAMPLES`` allow, those in a voltage unit at the lead's rate).
    """
    path = Path(path).expanduser()
    kind = _kind(path, format)
    if kind == "wfdb":
        return _read_wfdb(path, lead, fs, max_duration_s, all_leads)
    if not path.is_file():
        raise RecordingError(f"{path} not found")
    if kind == "edf":
        return _read_edf(path, lead, fs, max_duration_s, all_leads)
    return _read_text(path, kind, lead, fs, max_duration_s, all_leads)
