"""Signal quality: which stretches of a recording are readable ECG.

    quality = assess_quality(signal.samples, signal.fs, peaks)   # peaks: detect_r_peaks_chunked
    quality.readable_fraction, quality.segments()                # [[start, end, reason], ...]
    quality.readable_beats(peaks)                                # mask of beats to keep
    quality.warnings(), quality.refusal()                        # recording-level verdict

The recording is cut into ``WINDOW_S``-second windows (a last, shorter piece is
judged from the recording's last ``WINDOW_S`` seconds), one after another as the signal
arrives (:class:`QualityStream`: a window is judged once ``MARGIN_S`` after it are in).
Each window is judged by the classic ECG signal-quality indices (Li, Clifford & Moody 2008; Orphanidou et al. 2015);
the first of these that fails names the reason:

``saturated``
    more than ``clipped_share`` of the samples sit at the extreme values of the
    recording so far (the amplifier's rails: a clipped signal, a square wave) for
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

import itertools
from dataclasses import dataclass

import numpy as np
from scipy.signal import sosfiltfilt

from .order_stats import quantile
from .rpeaks import _sos

WINDOW_S = 5.0
GROUP = 120          # windows judged together (10 minutes): rows of one array
MARGIN_S = 2.0       # filter margin either side of a window
BEAT_PRE_S, BEAT_POST_S = 0.2, 0.3
CLIPPED_S = 0.01     # a clipped stretch stays at a rail at least this long

FLAT, SATURATED, NOISE, NOT_ECG = "flat", "saturated", "noise", "not ECG-like"
REASONS = (FLAT, SATURATED, NOISE, NOT_ECG)
FEATURES = ("range_mv", "clipped", "kurtosis", "psqi", "correlation", "beats", "hr_bpm")
_NO_PEAKS = np.zeros(0, np.int64)


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


def _runs_of(mask: np.ndarray, min_length: int) -> np.ndarray:
    """``mask`` (1-D or rows) kept only where it is True at least ``min_length`` samples in a row
    (runs do not cross rows)."""
    rows = np.atleast_2d(mask)
    padded = np.zeros((rows.shape[0], rows.shape[1] + 1), np.int8)  # a False after each row
    padded[:, :-1] = rows
    edges = np.diff(np.r_[0, padded.ravel(), 0])
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    long = ends - starts >= min_length
    inside = np.zeros(padded.size + 1, np.int64)
    np.add.at(inside, starts[long], 1)
    np.add.at(inside, ends[long], -1)
    out = (np.cumsum(inside[:-1]) > 0).reshape(padded.shape)[:, :-1]
    return out.reshape(mask.shape)


def _ragged_median(values: np.ndarray, first: np.ndarray, count: np.ndarray) -> np.ndarray:
    """``np.median(values[f:f + c])`` for each ``f``, ``c`` in ``first``, ``count`` (NaN where ``c`` is 0)."""
    width = int(count.max()) if count.size else 0
    if width == 0:
        return np.full(count.size, np.nan)
    j = np.arange(width)
    rows = np.where(j < count[:, None], values[np.minimum(first[:, None] + j, values.size - 1)], np.inf)
    rows.sort(axis=1)
    k = np.maximum(count, 1)
    picked = (rows[np.arange(k.size), (k - 1) // 2] + rows[np.arange(k.size), k // 2]) / 2
    return np.where(count > 0, picked, np.nan)


def _shape_stats(rows: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row (a window of band-passed signal): 1-99 % range, kurtosis, and the share of its
    5-40 Hz power in 5-15 Hz."""
    lo, hi = quantile(rows, [0.01, 0.99], axis=1)
    d = rows - rows.mean(axis=1, keepdims=True)
    d2 = d * d
    var = d2.mean(axis=1)
    kurtosis = np.where(var > 0, (d2 * d2).mean(axis=1) / np.where(var > 0, var, 1.0) ** 2, 0.0)
    spectrum = np.fft.rfft(d, axis=1)
    power = spectrum.real ** 2 + spectrum.imag ** 2
    f = np.fft.rfftfreq(rows.shape[1], 1 / fs)
    total = power[:, (f >= 5) & (f <= 40)].sum(axis=1)
    qrs = power[:, (f >= 5) & (f <= 15)].sum(axis=1)
    return hi - lo, kurtosis, np.where(total > 0, qrs / np.where(total > 0, total, 1.0), 0.0)


def _correlations(x: np.ndarray, peaks: list[np.ndarray], fs: float) -> np.ndarray:
    """How alike the beats of each row of ``x`` are (``peaks[i]``: their indices into row ``i``):
    per beat, its best correlation with another beat of the window; the median of that over the
    beats (0 with fewer than 2 whole beats). Ectopic beats that resemble one another (bigeminy,
    several PVCs of one focus) still count as alike."""
    pre, post = int(round(BEAT_PRE_S * fs)), int(round(BEAT_POST_S * fs))
    local = [p[(p >= pre) & (p + post <= x.shape[1])] for p in peaks]
    count = np.array([p.size for p in local], dtype=np.int64)
    out = np.zeros(len(local))
    width = int(count.max()) if count.size else 0
    if width < 2:
        return out
    # every window's beats as rows of one (windows, width, beat) array, padded with zero beats
    at = np.zeros((len(local), width), np.int64)
    valid = np.arange(width) < count[:, None]
    at[valid] = np.concatenate(local)
    beats = x[np.arange(len(local))[:, None, None], at[:, :, None] + np.arange(-pre, post)]
    beats = beats - beats.mean(axis=2, keepdims=True)
    norms = np.sqrt((beats ** 2).sum(axis=2))
    usable = (count >= 2) & np.where(valid, norms > 0, True).all(axis=1)
    beats = beats / np.where(valid & (norms > 0), norms, 1.0)[:, :, None]
    r = beats @ beats.transpose(0, 2, 1)
    r[:, np.arange(width), np.arange(width)] = -1.0
    r[~np.broadcast_to(valid[:, None, :], r.shape)] = -np.inf  # padding is no partner
    best = np.where(valid, r.max(axis=2), np.inf)
    best.sort(axis=1)
    k = np.maximum(count, 1)
    median = (best[np.arange(k.size), (k - 1) // 2] + best[np.arange(k.size), k // 2]) / 2
    out[usable] = median[usable]
    return out


class QualityStream:
    """Windows judged as the signal arrives, the same as on the whole signal.

    Window *k* covers ``[k w, (k + 1) w)`` and is judged once ``MARGIN_S`` seconds after it
    have arrived (its band-pass margin) and its R peaks are final; the last, shorter piece
    at :meth:`finish`, from the last ``w`` samples. The ``saturated`` test compares a
    window with the extremes of the signal up to the end of its margin, never later ones.
    Memory: the samples of the windows not yet judged, and the R peaks.
    """

    def __init__(self, fs: float, window_s: float = WINDOW_S):
        self.fs = float(fs)
        self.w = max(1, int(round(window_s * self.fs)))
        self.margin = int(round(MARGIN_S * self.fs))
        self._buf, self._start = np.zeros(0), 0      # samples from global index _start on
        self._peaks = np.zeros(0, np.int64)
        self._top, self._bottom = -np.inf, np.inf  # extremes of the samples judged so far
        self.bounds = [0]                             # window starts, then the end of the last judged
        self.features: dict[str, list[float]] = {k: [] for k in FEATURES}
        self.ended = False

    @property
    def n_samples(self) -> int:
        return self._start + self._buf.size

    def feed(self, block: np.ndarray, peaks: np.ndarray = _NO_PEAKS, settled: int = 0) -> int:
        """Add samples and the R peaks found since (sorted, after the earlier ones), all peaks
        before sample ``settled`` being final; returns how many windows are now judged."""
        self._add(block, peaks)
        ready = min((self.n_samples - self.margin) // self.w, settled // self.w)
        self._judge(ready)
        return len(self.bounds) - 1

    def finish(self, peaks: np.ndarray = _NO_PEAKS) -> int:
        """The signal has ended (its last peaks with it): judge the windows left."""
        self._add(np.zeros(0), peaks)
        n = self.n_samples
        self._judge(n // self.w)
        if self.bounds[-1] < n:
            self._rows([max(0, n - self.w)], n - max(0, n - self.w))
            self.bounds.append(n)
        self.ended = True
        return len(self.bounds) - 1

    def _add(self, block: np.ndarray, peaks: np.ndarray) -> None:
        if self.ended:
            raise ValueError("the stream is finished")
        block = np.asarray(block, dtype=np.float64).reshape(-1)
        self._buf = np.concatenate([self._buf, block]) if block.size else self._buf
        self._peaks = np.concatenate([self._peaks, np.asarray(peaks, dtype=np.int64)])

    def _judge(self, ready: int) -> None:
        """Judge the full windows up to window ``ready`` (exclusive), ``GROUP`` at a time."""
        done = len(self.bounds) - 1
        for first in range(done, ready, GROUP):
            count = min(GROUP, ready - first)
            self._rows([(first + i) * self.w for i in range(count)], self.w)
            self.bounds += [(first + i + 1) * self.w for i in range(count)]
        keep = self.bounds[-1] - self.margin - self.w
        if keep > self._start:  # samples no later window (nor the last piece) reads
            self._buf, self._start = self._buf[keep - self._start:], keep

    def _rows(self, starts: list[int], length: int) -> None:
        """Features of the windows ``[a, a + length)`` for ``a`` in ``starts``, each band-passed with
        ``MARGIN_S`` either side (less at the signal's ends)."""
        n, m = self.n_samples, self.margin
        spans = [(max(0, a - m), min(n, a + length + m)) for a in starts]
        runs = itertools.groupby(range(len(starts)), key=lambda i: spans[i][1] - spans[i][0])
        for _, run in runs:  # margins cut short at an end: those windows apart, in order
            group = list(run)
            raw = np.stack([self._buf[spans[i][0] - self._start:spans[i][1] - self._start] for i in group])
            self._store([starts[i] for i in group], length, [spans[i][0] for i in group], raw,
                        bandpass_rows(raw, self.fs))

    def _store(self, starts: list[int], length: int, lo: list[int], raw: np.ndarray, x: np.ndarray) -> None:
        with np.errstate(all="ignore"):  # a flat or constant window: its statistics are 0, not warnings
            self._store_rows(starts, length, lo, raw, x)

    def _store_rows(self, starts: list[int], length: int, lo: list[int], raw: np.ndarray, x: np.ndarray) -> None:
        fs, f = self.fs, self.features
        offsets = np.asarray(starts) - np.asarray(lo)
        rows = x[np.arange(len(starts))[:, None], offsets[:, None] + np.arange(length)]
        # as rows of one array: numpy may sum a batch's rows in another order than one row's, so a
        # window judged alone (a stream) can differ in the last bits of its QRS-band share (1e-15)
        for name, values in zip(("range_mv", "kurtosis", "psqi"), _shape_stats(rows, fs), strict=True):
            f[name] += values.tolist()
        # "saturated": at the extremes of the signal so far, each window's own end included
        tops = np.maximum.accumulate(np.r_[self._top, raw.max(axis=1)])[1:]
        bottoms = np.minimum.accumulate(np.r_[self._bottom, raw.min(axis=1)])[1:]
        self._top, self._bottom = float(tops[-1]), float(bottoms[-1])
        tol = (1e-4 * (tops - bottoms))[:, None]
        at_rail = (raw >= (tops[:, None] - tol)) | (raw <= (bottoms[:, None] + tol))
        at_rail &= (tops > bottoms)[:, None]  # a constant signal is flat, not clipped
        # at a rail for CLIPPED_S or more in a row: a sampled sine repeats its extreme value too, but briefly
        rails = _runs_of(at_rail, max(3, int(round(CLIPPED_S * fs))))
        window = offsets[:, None] + np.arange(length)
        f["clipped"] += rails[np.arange(len(starts))[:, None], window].mean(axis=1).tolist()
        a = np.asarray(starts)
        p0, p1 = np.searchsorted(self._peaks, a), np.searchsorted(self._peaks, a + length)
        f["beats"] += (p1 - p0).astype(float).tolist()
        first = np.maximum(p0 - 1, 0)  # RR intervals from the beat before the window on
        rr = _ragged_median(np.diff(self._peaks) / fs, first, np.maximum(p1 - first - 1, 0))
        f["hr_bpm"] += np.where(np.isnan(rr), 0.0, 60.0 / rr).tolist()
        f["correlation"] += _correlations(x, [self._peaks[i:j] - b for i, j, b in zip(p0, p1, lo, strict=True)],
                                          fs).tolist()


def bandpass_rows(raw: np.ndarray, fs: float) -> np.ndarray:
    """``bandpass`` of each row of ``raw`` (the same numbers as one row at a time)."""
    if raw.shape[1] <= 12:
        return raw - raw.mean(axis=1, keepdims=True)
    sos = _sos(float(fs), 0.5, 40.0, 2)
    return sosfiltfilt(sos, raw, axis=-1, padlen=min(3 * (2 * len(sos) + 1), raw.shape[1] - 1))


def window_features(samples: np.ndarray, fs: float, peaks: np.ndarray, window_s: float = WINDOW_S
                    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """``(bounds, features)``: window start samples (plus the end) and one value per window of
    ``range_mv``, ``clipped``, ``kurtosis``, ``psqi``, ``correlation``, ``beats`` and ``hr_bpm``
    (the windows of a :class:`QualityStream` fed the whole signal)."""
    stream = QualityStream(fs, window_s)
    samples = np.asarray(samples).reshape(-1)
    step = GROUP * stream.w
    peaks = np.asarray(peaks, dtype=np.int64)
    for a in range(0, samples.size, step):  # a few minutes at a time: a float64 copy of those only
        stream.feed(samples[a:a + step], peaks[(peaks >= a) & (peaks < a + step)], settled=a + step)
    stream.finish()
    return np.asarray(stream.bounds, dtype=np.int64), {k: np.asarray(v) for k, v in stream.features.items()}


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
