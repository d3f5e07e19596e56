"""What a verdict is, and how a beat's verdict is written out: one place for the beat detector
(``Verdict``), the recording detector (``ecgad.recording.result.recording_beat``), the CLI's
``--json``, the web's stored rows and beat JSON, and the figures. Pure data: no model code.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def verdict_text(is_anomaly: bool, confidence: float) -> str:
    """``"anomalous, confidence 0.97"``: a verdict in words, as every page and table shows it."""
    return f"{'anomalous' if is_anomaly else 'normal'}, confidence {confidence:.2f}"


def verdict_fields(score: float, threshold: float, is_anomaly: bool, confidence: float,
                   digits: int | None = None) -> dict:
    """``{"score", "threshold", "is_anomaly", "confidence"}`` as JSON-ready Python values (score and
    threshold in the detector's score units, confidence in [0, 1]), rounded to ``digits`` decimals
    when given."""
    def number(value) -> float:
        return round(float(value), digits) if digits is not None else float(value)

    return {"score": number(score), "threshold": number(threshold), "is_anomaly": bool(is_anomaly),
            "confidence": number(confidence)}


def beat_verdict(number: int, score: float, threshold: float, is_anomaly: bool, confidence: float) -> dict:
    """One beat of a beat file as JSON: ``{"beat", "score", "threshold", "is_anomaly", "confidence"}``,
    ``beat`` counted from 1 in input order (``ecgad score --json`` and the web's beat JSON)."""
    return {"beat": int(number), **verdict_fields(score, threshold, is_anomaly, confidence)}


@dataclass
class Verdict:
    """One beat's result. ``score`` and ``threshold`` in the score's units (see ``ecgad.detector``),
    ``confidence`` in [0, 1]. ``beat``, ``reconstruction`` and ``error`` (the
    squared difference of the two) are ``(length,)`` float32 arrays in z-normalised beat
    units, sample by sample, for plots and for locating the abnormal part of the beat."""

    index: int
    score: float
    threshold: float
    is_anomaly: bool
    confidence: float
    beat: np.ndarray
    reconstruction: np.ndarray
    error: np.ndarray
    meta: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return "anomalous" if self.is_anomaly else "normal"

    def describe(self) -> str:
        return verdict_text(self.is_anomaly, self.confidence)

    def as_dict(self) -> dict:
        """For people and other programs (``beat_verdict``): ``beat`` numbers beats from 1, in input
        order (``index`` is the Python position, from 0)."""
        return beat_verdict(self.index + 1, self.score, self.threshold, self.is_anomaly, self.confidence)
