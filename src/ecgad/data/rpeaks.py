"""Band-pass filtering and R-peak detection, whole-signal or in chunks.

Detector (our own, Pan-Tompkins style)
--------------------------------------
1. The signal is band-passed to 5-15 Hz (QRS energy; zero-phase Butterworth),
   differentiated, squared and integrated over a centred 150 ms window.
2. Candidates are the local maxima of the integrated signal that are the
   largest within +-200 ms (this is also the refractory period).
3. Adaptive thresholds decide, candidate by candidate in time order: a running
   signal level and noise level (Pan & Tompkins 1985), a candidate within
   360 ms of the last QRS whose steepest slope is under half that QRS's is a
   T wave, and after a gap longer than 1.66 times the recent mean RR the
   largest rejected candidate above half the threshold is taken back
   (search-back). This state is the only thing carried from one chunk to the
   next, which is why chunked processing finds exactly the same peaks.
4. Each accepted QRS is placed on the largest absolute deviation of the
   0.5-40 Hz band-passed signal within +-50 ms (an inverted QRS is found on its
   negative peak).

Measured on the 22 MIT-BIH DS1 records against the ``.atr`` beat annotations
(150 ms tolerance, ventricular flutter episodes excluded as in ANSI/AAMI EC57),
with ``python benchmarks/rpeaks.py --data ../shared/data/mitdb``:
see the ``MEASURED`` note below, filled in from that run.

MEASURED
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import maximum_filter1d, uniform_filter1d
from scipy.signal import butter, sosfiltfilt

QRS_BAND = (5.0, 15.0)
INTEGRATION_S = 0.150
REFRACTORY_S = 0.200
T_WAVE_S = 0.360
SEARCHBACK_RR = 1.66
REFINE_S = 0.050
SLOPE_S = 0.075
THRESHOLD = 0.3  # of the median amplitude of the last 8 QRS


# ------------------------------------------------------------------ filtering


def _sos(fs: float, low: float, high: float, order: int) -> np.ndarray:
    nyquist = fs / 2.0
    if not 0 < low < high:
        raise ValueError(f"band-pass needs 0 < low < high, got low={low}, high={high}")
    high = min(high, 0.45 * fs)  # keep the upper edge clear of Nyquist at low sampling rates
    if low >= high:
        raise ValueError(f"sampling rate {fs} Hz is too low for a {low} Hz high-pass (Nyquist {nyquist} Hz)")
    return butter(order, [low, high], btype="bandpass", fs=fs, output="sos")


def bandpass(x: np.ndarray, fs: float, low: float = 0.5, high: float = 40.0, order: int = 2) -> np.ndarray:
    """Zero-phase Butterworth band-pass (``sosfiltfilt``), float64 out.

    ``order`` is the Butterworth prototype order (the band-pass has twice it, and
    filtering forwards and backwards doubles it again). ``high`` is capped at
    0.45 ``fs``.
    """
    x = np.asarray(x, dtype=np.float64)
    sos = _sos(float(fs), low, high, order)
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
    peak: np.ndarray     # refined R-peak index (largest |0.5-40 Hz signal| within +-50 ms)


def _candidates(x: np.ndarray, fs: float, offset: int, lo: int, hi: int) -> _Candidates:
    """Candidates of a segment ``x`` (first sample at global index ``offset``),
    kept where their position falls in the global range ``[lo, hi)``."""
    qrs = bandpass(x, fs, *QRS_BAND)
    deriv = np.gradient(qrs) * fs
    energy = deriv * deriv
    width = max(1, int(round(INTEGRATION_S * fs)))
    mwi = np.sqrt(uniform_filter1d(energy, size=width, mode="nearest"))  # amplitude, not energy
    radius = max(1, int(round(REFRACTORY_S * fs)))
    local_max = maximum_filter1d(mwi, size=2 * radius + 1, mode="nearest")
    pos = np.flatnonzero((mwi == local_max) & (mwi > 0))
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
    inside = (glob >= lo) & (glob < hi)
    pos = pos[inside]
    clean = np.abs(bandpass(x, fs, 0.5, 40.0))
    slope_r = max(1, int(round(SLOPE_S * fs)))
    refine_r = max(1, int(round(REFINE_S * fs)))
    abs_deriv = np.abs(deriv)
    slope = np.empty(pos.size)
    peak = np.empty(pos.size, dtype=np.int64)
    n = x.size
    for i, p in enumerate(pos):
        a, b = max(0, p - slope_r), min(n, p + slope_r + 1)
        slope[i] = abs_deriv[a:b].max()
        a, b = max(0, p - refine_r), min(n, p + refine_r + 1)
        peak[i] = a + int(np.argmax(clean[a:b]))
    return _Candidates(pos + offset, mwi[pos], slope, peak + offset)


# ------------------------------------------------------------------ decisions


@dataclass
class _State:
    """The adaptive-threshold state carried from candidate to candidate (and chunk to chunk)."""

    fs: float
    levels: list[float] = field(default_factory=list)  # amplitudes of the last 8 QRS
    last_pos: int | None = None       # integrated-signal position of the last QRS
    last_slope: float = 0.0
    rr: list[int] = field(default_factory=list)  # recent RR intervals (samples)
    pending: list[tuple[int, float, float, int]] = field(default_factory=list)  # rejected since last QRS
    peaks: list[int] = field(default_factory=list)

    def threshold(self) -> float:
        return THRESHOLD * float(np.median(self.levels))

    def _accept(self, pos: int, height: float, slope: float, peak: int) -> None:
        self.levels.append(height)
        del self.levels[:-8]
        if self.last_pos is not None:
            self.rr.append(pos - self.last_pos)
            del self.rr[:-8]
        self.last_pos, self.last_slope = pos, slope
        self.pending = [c for c in self.pending if c[0] > pos]
        self.peaks.append(peak)

    def _rr_limit(self) -> float:
        mean_rr = float(np.mean(self.rr)) if self.rr else self.fs  # 1 s until RR is known
        return SEARCHBACK_RR * mean_rr

    def _search_back(self, now: int) -> None:
        """While the gap since the last QRS is too long, take back the best rejected candidate."""
        refractory = REFRACTORY_S * self.fs
        while self.last_pos is not None and now - self.last_pos > self._rr_limit():
            floor = 0.5 * self.threshold()
            best = None
            for c in self.pending:
                if c[0] - self.last_pos > refractory and c[1] >= floor and (best is None or c[1] > best[1]):
                    best = c
            if best is None:
                return
            self._accept(*best)

    def feed(self, cands: _Candidates) -> None:
        refractory = REFRACTORY_S * self.fs
        t_wave = T_WAVE_S * self.fs
        for pos, height, slope, peak in zip(cands.pos.tolist(), cands.height.tolist(),
                                            cands.slope.tolist(), cands.peak.tolist()):
            self._search_back(pos)
            if self.last_pos is not None and pos - self.last_pos <= refractory:
                continue
            if height >= self.threshold():
                is_t = (self.last_pos is not None and pos - self.last_pos < t_wave
                        and slope < 0.5 * self.last_slope)
                if not is_t:
                    self._accept(pos, height, slope, peak)
                    continue
            self.pending.append((pos, height, slope, peak))

    def finish(self, end: int) -> None:
        self._search_back(end)


def _learn(state: _State, cands: _Candidates, fs: float) -> None:
    """Seed the QRS level from the first seconds: the second largest candidate (robust to one artefact)."""
    first = cands.pos < cands.pos[0] + int(2.5 * fs)
    heights = np.sort(cands.height[first])[::-1]
    state.levels = [float(heights[min(1, heights.size - 1)])]


# ------------------------------------------------------------------ public


def _check(fs: float) -> float:
    fs = float(fs)
    if not np.isfinite(fs) or fs <= 0:
        raise ValueError(f"sampling rate must be a positive number, got {fs}")
    return fs


def _segments(source: np.ndarray | Iterable[np.ndarray], chunk: int, overlap: int
              ) -> Iterator[tuple[np.ndarray, int, int, int]]:
    """(segment, its first global index, core start, core end) for each chunk.

    The cores tile the signal; each segment is its core plus up to ``overlap``
    samples either side. An iterable is buffered one chunk (plus margins) at a time.
    """
    if isinstance(source, np.ndarray):
        x = source.reshape(-1)
        n = x.size
        for start in range(0, max(n, 1), chunk):
            end = min(n, start + chunk)
            a, b = max(0, start - overlap), min(n, end + overlap)
            yield x[a:b], a, start, end
        return
    buf = np.zeros(0, dtype=np.float32)
    buf_start = 0   # global index of buf[0]
    core = 0        # global start of the next core
    done = False
    blocks = iter(source)
    while not done:
        while buf_start + buf.size < core + chunk + overlap:
            block = next(blocks, None)
            if block is None:
                done = True
                break
            block = np.asarray(block, dtype=np.float32).reshape(-1)
            buf = np.concatenate([buf, block]) if buf.size else block
        total = buf_start + buf.size
        if core >= total and not (core == 0 and total == 0):
            return
        end = min(total, core + chunk)
        if done and end < core + chunk:
            end = total
        yield buf, buf_start, core, end
        core = end
        cut = max(0, core - overlap - buf_start)
        buf = buf[cut:]
        buf_start += cut
        if done and core >= total:
            return


def _run(source, fs: float, chunk_s: float, overlap_s: float) -> np.ndarray:
    fs = _check(fs)
    chunk = max(1, int(round(chunk_s * fs)))
    overlap = int(round(overlap_s * fs))
    if overlap < int(round((REFRACTORY_S + 2 * INTEGRATION_S) * fs)):
        raise ValueError(f"overlap_s must be at least {REFRACTORY_S + 2 * INTEGRATION_S:.2f} s")
    state = _State(fs)
    end = 0
    for segment, offset, lo, hi in _segments(source, chunk, overlap):
        end = hi
        if hi <= lo or segment.size < 2:
            continue
        cands = _candidates(np.asarray(segment, dtype=np.float64), fs, offset, lo, hi)
        if not state.levels and cands.pos.size:
            _learn(state, cands, fs)
        state.feed(cands)
    state.finish(end)
    return np.asarray(sorted(set(state.peaks)), dtype=np.int64)


def detect_r_peaks(x: np.ndarray, fs: float) -> np.ndarray:
    """R-peak sample indices of a single-lead ECG ``x`` sampled at ``fs`` Hz (sorted, int64)."""
    x = np.asarray(x)
    if x.ndim != 1:
        raise ValueError(f"detect_r_peaks needs a 1-D signal, got shape {x.shape}")
    return _run(x, fs, chunk_s=max(1.0, x.size / _check(fs) + 1.0), overlap_s=2.0)


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


# ------------------------------------------------------------------ evaluation

#: MIT-BIH annotation symbols that mark a beat (the rest mark rhythm, noise, comments...)
BEAT_SYMBOLS = frozenset("NLRBAaJSVrFejnE/fQ")


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
