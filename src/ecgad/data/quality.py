"""Signal quality: which stretches of a recording are readable ECG.

    quality = assess_quality(signal.samples, signal.fs, peaks)   # peaks: detect_r_peaks_chunked
    quality.readable_fraction, quality.segments()                # [[start, end, reason], ...]
    quality.readable_beats(peaks)                                # mask of beats to keep
    quality.warnings(), quality.refusal()                        # recording-level verdict

The recording is cut into ``WINDOW_S``-second windows (a last piece shorter than
half a window joins the one before). Each window is judged by the classic ECG
signal-quality indices (Li, Clifford & Moody 2008; Orphanidou et al. 2015);
the first of these that fails names the reason:

``saturated``
    more than ``clipped_share`` of the samples sit at the recording's own
    extreme values (the amplifier's rails: a clipped signal, a square wave) for
    10 ms or more in a row.
``flat``
    the band-passed (0.5-40 Hz) signal's 1-99 % range is below ``flat_mv`` mV
    (a lead off, a disconnected channel).
``noise``
    the beats the R-peak detector found are unlike one another: per beat (0.2 s
    before to 0.3 s after the R peak, band-passed) its best correlation with
    another beat of the window, the median of that below ``min_correlation`` (after
    Orphanidou's template-matching index, made tolerant of ectopic beats that
    resemble each other), or fewer than 2 beats were found.
``not ECG-like``
    the window lacks the sharp, QRS-band peaks of an ECG: kurtosis of the
    band-passed signal below ``min_kurtosis`` (kSQI: ECG is spiky, a sine wave 1.5,
    Gaussian noise 3), the share of 5-40 Hz power in the QRS band (5-15 Hz) below
    ``min_psqi`` (pSQI: muscle noise), or a heart rate outside ``hr_range`` bpm.
    (No upper bound on pSQI: the wide QRS of a bundle branch block puts nearly all
    of its power in 5-15 Hz, as a sine wave does.)

The thresholds were chosen on half of the MIT-BIH DS1 records (with added noise,
baseline wander and electrode-motion-like artefacts) and on synthetic non-ECG
signals, and checked on the other half: ``benchmarks/signal_quality.py``.

What it cannot do: it judges whether beats can be found and compared, not the
rhythm; a regular, spiky non-ECG signal (a pacing-like pulse train) can pass,
and sustained ventricular flutter or fibrillation (no QRS complexes, beats unlike
each other) is marked unreadable, as a beat detector cannot count it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .rpeaks import bandpass

WINDOW_S = 5.0
CHUNK_S = 600.0      # signal band-passed this much at a time (long recordings)
MARGIN_S = 2.0       # filter margin either side of a chunk
BEAT_PRE_S, BEAT_POST_S = 0.2, 0.3
CLIPPED_S = 0.01     # a clipped stretch stays at a rail at least this long

FLAT, SATURATED, NOISE, NOT_ECG = "flat", "saturated", "noise", "not ECG-like"
REASONS = (FLAT, SATURATED, NOISE, NOT_ECG)


@dataclass(frozen=True)
class Thresholds:
    """Where a window stops being readable (chosen by benchmarks/signal_quality.py)."""

    flat_mv: float = 0.05
    clipped_share: float = 0.05
    min_correlation: float = 0.85
    min_kurtosis: float = 2.25
    min_psqi: float = 0.1
    hr_range: tuple[float, float] = (24.0, 240.0)
    low_quality_below: float = 0.9   # readable fraction under which a recording is flagged
    refuse_below: float = 0.2        # ... and under which it is refused


THRESHOLDS = Thresholds()


class UnreadableRecording(ValueError):
    """Too little of the recording is readable ECG to analyse it; the message says why."""


def _windows(n: int, fs: float, window_s: float) -> np.ndarray:
    """Start samples of the windows, plus ``n`` at the end."""
    w = max(1, int(round(window_s * fs)))
    starts = list(range(0, n, w))
    if len(starts) > 1 and n - starts[-1] < w / 2:
        starts.pop()
    return np.asarray(starts + [n], dtype=np.int64)


def _runs_of(mask: np.ndarray, min_length: int) -> np.ndarray:
    """``mask`` kept only where it is True at least ``min_length`` samples in a row."""
    edges = np.diff(np.r_[0, mask.astype(np.int8), 0])
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    out = np.zeros(mask.size, bool)
    for a, b in zip(starts[ends - starts >= min_length], ends[ends - starts >= min_length], strict=True):
        out[a:b] = True
    return out


def _shape_stats(rows: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row (a window of band-passed signal): 1-99 % range, kurtosis, and the share of its
    5-40 Hz power in 5-15 Hz."""
    lo, hi = np.percentile(rows, [1, 99], axis=1)
    d = rows - rows.mean(axis=1, keepdims=True)
    var = (d * d).mean(axis=1)
    kurtosis = np.where(var > 0, (d ** 4).mean(axis=1) / np.where(var > 0, var, 1.0) ** 2, 0.0)
    power = np.abs(np.fft.rfft(d, axis=1)) ** 2
    f = np.fft.rfftfreq(rows.shape[1], 1 / fs)
    total = power[:, (f >= 5) & (f <= 40)].sum(axis=1)
    qrs = power[:, (f >= 5) & (f <= 15)].sum(axis=1)
    return hi - lo, kurtosis, np.where(total > 0, qrs / np.where(total > 0, total, 1.0), 0.0)


def _correlation(x: np.ndarray, local: np.ndarray, fs: float) -> float:
    """How alike the beats at ``local`` (indices into ``x``) are: per beat, its best correlation
    with another beat of the window; the median of that over the beats. Ectopic beats that
    resemble one another (bigeminy, several PVCs of one focus) still count as alike."""
    pre, post = int(round(BEAT_PRE_S * fs)), int(round(BEAT_POST_S * fs))
    local = local[(local >= pre) & (local + post <= x.size)]
    if local.size < 2:
        return 0.0
    beats = x[local[:, None] + np.arange(-pre, post)]
    beats = beats - beats.mean(axis=1, keepdims=True)
    norms = np.sqrt((beats ** 2).sum(axis=1))
    if not (norms > 0).all():
        return 0.0
    beats = beats / norms[:, None]
    r = beats @ beats.T
    np.fill_diagonal(r, -1.0)
    return float(np.median(r.max(axis=1)))


def window_features(samples: np.ndarray, fs: float, peaks: np.ndarray, window_s: float = WINDOW_S
                    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """``(bounds, features)``: window start samples (plus the end) and one value per window of
    ``range_mv``, ``clipped``, ``kurtosis``, ``psqi``, ``correlation``, ``beats`` and ``hr_bpm``."""
    samples = np.asarray(samples).reshape(-1)
    fs = float(fs)
    peaks = np.asarray(peaks, dtype=np.int64)
    n = samples.size
    bounds = _windows(n, fs, window_s)
    count = bounds.size - 1
    names = ("range_mv", "clipped", "kurtosis", "psqi", "correlation", "beats", "hr_bpm")
    out = {k: np.zeros(count) for k in names}
    if n == 0:
        return bounds, out
    top, bottom = float(np.max(samples)), float(np.min(samples))
    tol = 1e-4 * (top - bottom)
    chunk = max(1, int(round(CHUNK_S * fs)))
    margin = int(round(MARGIN_S * fs))
    i = 0
    while i < count:  # windows chunk by chunk: a band-passed copy of one chunk at a time
        j = int(np.searchsorted(bounds, bounds[i] + chunk, side="right")) - 1
        j = min(max(j, i + 1), count)
        lo, hi = max(0, int(bounds[i]) - margin), min(n, int(bounds[j]) + margin)
        raw = samples[lo:hi]
        x = bandpass(raw, fs) if raw.size > 12 else np.asarray(raw, dtype=np.float64) - np.mean(raw)
        # at a rail for CLIPPED_S or more in a row: a sampled sine repeats its extreme value too, but briefly
        rails = _runs_of((raw >= top - tol) | (raw <= bottom + tol), max(3, int(round(CLIPPED_S * fs)))) \
            if top > bottom else np.zeros(raw.size, bool)  # a constant signal is flat, not clipped
        w = max(1, int(round(window_s * fs)))
        groups = [(i, j)] if bounds[j] - bounds[i] == (j - i) * w else [(i, j - 1), (j - 1, j)]
        for g0, g1 in groups:  # windows of one length at a time, as the rows of one array
            if g1 <= g0:
                continue
            a = int(bounds[g0]) - lo
            length = int(bounds[g0 + 1] - bounds[g0])
            rows = x[a:a + (g1 - g0) * length].reshape(g1 - g0, length)
            out["range_mv"][g0:g1], out["kurtosis"][g0:g1], out["psqi"][g0:g1] = _shape_stats(rows, fs)
            out["clipped"][g0:g1] = rails[a:a + (g1 - g0) * length].reshape(g1 - g0, length).mean(axis=1)
        for k in range(i, j):
            p0, p1 = np.searchsorted(peaks, [bounds[k], bounds[k + 1]])
            inside = peaks[p0:p1]
            out["beats"][k] = inside.size
            rr = np.diff(peaks[max(p0 - 1, 0):p1]) / fs
            out["hr_bpm"][k] = 60.0 / float(np.median(rr)) if rr.size else 0.0
            out["correlation"][k] = _correlation(x, inside - lo, fs)
        i = j
    return bounds, out


def judge(features: dict[str, np.ndarray], t: Thresholds = THRESHOLDS) -> np.ndarray:
    """The reason each window is unreadable ('' when readable), first failing test first."""
    f = features
    reasons = np.full(f["range_mv"].size, "", dtype=object)
    not_ecg = ((f["kurtosis"] < t.min_kurtosis) | (f["psqi"] < t.min_psqi)
               | (f["hr_bpm"] < t.hr_range[0]) | (f["hr_bpm"] > t.hr_range[1]))
    noise = (f["correlation"] < t.min_correlation) | (f["beats"] < 2)
    for mask, reason in ((not_ecg, NOT_ECG), (noise, NOISE), (f["range_mv"] < t.flat_mv, FLAT),
                         (f["clipped"] > t.clipped_share, SATURATED)):  # the last that applies wins
        reasons[mask] = reason
    return reasons


@dataclass
class Quality:
    """The windows of one recording and the reason each is unreadable ('' when readable)."""

    fs: float
    bounds: np.ndarray       # window start samples, then the end
    reasons: np.ndarray      # per window
    thresholds: Thresholds = THRESHOLDS

    @property
    def n_samples(self) -> int:
        return int(self.bounds[-1])

    @property
    def readable(self) -> np.ndarray:
        return self.reasons == ""

    def _share(self, mask: np.ndarray) -> float:
        return float(np.diff(self.bounds)[mask].sum() / self.n_samples) if self.n_samples else 0.0

    @property
    def readable_fraction(self) -> float:
        return self._share(self.readable)

    def segments(self) -> list[list]:
        """``[start_sample, end_sample, reason]`` of each unreadable stretch (neighbours with one reason merged)."""
        out: list[list] = []
        for k in np.flatnonzero(~self.readable):
            a, b, r = int(self.bounds[k]), int(self.bounds[k + 1]), str(self.reasons[k])
            if out and out[-1][1] == a and out[-1][2] == r:
                out[-1][1] = b
            else:
                out.append([a, b, r])
        return out

    def readable_beats(self, peaks: np.ndarray) -> np.ndarray:
        """Which of ``peaks`` (sample indices) lie in readable windows."""
        k = np.clip(np.searchsorted(self.bounds, np.asarray(peaks), side="right") - 1, 0, self.reasons.size - 1)
        return self.readable[k] if self.reasons.size else np.zeros(len(peaks), bool)

    def breakdown(self) -> str:
        """'not ECG-like 80%, noise 15%': the unreadable reasons by share of the recording."""
        parts = [(self._share(self.reasons == r), r) for r in REASONS]
        return ", ".join(f"{r} {100 * s:.0f}%" for s, r in sorted(parts, reverse=True) if s > 0)

    def refusal(self) -> str | None:
        """Why the recording cannot be analysed, or None."""
        fraction = self.readable_fraction
        if fraction >= self.thresholds.refuse_below:
            return None
        if fraction == 0 and self._share(np.isin(self.reasons, [NOISE, NOT_ECG])) >= 0.5:
            lead = "nothing in it looks like an ECG (no regular, alike QRS complexes)"
        elif fraction == 0:
            lead = "no part of it is readable ECG"
        else:
            lead = f"only {100 * fraction:.0f}% of it is readable ECG"
        return (f"{lead}: {self.breakdown()}. At least {100 * self.thresholds.refuse_below:.0f}% readable ECG is "
                f"needed; is it an ECG lead? Choose another lead by name or number")

    def warnings(self) -> list[dict]:
        """``[{"code", "message"}]``: ``not_ecg`` when most of it is not ECG-like, else ``low_quality``
        when less than ``low_quality_below`` of it is readable; empty otherwise."""
        fraction = self.readable_fraction
        if self._share(self.reasons == NOT_ECG) >= 0.5:
            return [{"code": "not_ecg", "message": f"Most of this recording does not look like an ECG "
                     f"({self.breakdown()}); only {100 * fraction:.0f}% of it was analysed."}]
        if fraction < self.thresholds.low_quality_below:
            return [{"code": "low_quality", "message": f"Only {100 * fraction:.0f}% of this recording is readable "
                     f"ECG ({self.breakdown()}); beats and heart rate come from the readable part only."}]
        return []

    def as_dict(self) -> dict:
        return {"readable_fraction": round(self.readable_fraction, 4), "unreadable": self.segments(),
                "window_s": round(float(np.diff(self.bounds)[0]) / self.fs, 3) if self.reasons.size else None}


def assess_quality(samples: np.ndarray, fs: float, peaks: np.ndarray, thresholds: Thresholds = THRESHOLDS,
                   window_s: float = WINDOW_S) -> Quality:
    """Judge every ``window_s``-second window of one lead (``samples`` in mV, R peaks ``peaks``)."""
    with np.errstate(all="ignore"):
        bounds, features = window_features(samples, fs, peaks, window_s)
    return Quality(float(fs), bounds, judge(features, thresholds), thresholds)
