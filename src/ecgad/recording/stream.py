"""A recording fed in pieces: each beat's verdict as soon as the evidence for it is in.

    stream = RecordingStream(detector, fs=360.0)
    for block in blocks:                 # any sizes, one sample or more
        for beat in stream.feed(block):  # dicts: sample, time_s, rr_s, score, threshold, ...
            ...
    last = stream.finish()               # the beats left; then stream.result(), stream.summary

The beats and scores are those of ``RecordingDetector.analyze`` on the whole signal
(``tests/test_recording_stream.py`` feeds records in random pieces and compares):
the same engines run here piece by piece (:class:`~ecgad.data.rpeaks.RPeakStream`,
:class:`~ecgad.data.quality.QualityStream`, :func:`~.morphology.beat_items`,
:class:`~.table.BlockFeatures`, :func:`~.rhythm.rhythm_at`), and every value depends
on the signal and beats up to a fixed point after the beat, never on how it was cut.
The autoencoder's codes can differ in the last bits: torch and onnxruntime sum in an
order that depends on how many beats go through them together.

When a beat's verdict comes (the clinical delay after its R peak), the latest of:

* its R peak and the next one found: the next RR interval, plus up to
  ``stream_chunk_s + stream_overlap_s`` (2 s) for the R-peak detector's chunk and filter margin;
* its own signal, ``segment_s`` (1 s) after the peak;
* its 5-s quality window judged: up to 5 s after the peak, plus ``MARGIN_S`` (2 s);
* its block of ``block_beats`` beats complete: its dominant beat comes from earlier beats
  only, so this waits only for the first ``warmup_beats`` beats of a stream (about 25 s),
  which learn the patient's dominant beat from themselves.

So about 2 to 7 s after the R peak once the first beats are in; longer where search-back
must wait to take back a missed beat.
"""
from __future__ import annotations

import numpy as np

from ..data.quality import Quality, QualityStream, UnreadableRecording, judge
from ..data.rpeaks import RPeakStream
from .classes import context_at, context_window
from .morphology import beat_items
from .result import RecordingResult, recording_beat
from .rhythm import previous_rr, rhythm_at, rr_ratios
from .settings import MIN_DURATION_S, RecordingTooShort
from .table import BlockFeatures


class _Growing:
    """An array that grows at its end in amortised constant time."""

    def __init__(self, dtype):
        self._data, self.size = np.zeros(64, dtype), 0

    def extend(self, values) -> None:
        values = np.asarray(values, dtype=self._data.dtype).reshape(-1)
        while self.size + values.size > self._data.size:
            self._data = np.concatenate([self._data, np.zeros_like(self._data)])
        self._data[self.size:self.size + values.size] = values
        self.size += values.size

    @property
    def values(self) -> np.ndarray:
        return self._data[:self.size]


class RecordingStream:
    """Beats of one lead fed in blocks of samples (mV at ``fs`` Hz), scored as they become final."""

    def __init__(self, detector, fs: float, *, lead: str = "", source: str = ""):
        self.detector, self.fs, self.lead, self.source = detector, float(fs), lead, source
        s = self.settings = detector.settings
        self.peaks_stream = RPeakStream(self.fs, s.stream_chunk_s, s.stream_overlap_s)
        self.quality = QualityStream(self.fs)
        self.blocks = BlockFeatures(self.fs, s, detector.beat if detector.uses_autoencoder else None)
        self._half = int(round(s.segment_s * self.fs))
        self._buf, self._start = np.zeros(0), 0          # samples from global index _start on
        self._peaks = _Growing(np.int64)
        self._ratios = _Growing(np.float64)               # rr_ratios of the beats with a next peak
        self._features = {}                               # feature -> _Growing, beats in order
        self._with_items = 0                              # beats whose items went to the blocks
        self._emitted = 0                                 # beats given a verdict (kept or not)
        self._last_kept = -1
        self._kept: dict[str, _Growing] = {}              # the kept beats' values, for result()
        self._window_reasons: list[str] = []
        self.ended = False

    @property
    def n_samples(self) -> int:
        return self._start + self._buf.size

    # ---------------------------------------------------------------- feeding
    def feed(self, block) -> list[dict]:
        """Add samples; returns the beats whose verdicts became final (see :meth:`beat`)."""
        if self.ended:
            raise ValueError("the stream has ended; start a new one")
        block = np.asarray(block, dtype=np.float64).reshape(-1)
        if block.size and not np.isfinite(block).all():
            raise ValueError("samples must be finite numbers (mV)")
        self._buf = np.concatenate([self._buf, block])
        new = self.peaks_stream.feed(block)
        self.quality.feed(block, new, self.peaks_stream.settled)
        return self._advance(new)

    def finish(self) -> list[dict]:
        """The signal has ended: the remaining beats."""
        if self.ended:
            return []
        new = self.peaks_stream.finish()
        self.quality.finish(new)
        self.ended = True
        return self._advance(new)

    def _advance(self, new: np.ndarray) -> list[dict]:
        self._peaks.extend(new)
        peaks = self._peaks.values
        # each beat's items once its segment is in (or the signal has ended)
        ready = int(np.searchsorted(peaks, self.n_samples - self._half, side="left")) if not self.ended \
            else peaks.size
        if ready > self._with_items:
            items = beat_items(self._buf, self._start, self.fs, peaks[self._with_items:ready], self.settings)
            self._store(self.blocks.add(items))
            self._with_items = ready
        if self.ended:
            self._store(self.blocks.finish())
        return self._emit()

    def _store(self, blocks: list[tuple[int, dict]]) -> None:
        for _, values in blocks:  # blocks come in order, each after the last
            for name, v in values.items():
                self._features.setdefault(name, _Growing(np.float64)).extend(v)

    def _emit(self) -> list[dict]:
        peaks = self._peaks.values
        n = peaks.size
        with_rhythm = n if self.ended else max(0, n - 1)      # a beat's pause needs the next peak
        with_features = min(g.size for g in self._features.values()) if self._features else 0
        judged = self.quality.bounds[-1] if not self.ended else self.n_samples + 1
        end = min(with_rhythm, with_features, int(np.searchsorted(peaks, judged, side="left")))
        if end <= self._emitted:
            self._trim()
            return []
        index = np.arange(self._emitted, end)
        features = {name: g.values[index] for name, g in self._features.items()}
        features.update(self._rhythm(index))
        out = self._verdicts(index, features, self._context(index))
        self._emitted = end
        self._trim()
        return out

    def _rhythm(self, index: np.ndarray) -> dict[str, np.ndarray]:
        """The rhythm features of the beats ``index``, from the R peaks around them only (the
        values of the whole signal: each reads ``rr_context`` beats back and one ahead)."""
        ctx = self.settings.rr_context
        first, end = int(index[0]), int(index[-1]) + 1
        lo = max(0, first - 2 * ctx - 2)  # a ratio reads ctx beats back; a spread, ctx ratios back
        peaks = self._peaks.values[lo:end + 1]
        if self._ratios.size < end:
            local = np.arange(self._ratios.size, end) - lo
            self._ratios.extend(rr_ratios(previous_rr(peaks, self.fs), ctx, local))
        return rhythm_at(peaks, self.fs, index - lo, self._ratios.values[lo:end], ctx, ended=self.ended)

    def _context(self, index: np.ndarray) -> dict[str, np.ndarray]:
        """The rhythm context of the beats ``index`` for their classes (none without a classifier),
        from the R peaks around them only, as for :meth:`_rhythm`."""
        if self.detector.classifier is None:
            return {}
        lo = context_window(int(index[0]))
        peaks = self._peaks.values[lo:int(index[-1]) + 2]
        return context_at(peaks, self.fs, index - lo, ended=self.ended, first_beat=lo)

    def _verdicts(self, index: np.ndarray, features: dict[str, np.ndarray],
                  context: dict[str, np.ndarray]) -> list[dict]:
        """The beats ``index`` in readable windows, scored and classified; kept for :meth:`result`."""
        c = self.detector.combination
        peaks = self._peaks.values
        keep = self._readable(peaks[index])
        follows = np.array([i > 0 and (self._last_kept == i - 1 if j == 0 else keep[j - 1])
                            for j, i in enumerate(index.tolist())], dtype=bool)
        index, follows = index[keep], follows[keep]
        features = {k: v[keep] for k, v in features.items()}
        context = {k: v[keep] for k, v in context.items()}
        if index.size:
            self._last_kept = int(index[-1])
        elif keep.size:
            self._last_kept = -1
        rr = np.where(follows, (peaks[index] - peaks[np.maximum(index - 1, 0)]) / self.fs, np.nan)
        score = c.score(features)
        classes, class_confidence = self.detector.classify(features, context)
        kept = {"sample": peaks[index], "rr_s": rr, "score": score, "confidence": c.confidence(score),
                **{f"part:{k}": v for k, v in c.parts(features).items()},
                **{f"feature:{k}": v for k, v in features.items()},
                **({"class": classes, "class_confidence": class_confidence} if classes is not None else {})}
        for name, values in kept.items():
            dtype = {"sample": np.int64, "class": "<U1"}.get(name, np.float64)
            self._kept.setdefault(name, _Growing(dtype)).extend(values)
        parts = {k.removeprefix("part:"): v for k, v in kept.items() if k.startswith("part:")}
        return [recording_beat(kept["sample"][j], self.fs, rr[j], score[j], c.threshold, bool(score[j] > c.threshold),
                               kept["confidence"][j], {k: v[j] for k, v in parts.items()}, digits=4,
                               **({"beat_class": classes[j], "class_confidence": class_confidence[j]}
                                  if classes is not None else {}))
                for j in range(index.size)]

    def _readable(self, samples: np.ndarray) -> np.ndarray:
        """Whether the beats at ``samples`` lie in readable windows (all judged by now)."""
        reasons = self._reasons()
        k = np.searchsorted(self.quality.bounds, samples, side="right") - 1
        return np.array([bool(reasons) and reasons[min(int(i), len(reasons) - 1)] == "" for i in k], dtype=bool)

    def _reasons(self) -> list[str]:
        """Each judged window's reason ('' when readable), judged once."""
        judged = len(self.quality.bounds) - 1
        if len(self._window_reasons) < judged:
            start = len(self._window_reasons)
            f = {k: np.asarray(v[start:judged]) for k, v in self.quality.features.items()}
            self._window_reasons.extend(judge(f).tolist())
        return self._window_reasons

    def _trim(self) -> None:
        """Drop the samples that no beat still to come needs."""
        peaks = self._peaks.values
        needed = peaks[self._with_items] if self._with_items < peaks.size else self.peaks_stream.settled
        keep = max(0, int(needed) - self._half - 1)
        if keep > self._start:
            self._buf, self._start = self._buf[keep - self._start:], keep

    # ---------------------------------------------------------------- results
    @property
    def quality_so_far(self) -> Quality:
        q = self.quality
        return Quality(self.fs, np.asarray(q.bounds, dtype=np.int64), np.asarray(self._reasons(), dtype=object))

    @property
    def summary(self) -> dict:
        return self.result().summary

    def result(self) -> RecordingResult:
        """The beats given so far as a ``RecordingResult`` (after :meth:`finish`: what ``analyze``
        gives on the whole signal, or ``UnreadableRecording`` when too little of it is readable)."""
        quality = self.quality_so_far
        if self.ended and self.n_samples < MIN_DURATION_S * self.fs:
            raise RecordingTooShort(self.source, self.n_samples / self.fs)
        if self.ended and (refusal := quality.refusal()) is not None:
            raise UnreadableRecording(refusal)
        c = self.detector.combination
        kept = {k: g.values.copy() for k, g in self._kept.items()}
        empty = np.zeros(0)
        score = kept.get("score", empty)
        return RecordingResult(
            fs=self.fs, lead=self.lead, duration_s=self.n_samples / self.fs, source=self.source,
            sample=kept.get("sample", np.zeros(0, np.int64)), rr_s=kept.get("rr_s", empty), score=score,
            threshold=c.threshold, is_anomaly=score > c.threshold, confidence=kept.get("confidence", empty),
            parts={p: kept.get(f"part:{p}", empty) for p in self.detector.parts},
            features={k.removeprefix("feature:"): v for k, v in kept.items() if k.startswith("feature:")},
            model=self.detector.model_info(), quality=quality,
            classes=kept.get("class", np.zeros(0, "<U1")) if self.detector.classifier is not None else None,
            class_confidence=kept.get("class_confidence", empty) if self.detector.classifier is not None else None)
