"""Run an analysis on uploaded beats and store it, all in one transaction."""
from __future__ import annotations

import json
import unicodedata
from contextlib import contextmanager
from importlib.resources import files
from pathlib import PurePath

import numpy as np
from flask import current_app
from sqlalchemy import insert

from .. import audit
from ..detection import get_detector
from ..extensions import db
from ..models import Analysis, AnalysisBeat, Patient, User, pack_curves, pack_signal, verdict_columns

EXAMPLES = {"normal": "normal_beats.csv", "abnormal": "abnormal_beats.csv"}
NOTHING_STORED = "Nothing was stored."
LABEL_LIMIT = 1_000_000  # class labels are small numbers; the column is a 32-bit integer


class AnalysisError(ValueError):
    """What was wrong with an upload, for people."""


def clean_filename(raw: str | None) -> str:
    """The file's own name (no folders, no control characters, not ``..``), its end kept within the
    255 bytes a file name may take on disk."""
    name = (raw or "").replace("\\", "/")
    name = PurePath(name).name if name else ""
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    name = name.encode()[-255:].decode(errors="ignore").strip()
    return name if name.strip(".") else "upload"


def check_extension(filename: str) -> None:
    accepted = current_app.config["UPLOAD_EXTENSIONS"]
    suffix = PurePath(filename).suffix.lower()
    if suffix not in accepted:
        kinds = ", ".join(accepted[:-1]) + " or " + accepted[-1]
        found = f"files of type {suffix}" if suffix else "files without an extension"
        raise AnalysisError(f"{filename}: {found} are not accepted; upload a {kinds} file. {NOTHING_STORED}")


def parse(data: bytes, filename: str, labelled: bool) -> tuple[list[np.ndarray], np.ndarray | None]:
    from ecgad.data.beatfile import BeatFileError, read_beats, read_labelled

    limits = {"max_beats": current_app.config["MAX_BEATS"], "max_bytes": current_app.config["MAX_CONTENT_LENGTH"]}
    try:
        if labelled:
            beats, labels = read_labelled(data, name=filename, **limits)
        else:
            beats, labels = read_beats(data, name=filename, **limits), None
    except BeatFileError as exc:
        raise AnalysisError(f"{str(exc).rstrip('.')}. {NOTHING_STORED}") from None
    except OverflowError:  # e.g. a label like 1e20
        raise AnalysisError(f"{filename}: a number in the label column is too large. {NOTHING_STORED}") from None
    if labels is not None and len(labels) and (labels.min() < -LABEL_LIMIT or labels.max() > LABEL_LIMIT):
        raise AnalysisError(f"{filename}: labels must be whole numbers between {-LABEL_LIMIT} and {LABEL_LIMIT}. "
                            f"{NOTHING_STORED}")
    return beats, labels


def _beat_message(exc: ValueError, filename: str) -> str:
    """``prepare`` names a bad beat by its number, counted from 1 as on the pages."""
    return f"{filename}: {str(exc).rstrip('.')}. {NOTHING_STORED}"


def analyse(patient: Patient, user: User, beats: list[np.ndarray], labels: np.ndarray | None, filename: str,
            source: str = "upload") -> Analysis:
    """Score ``beats`` and store the analysis with every beat; raises AnalysisError and stores nothing."""
    detector = get_detector()
    try:
        verdicts, warnings = detector.predict_with_data_fit(beats)  # warnings: like the training data?
    except ValueError as exc:
        raise AnalysisError(_beat_message(exc, filename)) from None
    scores = [v.score for v in verdicts]
    with transaction():
        analysis = new_analysis(
            patient, user, filename, detector.model_info(), source=source, threshold=float(detector.threshold),
            n_beats=len(verdicts), n_anomalies=sum(v.is_anomaly for v in verdicts), max_score=float(max(scores)),
            has_labels=labels is not None)
        analysis.warnings = warnings
        insert_all(AnalysisBeat, [{
            "analysis_id": analysis.id, "position": i, "length": int(len(beats[i])),
            **verdict_columns(v.as_dict()),
            "label": int(labels[i]) if labels is not None else None,
            "signal": pack_signal(beats[i]), "curves": pack_curves(v.beat, v.reconstruction, v.error),
        } for i, v in enumerate(verdicts)])
        audit.record("analysis.create", "analysis", analysis.id,
                     f"patient={patient.id}; file={filename}; beats={analysis.n_beats}; "
                     f"anomalies={analysis.n_anomalies}; model={analysis.model_id}", actor=user, patient_id=patient.id)
    return analysis


@contextmanager
def transaction():
    """Commit what the block added, or nothing at all if it raises."""
    try:
        yield
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def new_analysis(patient: Patient, user: User, filename: str, model_info: dict, **fields) -> Analysis:
    """An analysis with the model's provenance, added to the session with its id known."""
    analysis = Analysis(
        patient_id=patient.id, created_by_id=user.id, filename=filename,
        model_id=str(model_info.get("model_id") or "")[:64], model_version=str(model_info.get("version") or "")[:32],
        model_info=json.dumps(model_info, default=str), **fields)
    db.session.add(analysis)
    db.session.flush()
    return analysis


def insert_all(model, rows, batch: int = 2000) -> None:
    """Insert ``rows`` (dicts, or an iterable of them) into ``model``'s table, ``batch`` at a time."""
    rows = list(rows)
    for start in range(0, len(rows), batch):
        db.session.execute(insert(model), rows[start:start + batch])


def example_file(name: str) -> tuple[bytes, str]:
    if name not in EXAMPLES:
        raise KeyError(name)
    filename = EXAMPLES[name]
    return (files("ecgad") / "assets" / "examples" / filename).read_bytes(), filename
