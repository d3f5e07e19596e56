"""Reference beat annotations: reading a WFDB record's ``.atr`` file, the AAMI classes of its
beat symbols, and matching detected R peaks to the annotated beats (for R-peak Se / PPV and for
labelling detected beats)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .readers import RecordingError, _record_base

#: MIT-BIH annotation symbols that mark a beat (the rest mark rhythm, noise, comments...)
BEAT_SYMBOLS = frozenset("NLRBAaJSVrFejnE/fQ")

# AAMI classes of MIT-BIH beat annotations; the other beat symbols (paced, unclassifiable...) are ignored.
NORMAL_SYMBOLS = frozenset("NLRej")
ABNORMAL_SYMBOLS = frozenset("AaJSVEF")
VENTRICULAR_SYMBOLS = frozenset("VE")
SUPRAVENTRICULAR_SYMBOLS = frozenset("AaJS")


def read_annotations(record_path: str | os.PathLike[str], extension: str = "atr"
                     ) -> tuple[np.ndarray, np.ndarray]:
    """(sample indices int64, symbols str) of a WFDB record's annotations (``RECORD.atr``).

    Every annotation is returned (beats, rhythm changes, noise marks...);
    ``BEAT_SYMBOLS`` tells the beats.
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


def match_peaks(detected: np.ndarray, reference: np.ndarray, fs: float, tolerance_s: float = 0.150
                ) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives) pairing each reference
    beat with at most one detection no further than ``tolerance_s`` away
    (closest pairs first)."""
    det = np.sort(np.asarray(detected, dtype=np.int64))
    ref = np.sort(np.asarray(reference, dtype=np.int64))
    tol = tolerance_s * float(fs)
    if det.size == 0 or ref.size == 0:
        return 0, int(det.size), int(ref.size)
    # every (reference, detection) pair within the tolerance, closest first
    lo = np.searchsorted(det, ref - tol, side="left")
    hi = np.searchsorted(det, ref + tol, side="right")
    pairs = [(abs(int(det[j]) - int(r)), i, j) for i, r in enumerate(ref) for j in range(lo[i], hi[i])]
    pairs.sort()
    used_ref = np.zeros(ref.size, bool)
    used_det = np.zeros(det.size, bool)
    tp = 0
    for _, i, j in pairs:
        if not used_ref[i] and not used_det[j]:
            used_ref[i] = used_det[j] = True
            tp += 1
    return tp, int(det.size - tp), int(ref.size - tp)


def label_peaks(peaks: np.ndarray, ref_samples: np.ndarray, ref_symbols: np.ndarray, fs: float,
                tolerance_s: float = 0.150) -> np.ndarray:
    """The symbol of the reference beat nearest each detected peak ('' when none lies within tolerance)."""
    peaks = np.asarray(peaks, dtype=np.int64)
    keep = np.isin(ref_symbols, list(BEAT_SYMBOLS))
    ref, sym = np.asarray(ref_samples)[keep], np.asarray(ref_symbols)[keep]
    if ref.size == 0 or peaks.size == 0:
        return np.full(peaks.size, "", dtype="<U1")
    j = np.searchsorted(ref, peaks)
    left, right = np.clip(j - 1, 0, ref.size - 1), np.clip(j, 0, ref.size - 1)
    nearest = np.where(np.abs(ref[left] - peaks) <= np.abs(ref[right] - peaks), left, right)
    return np.where(np.abs(ref[nearest] - peaks) <= tolerance_s * fs, sym[nearest], "")
