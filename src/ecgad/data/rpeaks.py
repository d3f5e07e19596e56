"""Band-pass filtering and R-peak detection: whole-signal, in chunks, or fed in pieces
(:class:`RPeakStream`, the one engine behind all three).

Detector: our own, Pan-Tompkins style
-------------------------------------
1. The signal is band-passed to 5-15 Hz (the QRS band; zero-phase Butterworth),
   differentiated, squared, averaged over a centred 150 ms window, and
   square-rooted (an amplitude, so a PVC with a third of a normal beat's slope
   energy is not lost below an energy threshold).
2. Candidates: the maxima of that curve that are the largest within +-200 ms
   (which is also the refractory period).
3. Decisions, candidate by candidate in time order: a candidate is a QRS when
   it reaches 0.3 times the median amplitude of the last 8 QRS, unless it comes
   within 360 ms of the last QRS less than half as steep (a T wave). When no
   QRS has come for 1.66 times the mean of the last 8 RR intervals, the largest
   rejected candidate above half the threshold is taken back (search-back;
   the floor halves again for each further such interval, at most 4 times, so
   beats are found again after the signal shrinks). This state is all that
   passes from one chunk to the next, so chunked processing finds exactly the
   peaks of whole-signal processing, and a stream fed in pieces of any size
   (one sample or more) finds them too, each at most ``chunk_s + overlap_s``
   seconds after it in the usual case (see :class:`RPeakStream`).
4. Each QRS is placed on the extreme of the 40 Hz low-passed signal, less its
   median over +-0.5 s, within +-50 ms: the largest deflection of the polarity
   most of the last 8 QRS had, unless the other is more than twice as large
   (an inverted ectopic beat). Inverted leads thus get their negative peak, and
   a biphasic QRS does not jump between R and S from beat to beat.

Why ours: on the 22 MIT-BIH DS1 records (lead MLII) against the ``.atr`` beat
annotations (150 ms tolerance, ventricular flutter excluded, as in ANSI/AAMI EC57) it
finds more beats and fewer false ones than neurokit2's default detector, so neurokit2
is not a dependency: ``python benchmarks/rpeaks.py --data ../shared/data/mitdb``, figures
in benchmarks/RESULTS.md ("R-peak detection").
"""
from __future__ import annotations

import functools
import os
import statistics
from collections.abc import Iterable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field, fields

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.ndimage import maximum_filter1d, uniform_filter1d
from scipy.signal import butter, sosfiltfilt

from .order_stats import median

QRS_BAND = (5.0, 15.0)
INTEGRATION_S = 0.150
REFRACTORY_S = 0.200
T_WAVE_S = 0.360
SEARCHBACK_RR = 1.66
REFINE_S = 0.050
SLOPE_S = 0.075
BASELINE_S = 0.5
MIN_OVERLAP_S = 1.0
WHOLE_MAX_S = 600.0  # longer signals are processed in chunks
MAX_THREADS = 4      # threads that find a long signal's chunks' candidates, at most one a core
MAX_DECAYS = 4
T_SLOPE = 0.5  # a candidate soon after a QRS, less steep than this share of it, is a T wave
POLARITY_RATIO = 2.0
MAX_PENDING = 1024
THRESHOLD = 0.3  # of the median amplitude of the last 8 QRS


# ------------------------------------------------------------------ filtering


@functools.lru_cache(maxsize=32)
def _sos(fs: float, low: float, high: float, order: int) -> np.ndarray:
    nyquist = fs / 2.0
    if not 0 < low < high:
        raise ValueError(f"band-pass needs 0 < low < high, got low={low}, high={high}")
    high = min(high, 0.45 * fs)  # keep the upper edge clear of Nyquist at low sampling rates
    if low >= high:
        raise ValueError(f"sampling rate {fs} Hz is too low for a {low} Hz high-pass (Nyquist {nyquist} Hz)")
    return butter(order, [low, high], btype="bandpass", fs=fs, output="sos")


@functools.lru_cache(maxsize=32)
def _lowpass_sos(fs: float, high: float, order: int) -> np.ndarray:
    return butter(order, min(high, 0.45 * fs), btype="lowpass", fs=fs, output="sos")


def bandpass(x: np.ndarray, fs: float, low: float = 0.5, high: float = 40.0, order: int = 2) -> np.ndarray:
    """Zero-phase Butterworth band-pass (``sosfiltfilt``), float64 out.

    ``order`` is the Butterworth prototype order (the band-pass has twice it, and
    filtering forwards and backwards doubles it again). ``high`` is capped at
    0.45 ``fs``.
    """
    x = np.asarray(x, dtype=np.float64)
    sos = _sos(float(fs), float(low), float(high), int(order))
    padlen = min(3 * (2 * len(sos) + 1), max(x.size - 1, 0))
    if x.size < 2:
        return x.copy()
    return sosfiltfilt(sos, x, padlen=padlen)


# ------------------------------------------------------------------ candidates


@dataclass
class _Candidates:
    pos: np.ndarray      # index of the integrated-signal maximum
    height: np.ndarray   # integrated-signal value there
    slope: np.ndarray    # steepest |derivative| of the QRS band within +-75 ms
    up: np.ndarray       # index of the maximum within +-50 ms of the low-passed signal less its local median
    up_amp: np.ndarray   # its value
    down: np.ndarray     # index of the minimum there
    down_amp: np.ndarray  # minus its value


def _rows(a: np.ndarray, pos: np.ndarray, radius: int, pad: float | None) -> np.ndarray:
    """``a[p - radius : p + radius + 1]`` for each p in ``pos``, one row each, padded past
    the ends with ``pad`` (None: the edge value)."""
    if pad is None:
        padded = np.pad(a, radius, mode="edge")
    else:
        padded = np.pad(a, radius, mode="constant", constant_values=pad)
    return sliding_window_view(padded, 2 * radius + 1)[pos]


def _first_extreme(w: np.ndarray) -> np.ndarray:
    """Per row, the index of the maximum, the first of near-ties: quantised signals have flat
    tops whose filtered samples differ by rounding only, which chunk edges could otherwise tip."""
    if w.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    top = np.nanmax(w, axis=1, keepdims=True)
    return np.argmax(w >= top - (1e-9 + 1e-7 * np.abs(top)), axis=1).astype(np.int64)


def _candidates(x: np.ndarray, fs: float, offset: int, lo: int, hi: int) -> _Candidates:
    """Candidates of a segment ``x`` (first sample at global index ``offset``),
    kept where their position falls in the global range ``[lo, hi)``."""
    qrs = bandpass(x, fs, *QRS_BAND)
    deriv = np.gradient(qrs) * fs
    energy = deriv * deriv
    del qrs
    width = max(1, int(round(INTEGRATION_S * fs)))
    # amplitude, not energy; floored at 0: the running mean of a long run of zeros can round below it
    mwi = np.sqrt(np.maximum(uniform_filter1d(energy, size=width, mode="nearest"), 0.0))
    del energy
    radius = max(1, int(round(REFRACTORY_S * fs)))
    local_max = maximum_filter1d(mwi, size=2 * radius + 1, mode="nearest")
    pos = np.flatnonzero((mwi == local_max) & (mwi > 0))
    del local_max
    if pos.size:  # a plateau gives several equal maxima: keep the first of each run
        keep = np.ones(pos.size, dtype=bool)
        last = pos[0]
        for i in range(1, pos.size):
            if pos[i] - last <= radius:
                keep[i] = False
            else:
                last = pos[i]
        pos = pos[keep]
    glob = pos + offset
    pos = pos[(glob >= lo) & (glob < hi)]
    # Where the R peak is: the 40 Hz low-passed signal less the local baseline (its median
    # over +-BASELINE_S). A 0.5 Hz high-pass would do the same, but its transient outlasts a
    # chunk's overlap, so that chunked and whole-signal peaks could differ by a sample.
    clean = sosfiltfilt(_lowpass_sos(fs, 40.0, 2), x)
    base_r = max(1, int(round(BASELINE_S * fs)))
    slope_r = max(1, int(round(SLOPE_S * fs)))
    refine_r = max(1, int(round(REFINE_S * fs)))
    np.abs(deriv, out=deriv)
    slope = _rows(deriv, pos, slope_r, -np.inf).max(axis=1)
    baseline = median(_rows(clean, pos, base_r, None), axis=1)
    window = _rows(clean, pos, refine_r, np.nan) - baseline[:, None]
    up_i, down_i = _first_extreme(window), _first_extreme(-window)
    rows = np.arange(pos.size)
    up_amp, down_amp = window[rows, up_i], -window[rows, down_i]
    up, down = pos - refine_r + up_i, pos - refine_r + down_i
    return _Candidates(pos + offset, mwi[pos], slope, up + offset, up_amp, down + offset, down_amp)


# ------------------------------------------------------------------ decisions

_Cand = tuple  # (pos, height, slope, up, up_amp, down, down_amp)


@dataclass
class _State:
    """The adaptive-threshold state carried from candidate to candidate (and chunk to chunk)."""

    fs: float
    levels: list[float] = field(default_factory=list)  # amplitudes of the last 8 QRS
    origin: int = 0                   # where the search for the first QRS starts
    last_pos: int | None = None       # integrated-signal position of the last QRS
    last_slope: float = 0.0
    rr: list[int] = field(default_factory=list)  # recent RR intervals (samples)
    signs: list[int] = field(default_factory=list)  # polarity of the last 8 QRS (+1 up, -1 down)
    pending: list[_Cand] = field(default_factory=list)  # candidates rejected since the last QRS
    peaks: list[int] = field(default_factory=list)

    def threshold(self) -> float:
        return THRESHOLD * statistics.median(self.levels)

    def _accept(self, c: _Cand) -> None:
        pos, height, slope, up, up_amp, down, down_amp = c
        self.levels.append(height)
        del self.levels[:-8]
        if self.last_pos is not None:
            self.rr.append(pos - self.last_pos)
            del self.rr[:-8]
        self.last_pos, self.last_slope = pos, slope
        self.pending = [p for p in self.pending if p[0] > pos]
        # the R peak: the deflection of the recording's usual polarity, unless the
        # other is more than POLARITY_RATIO times larger (an inverted ectopic beat)
        dominant = 1 if sum(self.signs) >= 0 else -1
        if dominant > 0:
            self.peaks.append(down if down_amp > POLARITY_RATIO * up_amp else up)
        else:
            self.peaks.append(up if up_amp > POLARITY_RATIO * down_amp else down)
        self.signs.append(1 if up_amp >= down_amp else -1)
        del self.signs[:-8]

    def _rr_limit(self) -> float:
        mean_rr = sum(self.rr) / len(self.rr) if self.rr else self.fs  # 1 s until RR is known
        return SEARCHBACK_RR * mean_rr

    def _search_back(self, now: int) -> None:
        """While the gap since the last QRS is too long, take back the best rejected candidate.

        The floor is half the threshold, halved again for every further RR limit
        the gap lasts (at most MAX_DECAYS times), so that beats are found again
        after the signal shrinks (a loosening electrode) without lowering the
        level the next beats are judged by.
        """
        if not self.levels:
            return
        refractory = REFRACTORY_S * self.fs
        while True:
            anchor = self.origin if self.last_pos is None else self.last_pos
            limit = self._rr_limit()
            if now - anchor <= limit:
                return
            decays = min(MAX_DECAYS, int((now - anchor) // limit) - 1)
            floor = 0.5 * self.threshold() * 0.5 ** decays
            start = anchor + refractory if self.last_pos is not None else anchor
            best = None
            for c in self.pending:
                if c[0] > start and c[1] >= floor and (best is None or c[1] > best[1]):
                    best = c
            if best is None:
                return
            self._accept(best)

    def feed(self, cands: _Candidates) -> None:
        refractory = REFRACTORY_S * self.fs
        t_wave = T_WAVE_S * self.fs
        columns = (cands.pos.tolist(), cands.height.tolist(), cands.slope.tolist(), cands.up.tolist(),
                   cands.up_amp.tolist(), cands.down.tolist(), cands.down_amp.tolist())
        for c in zip(*columns, strict=True):
            pos, height, slope = c[0], c[1], c[2]
            self._search_back(pos)
            if self.last_pos is not None and pos - self.last_pos <= refractory:
                continue
            if height >= self.threshold():
                is_t = (self.last_pos is not None and pos - self.last_pos < t_wave
                        and slope < T_SLOPE * self.last_slope)
                if not is_t:
                    self._accept(c)
                    continue
            self.pending.append(c)
            if len(self.pending) > MAX_PENDING:  # a long stretch without a QRS: forget the oldest
                del self.pending[0]

    def finish(self, end: int) -> None:
        self._search_back(end)


def _learn(state: _State, cands: _Candidates, fs: float) -> None:
    """Seed the QRS level from the first seconds: the second largest candidate (robust to one artefact)."""
    first = cands.pos < cands.pos[0] + int(2.5 * fs)
    heights = np.sort(cands.height[first])[::-1]
    state.levels = [float(heights[min(1, heights.size - 1)])]
    state.origin = int(cands.pos[0]) - 1


# ------------------------------------------------------------------ public


def _check(fs: float) -> float:
    fs = float(fs)
    if not np.isfinite(fs) or fs <= 0:
        raise ValueError(f"sampling rate must be a positive number, got {fs}")
    return fs


class RPeakStream:
    """R peaks of a signal fed in blocks of any size, one sample or more: the peaks of
    :func:`detect_r_peaks_chunked` (same ``chunk_s`` and ``overlap_s``) on the whole signal.

    >>> stream = RPeakStream(360.0)
    >>> peaks = [stream.feed(block) for block in blocks] + [stream.finish()]

    ``feed`` returns the peaks that became final (sorted sample indices from the
    stream's start, each once). The signal is processed ``chunk_s`` seconds at a
    time, each chunk once ``overlap_s`` seconds after it have arrived (the
    filters' margin), so a peak comes at most ``chunk_s + overlap_s`` seconds
    after it; later only when search-back takes it back (at the next candidate
    1.66 mean RR after the last QRS) or at the start, where the first QRS level is
    learnt from the first 2.5 s of candidates. The adaptive thresholds run on from
    chunk to chunk. Memory: one chunk plus the margins.
    """

    def __init__(self, fs: float, chunk_s: float = 60.0, overlap_s: float = 2.0):
        self.fs = _check(fs)
        if overlap_s < MIN_OVERLAP_S:
            raise ValueError(f"overlap_s must be at least {MIN_OVERLAP_S} s (filters and windows need the margin)")
        if chunk_s <= 0:
            raise ValueError(f"chunk_s must be positive, got {chunk_s}")
        self.chunk = max(1, int(round(chunk_s * self.fs)))
        self.overlap = int(round(overlap_s * self.fs))
        self._buf = np.zeros(0)       # float64 samples from global index _buf_start on
        self._buf_start = 0
        self._blocks: list[np.ndarray] = []  # fed since, joined to _buf only when a chunk is due
        self._blocks_n = 0
        self._core = 0                # global start of the next chunk to process
        self._state = _State(self.fs)
        self._warmup: list[_Candidates] = []  # candidates held until the first level can be learnt
        self._emitted = 0             # how many of the state's peaks were returned
        self._last = -1               # the last peak returned
        self._finished = False
        self._ahead: dict[tuple[int, int, int, int], Future] = {}  # chunks' candidates found beforehand

    def look_ahead(self, x: np.ndarray, pool: Executor) -> None:
        """Find the candidates of every chunk of the whole signal ``x`` (the samples this stream will
        be fed) on ``pool``'s threads, ahead of the decisions, which stay in order here. A chunk's
        candidates depend on its own samples only: the same peaks, found on several cores."""
        n = x.size
        for lo in range(0, n, self.chunk):
            end = min(n, lo + self.chunk)
            a, b = max(0, lo - self.overlap), min(n, end + self.overlap)
            if b - a >= 2:
                self._ahead[(a, b, lo, end)] = pool.submit(_chunk_candidates, x, self.fs, a, b, lo, end)

    @property
    def n_samples(self) -> int:
        """Samples fed so far."""
        return self._buf_start + self._buf.size + self._blocks_n

    @property
    def settled(self) -> int:
        """Every R peak before this sample has been returned (or will never be): the next chunk's
        candidates lie at its start or later, and search-back takes back only candidates still
        pending (those below its lowest floor never), each peak within ``REFINE_S`` of its candidate."""
        if self._finished:
            return self.n_samples
        state = self._state
        bound = self._core
        if self._warmup:
            bound = min(bound, int(self._warmup[0].pos[0]))
        if state.levels and state.pending:
            floor = 0.5 * state.threshold() * 0.5 ** MAX_DECAYS
            alive = [c[0] for c in state.pending if c[1] >= floor]
            bound = min([bound, *alive])
        return max(0, bound - int(round(REFINE_S * self.fs)))

    def feed(self, block: np.ndarray) -> np.ndarray:
        """Add samples; returns the R peaks that became final (int64, possibly empty)."""
        if self._finished:
            raise ValueError("the stream is finished; start a new RPeakStream")
        block = np.asarray(block, dtype=np.float64).reshape(-1)
        if block.size:
            self._blocks.append(block)
            self._blocks_n += block.size
        while self.n_samples >= self._core + self.chunk + self.overlap:
            self._process(self._core + self.chunk)
        return self._new_peaks()

    def finish(self) -> np.ndarray:
        """The signal has ended: the remaining R peaks."""
        if not self._finished:
            while self._core < self.n_samples:
                self._process(min(self.n_samples, self._core + self.chunk))
            self._take(None, final=True)
            self._state.finish(self.n_samples)
            self._finished = True
        return self._new_peaks()

    def _process(self, end: int) -> None:
        """Find the candidates of the chunk ``[_core, end)`` (filtered with the margins either side)."""
        if self._blocks:
            self._buf = np.concatenate([self._buf, *self._blocks])
            self._blocks, self._blocks_n = [], 0
        lo = self._core
        a, b = max(0, lo - self.overlap), min(self.n_samples, end + self.overlap)
        ahead = self._ahead.pop((a, b, lo, end), None)
        if ahead is not None:
            cands = ahead.result()
        else:
            segment = self._buf[a - self._buf_start:b - self._buf_start]
            cands = _candidates(segment, self.fs, a, lo, end) if end > lo and segment.size >= 2 else None
        self._core = end
        if cands is not None:
            self._take(cands, final=False)
        cut = max(0, end - self.overlap - self._buf_start)
        self._buf, self._buf_start = self._buf[cut:], self._buf_start + cut

    def _take(self, cands: _Candidates | None, final: bool) -> None:
        state = self._state
        if not state.levels:
            if cands is not None and cands.pos.size:
                self._warmup.append(cands)
            if not self._warmup:
                return
            # the first level is learnt from the candidates of the first 2.5 s: wait until all are seen
            if not final and self._core < self._warmup[0].pos[0] + int(2.5 * self.fs):
                return
            cands = _Candidates(*(np.concatenate([getattr(c, f.name) for c in self._warmup])
                                  for f in fields(_Candidates)))
            self._warmup = []
            _learn(state, cands, self.fs)
        if cands is not None:
            state.feed(cands)

    def _new_peaks(self) -> np.ndarray:
        # QRS are accepted in time order, more than the refractory period apart: new peaks follow old ones
        new = np.unique(np.asarray(self._state.peaks[self._emitted:], dtype=np.int64))
        self._emitted = len(self._state.peaks)
        new = new[new > self._last]
        if new.size:
            self._last = int(new[-1])
        return new


def _chunk_candidates(x: np.ndarray, fs: float, a: int, b: int, lo: int, end: int) -> _Candidates:
    return _candidates(np.asarray(x[a:b], dtype=np.float64), fs, a, lo, end)


def _run(source, fs: float, chunk_s: float, overlap_s: float) -> np.ndarray:
    stream = RPeakStream(fs, chunk_s, overlap_s)
    if not isinstance(source, np.ndarray):
        found = [stream.feed(block) for block in source]
        return np.concatenate([*found, stream.finish()])
    x = source.reshape(-1)  # a chunk at a time: a memory-mapped array is never read whole
    threads = min(MAX_THREADS, len(os.sched_getaffinity(0)))
    with ThreadPoolExecutor(threads) if threads > 1 and x.size > 2 * stream.chunk else nullcontext() as pool:
        if pool is not None:
            stream.look_ahead(x, pool)
        found = [stream.feed(x[i:i + stream.chunk]) for i in range(0, x.size, stream.chunk)]
        return np.concatenate([*found, stream.finish()])


def detect_r_peaks(x: np.ndarray, fs: float) -> np.ndarray:
    """R-peak sample indices of a single-lead ECG ``x`` sampled at ``fs`` Hz (sorted, int64).

    Signals up to ``WHOLE_MAX_S`` seconds are processed in one piece; longer ones
    in chunks (``detect_r_peaks_chunked``), which finds the same peaks with
    bounded memory.
    """
    x = np.asarray(x)
    if x.ndim != 1:
        raise ValueError(f"detect_r_peaks needs a 1-D signal, got shape {x.shape}")
    fs = _check(fs)
    if x.size > WHOLE_MAX_S * fs:
        return detect_r_peaks_chunked(x, fs)
    return _run(x, fs, chunk_s=x.size / fs + 1.0, overlap_s=2.0)


def detect_r_peaks_chunked(samples: np.ndarray | Iterable[np.ndarray], fs: float,
                           chunk_s: float = 60.0, overlap_s: float = 2.0) -> np.ndarray:
    """R peaks of a long recording, ``chunk_s`` seconds at a time.

    ``samples`` is a 1-D array (memory-mapped is fine) or an iterable of 1-D
    blocks of any sizes. Each chunk is filtered with ``overlap_s`` seconds of
    its neighbours on either side, a candidate belongs to the chunk whose core
    holds it (so none is counted twice at a seam), and the adaptive thresholds
    run on across chunks: the peaks are those of ``detect_r_peaks`` on the whole
    signal. Memory stays at a few float64 copies of one chunk.
    """
    return _run(samples, fs, chunk_s, overlap_s)
