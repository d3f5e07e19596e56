"""Scoring a whole recording: every beat found, scored, given a verdict and explained.

    detector = load_recording_detector()              # the shipped MIT-BIH model
    result = analyze(read_recording("mitdb/100"), detector)
    result.summary                                    # {"beats", "anomalies", "mean_hr_bpm"}
    result.score, result.is_anomaly, result.parts     # one value per beat

Morphology learnt from other patients is not enough across patients: what is
normal for one patient (a bundle branch block, say) is unusual for another, and a
premature beat can look normal but come early. So each beat is described by what
a cardiologist looks at, in three parts, and the parts are combined:

``autoencoder`` (the hybrid autoencoder, trained on AAMI-normal beats of other patients)
    ``latent``: log distance of the beat's latent code to the median latent code of
    the beats around it (the patient's dominant beat in the autoencoder's learned
    terms). ``autoencoder``: the log reconstruction error itself; computed and shown,
    but not in the default combination: across patients it does not add to the
    other features (see benchmarks/RESULTS.md, "recordings"). The beat window is the
    template window below, z-normalised.
``template`` (the patient's own dominant beat)
    ``template``: log RMS distance of the z-normalised beat (0.25 s before to
    0.45 s after the R peak, 140 samples) to the recording's dominant beat, a
    trimmed median: the median of all beats, then twice the median of the half
    closest to it. ``qrs``: log RMS distance of the QRS complex (0.10 s before to
    0.15 s after the R peak, in mV, best of small shifts up to 30 ms) to the
    dominant QRS, relative to the dominant QRS's amplitude. ``qrs_width``: how much
    wider the QRS complex is than the dominant beats', ``max(0, log(width / dominant
    width))``, the width being the time the band-passed signal's slope stays above a
    fifth of its maximum within 0.12 s of the R peak (a wide QRS is the textbook sign
    of a ventricular beat). Dominant beat and median
    latent code are made anew every ``chunk_s`` seconds (10 minutes), so they follow
    slow changes of the patient's morphology.
``rhythm`` (prematurity)
    ``premature``: ``-log(RR_prev / RR_local)`` with ``RR_local`` the median
    previous-RR of the 33 beats centred on this one; ``premature_local``: the same
    divided by the local spread of that ratio (so the irregular rhythm of atrial
    fibrillation counts less than one early beat in a regular rhythm); ``pause``:
    ``log(RR_next / RR_prev)``, the compensatory pause.

Score: a logistic combination ``w . features + b`` (a log-odds of "abnormal"
under balanced classes), fitted on the labelled beats of the TRAINING records
only, with every weight kept non-negative (each feature can only raise the
score: a combination that cannot learn a record's quirks the wrong way round).
A feature missing for a beat (a window running off the signal, a flat
window) takes the training normals' median. Higher = more abnormal.

Parts: ``parts[p] = sum of w_f (feature_f - median of feature_f over training
normal beats)`` over the features of part ``p``: 0 for a typical normal beat, and
how many log-odds each part adds for this beat. ``score = sum(parts) + constant``.

Threshold: the cut of the training records' beat scores that maximises accuracy
there (see :func:`ecgad.detector.choose_threshold`).

Confidence (in [0, 1]), as for the beat Detector: how far a beat's score lies
from the threshold, in the spread of the training normal beats' scores:
``confidence = |erf(z / sqrt(2))|`` with ``z = (score - threshold) / sigma`` and
``sigma`` = 1.4826 x the median absolute deviation of those scores. It is 0 at the
threshold, 0.68 one spread away, 0.95 two spreads away, on whichever side the
verdict falls.

Readable parts only: after R-peak detection each 5-second window is judged by
:mod:`ecgad.data.quality` (flat, saturated, noise, not ECG-like); beats in
unreadable windows are left out of the result and of the heart rate, the
result carries the windows (``quality``) and its ``warnings``, and a recording
with too little readable ECG is refused (``UnreadableRecording``).

Long recordings: R peaks are found chunk by chunk
(:func:`~ecgad.data.rpeaks.detect_r_peaks_chunked`); windows, dominant beats and
autoencoder features are computed ``chunk_s`` seconds at a time, from a band-passed
copy of that chunk only (plus a few seconds either side), so the memory beyond the
signal itself stays at a few copies of one chunk and the per-beat results.

Model file: one ``.safetensors`` file that is also a valid beat-model file (the
beat Detector's weights and its ``ecgad`` JSON metadata, readable by
``Detector.load``) with the recording model's JSON under the ``ecgad_recording``
metadata key: features, weights, threshold, calibration, settings, provenance.
No pickle.
"""
from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

import numpy as np
from scipy.ndimage import median_filter

from . import __version__
from .data.beats import beat_windows, rr_intervals, znormalise
from .data.quality import Quality, UnreadableRecording, assess_quality
from .data.rpeaks import BEAT_SYMBOLS, bandpass, detect_r_peaks_chunked
from .detector import Detector, choose_threshold
from .train import TrainConfig

FORMAT = "ecgad-recording/1"
MIN_DURATION_S = 5.0  # the band-pass filter and the rhythm features need seconds of signal
METADATA_KEY = "ecgad_recording"
SHIPPED_RECORDING_MODEL = "mitdb-recording.safetensors"

# AAMI classes of MIT-BIH beat annotations; the other beat symbols (paced, unclassifiable...) are ignored.
NORMAL_SYMBOLS = frozenset("NLRej")
ABNORMAL_SYMBOLS = frozenset("AaJSVEF")
VENTRICULAR_SYMBOLS = frozenset("VE")
SUPRAVENTRICULAR_SYMBOLS = frozenset("AaJS")

#: every feature and the part it belongs to
FEATURE_PARTS = {
    "latent": "autoencoder",
    "autoencoder": "autoencoder",
    "template": "template",
    "qrs": "template",
    "qrs_width": "template",
    "premature": "rhythm",
    "premature_local": "rhythm",
    "pause": "rhythm",
}
PARTS = ("autoencoder", "template", "rhythm")
DEFAULT_FEATURES = ("latent", "template", "qrs", "qrs_width", "premature", "premature_local", "pause")
AUTOENCODER_FEATURES = ("latent", "autoencoder")

#: the beat autoencoder of the recording model: one small hybrid member
BEAT_CONFIG = {"members": 1}
BEAT_TRAIN_CONFIG = TrainConfig(epochs=40, patience=10)


@dataclass(frozen=True)
class Settings:
    """How beats are cut and compared (saved with the model)."""

    chunk_s: float = 600.0          # seconds per processing chunk and per dominant beat
    rr_context: int = 16            # beats either side for the local RR median
    template_pre_s: float = 0.25    # template window around the R peak
    template_post_s: float = 0.45
    template_length: int = 140
    qrs_pre_s: float = 0.10         # QRS window around the R peak
    qrs_post_s: float = 0.15
    qrs_shift_s: float = 0.03       # best of shifts up to this much
    width_half_s: float = 0.12      # QRS width: measured within this much either side of the R peak,
    width_level: float = 0.2        # as the time the slope stays above this share of its maximum
    margin_s: float = 3.0           # signal either side of a chunk, for the filter and the windows
    peak_chunk_s: float = 60.0      # chunks of the R-peak detector


# ------------------------------------------------------------------ features


def _rolling_median(v: np.ndarray, k: int) -> np.ndarray:
    if v.size == 0:
        return v.copy()
    pad = np.pad(v, (k, k), mode="reflect") if v.size > k else np.pad(v, (k, k), mode="edge")
    return median_filter(pad, size=2 * k + 1, mode="nearest")[k:k + v.size]


def rhythm_features(peaks: np.ndarray, fs: float, context: int = 16) -> dict[str, np.ndarray]:
    """``premature``, ``premature_local`` and ``pause`` of each beat, from its R-peak indices.

    The first beat borrows its next RR as previous RR and the last its previous as
    next (neither is premature nor followed by a pause)."""
    previous, following = rr_intervals(peaks, fs)
    if peaks.size < 2:
        zero = np.zeros(peaks.size)
        return {"premature": zero, "premature_local": zero.copy(), "pause": zero.copy()}
    previous[0] = previous[1]
    following[-1] = following[-2]
    local = _rolling_median(previous, context)
    ratio = np.log(previous / local)
    spread = 1.4826 * _rolling_median(np.abs(ratio), context) + 0.02
    return {"premature": -ratio, "premature_local": -ratio / spread, "pause": np.log(following / previous)}


def _trimmed_median(z: np.ndarray, rounds: int = 2) -> np.ndarray:
    """The dominant beat: median of all, then of the half nearest to it (``rounds`` times)."""
    t = np.median(z, axis=0)
    for _ in range(rounds):
        d = ((z - t) ** 2).mean(axis=1)
        t = np.median(z[d <= np.quantile(d, 0.5)], axis=0)
    return t


def beat_shapes(x: np.ndarray, fs: float, peaks: np.ndarray, settings: Settings = Settings()
                ) -> tuple[np.ndarray, np.ndarray]:
    """z-normalised windows (``template_pre_s`` before to ``template_post_s`` after each R peak,
    ``template_length`` samples) of the beats with a usable one, and their indices into ``peaks``."""
    span = settings.template_pre_s + settings.template_post_s
    length = settings.template_length
    w, kept = beat_windows(x, peaks, fs, length, span_s=span, r_index=settings.template_pre_s / span * length)
    usable = np.ptp(w, axis=1) > 1e-6 if len(w) else np.zeros(0, bool)
    return znormalise(w[usable].astype(np.float64)), kept[usable]


def morphology_features(x: np.ndarray, fs: float, peaks: np.ndarray, settings: Settings = Settings(),
                        shapes: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """``template`` and ``qrs`` distances of each beat to the dominant beat of ``peaks``.

    ``x`` is band-passed signal, ``peaks`` R-peak indices into it (one dominant beat is
    made from all of them); ``shapes`` is ``beat_shapes(x, fs, peaks, settings)`` when
    already computed. NaN for a beat whose window runs off ``x`` or is flat."""
    out = {name: np.full(peaks.size, np.nan) for name in ("template", "qrs", "qrs_width")}
    z, kept = shapes if shapes is not None else beat_shapes(x, fs, peaks, settings)
    if kept.size == 0:
        return out
    t = _trimmed_median(z)
    d = np.sqrt(((z - t) ** 2).mean(axis=1))
    out["template"][kept] = np.log(np.maximum(d, 1e-6))
    dominant = kept[d <= np.quantile(d, 0.5)]

    shift = int(round(settings.qrs_shift_s * fs))
    core = int(round((settings.qrs_pre_s + settings.qrs_post_s) * fs))
    n = core + 2 * shift
    q, qk = beat_windows(x, peaks, fs, n, span_s=n / fs, r_index=settings.qrs_pre_s * fs + shift)
    dominant_q = np.isin(qk, dominant)
    if qk.size == 0 or not dominant_q.any():
        return out
    q = q.astype(np.float64)
    q -= np.median(q, axis=1, keepdims=True)
    tq = np.median(q[dominant_q, shift:shift + core], axis=0)
    best = np.full(qk.size, np.inf)
    for o in range(0, 2 * shift + 1, max(1, shift // 5)):
        best = np.minimum(best, ((q[:, o:o + core] - tq) ** 2).mean(axis=1))
    out["qrs"][qk] = np.log(np.maximum(np.sqrt(best) / max(float(np.ptp(tq)), 1e-6), 1e-6))

    n = 2 * int(round(settings.width_half_s * fs))
    w, wk = beat_windows(x, peaks, fs, n, span_s=n / fs, r_index=n / 2)
    slope = np.abs(np.diff(w.astype(np.float64), axis=1))
    width = (slope > settings.width_level * slope.max(axis=1, keepdims=True)).sum(axis=1) / fs
    dominant_w = np.isin(wk, dominant)
    if dominant_w.any():
        out["qrs_width"][wk] = np.maximum(np.log(np.maximum(width, 1 / fs) / np.median(width[dominant_w])), 0.0)
    return out


def autoencoder_features(detector: Detector, z: np.ndarray, batch: int = 512) -> dict[str, np.ndarray]:
    """``autoencoder`` (log reconstruction error) and ``latent`` (log distance of the latent code
    to the median code of all of ``z``, the dominant beat in the autoencoder's own terms) of
    z-normalised beats ``z`` of the detector's length.

    Beats go through the model ``batch`` at a time, the last batch padded: one input
    shape only, so the kernels torch caches per shape do not pile up over a long recording."""
    import torch

    detector._require_fitted()
    model = detector.model
    model.eval()
    members = getattr(model, "members", None)
    codes, errors = [], []
    with torch.inference_mode():
        for start in range(0, len(z), batch):
            part = detector._to_model(z[start:start + batch])
            n = len(part)
            if n < batch:
                part = np.concatenate([part, np.zeros((batch - n, part.shape[1]), part.dtype)])
            x = torch.from_numpy(np.ascontiguousarray(part, dtype=np.float32))
            code, _ = model.encode(x)
            recon = members[0].decoder(code) if members is not None and len(members) == 1 else model(x)
            codes.append(code[:n].numpy())
            errors.append(((recon - x) ** 2).mean(dim=1)[:n].numpy())
    if not codes:
        return {"autoencoder": np.zeros(0), "latent": np.zeros(0)}
    code = np.concatenate(codes).astype(np.float64)
    distance = np.sqrt(((code - np.median(code, axis=0)) ** 2).sum(axis=1))
    return {"autoencoder": np.log(np.maximum(np.concatenate(errors).astype(np.float64), 1e-12)),
            "latent": np.log(np.maximum(distance, 1e-6))}


def _chunks(peaks: np.ndarray, n_samples: int, fs: float, chunk_s: float) -> list[tuple[int, int]]:
    """``(first, end)`` beat index ranges of each chunk; a short last chunk joins the one before."""
    if peaks.size == 0:
        return []
    size = max(1, int(round(chunk_s * fs)))
    count = max(1, math.ceil(n_samples / size))
    if count > 1 and n_samples - (count - 1) * size < size / 2:
        count -= 1
    ids = np.minimum(peaks // size, count - 1)
    bounds = np.searchsorted(ids, np.arange(count + 1))
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]


def _chunk_signals(samples: np.ndarray, fs: float, peaks: np.ndarray, settings: Settings,
                   progress: bool = False, desc: str = "scoring"):
    """``(first, end, lo, x)`` per chunk: its beats ``peaks[first:end]`` and the band-passed
    signal ``x`` from sample ``lo``, ``margin_s`` either side of the chunk's beats."""
    from tqdm.auto import tqdm

    margin = int(round(settings.margin_s * fs))
    chunks = _chunks(peaks, samples.size, fs, settings.chunk_s)
    for first, end in tqdm(chunks, desc=desc, unit="chunk", disable=not progress or len(chunks) < 2, leave=False):
        lo = max(0, int(peaks[first]) - margin)
        hi = min(samples.size, int(peaks[end - 1]) + margin)
        yield first, end, lo, bandpass(samples[lo:hi], fs)


@dataclass
class BeatTable:
    """The beats of one recording and their features (before combination)."""

    fs: float
    n_samples: int
    peaks: np.ndarray                      # R-peak sample indices, int64
    features: dict[str, np.ndarray]

    @property
    def rr_s(self) -> np.ndarray:
        return rr_intervals(self.peaks, self.fs)[0]


def beat_table(samples: np.ndarray, fs: float, beat_detector: Detector | None = None, *,
               settings: Settings = Settings(), peaks: np.ndarray | None = None,
               progress: bool = False, desc: str = "scoring") -> BeatTable:
    """Find the beats of one lead (``samples`` in mV at ``fs`` Hz) and compute their features.

    ``peaks`` skips R-peak detection. Without ``beat_detector`` there are no
    ``autoencoder`` and ``latent`` features."""
    samples = np.asarray(samples).reshape(-1)
    fs = float(fs)
    if peaks is None:
        peaks = detect_r_peaks_chunked(samples, fs, chunk_s=settings.peak_chunk_s)
    peaks = np.asarray(peaks, dtype=np.int64)
    features = rhythm_features(peaks, fs, settings.rr_context)
    names = ("template", "qrs", "qrs_width") + (AUTOENCODER_FEATURES if beat_detector is not None else ())
    features.update({name: np.full(peaks.size, np.nan) for name in names})
    if beat_detector is not None and beat_detector.length != settings.template_length:
        raise ValueError(f"the beat model reads {beat_detector.length} samples per beat, "
                         f"the settings cut {settings.template_length}")
    for first, end, lo, x in _chunk_signals(samples, fs, peaks, settings, progress=progress, desc=desc):
        local = peaks[first:end] - lo
        z, kept = beat_shapes(x, fs, local, settings)
        for name, values in morphology_features(x, fs, local, settings, shapes=(z, kept)).items():
            features[name][first:end] = values
        if beat_detector is not None and kept.size:
            for name, values in autoencoder_features(beat_detector, z).items():
                features[name][first + kept] = values
    return BeatTable(fs=fs, n_samples=int(samples.size), peaks=peaks, features=features)


# ------------------------------------------------------------------ combination


def _fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3) -> tuple[np.ndarray, float]:
    """Class-balanced logistic regression with non-negative weights (L-BFGS-B).

    Fitted on standardised features; returns weights and bias on the raw features."""
    from scipy.optimize import minimize

    y = np.asarray(y, dtype=bool)
    mu, sd = x.mean(axis=0), x.std(axis=0)
    sd = np.where(sd > 1e-9, sd, 1.0)
    z = (x - mu) / sd
    weight = np.where(y, 0.5 / y.mean(), 0.5 / (1 - y.mean())) / len(y)
    p = x.shape[1]

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:p], theta[p]
        s = z @ w + b
        value = (weight * np.where(y, np.logaddexp(0, -s), np.logaddexp(0, s))).sum() + l2 * (w @ w)
        g = weight * (1 / (1 + np.exp(-s)) - y)
        return float(value), np.concatenate([z.T @ g + 2 * l2 * w, [g.sum()]])

    result = minimize(loss, np.zeros(p + 1), jac=True, method="L-BFGS-B", bounds=[(0, None)] * p + [(None, None)])
    w = result.x[:p] / sd
    return w, float(result.x[p] - (mu * w).sum())


@dataclass
class Combination:
    """``score = weights . features + bias``; threshold and calibration from training records."""

    features: tuple[str, ...]
    weights: np.ndarray
    bias: float
    normal_median: np.ndarray      # per feature, over training normal beats (stands in for missing values)
    threshold: float
    sigma: float                   # robust spread of the training normal beats' scores

    @classmethod
    def fit(cls, features: dict[str, np.ndarray], is_anomaly: np.ndarray,
            names: Sequence[str] = DEFAULT_FEATURES) -> Combination:
        names = tuple(names)
        y = np.asarray(is_anomaly, dtype=bool)
        if y.all() or not y.any():
            raise ValueError("fitting a combination needs both normal and abnormal beats")
        x = np.stack([np.asarray(features[n], dtype=np.float64) for n in names], axis=1)
        median = np.array([np.nanmedian(col[~y]) for col in x.T])
        x = np.where(np.isnan(x), median, x)
        w, b = _fit_logistic(x, y)
        scores = x @ w + b
        normal = scores[~y]
        sigma = 1.4826 * float(np.median(np.abs(normal - np.median(normal))))
        return cls(names, w, b, median, choose_threshold(scores, y), sigma if sigma > 1e-9 else 1.0)

    def _matrix(self, features: dict[str, np.ndarray]) -> np.ndarray:
        x = np.stack([np.asarray(features[n], dtype=np.float64) for n in self.features], axis=1)
        return np.where(np.isnan(x), self.normal_median, x)

    def score(self, features: dict[str, np.ndarray]) -> np.ndarray:
        return self._matrix(features) @ self.weights + self.bias

    def parts(self, features: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        contrib = (self._matrix(features) - self.normal_median) * self.weights
        out = {}
        for j, name in enumerate(self.features):
            part = FEATURE_PARTS[name]
            out[part] = out.get(part, 0.0) + contrib[:, j]
        return out

    def confidence(self, scores: np.ndarray) -> np.ndarray:
        from scipy.special import erf

        return np.abs(erf((np.asarray(scores, dtype=np.float64) - self.threshold) / self.sigma / math.sqrt(2)))

    def as_dict(self) -> dict:
        return {"features": list(self.features), "weights": [float(v) for v in self.weights], "bias": self.bias,
                "normal_median": [float(v) for v in self.normal_median], "threshold": self.threshold,
                "calibration": {"sigma": self.sigma}}

    @classmethod
    def from_dict(cls, d: dict) -> Combination:
        names = tuple(d["features"])
        unknown = [n for n in names if n not in FEATURE_PARTS]
        if unknown:
            raise ValueError(f"unknown features {unknown}")
        w, m = np.asarray(d["weights"], dtype=np.float64), np.asarray(d["normal_median"], dtype=np.float64)
        if w.shape != (len(names),) or m.shape != (len(names),):
            raise ValueError("weights and medians must have one value per feature")
        return cls(names, w, float(d["bias"]), m, float(d["threshold"]), float(d["calibration"]["sigma"]))


# ------------------------------------------------------------------ results


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
                       features={k: v[keep] for k, v in self.features.items()}, quality=quality)

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
        return {"beats": len(self), "anomalies": int(self.is_anomaly.sum()),
                "mean_hr_bpm": round(60.0 / float(rr.mean()), 2) if rr.size else None}

    def beats(self, parts: bool = False) -> list[dict]:
        """One JSON-ready dict per beat (``parts=True`` adds each part of the score)."""
        rows = []
        for i in range(len(self)):
            rr = float(self.rr_s[i])
            row = {"sample": int(self.sample[i]), "time_s": round(float(self.sample[i] / self.fs), 4),
                   "rr_s": round(rr, 4) if math.isfinite(rr) else None, "score": round(float(self.score[i]), 4),
                   "threshold": round(self.threshold, 4), "is_anomaly": bool(self.is_anomaly[i]),
                   "confidence": round(float(self.confidence[i]), 4)}
            if parts:
                row["parts"] = {k: round(float(v[i]), 4) for k, v in self.parts.items()}
            rows.append(row)
        return rows

    def as_dict(self, parts: bool = False) -> dict:
        quality = self.quality.as_dict() if self.quality is not None else {}
        return {"fs": self.fs, "lead": self.lead, "duration_s": round(self.duration_s, 3), "model": self.model,
                "warnings": self.warnings, **quality, "summary": self.summary, "beats": self.beats(parts)}


# ------------------------------------------------------------------ the detector


class RecordingDetector:
    """Scores every beat of a recording (see the module docstring for how).

    >>> detector = train_recording_detector([Path("mitdb/101"), ...])
    >>> result = detector.analyze(read_recording("mitdb/100"))
    """

    def __init__(self, beat: Detector, combination: Combination, settings: Settings = Settings(),
                 meta: dict | None = None):
        self.beat = beat
        self.combination = combination
        self.settings = settings
        self.meta = meta or {}

    @property
    def threshold(self) -> float:
        return self.combination.threshold

    def model_info(self) -> dict:
        return {**self.meta, "threshold": self.threshold, "features": list(self.combination.features)}

    def table(self, samples: np.ndarray, fs: float, *, peaks: np.ndarray | None = None,
              progress: bool = False) -> BeatTable:
        uses_ae = any(f in AUTOENCODER_FEATURES for f in self.combination.features)
        return beat_table(samples, fs, self.beat if uses_ae else None, settings=self.settings,
                          peaks=peaks, progress=progress)

    def analyze(self, signal, *, progress: bool = False) -> RecordingResult:
        """Find, score and explain every beat of ``signal`` (an ``ecgad.data.readers.Signal``) in its
        readable windows (see :mod:`ecgad.data.quality`); raises ``UnreadableRecording`` (a
        ``ValueError``) when too little of it is readable ECG."""
        if signal.duration_s < MIN_DURATION_S:
            raise ValueError(f"{signal.source or 'the recording'}: {signal.duration_s:.2f} s of signal; at least "
                             f"{MIN_DURATION_S:g} s are needed to find heartbeats")
        peaks = detect_r_peaks_chunked(signal.samples, signal.fs, chunk_s=self.settings.peak_chunk_s)
        quality = assess_quality(signal.samples, signal.fs, peaks)
        refusal = quality.refusal()
        if refusal is not None:
            raise UnreadableRecording(refusal)
        table = self.table(signal.samples, signal.fs, peaks=peaks, progress=progress)
        return self.result(table, lead=signal.lead, source=signal.source).readable_only(quality)

    def result(self, table: BeatTable, *, lead: str = "", source: str = "") -> RecordingResult:
        c = self.combination
        score = c.score(table.features) if table.peaks.size else np.zeros(0)
        parts = c.parts(table.features) if table.peaks.size else {p: np.zeros(0) for p in self.parts}
        return RecordingResult(
            fs=table.fs, lead=lead, duration_s=table.n_samples / table.fs, source=source, sample=table.peaks,
            rr_s=table.rr_s, score=score, threshold=c.threshold, is_anomaly=score > c.threshold,
            confidence=c.confidence(score), parts=parts, features=table.features, model=self.model_info())

    def beat_verdict(self, samples: np.ndarray, fs: float, peak: int):
        """The beat at R peak ``peak`` as the beat autoencoder sees it: its ``Verdict`` (the
        z-normalised template window, its reconstruction and per-sample error; the score and
        verdict are the autoencoder's alone), or None when the window runs off the signal."""
        margin = int(round(self.settings.margin_s * fs))
        lo, hi = max(0, int(peak) - margin), min(samples.size, int(peak) + margin)
        z, kept = beat_shapes(bandpass(samples[lo:hi], fs), fs, np.array([int(peak) - lo]), self.settings)
        return self.beat.predict(z)[0] if kept.size else None

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(p for p in PARTS if any(FEATURE_PARTS[f] == p for f in self.combination.features))

    # ---------------------------------------------------------------- files
    def save(self, path: str | Path) -> Path:
        """One .safetensors file: the beat model (as ``Detector.save`` writes it) plus our JSON metadata."""
        from safetensors.torch import load_file, safe_open, save_file

        path = Path(path)
        self.beat.save(path)
        with safe_open(str(path), framework="pt") as f:
            metadata = dict(f.metadata() or {})
        tensors = load_file(str(path))
        header = {"format": FORMAT, "combination": self.combination.as_dict(), "settings": asdict(self.settings),
                  "meta": self.meta}
        save_file(tensors, str(path), metadata={**metadata, METADATA_KEY: json.dumps(header)})
        return path

    @classmethod
    def load(cls, path: str | Path) -> RecordingDetector:
        """Read a file written by :meth:`save` (safetensors only: no code is executed)."""
        from safetensors.torch import safe_open

        path = Path(path)
        beat = Detector.load(path)  # checks the file and names it in its errors
        with safe_open(str(path), framework="pt") as f:
            raw = (f.metadata() or {}).get(METADATA_KEY)
        if raw is None:
            raise ValueError(f"{path}: a beat model, not a recording model (score beats with `ecgad score`)")
        try:
            header = json.loads(raw)
            if header.get("format") != FORMAT:
                raise ValueError(f"recording model format {header.get('format')!r} is not {FORMAT!r}")
            known = {f.name for f in fields(Settings)}
            settings = Settings(**{k: v for k, v in header.get("settings", {}).items() if k in known})
            combination = Combination.from_dict(header["combination"])
        except (json.JSONDecodeError, TypeError, KeyError, ValueError, AttributeError) as exc:
            raise ValueError(f"{path}: not an ecgad recording model ({exc.__class__.__name__}: {exc})") from None
        return cls(beat, combination, settings, header.get("meta", {}))


def load_recording_detector(path: str | Path | None = None) -> RecordingDetector:
    """Load a saved recording detector; with no path, the one shipped with ecgad (MIT-BIH DS1)."""
    if path is None:
        path = files("ecgad") / "assets" / SHIPPED_RECORDING_MODEL
    return RecordingDetector.load(path)


def analyze(signal, detector: RecordingDetector | None = None, *, progress: bool = False) -> RecordingResult:
    """Find, score and explain every beat of ``signal`` (default detector: the shipped one)."""
    return (detector or load_recording_detector()).analyze(signal, progress=progress)


# ------------------------------------------------------------------ annotated records and training


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


@dataclass
class AnnotatedRecord:
    """One annotated record: its detected beats, their reference labels and (once computed) features."""

    name: str
    path: Path
    fs: float
    lead: str
    peaks: np.ndarray
    symbols: np.ndarray                  # per detected peak: the matched annotation symbol, '' if none
    reference: np.ndarray                # the annotated beats' sample indices (for R-peak Se / PPV)
    reference_symbols: np.ndarray
    table: BeatTable | None = None

    @property
    def is_normal(self) -> np.ndarray:
        return np.isin(self.symbols, list(NORMAL_SYMBOLS))

    @property
    def is_abnormal(self) -> np.ndarray:
        return np.isin(self.symbols, list(ABNORMAL_SYMBOLS))


def read_annotated(path: str | Path, *, lead: str | int | None = None, settings: Settings = Settings()):
    """``(signal, AnnotatedRecord)`` of a WFDB record with ``.atr`` beat annotations: R peaks
    detected as at inference, each labelled by the annotation within 150 ms."""
    from .data.readers import read_annotations, read_recording

    path = Path(path)
    signal = read_recording(path, lead=lead)
    ref, sym = read_annotations(path)
    beats = np.isin(sym, list(BEAT_SYMBOLS))
    peaks = detect_r_peaks_chunked(signal.samples, signal.fs, chunk_s=settings.peak_chunk_s)
    record = AnnotatedRecord(name=path.name, path=path, fs=signal.fs, lead=signal.lead, peaks=peaks,
                             symbols=label_peaks(peaks, ref, sym, signal.fs), reference=ref[beats],
                             reference_symbols=sym[beats])
    return signal, record


def find_records(folder: str | Path, names: Sequence[str] | None = None) -> list[Path]:
    """WFDB records (``NAME.hea`` with a ``NAME.atr``) in ``folder``, sorted; ``names`` picks some."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder}: not a folder")
    found = sorted(p.with_suffix("") for p in folder.glob("*.hea") if p.with_suffix(".atr").is_file())
    if names:
        by_name = {p.name: p for p in found}
        missing = [n for n in names if n not in by_name]
        if missing:
            raise ValueError(f"{folder}: no annotated WFDB record {', '.join(missing)} "
                             f"(found {', '.join(by_name) or 'none'})")
        found = [by_name[n] for n in names]
    if not found:
        raise ValueError(f"{folder}: no annotated WFDB records (NAME.hea with NAME.atr)")
    return found


def fit_beat_model(signals_and_records: Sequence, *, max_beats_per_record: int = 400,
                   config: dict | None = None, train_config: TrainConfig | None = None,
                   settings: Settings = Settings(), seed: int = 0, progress: bool = True) -> Detector:
    """Train the beat autoencoder on up to ``max_beats_per_record`` normal beats of each
    ``(signal, AnnotatedRecord)`` (a fifth of them held out for early stopping)."""
    rng = np.random.default_rng(seed)
    # The recording's features use the autoencoder's codes and reconstructions, never the beat
    # Detector's own score: so no latent part in it (and no training codes in the model file).
    detector = Detector("hybrid", {**BEAT_CONFIG, "length": settings.template_length, **(config or {})},
                        train_config or BEAT_TRAIN_CONFIG, latent_neighbours=0)
    normals = []
    for signal, record in signals_and_records:
        normal = np.flatnonzero(record.is_normal)
        chosen = np.zeros(record.peaks.size, dtype=bool)
        chosen[rng.choice(normal, min(max_beats_per_record, normal.size), replace=False)] = True
        for first, end, lo, x in _chunk_signals(signal.samples, signal.fs, record.peaks, settings):
            z, kept = beat_shapes(x, signal.fs, record.peaks[first:end] - lo, settings)
            normals.append(z[chosen[first + kept]])
    normals = np.concatenate(normals) if normals else np.empty((0, detector.length))
    if len(normals) < 10:
        raise ValueError(f"{len(normals)} normal beats to train the autoencoder on; it needs at least 10")
    return detector.fit(normals, progress=progress, seed=seed, protocol="wfdb-normal-beats")


def training_tables(loaded: Sequence, *, features: Sequence[str] = DEFAULT_FEATURES,
                    settings: Settings = Settings(), crossfit: int = 2, max_beats_per_record: int = 400,
                    config: dict | None = None, train_config: TrainConfig | None = None, seed: int = 0,
                    progress: bool = True) -> Detector | None:
    """Train the beat autoencoder on all ``(signal, AnnotatedRecord)`` pairs and fill each
    record's ``table`` for fitting the combination. Returns the autoencoder (None when the
    features need none).

    With ``crossfit`` = k >= 2 the autoencoder features of the training records come
    from k further autoencoders, each trained without a k-th of the records and
    scoring that k-th: the combination then learns what the autoencoder says about
    patients it has not seen, as at inference. (Fitted on the autoencoder's own
    training patients, the weights would trust it far too much, or, for the latent
    distance, learn to ignore it.)
    """
    from tqdm.auto import tqdm

    if not any(f in AUTOENCODER_FEATURES for f in features):
        for signal, record in loaded:
            record.table = beat_table(signal.samples, signal.fs, None, settings=settings, peaks=record.peaks)
        return None
    fit = {"max_beats_per_record": max_beats_per_record, "config": config, "train_config": train_config,
           "settings": settings, "progress": progress}
    beat = fit_beat_model(loaded, seed=seed, **fit)
    folds = [(list(range(len(loaded))), beat)]
    if crossfit >= 2 and len(loaded) >= crossfit:
        folds = []
        for k in range(crossfit):
            rest = [pair for i, pair in enumerate(loaded) if i % crossfit != k]
            folds.append((range(k, len(loaded), crossfit), fit_beat_model(rest, seed=seed + 1 + k, **fit)))
    for held, model in folds:
        for i in tqdm(held, desc="features", unit="record", disable=not progress, leave=False):
            signal, record = loaded[i]
            record.table = beat_table(signal.samples, signal.fs, model, settings=settings, peaks=record.peaks)
    return beat


def train_recording_detector(records: Sequence[str | Path], *, lead: str | int | None = None,
                             features: Sequence[str] = DEFAULT_FEATURES, settings: Settings = Settings(),
                             crossfit: int = 2, max_beats_per_record: int = 400, config: dict | None = None,
                             train_config: TrainConfig | None = None, seed: int = 0,
                             progress: bool = True) -> RecordingDetector:
    """Fit a recording detector on annotated WFDB records (paths without extension).

    The beat autoencoder learns the AAMI-normal beats (N, L, R, e, j); the
    combination weights, threshold and calibration come from all labelled beats
    of the same records (normal vs A, a, J, S, V, E, F; the rest ignored), their
    autoencoder features cross-fitted (see :func:`training_tables`).
    """
    from tqdm.auto import tqdm

    records = [Path(r) for r in records]
    if not records:
        raise ValueError("no records to train on")
    loaded = []
    for path in tqdm(records, desc="reading", unit="record", disable=not progress, leave=False):
        loaded.append(read_annotated(path, lead=lead, settings=settings))
    beat = training_tables(loaded, features=features, settings=settings, crossfit=crossfit,
                           max_beats_per_record=max_beats_per_record, config=config, train_config=train_config,
                           seed=seed, progress=progress)
    if beat is None:  # the file format carries a beat model: keep a small one even when unused
        beat = fit_beat_model(loaded, max_beats_per_record=10, train_config=TrainConfig(epochs=1), settings=settings,
                              seed=seed, progress=False)
    detector = fit_on_records([r for _, r in loaded], beat, features=features, settings=settings)
    detector.meta.update({
        "trained_on": {"records": [r.name for _, r in loaded],
                       "database": records[0].parent.name,
                       "leads": sorted({r.lead for _, r in loaded}),
                       "normal_beats": int(sum(r.is_normal.sum() for _, r in loaded)),
                       "abnormal_beats": int(sum(r.is_abnormal.sum() for _, r in loaded)),
                       "autoencoder_beats": beat.meta.get("n_train"),
                       "crossfit": crossfit},
        "seed": seed,
    })
    return detector


def fit_on_records(records: Sequence[AnnotatedRecord], beat: Detector, *,
                   features: Sequence[str] = DEFAULT_FEATURES, settings: Settings = Settings()
                   ) -> RecordingDetector:
    """The combination fitted on records whose ``table`` is computed (with ``beat`` for the autoencoder part)."""
    labelled = [(r.table.features, r.is_normal | r.is_abnormal, r.is_abnormal) for r in records]
    x = {name: np.concatenate([f[name][use] for f, use, _ in labelled]) for name in features}
    y = np.concatenate([abn[use] for _, use, abn in labelled])
    combination = Combination.fit(x, y, features)
    digest = hashlib.sha256(json.dumps(combination.as_dict(), sort_keys=True).encode())
    digest.update(str(beat.meta.get("model_id")).encode())
    meta = {"model_id": f"recording-{digest.hexdigest()[:12]}", "version": __version__,
            "beat_model_id": beat.meta.get("model_id"), "beats_fitted": int(y.size),
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds")}
    return RecordingDetector(beat, combination, settings, meta)


# ------------------------------------------------------------------ report

_BODY = """<section><h2>Timeline</h2>
<p>Drag the range slider under the heart rate to move through the recording; hover a beat for its score and
the part each of autoencoder, template (the patient's dominant beat) and rhythm adds to it.</p>
{figure}</section>
<section><h2>Abnormal beats{shown}</h2>
<div class="table"><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>
</section>"""


def clock(seconds: float, decimals: int = 3) -> str:
    """``hh:mm:ss.sss`` (``decimals`` digits of the seconds)."""
    h, rest = divmod(round(float(seconds), decimals), 3600)  # rounded first: 59.96 s is 00:01:00.0
    m, s = divmod(rest, 60)
    return f"{int(h):02d}:{int(m):02d}:{s:0{3 + decimals if decimals else 2}.{decimals}f}"


def write_report(result: RecordingResult, signal, out_dir: str | Path, max_rows: int = 2000) -> Path:
    """Write ``report.html`` (one self-contained page, plotly.js inline) into ``out_dir``; returns its path."""
    import html

    from .plots import figure_html, recording_timeline

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    figure = figure_html(recording_timeline(result, signal), include_plotlyjs=True)
    s = result.summary
    hr = result.heart_rate_bpm[np.isfinite(result.heart_rate_bpm)]
    header = {
        "source": result.source or "-",
        "lead": f"{result.lead} ({result.fs:g} Hz)",
        "duration": clock(result.duration_s),
        "beats": str(s["beats"]),
        "abnormal": f"{s['anomalies']} ({100 * s['anomalies'] / max(s['beats'], 1):.1f}%)",
        "heart rate": (f"mean {s['mean_hr_bpm']:.0f} bpm, 5-95% range {np.percentile(hr, 5):.0f}-"
                       f"{np.percentile(hr, 95):.0f} bpm") if hr.size else "-",
        "model": f"{result.model.get('model_id', '-')} (threshold {result.threshold:.3f})",
    }
    if result.quality is not None:
        q = result.quality
        header["readable ECG"] = f"{100 * q.readable_fraction:.1f}%" + (
            f" (left out: {q.breakdown()}; shaded on the timeline)" if q.segments() else "")
    parts = list(result.parts)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in ["time", "sample", "RR (s)", "score", "confidence", *parts])
    abnormal = np.flatnonzero(result.is_anomaly)
    rows = []
    for i in abnormal[:max_rows]:
        rr = result.rr_s[i]
        cells = [clock(result.sample[i] / result.fs), str(int(result.sample[i])),
                 f"{rr:.3f}" if np.isfinite(rr) else "-", f"{result.score[i]:.2f}", f"{result.confidence[i]:.2f}",
                 *(f"{result.parts[p][i]:+.2f}" for p in parts)]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    title = f"ecgad recording analysis: {Path(result.source).name if result.source else 'recording'}"
    from .evaluate import report_page

    body = _BODY.format(figure=figure, head=head, rows="".join(rows),
                        shown=f" (first {max_rows} of {abnormal.size})" if abnormal.size > max_rows else "")
    page = report_page(title, header, body, notes=[f"Warning: {w['message']}" for w in result.warnings])
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
