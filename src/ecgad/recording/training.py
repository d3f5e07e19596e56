"""Training on annotated records: the beat autoencoder, cross-fitted features, the combination."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ..data.annotations import ABNORMAL_SYMBOLS, BEAT_SYMBOLS, NORMAL_SYMBOLS, label_peaks, read_annotations
from ..data.rpeaks import detect_r_peaks_chunked
from ..detector import Detector
from ..provenance import training_environment
from ..train_config import TrainConfig
from .classes import CONTEXT_FEATURES, BeatClassifier, aami_classes, context_features
from .combination import Combination
from .detector import RecordingDetector
from .morphology import beat_items
from .settings import AUTOENCODER_FEATURES, DEFAULT_FEATURES, Settings
from .table import BeatTable, beat_table

#: the beat autoencoder of the recording model: one small hybrid member
BEAT_CONFIG = {"members": 1}
BEAT_TRAIN_CONFIG = TrainConfig(epochs=40, patience=10)
#: the beat classifier's features and fitting options, chosen by record-wise CV on DS1 (benchmarks/classes.py):
#: the autoencoder's features (latent distance, reconstruction error, the latent code) did not help there
CLASS_FEATURES = ("template", "qrs", "qrs_width", "premature", "premature_local", "pause") + CONTEXT_FEATURES
CLASS_OPTIONS = {"hidden": (), "l2": 1e-3, "weight_power": 0.5}


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
    from ..data.readers import read_recording

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
        chosen = np.sort(rng.choice(normal, min(max_beats_per_record, normal.size), replace=False))
        items = beat_items(signal.samples, 0, signal.fs, record.peaks[chosen], settings)
        normals.append(items.z[items.usable])
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
                             class_features: Sequence[str] | None = CLASS_FEATURES,
                             progress: bool = True) -> RecordingDetector:
    """Fit a recording detector on annotated WFDB records (paths without extension).

    The beat autoencoder learns the AAMI-normal beats (N, L, R, e, j); the
    combination weights, threshold and calibration come from all labelled beats
    of the same records (normal vs A, a, J, S, V, E, F; the rest ignored), their
    autoencoder features cross-fitted (see :func:`training_tables`); so does the beat
    classifier (:mod:`ecgad.recording.classes`), on the AAMI classes N, S, V, F.
    """
    from tqdm.auto import tqdm

    records = [Path(r) for r in records]
    if not records:
        raise ValueError("no records to train on")
    loaded = []
    for path in tqdm(records, desc="reading", unit="record", disable=not progress, leave=False):
        loaded.append(read_annotated(path, lead=lead, settings=settings))
    beat = training_tables(loaded, features=(*features, *(class_features or ())), settings=settings, crossfit=crossfit,
                           max_beats_per_record=max_beats_per_record, config=config, train_config=train_config,
                           seed=seed, progress=progress)
    if beat is None:  # the file format carries a beat model: keep a small one even when unused
        beat = fit_beat_model(loaded, max_beats_per_record=10, train_config=TrainConfig(epochs=1), settings=settings,
                              seed=seed, progress=False)
    detector = fit_on_records([r for _, r in loaded], beat, features=features, settings=settings,
                              class_features=class_features)
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


def class_table(records: Sequence[AnnotatedRecord], names: Sequence[str]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """``(features, AAMI classes)`` of every beat of records whose ``table`` is computed: the
    features ``names`` of the table and the rhythm context (:mod:`ecgad.recording.classes`)."""
    columns = {name: [] for name in names}
    for r in records:
        values = {**r.table.features, **context_features(r.peaks, r.fs)}
        for name in names:
            columns[name].append(values[name])
    return ({k: np.concatenate(v) for k, v in columns.items()},
            np.concatenate([aami_classes(r.symbols) for r in records]))


def fit_on_records(records: Sequence[AnnotatedRecord], beat: Detector, *,
                   features: Sequence[str] = DEFAULT_FEATURES, settings: Settings = Settings(),
                   class_features: Sequence[str] | None = CLASS_FEATURES, class_options: dict | None = None
                   ) -> RecordingDetector:
    """The combination and the beat classifier (none when ``class_features`` is None) fitted on
    records whose ``table`` is computed (with ``beat`` for the autoencoder part)."""
    labelled = [(r.table.features, r.is_normal | r.is_abnormal, r.is_abnormal) for r in records]
    x = {name: np.concatenate([f[name][use] for f, use, _ in labelled]) for name in features}
    y = np.concatenate([abn[use] for _, use, abn in labelled])
    combination = Combination.fit(x, y, features)
    classifier = None
    if class_features is not None:
        classifier = BeatClassifier.fit(*class_table(records, class_features), class_features,
                                        **(class_options or CLASS_OPTIONS))
    digest = hashlib.sha256(json.dumps(combination.as_dict(), sort_keys=True).encode())
    if classifier is not None:
        digest.update(json.dumps(classifier.as_dict(), sort_keys=True).encode())
    digest.update(str(beat.meta.get("model_id")).encode())
    from .. import __version__

    meta = {"model_id": f"recording-{digest.hexdigest()[:12]}", "version": __version__,
            "beat_model_id": beat.meta.get("model_id"), "beats_fitted": int(y.size),
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"), **training_environment()}
    return RecordingDetector(beat, combination, settings, meta, classifier)
