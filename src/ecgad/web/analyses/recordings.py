"""Analyse an uploaded ECG recording and store it, all in one transaction (``store_recording`` also
stores a stream's result: ``web/streaming.py``).

Accepted uploads: one EDF/EDF+ file; one CSV/TSV file (with a time column, or
with the sampling rate given in the form); or a WFDB record's ``.hea`` with its
signal files (``.dat``) and, optionally, its beat annotations (``.atr``). The
files are written to a private folder (see ``..uploads``) under their
cleaned names and read there by ``ecgad.data.readers``, which checks every size
before reading; WFDB headers may name only files of the same upload.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path, PurePath

import numpy as np
from flask import current_app

from ecgad.data.formats import ACCEPTED as WHAT_IS_ACCEPTED
from ecgad.data.formats import ANNOTATION_EXTENSIONS, SINGLE_FILE_EXTENSIONS, WFDB, format_of

from .. import audit
from ..detection import get_recording_detector
from ..extensions import db
from ..models import Analysis, Patient, Recording, RecordingBeat, RecordingChunk, User, signal_chunks, verdict_columns
from ..uploads import upload_folder
from .service import NOTHING_STORED, AnalysisError, clean_filename, insert_all, new_analysis, transaction

HEADER, ANNOTATIONS = WFDB.extensions[0], WFDB.annotations[0]  # 101.hea opens record 101; 101.atr annotates it


def _fail(message: str) -> AnalysisError:
    return AnalysisError(f"{message.rstrip('.')}. {NOTHING_STORED}")


def _plan(names: Sequence[str]) -> tuple[str, str | None]:
    """``(the file to read, the annotation extension or None)`` of an upload's file names."""
    suffixes = [PurePath(n).suffix.lower() for n in names]
    if len(set(names)) != len(names):
        raise _fail(f"two uploaded files have the same name. {WHAT_IS_ACCEPTED}")
    headers = [n for n, s in zip(names, suffixes, strict=True) if s == HEADER]
    if headers:
        if len(headers) > 1:
            raise _fail(f"{len(headers)} WFDB headers ({', '.join(headers)}); upload one record at a time")
        stem = PurePath(headers[0]).stem
        atr = [n for n, s in zip(names, suffixes, strict=True) if s == ANNOTATIONS]
        if atr and atr != [f"{stem}{ANNOTATIONS}"]:
            raise _fail(f"the annotations must be named {stem}{ANNOTATIONS}, after the header {headers[0]}")
        return headers[0], ANNOTATIONS[1:] if atr else None
    if any(s in WFDB.extensions + ANNOTATION_EXTENSIONS for s in suffixes):
        raise _fail(f"WFDB files without their header ({HEADER}). {WHAT_IS_ACCEPTED}")
    if len(names) != 1:
        raise _fail(f"{len(names)} files. {WHAT_IS_ACCEPTED}")
    if suffixes[0] not in SINGLE_FILE_EXTENSIONS:
        found = f"files of type {suffixes[0]}" if suffixes[0] else "files without an extension"
        raise _fail(f"{names[0]}: {found} are not accepted. {WHAT_IS_ACCEPTED}")
    return names[0], None


def _check_named(names: Sequence[str], header: str, folder: Path) -> None:
    """Every uploaded file of a WFDB record is its header, its annotations or a signal file the header names."""
    from ecgad.data.readers import wfdb_signal_files

    named = set(wfdb_signal_files(folder / header))
    stray = [n for n in names if n not in named and PurePath(n).suffix.lower() not in (HEADER, *ANNOTATION_EXTENSIONS)]
    if stray:
        raise _fail(f"{', '.join(stray)}: not named by {header} as a signal file. Upload a WFDB record's .hea "
                    f"with the signal files it names (and its .atr annotations if you have them)")


def record_name(names: Sequence[str]) -> str:
    """What an upload is called on the pages: a WFDB header's stem ("208" for 208.hea, .dat and .atr),
    else the one file's name."""
    return next((PurePath(n).stem for n in names if PurePath(n).suffix.lower() == HEADER), names[0])[:255]


def read_upload(files, folder: Path, fs: float | None, lead: str | None):
    """Save ``files`` (Werkzeug FileStorage) into ``folder`` and read the recording and its annotations:
    ``(signal, annotations or None, format)``. The signal's ``source`` is the upload's ``record_name``,
    not the temporary folder (gone when the request ends), so the library's messages name it."""
    from ecgad.data.annotations import read_annotations
    from ecgad.data.readers import RecordingError, read_recording

    names = [clean_filename(f.filename) for f in files]
    target, annotations = _plan(names)
    for storage, name in zip(files, names, strict=True):
        storage.save(folder / name)

    def readable(exc: Exception) -> AnalysisError:  # the temporary folder means nothing to people
        return _fail(str(exc).replace(f"{folder}/", "").replace(str(folder), "the upload"))

    lead_arg = int(lead) if lead and lead.isascii() and lead.isdigit() else (lead or None)  # not '²'
    hours = current_app.config["MAX_RECORDING_HOURS"]
    try:
        signal = read_recording(folder / target, lead=lead_arg, fs=fs, max_duration_s=hours * 3600,
                                all_leads=True)  # every lead is stored for the viewer
        if format_of(target) is WFDB:
            _check_named(names, target, folder)
        reference = read_annotations(folder / target, annotations) if annotations else None
    except RecordingError as exc:
        raise readable(exc) from None
    except AnalysisError:
        raise
    except Exception as exc:  # noqa: BLE001 - wfdb / pyedflib raise assorted types on malformed files
        raise readable(RecordingError(f"{target}: the file could not be read ({type(exc).__name__})")) from None
    return replace(signal, source=record_name(names)), reference, format_of(target).name


def _beat_rows(analysis_id: int, result, annotation: np.ndarray | None):
    """The ``RecordingBeat`` rows of ``result``'s beats (``recording_beat``, full precision), one at a time."""
    for i in range(len(result)):
        beat = result.beat(i, parts=True)
        yield {"analysis_id": analysis_id, "position": i, "sample": beat["sample"], "rr_s": beat["rr_s"],
               **verdict_columns(beat), **{f"part_{p}": v for p, v in beat["parts"].items()},
               "annotation": (str(annotation[i]) or None) if annotation is not None else None,
               "beat_class": beat.get("class"), "class_confidence": beat.get("class_confidence")}


def analyse_recording(patient: Patient, user: User, files, *, fs: float | None = None,
                      lead: str | None = None) -> Analysis:
    """Read, score and store one uploaded recording; raises AnalysisError and stores nothing."""
    from ecgad.recording import RecordingTooShort, UnreadableRecording

    detector = get_recording_detector()  # first: a missing model is reported before any work
    with upload_folder(current_app.instance_path) as folder:
        signal, reference, kind = read_upload(files, folder, fs, lead)
    try:
        result = detector.analyze(signal)
    except RecordingTooShort as exc:  # its message names the upload and says what is accepted
        raise _fail(str(exc)) from None
    except UnreadableRecording as exc:
        raise _fail(f"lead {signal.lead}: {exc}") from None
    return store_recording(patient, user, signal, result, kind, reference=reference)


def _reference_stats(result, signal, reference) -> tuple[np.ndarray, dict]:
    """Each found beat's annotation, and how the found beats match the annotated ones."""
    from ecgad.data.annotations import BEAT_SYMBOLS, label_peaks, match_peaks

    ref_samples, ref_symbols = reference
    annotation = label_peaks(result.sample, ref_samples, ref_symbols, signal.fs)
    beats = ref_samples[np.isin(ref_symbols, list(BEAT_SYMBOLS))]
    beats = beats[result.quality.readable_beats(beats)]  # found beats come from the readable parts only
    tp, fp, fn = match_peaks(result.sample, beats, signal.fs)
    return annotation, {"annotated_beats": int(beats.size),
                        "sensitivity": tp / (tp + fn) if tp + fn else None,
                        "positive_predictivity": tp / (tp + fp) if tp + fp else None}


def store_recording(patient: Patient, user: User, signal, result, kind: str, *, reference=None,
                    source: str = "upload") -> Analysis:
    """Store ``result`` (a ``RecordingResult`` with its ``quality``) of ``signal`` (an
    ``ecgad.data.signal.Signal``: its samples and its other leads are kept for the timeline and the
    viewer, its start with the Holter summary) as a recording analysis of ``patient``, in one
    transaction, audited. ``kind``: the format (wfdb, edf, csv, tsv, stream);
    ``reference``: ``(samples, symbols)`` annotations or None. Raises AnalysisError (nothing stored)
    when the result has no beat. An upload's result comes from ``analyze``, a stream's from its own
    ``RecordingStream.result()``: what was sent live is what is stored."""
    if len(result) == 0:
        raise _fail(f"no heartbeats were found in lead {signal.lead}; is it an ECG lead? "
                    f"Choose another lead by name or number")
    from ecgad.recording.holter import holter_of

    filename = signal.source
    holter = holter_of(result, start=signal.start)
    annotation, stats = _reference_stats(result, signal, reference) if reference is not None else (None, {})
    hr = result.heart_rate_bpm[np.isfinite(result.heart_rate_bpm)]
    with transaction():
        analysis = new_analysis(
            patient, user, filename, result.model, source=source, kind="recording",
            threshold=float(result.threshold), n_beats=len(result), n_anomalies=int(result.is_anomaly.sum()),
            max_score=float(result.score.max()), has_labels=reference is not None)
        analysis.warnings = result.warnings
        quality = result.quality
        recording = Recording(
            analysis_id=analysis.id, format=kind, lead=signal.lead[:64], fs=signal.fs, n_samples=len(signal),
            mean_hr_bpm=result.summary["mean_hr_bpm"],
            low_hr_bpm=float(np.percentile(hr, 5)) if hr.size else None,
            high_hr_bpm=float(np.percentile(hr, 95)) if hr.size else None,
            parts=",".join(result.parts), readable_fraction=quality.readable_fraction, start_at=signal.start,
            holter_json=json.dumps(holter), leads_json=json.dumps([name[:64] for name, _ in signal.stored_leads]),
            **stats)
        recording.unreadable = quality.segments()
        db.session.add(recording)
        db.session.flush()
        for lead_index, (_, samples) in enumerate(signal.stored_leads):  # the analysed lead is 0
            for chunk in signal_chunks(analysis.id, samples, lead_index):  # one at a time: a day is hundreds of MB
                insert_all(RecordingChunk, [chunk])
        insert_all(RecordingBeat, _beat_rows(analysis.id, result, annotation))
        audit.record("analysis.create", "analysis", analysis.id,
                     f"patient={patient.id}; {'stream' if source == 'stream' else 'recording'}={filename}; "
                     f"lead={signal.lead}; beats={analysis.n_beats}; anomalies={analysis.n_anomalies}; "
                     f"model={analysis.model_id}", actor=user, patient_id=patient.id)
    return analysis
