"""Beat families (Holter "templates"): a recording's beats grouped by the shape of their window.

:func:`beat_families` cuts every beat's z-normalised template window (:func:`~.morphology.beat_items`,
as the detector does) and, by default, adds how premature the beat comes (``window+rhythm``: S
beats have a normal shape but come early); the autoencoder's latent codes are an option
(``latent``, ``mix``). It groups the beats so that every beat lies within ``threshold`` of its
family's centre in that representation: the number of families follows from the threshold, not
from a count given in advance.

How (:func:`cluster`): take up to ``sample_size`` of the beats not yet covered (seeded), cluster
them by complete linkage cut at ``threshold`` (every two beats of a cluster within ``threshold``,
so every member lies within ``threshold`` of the cluster's mean), keep the clusters' means as
centres, and cover every beat within ``threshold`` of a centre; repeat on the beats left (rare
shapes missed by the sample) until none is left. Each beat then joins its nearest centre. A 24-hour
recording costs a few rounds of a few thousand beats plus one nearest-centre pass over all beats.

Families are numbered 1, 2, ... by size (ties: the earliest beat first); 0 marks beats without a
usable window (running off the signal, or flat). Which representation and threshold give the
purest families on MIT-BIH DS1 is measured by ``benchmarks/families.py`` (RESULTS.md, "Beat
families"); the defaults here are its choice.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse import csr_matrix

from .morphology import beat_items
from .rhythm import rhythm_features
from .settings import Settings

REPRESENTATIONS = ("window", "latent", "mix", "window+rhythm")
#: the default representation and, per representation, the default distance threshold
#: (benchmarks/families.py: the choice made on the selection half of DS1)
DEFAULT_REPRESENTATION = "window+rhythm"
THRESHOLDS = {"window": 0.7, "latent": 0.7, "mix": 0.7, "window+rhythm": 0.7}
MIX_LATENT_WEIGHT = 0.5   # the latent block's weight beside the window's in "mix" (both per-dimension RMS)
RHYTHM_WEIGHT = 1.5       # prematurity's weight in "window+rhythm": a beat 30 % early moves 0.54
SAMPLE_SIZE = 2500        # beats clustered per round: complete linkage costs O(n^2) time and memory
EXAMPLES = 5              # example beats per family, the most typical first
BATCH = 8192              # beats per nearest-centre batch
MAX_ROUNDS = 50           # a bound that no real recording reaches: every round covers its whole sample


@dataclass
class Family:
    """One family: ``id`` (1 = largest), ``count`` beats, its mean z-normalised template window
    ``template`` ``(template_length,)``, its mean beat in mV ``mean_mv`` (``template_pre_s`` before to
    ``template_post_s`` after the R peak at the recording's rate, each beat less its median) and
    ``examples``: indices of its most typical beats (nearest its centre), the most typical first."""

    id: int
    count: int
    template: np.ndarray
    mean_mv: np.ndarray
    examples: np.ndarray

    def as_dict(self, digits: int = 4) -> dict:
        return {"id": self.id, "count": self.count, "template": np.round(self.template, digits).tolist(),
                "mean_mv": np.round(self.mean_mv, digits).tolist(), "examples": self.examples.tolist()}


@dataclass
class Families:
    """``family`` ``(n,)``: each beat's family id (0: no usable window); ``families``: ordered by id."""

    family: np.ndarray
    families: list[Family]
    representation: str
    threshold: float
    fs: float
    settings: Settings = field(default_factory=Settings)

    def __len__(self) -> int:
        return len(self.families)

    def display(self, limit: int = 12, min_count: int = 1) -> tuple[list[Family], int]:
        """``(shown, other)``: the first ``limit`` families of at least ``min_count`` beats, and how many
        beats the rest hold (shown together as "other"; they keep their own ids and labels)."""
        shown = [f for f in self.families if f.count >= min_count][:limit]
        return shown, int((self.family > 0).sum()) - sum(f.count for f in shown)

    def as_dict(self, digits: int = 4) -> dict:
        return {"representation": self.representation, "threshold": self.threshold,
                "mean_start_s": -self.settings.template_pre_s,
                "families": [f.as_dict(digits) for f in self.families], "family": self.family.tolist()}


def _nearest(x: np.ndarray, centres: np.ndarray, batch: int = BATCH) -> tuple[np.ndarray, np.ndarray]:
    """``(index, distance)`` of each row's nearest centre (Euclidean), ``batch`` rows at a time."""
    idx, dist = np.empty(len(x), np.int64), np.empty(len(x))
    c = centres.astype(np.float32)
    cc = (c ** 2).sum(axis=1)
    for a in range(0, len(x), batch):
        xb = x[a:a + batch].astype(np.float32)
        # float32 products (half the time of float64): enough to rank centres; the distance itself in float64
        j = (cc - 2 * xb @ c.T).argmin(axis=1)
        idx[a:a + batch] = j
        dist[a:a + batch] = np.sqrt(((xb.astype(np.float64) - centres[j]) ** 2).sum(axis=1))
    return idx, dist


def cluster(x: np.ndarray, threshold: float, *, seed: int = 0, sample_size: int = SAMPLE_SIZE,
            method: str = "complete") -> tuple[np.ndarray, np.ndarray]:
    """``(labels, centres)`` of the rows of ``x`` ``(n, d)`` (no NaN): every row within ``threshold``
    (Euclidean) of a centre, joined to its nearest; labels ``0 .. k-1`` in no particular order,
    centres the means of their members. The same input and seed give the same labels."""
    if not threshold > 0:
        raise ValueError(f"threshold must be positive, got {threshold}")
    n = len(x)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros((0, x.shape[1] if x.ndim == 2 else 0))
    rng = np.random.default_rng(seed)
    centres: list[np.ndarray] = []
    left = np.arange(n)
    for _ in range(MAX_ROUNDS):
        sample = left if left.size <= sample_size else np.sort(rng.choice(left, sample_size, replace=False))
        xs = x[sample].astype(np.float64)
        if len(sample) == 1:
            labels = np.ones(1, np.int64)
        else:
            labels = fcluster(linkage(xs, method=method), threshold, criterion="distance")
        k = int(labels.max())
        centres.append(_means(xs, labels - 1, k))
        _, d = _nearest(x[left], centres[-1])
        left = left[d > threshold]
        if left.size == 0:
            break
    else:  # every round covers at least its sample, so this is unreachable short of MAX_ROUNDS * sample_size beats
        centres.append(x[left].astype(np.float64))
    labels, _ = _nearest(x, np.concatenate(centres))
    used, labels = np.unique(labels, return_inverse=True)
    return labels, _means(x, labels, used.size)


def _means(x: np.ndarray, labels: np.ndarray, k: int, batch: int = BATCH) -> np.ndarray:
    """Mean row of each label ``0 .. k-1`` (sparse one-hot products, ``batch`` rows at a time)."""
    sums, counts = np.zeros((k, x.shape[1])), np.bincount(labels, minlength=k).astype(np.float64)
    for a in range(0, len(x), batch):
        lb = labels[a:a + batch]
        hot = csr_matrix((np.ones(lb.size), (lb, np.arange(lb.size))), shape=(k, lb.size))
        sums += hot @ x[a:a + batch].astype(np.float64)
    return sums / np.maximum(counts, 1)[:, None]


def representation(z: np.ndarray, codes: np.ndarray | None, kind: str, premature: np.ndarray | None = None
                   ) -> np.ndarray:
    """The rows the beats are clustered on, ``float32``: ``window``, the z-normalised windows scaled to RMS
    units (the distance of two windows is their RMS difference: sqrt(2 (1 - r)) for correlation r);
    ``latent``, the latent codes scaled the same way (RMS over the code's dimensions); ``mix``, both side
    by side, the codes weighted ``MIX_LATENT_WEIGHT``; ``window+rhythm``, the window and the beat's
    prematurity (``premature`` of :mod:`.rhythm`, ``-log(RR / local RR)``; NaN counts as on time)
    weighted ``RHYTHM_WEIGHT``: premature beats of normal shape (S) apart from the normal ones."""
    if kind not in REPRESENTATIONS:
        raise ValueError(f"representation {kind!r}: choose one of {', '.join(REPRESENTATIONS)}")
    window = (z / np.sqrt(z.shape[1])).astype(np.float32)
    if kind == "window":
        return window
    if kind == "window+rhythm":
        if premature is None:
            raise ValueError("representation 'window+rhythm' needs each beat's prematurity")
        rr = np.nan_to_num(np.asarray(premature, dtype=np.float64), nan=0.0)
        return np.hstack([window, (RHYTHM_WEIGHT * rr)[:, None].astype(np.float32)])
    if codes is None:
        raise ValueError(f"representation {kind!r} needs the autoencoder's latent codes (a beat detector)")
    latent = (codes / np.sqrt(codes.shape[1])).astype(np.float32)
    return latent if kind == "latent" else np.hstack([window, MIX_LATENT_WEIGHT * latent])


def beat_families(samples: np.ndarray, fs: float, peaks: np.ndarray, *, detector=None,
                  representation_kind: str = DEFAULT_REPRESENTATION, threshold: float | None = None,
                  settings: Settings = Settings(), seed: int = 0, examples: int = EXAMPLES,
                  batch: int = 4096) -> Families:
    """The families of the beats at ``peaks`` (sample indices, in order) of one lead ``samples``
    (mV at ``fs`` Hz). ``detector``: the beat autoencoder (``RecordingDetector.beat``), needed for the
    ``latent`` and ``mix`` representations. ``threshold``: the distance within which a beat joins
    a family's centre (default: ``THRESHOLDS[representation_kind]``). Beats are cut ``batch`` at a
    time; what is kept per beat is its window and code (float32)."""
    samples = np.asarray(samples).reshape(-1)  # no float64 copy of a day's signal: windows are cast as cut
    peaks = np.asarray(peaks, dtype=np.int64).reshape(-1)
    if peaks.size and (np.any(np.diff(peaks) <= 0) or peaks[0] < 0 or peaks[-1] >= samples.size):
        raise ValueError("peaks must be increasing sample indices within the signal")
    if representation_kind not in REPRESENTATIONS:
        raise ValueError(f"representation {representation_kind!r}: choose one of {', '.join(REPRESENTATIONS)}")
    threshold = THRESHOLDS[representation_kind] if threshold is None else float(threshold)
    if not threshold > 0:
        raise ValueError(f"threshold must be positive, got {threshold}")
    needs_codes = representation_kind in ("latent", "mix")
    if needs_codes and detector is None:
        raise ValueError(f"representation {representation_kind!r} needs the beat autoencoder (detector)")
    premature = rhythm_features(peaks, fs, settings.rr_context)["premature"]
    # filled in place, batch by batch: no list of parts to concatenate (that would hold a day's rows twice)
    z = np.empty((peaks.size, settings.template_length), np.float32)
    x, filled = None, 0
    for a in range(0, peaks.size, batch):
        zb = beat_items(samples, 0, fs, peaks[a:a + batch], settings).z
        codes = None
        if needs_codes:
            from .autoencoder import embed_beats
            codes = embed_beats(detector, zb)[0]
        z[a:a + len(zb)] = zb
        usable = ~np.isnan(zb[:, 0])
        rows = representation(zb[usable], None if codes is None else codes[usable], representation_kind,
                              premature[a:a + batch][usable])
        if x is None:
            x = np.empty((peaks.size, rows.shape[1]), np.float32)
        x[filled:filled + len(rows)] = rows
        filled += len(rows)
    x = x[:filled] if x is not None else np.zeros((0, settings.template_length), np.float32)
    usable = np.flatnonzero(~np.isnan(z[:, 0]))
    labels, centres = cluster(x, threshold, seed=seed)
    return _families(samples, fs, peaks, z, x, usable, labels, centres, representation_kind, threshold,
                     settings, examples)


def _families(samples, fs, peaks, z, x, usable, labels, centres, kind, threshold, settings, examples) -> Families:
    """Number the clusters by size and describe each: count, mean window, mean mV beat, examples."""
    k = len(centres)
    counts = np.bincount(labels, minlength=k)
    first = np.full(k, peaks.size)
    np.minimum.at(first, labels, np.arange(labels.size))
    order = np.lexsort((first, -counts))                 # largest first, then the earliest beat
    rank = np.empty(k, np.int64)
    rank[order] = np.arange(k)
    family = np.zeros(peaks.size, np.int32)
    family[usable] = rank[labels] + 1
    templates = _means(z[usable], labels, k)
    mean_mv = _mean_mv(samples, fs, peaks[usable], labels, k, settings)
    dist = np.concatenate([np.sqrt(((x[a:a + BATCH] - centres[labels[a:a + BATCH]]) ** 2).sum(axis=1))
                           for a in range(0, len(x), BATCH)]) if len(x) else np.zeros(0)
    by = np.lexsort((np.arange(labels.size), dist, labels))  # per cluster, nearest its centre first
    starts = np.concatenate([[0], np.cumsum(counts)])
    out = [Family(id=int(rank[c] + 1), count=int(counts[c]), template=templates[c], mean_mv=mean_mv[c],
                  examples=usable[by[starts[c]:starts[c] + min(examples, counts[c])]]) for c in order]
    return Families(family=family, families=out, representation=kind, threshold=threshold, fs=float(fs),
                    settings=settings)


def _mean_mv(samples, fs, peaks, labels, k, settings, batch: int = BATCH) -> np.ndarray:
    """Each cluster's mean beat in mV over its beats whose window lies within the signal (each less its median)."""
    offsets = np.arange(-int(round(settings.template_pre_s * fs)), int(round(settings.template_post_s * fs)) + 1)
    inside = (peaks + offsets[0] >= 0) & (peaks + offsets[-1] < samples.size)
    p, lb = peaks[inside], labels[inside]
    sums, counts = np.zeros((k, offsets.size)), np.bincount(lb, minlength=k).astype(np.float64)
    for a in range(0, p.size, batch):
        w = samples[p[a:a + batch, None] + offsets].astype(np.float64)
        w -= np.median(w, axis=1, keepdims=True)
        hot = csr_matrix((np.ones(w.shape[0]), (lb[a:a + batch], np.arange(w.shape[0]))), shape=(k, w.shape[0]))
        sums += hot @ w
    means = sums / np.maximum(counts, 1)[:, None]
    means[counts == 0] = np.nan
    return means
