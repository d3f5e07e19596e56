"""EDF/EDF+ (and BDF) files, read with pyedflib."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np

from .signal import (
    MAX_LEADS,
    RecordingError,
    Signal,
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


def _read_edf(path: Path, lead, fs, max_duration_s: float, all_leads: bool = False) -> Signal:
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
        start = _start(reader)
        kept = []  # only leads sampled like the analysed one can be stacked with it
        for i in other_lead_indices(len(names), index, n_samples) if all_leads else []:
            if float(reader.getSampleFrequency(i)) == rate and int(reader.getNSamples()[i]) == n_samples:
                x = other_lead(reader.readSignal(i), reader.getPhysicalDimension(i))
                if x is not None:
                    kept.append((names[i], x))
    finally:
        reader.close()
    if factor != 1.0:
        samples = samples * np.float32(factor)
    return _finish(samples, rate, names[index], names, source, max_duration_s, start, kept)


def _start(reader) -> datetime | None:
    """The header's start date and time (EDF requires one; anonymised files often say 1985-01-01)."""
    try:
        return reader.getStartdatetime().replace(tzinfo=None)
    except (ValueError, OSError, AttributeError):  # an unreadable date in an otherwise readable file
        return None
