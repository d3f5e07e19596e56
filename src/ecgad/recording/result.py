"""What analysing a recording gives: every readable beat, its score, verdict and parts."""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from ..data.quality import Quality
from ..verdict import verdict_fields
from .classes import CLASSES


def recording_beat(sample: int, fs: float, rr_s: float, score: float, threshold: float, is_anomaly: bool,
                   confidence: float, parts: dict[str, float] | None = None, digits: int | None = None,
                   beat_class: str | None = None, class_confidence: float | None = None) -> dict:
    """One beat of a recording as JSON: ``{"sample", "time_s", "rr_s", "score", "threshold", "is_anomaly",
    "confidence"}``, ``"class"`` and ``"class_confidence"`` when the model gives classes (N, S, V, F or
    Q; the probability of that class) and ``"parts"`` when given. ``sample``: the R peak at the recording's rate ``fs``
    (Hz); ``time_s`` its time in seconds (to 0.1 ms); ``rr_s`` the RR interval before it in seconds
    (None when unknown: NaN or None); numbers rounded to ``digits`` decimals when given. What
    ``ecgad analyze --json`` prints, the web stores for each beat and serves as its beat JSON."""
    def number(value) -> float:
        return round(float(value), digits) if digits is not None else float(value)

    rr = None if rr_s is None or not math.isfinite(rr_s) else number(rr_s)
    row = {"sample": int(sample), "time_s": round(float(sample) / fs, 4), "rr_s": rr,
           **verdict_fields(score, threshold, is_anomaly, confidence, digits)}
    if beat_class is not None:
        row["class"] = str(beat_class)
        row["class_confidence"] = number(class_confidence)
    if parts is not None:
        # a part missing for a beat is None (stored as NULL; JSON has no NaN)
        row["parts"] = {k: None if v is None or not math.isfinite(v) else number(v) for k, v in parts.items()}
    return row


def class_counts(classes: np.ndarray) -> dict[str, int]:
    """``{"N": n, "S": n, "V": n, "F": n, "Q": n}``: how many beats of each class."""
    return {c: int((np.asarray(classes) == c).sum()) for c in CLASSES}


@dataclass
class RecordingResult:
    """Every beat of a recording: where it is, its score and verdict, and the parts of its score."""

    fs: float
    lead: str
    duration_s: float
    source: str
    sample: np.ndarray        # R-peak index at the original sampling rate (int64)
    rr_s: np.ndarray          # RR interval before the beat, s (NaN for the first)
    score: np.ndarray
    threshold: float
    is_anomaly: np.ndarray
    confidence: np.ndarray
    parts: dict[str, np.ndarray]
    features: dict[str, np.ndarray]
    model: dict = field(default_factory=dict)
    quality: Quality | None = None  # the readable windows (None: not assessed, every beat kept)
    # the beat class (N, S, V, F, Q: ecgad.recording.classes) and its probability; None when the
    # model has no classifier (a recording model of format /2)
    classes: np.ndarray | None = None
    class_confidence: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.sample.size)

    def readable_only(self, quality: Quality) -> RecordingResult:
        """Only the beats in readable windows, with ``quality`` attached. A beat whose previous
        beat was left out gets no RR interval: it would span the unreadable stretch."""
        keep = np.flatnonzero(quality.readable_beats(self.sample))
        follows = np.r_[True, np.diff(keep) == 1] if keep.size else np.zeros(0, bool)
        follows &= keep > 0
        rr = np.where(follows, self.rr_s[keep], np.nan)
        return replace(self, sample=self.sample[keep], rr_s=rr, score=self.score[keep],
                       is_anomaly=self.is_anomaly[keep], confidence=self.confidence[keep],
                       parts={k: v[keep] for k, v in self.parts.items()},
                       features={k: v[keep] for k, v in self.features.items()}, quality=quality,
                       classes=None if self.classes is None else self.classes[keep],
                       class_confidence=None if self.class_confidence is None else self.class_confidence[keep])

    @property
    def warnings(self) -> list[dict]:
        """``[{"code", "message"}]`` about the recording's quality (empty when it is all readable ECG)."""
        return self.quality.warnings() if self.quality is not None else []

    @property
    def time_s(self) -> np.ndarray:
        return self.sample / self.fs

    @property
    def heart_rate_bpm(self) -> np.ndarray:
        """Instantaneous heart rate from the previous RR (NaN for the first beat)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return 60.0 / self.rr_s

    @property
    def summary(self) -> dict:
        rr = self.rr_s[np.isfinite(self.rr_s)]
        out = {"beats": len(self), "anomalies": int(self.is_anomaly.sum()),
               "mean_hr_bpm": round(60.0 / float(rr.mean()), 2) if rr.size else None}
        if self.classes is not None:
            out["classes"] = class_counts(self.classes)
        return out

    def beat(self, i: int, parts: bool = False, digits: int | None = None) -> dict:
        """Beat ``i`` (from 0) as ``recording_beat`` writes it (``parts=True`` adds each part of the score)."""
        return recording_beat(self.sample[i], self.fs, self.rr_s[i], self.score[i], self.threshold,
                              self.is_anomaly[i], self.confidence[i],
                              {k: v[i] for k, v in self.parts.items()} if parts else None, digits,
                              *((self.classes[i], self.class_confidence[i]) if self.classes is not None else ()))

    def beats(self, parts: bool = False) -> list[dict]:
        """One JSON-ready dict per beat, numbers to 4 decimals (``parts=True`` adds each part of the score)."""
        return [self.beat(i, parts, digits=4) for i in range(len(self))]

    def as_dict(self, parts: bool = False) -> dict:
        quality = self.quality.as_dict() if self.quality is not None else {}
        return {"fs": self.fs, "lead": self.lead, "duration_s": round(self.duration_s, 3), "model": self.model,
                "warnings": self.warnings, **quality, "summary": self.summary, "beats": self.beats(parts)}

