"""Every feature of every beat of one recording: whole (:func:`beat_table`) or beat by beat
(:class:`BlockFeatures`, which :mod:`ecgad.recording.stream` feeds as beats arrive)."""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from ..data.beats import rr_intervals
from ..data.rpeaks import detect_r_peaks_chunked
from ..detector import Detector
from .autoencoder import embed_beats, latent_distance, median_code
from .morphology import BeatItems, beat_items, reference_span, references_of, template_features
from .rhythm import rhythm_features
from .settings import AUTOENCODER_FEATURES, Settings

ITEM_BATCH = 4096  # beats cut and embedded at a time by beat_table (memory: a few MB per thousand)
REFERENCE_BATCH = 4  # dominant beats computed together: more would outgrow the CPU's caches and run slower


class BlockFeatures:
    """The template (and autoencoder) features of beats given in order. The beats of block *b*
    (``block_beats`` of them) are compared with the dominant beat of its reference beats
    (:func:`reference_span`, all earlier but in the first block); each beat's values come as
    soon as its items and its block's reference are in. Only the beats a later reference
    still needs are kept."""

    def __init__(self, fs: float, settings: Settings, detector: Detector | None = None):
        self.fs, self.settings, self.detector = float(fs), settings, detector
        self.items: BeatItems | None = None
        self.codes = self.errors = None
        self.offset = 0    # global index of the first beat kept
        self.count = 0     # beats added so far
        self.done = 0      # beats whose features were given
        self._last: tuple[int, tuple] | None = None  # (block, its reference and median code)

    def add(self, items: BeatItems) -> list[tuple[int, dict[str, np.ndarray]]]:
        """Add the next beats' items; returns ``(first_beat, features)`` of the beats now complete."""
        if self.detector is not None:
            codes, errors = embed_beats(self.detector, items.z)
            self.codes = codes if self.codes is None else np.concatenate([self.codes, codes])
            self.errors = errors if self.errors is None else np.concatenate([self.errors, errors])
        self.items = items if self.items is None else BeatItems.concat([self.items, items])
        self.count += items.width.size
        return self._complete(ended=False)

    def finish(self) -> list[tuple[int, dict[str, np.ndarray]]]:
        """No more beats: the values of those left."""
        return self._complete(ended=True)

    def _complete(self, ended: bool) -> list[tuple[int, dict[str, np.ndarray]]]:
        s = self.settings
        blocks = []  # (block, reference span, beats) of the blocks now complete
        done = self.done
        while done < self.count:
            block = done // s.block_beats
            a, e = reference_span(block, s, self.count if ended else None)
            if not ended and self.count < e:
                break
            end = min((block + 1) * s.block_beats, self.count)
            blocks.append((block, (a, e), (done, end)))
            done = end
        references = self._references([(block, span) for block, span, _ in blocks])
        out = [(first, self._features(ref, first, end))
               for (_, _, (first, end)), ref in zip(blocks, references, strict=True)]
        self.done = done
        self._drop(min(reference_span(done // s.block_beats, s)[0], done))
        return out

    def _references(self, blocks: list[tuple[int, tuple[int, int]]]) -> list[tuple[object, object]]:
        """``(Reference, median code)`` of each ``(block, reference span)``; spans of one length
        computed together, the last block's kept (a stream completes a block a few beats at a time)."""
        o, out = self.offset, [None] * len(blocks)
        todo = [i for i, (block, _) in enumerate(blocks) if self._last is None or self._last[0] != block]
        for i in set(range(len(blocks))) - set(todo):
            out[i] = self._last[1]
        for length in {e - a for _, (a, e) in (blocks[i] for i in todo)}:
            same = [i for i in todo if blocks[i][1][1] - blocks[i][1][0] == length]
            for c in range(0, len(same), REFERENCE_BATCH):
                which = same[c:c + REFERENCE_BATCH]
                spans = np.array([blocks[i][1] for i in which]) - o
                for i, ref, (a, e) in zip(which, references_of(self.items, spans, self.settings, self.fs), spans,
                                          strict=True):
                    out[i] = (ref, median_code(self.codes[a:e]) if self.detector is not None else None)
        if blocks:
            self._last = (blocks[-1][0], out[-1])
        return out

    def _features(self, reference: tuple[object, object], first: int, end: int) -> dict[str, np.ndarray]:
        o, (ref, code) = self.offset, reference
        values = template_features(self.items.take(slice(first - o, end - o)), ref, self.settings, self.fs)
        if self.detector is not None:
            values["latent"] = latent_distance(self.codes[first - o:end - o], code)
            values["autoencoder"] = self.errors[first - o:end - o].copy()
        return values

    def _drop(self, before: int) -> None:
        cut = before - self.offset
        if cut > 0:
            self.items = self.items.take(slice(cut, None))
            if self.detector is not None:
                self.codes, self.errors = self.codes[cut:], self.errors[cut:]
            self.offset = before


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
               progress: bool = False, desc: str = "scoring", stop: threading.Event | None = None) -> BeatTable | None:
    """Find the beats of one lead (``samples`` in mV at ``fs`` Hz) and compute their features.

    ``peaks`` skips R-peak detection. Without ``beat_detector`` there are no
    ``autoencoder`` and ``latent`` features. None once ``stop`` is set (checked between batches)."""
    from tqdm.auto import tqdm

    samples = np.asarray(samples).reshape(-1)
    fs = float(fs)
    if peaks is None:
        peaks = detect_r_peaks_chunked(samples, fs, chunk_s=settings.peak_chunk_s)
    peaks = np.asarray(peaks, dtype=np.int64)
    if beat_detector is not None and beat_detector.length != settings.template_length:
        raise ValueError(f"the beat model reads {beat_detector.length} samples per beat, "
                         f"the settings cut {settings.template_length}")
    features = rhythm_features(peaks, fs, settings.rr_context)
    names = ("template", "qrs", "qrs_width") + (AUTOENCODER_FEATURES if beat_detector is not None else ())
    features.update({name: np.full(peaks.size, np.nan) for name in names})
    blocks = BlockFeatures(fs, settings, beat_detector)
    starts = range(0, peaks.size, ITEM_BATCH)
    done = []
    for first in tqdm(starts, desc=desc, unit="batch", disable=not progress or len(starts) < 2, leave=False):
        if stop is not None and stop.is_set():
            return None
        done += blocks.add(beat_items(samples, 0, fs, peaks[first:first + ITEM_BATCH], settings))
    for first, values in done + blocks.finish():
        for name, v in values.items():
            features[name][first:first + v.size] = v
    return BeatTable(fs=fs, n_samples=int(samples.size), peaks=peaks, features=features)
