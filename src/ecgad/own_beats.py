"""Train a detector on one's own labelled beats: read, split, choose the model size on
validation, fit.

A labelled beat file holds one beat per row, its label first (UCR style; any text or
number, e.g. ``N``/``V`` or ``1``/``-1``); one label names the normal beats, every
other label is abnormal. The detector learns the normal beats only, so:

* the **training part** is the normal beats less a validation share;
* the **validation part** is ``validation_fraction`` of the normal beats (at least
  ``MIN_VALIDATION_NORMALS``) plus *every* abnormal beat: nothing trains on abnormal
  beats, and a small file's few abnormal beats are what model choice and threshold
  rest on. The threshold is then re-weighted to the file's own share of normal beats
  (as the ECG5000 ``ucr`` protocol does), so that this richer mix does not bias it.
  The normal beats held out are drawn at random (the seed).

Model choice, on the validation part only: small sets (tens to hundreds of beats)
overfit a model sized for ECG5000's thousands, so a few sizes and regularisations
(``CANDIDATES``) are trained and the one with the best validation ROC AUC is kept
(ties: the smaller). The test file, where there is one, is never looked at.
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .data.beatfile import Source, read_named
from .data.beats import prepare
from .detector import Detector
from .train_config import TrainConfig

MIN_TRAIN_NORMALS = 10       # below this the autoencoder learns noise and the latent k-NN has too few codes
MIN_VALIDATION_NORMALS = 5   # the score's parts are standardised on the validation normals
LARGE = 2000                 # from this many training normals, the ECG5000 model's size and schedule


@dataclass(frozen=True)
class Candidate:
    """A model size and regularisation to try: the hybrid's config and its training schedule."""

    name: str
    config: dict
    train: TrainConfig


# Chosen on validation ROC AUC per data set: single small members (few weights to fit on few
# beats; three members cost three times the time), three bottleneck widths; weight decay and
# input noise regularise the narrow ones more. Epochs follow from ``STEPS`` (see candidates_for).
CANDIDATES = (
    Candidate("1 member, latent 4", {"members": 1, "latent": 4, "decoder_hidden": 64},
              TrainConfig(batch_size=32, weight_decay=1e-3, noise=0.1)),
    Candidate("1 member, latent 8", {"members": 1, "latent": 8},
              TrainConfig(batch_size=32, weight_decay=1e-4, noise=0.05)),
    Candidate("1 member, latent 16", {"members": 1, "latent": 16},
              TrainConfig(batch_size=32, weight_decay=1e-4, noise=0.05)),
)
STEPS = 900  # optimiser steps per candidate: on 30 beats an epoch is one step, and 60 epochs underfit


class OwnBeatsError(ValueError):
    """A labelled beat file that cannot train a detector; the message says why and what is needed."""


@dataclass
class LabelledBeats:
    """Beats (prepared, ``(n, length)``) and their labels as the file names them."""

    values: np.ndarray
    labels: np.ndarray          # str
    normal: str
    source: str = ""

    @property
    def is_anomaly(self) -> np.ndarray:
        return self.labels != self.normal

    def take(self, index: np.ndarray) -> LabelledBeats:
        return LabelledBeats(self.values[index], self.labels[index], self.normal, self.source)

    def counts(self) -> dict[str, int]:
        names, counts = np.unique(self.labels, return_counts=True)
        order = sorted(range(len(names)), key=lambda i: (names[i] != self.normal, -counts[i], names[i]))
        return {str(names[i]): int(counts[i]) for i in order}

    def describe(self) -> str:
        return ", ".join(f"{n} {name}" for name, n in self.counts().items())


def read(source: Source, normal_label: str, name: str | None = None, length: int = 140, *,
         require_normal: bool = True) -> LabelledBeats:
    """A labelled beat file (see ``ecgad.data.beatfile.read_named``), checked and prepared;
    refused, with its labels named, when no beat carries ``normal_label`` (unless told not to)."""
    label = name or str(source)
    beats, labels = read_named(source, name=name)
    try:
        values = prepare(beats, length)
    except ValueError as exc:
        raise OwnBeatsError(f"{label}: {exc}") from None
    data = LabelledBeats(values, np.asarray(labels, dtype=str), str(normal_label).strip(), label)
    if require_normal and not (data.labels == data.normal).any():
        raise OwnBeatsError(f"{label}: no beat is labelled {data.normal!r} (the --normal-label); "
                            f"its labels: {data.describe()}")
    return data


def min_normals(validation_fraction: float) -> int:
    """The fewest normal beats a file needs to train on with this validation share."""
    n = MIN_TRAIN_NORMALS + MIN_VALIDATION_NORMALS
    while n - _n_validation(n, validation_fraction) < MIN_TRAIN_NORMALS:
        n += 1
    return n


def _n_validation(n_normal: int, fraction: float) -> int:
    return max(MIN_VALIDATION_NORMALS, round(fraction * n_normal))


@dataclass
class FileSplit:
    train: LabelledBeats        # normal beats only
    validation: LabelledBeats   # normal beats and every abnormal beat
    normal_share: float         # share of normal beats in the whole file


def split(data: LabelledBeats, validation_fraction: float = 0.2, seed: int = 0) -> FileSplit:
    """Training normals and a validation part (see the module docstring); refuses, saying
    what is needed, files with too few normal beats or no abnormal beat."""
    if not 0 < validation_fraction < 1:
        raise OwnBeatsError(f"the validation fraction must lie between 0 and 1, got {validation_fraction}")
    normal = np.flatnonzero(~data.is_anomaly)
    need = min_normals(validation_fraction)
    if len(normal) < need:
        raise OwnBeatsError(
            f"{data.source}: {len(normal)} normal beats (label {data.normal!r}); training needs at least {need} "
            f"({MIN_TRAIN_NORMALS} to learn from and {MIN_VALIDATION_NORMALS} or a {validation_fraction:g} share "
            f"for validation); its labels: {data.describe()}")
    if not data.is_anomaly.any():
        raise OwnBeatsError(
            f"{data.source}: every beat is labelled {data.normal!r}; the validation part needs abnormal beats "
            f"(any other label) to choose the model and its threshold")
    rng = np.random.default_rng(seed)
    shuffled = rng.permutation(normal)
    held = _n_validation(len(normal), validation_fraction)
    validation = np.sort(np.concatenate([shuffled[:held], np.flatnonzero(data.is_anomaly)]))
    return FileSplit(data.take(np.sort(shuffled[held:])), data.take(validation),
                     normal_share=float(len(normal) / len(data.labels)))


@dataclass
class Selection:
    """What was tried on validation and what was kept."""

    chosen: str
    tried: list[dict] = field(default_factory=list)   # name, val_roc_auc, seconds


def candidates_for(n_train: int) -> tuple[Candidate, ...]:
    """Small sets choose among ``CANDIDATES``, each trained for about ``STEPS`` optimiser steps
    (early stopping on the validation normals may end it sooner); large ones train the ECG5000
    model's size and schedule."""
    if n_train >= LARGE:
        return (Candidate("3 members, latent 8 (ECG5000 schedule)", {}, TrainConfig()),)
    steps_per_epoch = -(-n_train // 32)
    epochs = int(np.clip(-(-STEPS // steps_per_epoch), 60, 600))
    return tuple(replace(c, train=replace(c.train, epochs=epochs, patience=max(20, epochs // 4))) for c in CANDIDATES)


def fit(data_split: FileSplit, seed: int = 0, candidates: tuple[Candidate, ...] | None = None,
        max_epochs: int | None = None, progress: bool = False) -> tuple[Detector, Selection]:
    """Train each candidate (default ``candidates_for`` the training set's size; at most
    ``max_epochs`` each) on the training normals and keep the best by validation ROC AUC."""
    train = data_split.train
    candidates = candidates or candidates_for(len(train.labels))
    if max_epochs is not None:
        candidates = tuple(replace(c, train=replace(c.train, epochs=min(max_epochs, c.train.epochs)))
                           for c in candidates)
    best: tuple[float, Detector, str] | None = None
    selection = Selection(chosen="")
    with _threads(1 if len(train.labels) < LARGE else None):
        for candidate in candidates:
            best = _try(candidate, data_split, seed, progress, selection, best)
    assert best is not None
    _, detector, selection.chosen = best
    detector.meta["labels"] = {"normal": train.normal, "names": list(data_split.validation.counts() | train.counts()),
                               "source": Path(train.source).name if train.source else ""}
    detector.meta["selection"] = {"chosen": selection.chosen, "tried": selection.tried}
    return detector, selection


@contextlib.contextmanager
def _threads(n: int | None):
    """Small batches of a small set train faster on one thread than split across cores."""
    import torch  # training only: label_info and the rest are read without torch

    before = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _try(candidate: Candidate, data_split: FileSplit, seed: int, progress: bool, selection: Selection,
         best: tuple[float, Detector, str] | None) -> tuple[float, Detector, str]:
    """Train one candidate, note its validation ROC AUC, and return the better of it and ``best``."""
    from sklearn.metrics import roc_auc_score

    train, val = data_split.train, data_split.validation
    started = time.perf_counter()
    detector = Detector("hybrid", candidate.config, replace(candidate.train, seed=seed))
    detector.fit(train.values, validation=(val.values, val.is_anomaly), normal_share=data_split.normal_share,
                 protocol="file", seed=seed, progress=progress)
    auc = float(roc_auc_score(val.is_anomaly, detector.score(val.values)))
    selection.tried.append({"name": candidate.name, "val_roc_auc": auc,
                            "seconds": round(time.perf_counter() - started, 2)})
    if best is None or auc > best[0] + 1e-9:  # ties keep the earlier, smaller candidate
        return auc, detector, candidate.name
    return best


def label_info(meta: dict) -> dict | None:
    """The labels a model was trained with (``{"normal": ..., "names": [...]}``), or None for a
    model trained on ECG5000 (classes 1-5) or written before models kept them."""
    labels = meta.get("labels")
    return labels if isinstance(labels, dict) and isinstance(labels.get("normal"), str) else None
