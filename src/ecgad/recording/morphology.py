"""The template part: each beat against the patient's dominant beat, made from earlier beats.

Two steps, so that a stream and a whole signal give the same values:
:func:`beat_items` cuts what each beat contributes (its windows and QRS width) from
its own band-passed segment, ``segment_s`` either side of its R peak; the
reference of a block of beats (:func:`reference_of`) and the block's distances to
it (:func:`template_features`) then use the items of earlier beats only
(:func:`reference_span`)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import sosfiltfilt

from ..data.beats import znormalise
from ..data.order_stats import median, quantile
from ..data.rpeaks import _sos, bandpass
from .settings import Settings

MIN_DISTANCE = 1e-6  # floor of a distance before its log: the dominant beat itself stays finite
FLAT_PTP = 1e-6      # a window with less range than this (mV) is flat: no shape to compare


@dataclass
class BeatItems:
    """What each of ``n`` beats brings: its z-normalised template window ``z`` ``(n, template_length)``,
    its QRS window less its median ``qrs`` ``(n, core + 2 shift)`` and its QRS ``width`` in s ``(n,)``;
    NaN rows and values where the window runs off the signal or is flat."""

    z: np.ndarray
    qrs: np.ndarray
    width: np.ndarray

    @classmethod
    def concat(cls, parts: list[BeatItems]) -> BeatItems:
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("z", "qrs", "width")))

    def take(self, rows: slice | np.ndarray) -> BeatItems:
        return BeatItems(self.z[rows], self.qrs[rows], self.width[rows])

    @property
    def usable(self) -> np.ndarray:
        return ~np.isnan(self.z[:, 0])


def _cut(rows: np.ndarray, at: int, fs: float, length: int, span_s: float, before: float) -> np.ndarray:
    """``length`` samples over ``span_s`` seconds of each row, the R peak (row index ``at``) ``before``
    output samples in, linearly interpolated: ``(m, length)``, NaN rows where it runs off the row."""
    step = span_s * fs / length
    grid = at - before * step + step * np.arange(length)
    if rows.shape[1] < 2 or grid[0] < 0 or grid[-1] > rows.shape[1] - 1:
        return np.full((rows.shape[0], length), np.nan)
    left = np.minimum(np.floor(grid).astype(np.int64), rows.shape[1] - 2)
    frac = grid - left
    return rows[:, left] * (1 - frac) + rows[:, left + 1] * frac


def _windows(rows: np.ndarray, at: int, fs: float, settings: Settings) -> BeatItems:
    """The items of beats whose band-passed segments are ``rows`` ``(m, L)``, R peaks at index ``at``:
    the same numbers for a beat whichever rows come with it."""
    s = settings
    span = s.template_pre_s + s.template_post_s
    w = _cut(rows, at, fs, s.template_length, span, s.template_pre_s / span * s.template_length)
    flat = ~(np.ptp(w, axis=1) > FLAT_PTP)  # NaN rows too
    with np.errstate(invalid="ignore", divide="ignore"):  # flat rows: NaN, as missing windows
        z = znormalise(w)
    z[flat] = np.nan

    shift = int(round(s.qrs_shift_s * fs))
    length = _qrs_length(s, fs)
    q = _cut(rows, at, fs, length, length / fs, s.qrs_pre_s * fs + shift)
    q = q - median(q, axis=1)[:, None]

    length = 2 * int(round(s.width_half_s * fs))
    w = _cut(rows, at, fs, length, length / fs, length / 2)
    slope = np.abs(np.diff(w, axis=1))
    with np.errstate(invalid="ignore"):
        width = (slope > s.width_level * slope.max(axis=1, keepdims=True)).sum(axis=1) / fs
    width[np.isnan(w[:, 0])] = np.nan
    return BeatItems(z, q, width)


def _qrs_length(s: Settings, fs: float) -> int:
    return int(round((s.qrs_pre_s + s.qrs_post_s) * fs)) + 2 * int(round(s.qrs_shift_s * fs))


def beat_items(samples: np.ndarray, start: int, fs: float, peaks: np.ndarray, settings: Settings = Settings(),
               batch: int = 2048) -> BeatItems:
    """The items of the beats at ``peaks`` (global sample indices) of one lead; ``samples`` (mV)
    hold the signal from global index ``start`` on and must reach ``segment_s`` past the last
    peak, or the signal's end. Each beat's segment is band-passed on its own (rows of one
    array: the same numbers whichever beats are computed together)."""
    peaks = np.asarray(peaks, dtype=np.int64)
    half = int(round(settings.segment_s * fs))
    lo, hi = peaks - half - start, peaks + half + 1 - start
    whole = (lo >= 0) & (hi <= samples.size)
    sos = _sos(float(fs), 0.5, 40.0, 2)
    padlen = min(3 * (2 * len(sos) + 1), 2 * half)
    parts, order = [], []
    for first in range(0, int(whole.sum()), batch):
        idx = np.flatnonzero(whole)[first:first + batch]
        rows = samples[lo[idx, None] + np.arange(2 * half + 1)].astype(np.float64)
        parts.append(_windows(sosfiltfilt(sos, rows, axis=-1, padlen=padlen), half, fs, settings))
        order.append(idx)
    for i in np.flatnonzero(~whole):  # at either end of the signal: a shorter segment of its own
        a, b = max(0, int(lo[i])), min(samples.size, int(hi[i]))
        parts.append(_windows(bandpass(samples[a:b], fs)[None, :], int(peaks[i]) - start - a, fs, settings))
        order.append(np.array([i]))
    if not parts:
        return _windows(np.zeros((0, 2 * half + 1)), half, fs, settings)
    items = BeatItems.concat(parts)
    return items.take(np.argsort(np.concatenate(order), kind="stable"))


def reference_span(block: int, settings: Settings, n_beats: int | None = None) -> tuple[int, int]:
    """``(first, end)`` of the beats that make the dominant beat of block ``block`` (beats
    ``block * block_beats`` on): the ``reference_beats`` before it, or the first ``warmup_beats``
    while there are fewer (``n_beats``: all the signal has, when it has ended with fewer)."""
    start = block * settings.block_beats
    if start >= settings.warmup_beats:
        return max(0, start - settings.reference_beats), start
    end = settings.warmup_beats if n_beats is None else min(settings.warmup_beats, n_beats)
    return 0, end


@dataclass
class Reference:
    """The dominant beat of some beats: template ``(template_length,)``, QRS ``(core,)``, QRS width (s)."""

    template: np.ndarray | None
    qrs: np.ndarray | None
    width: float


def references_of(items: BeatItems, spans: np.ndarray, settings: Settings, fs: float,
                  rounds: int = 2) -> list[Reference]:
    """The dominant beat of each span of beats, ``spans`` ``(b, 2)`` rows ``(first, end)`` into
    ``items``, all of one length: a trimmed median template (median of the usable beats, then
    of the half nearest to it, ``rounds`` times), and the median QRS and width of the half of
    the beats nearest to it. Every span at once, as rows of one array: the same numbers as one
    at a time."""
    spans = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
    rows = spans[:, :1] + np.arange(int(spans[0, 1] - spans[0, 0]) if len(spans) else 0)
    z = items.z[rows]                                  # (b, n, template_length)
    usable = ~np.isnan(z[:, :, 0])

    def nearest_half(t: np.ndarray) -> np.ndarray:
        d = ((z - t[:, None, :]) ** 2).mean(axis=2)
        return usable & (d <= quantile(d, 0.5, axis=1, keep=usable)[:, None])

    t = median(z, axis=1, keep=usable[:, :, None])
    for _ in range(rounds):
        t = median(z, axis=1, keep=nearest_half(t)[:, :, None])
    dominant = nearest_half(t)
    shift = int(round(settings.qrs_shift_s * fs))
    q = items.qrs[rows][:, :, shift:items.qrs.shape[1] - shift]
    has_qrs = dominant & ~np.isnan(q[:, :, 0])
    tq = median(q, axis=1, keep=has_qrs[:, :, None])
    w = items.width[rows]
    width = median(w, axis=1, keep=dominant & ~np.isnan(w))
    return [Reference(t[i], tq[i] if has_qrs[i].any() else None, float(width[i])) if usable[i].any()
            else Reference(None, None, float("nan")) for i in range(len(spans))]


def reference_of(items: BeatItems, settings: Settings, fs: float) -> Reference:
    """The dominant beat of the beats ``items`` (:func:`references_of`)."""
    return references_of(items, np.array([[0, items.width.size]]), settings, fs)[0]


def template_features(items: BeatItems, ref: Reference, settings: Settings, fs: float) -> dict[str, np.ndarray]:
    """``template``, ``qrs`` and ``qrs_width`` of the beats ``items`` against ``ref``, each ``(n,)``.

    ``template``: log RMS distance of the z-normalised window to the dominant one; ``qrs``:
    log RMS distance of the QRS (mV, best of shifts up to ``qrs_shift_s``) relative to the
    dominant QRS's range; ``qrs_width``: ``max(0, log(width / dominant width))``. NaN where
    the beat's window or the reference is missing."""
    n = items.width.size
    out = {name: np.full(n, np.nan) for name in ("template", "qrs", "qrs_width")}
    if ref.template is not None:
        d = np.sqrt(((items.z - ref.template) ** 2).mean(axis=1))
        out["template"] = np.log(np.maximum(d, MIN_DISTANCE))
    if ref.qrs is not None:
        shift = int(round(settings.qrs_shift_s * fs))
        core = ref.qrs.size
        best = np.full(n, np.inf)
        for o in range(0, 2 * shift + 1, max(1, shift // 5)):
            best = np.minimum(best, ((items.qrs[:, o:o + core] - ref.qrs) ** 2).mean(axis=1))
        scale = max(float(np.ptp(ref.qrs)), MIN_DISTANCE)
        out["qrs"] = np.log(np.maximum(np.sqrt(best) / scale, MIN_DISTANCE))
    if np.isfinite(ref.width):
        out["qrs_width"] = np.maximum(np.log(np.maximum(items.width, 1 / fs) / ref.width), 0.0)
    return out
