"""The recording detector: analysis of a whole signal, and its model file."""
from __future__ import annotations

import json
from dataclasses import asdict, fields
from importlib.resources import files
from pathlib import Path

import numpy as np

from ..data.quality import UnreadableRecording, assess_quality
from ..data.rpeaks import detect_r_peaks_chunked
from ..detector import Detector
from .classes import BeatClassifier, context_features
from .combination import Combination
from .morphology import beat_items
from .result import RecordingResult
from .settings import AUTOENCODER_FEATURES, FEATURE_PARTS, MIN_DURATION_S, PARTS, RecordingTooShort, Settings
from .stream import RecordingStream
from .table import BeatTable, beat_table

FORMAT = "ecgad-recording/3"  # 3: beat classes; 2: causal features (a stream gives the whole signal's values)
READABLE_FORMATS = ("ecgad-recording/2", FORMAT)  # a /2 file loads without a classifier: no classes
METADATA_KEY = "ecgad_recording"
SHIPPED_RECORDING_MODEL = "mitdb-recording.safetensors"


class RecordingDetector:
    """Scores every beat of a recording (see the docstring of :mod:`ecgad.recording` for how).

    >>> detector = train_recording_detector([Path("mitdb/101"), ...])
    >>> result = detector.analyze(read_recording("mitdb/100"))
    """

    def __init__(self, beat: Detector, combination: Combination, settings: Settings = Settings(),
                 meta: dict | None = None, classifier: BeatClassifier | None = None):
        self.beat = beat
        self.combination = combination
        self.settings = settings
        self.meta = meta or {}
        self.classifier = classifier  # None: a /2 model, whose results carry no classes

    @property
    def uses_autoencoder(self) -> bool:
        used = set(self.combination.features) | set(self.classifier.features if self.classifier else ())
        return any(f in AUTOENCODER_FEATURES for f in used)

    def classify(self, features: dict[str, np.ndarray], context: dict[str, np.ndarray]
                 ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """``(classes, class_confidence)`` of beats from their features and rhythm context
        (:mod:`ecgad.recording.classes`); ``(None, None)`` without a classifier."""
        if self.classifier is None:
            return None, None
        return self.classifier.classify({**features, **context})

    @property
    def threshold(self) -> float:
        return self.combination.threshold

    def model_info(self) -> dict:
        return {**self.meta, "threshold": self.threshold, "features": list(self.combination.features)}

    def table(self, samples: np.ndarray, fs: float, *, peaks: np.ndarray | None = None,
              progress: bool = False) -> BeatTable:
        return beat_table(samples, fs, self.beat if self.uses_autoencoder else None, settings=self.settings,
                          peaks=peaks, progress=progress)

    def analyze(self, signal, *, progress: bool = False) -> RecordingResult:
        """Find, score and explain every beat of ``signal`` (an ``ecgad.data.readers.Signal``) in its
        readable windows (see :mod:`ecgad.data.quality`); raises ``RecordingTooShort`` under
        ``MIN_DURATION_S`` and ``UnreadableRecording`` when too little of it is readable ECG (both
        ``ValueError``)."""
        if signal.duration_s < MIN_DURATION_S:
            raise RecordingTooShort(signal.source, signal.duration_s)
        peaks = detect_r_peaks_chunked(signal.samples, signal.fs, chunk_s=self.settings.peak_chunk_s)
        quality = assess_quality(signal.samples, signal.fs, peaks)
        refusal = quality.refusal()
        if refusal is not None:
            raise UnreadableRecording(refusal)
        table = self.table(signal.samples, signal.fs, peaks=peaks, progress=progress)
        return self.result(table, lead=signal.lead, source=signal.source).readable_only(quality)

    def stream(self, fs: float, *, lead: str = "", source: str = "") -> RecordingStream:
        """A :class:`~ecgad.recording.stream.RecordingStream`: samples fed in pieces, each beat's
        verdict as soon as it is final; the beats and scores of :meth:`analyze` on the whole."""
        return RecordingStream(self, fs, lead=lead, source=source)

    def result(self, table: BeatTable, *, lead: str = "", source: str = "") -> RecordingResult:
        c = self.combination
        score = c.score(table.features) if table.peaks.size else np.zeros(0)
        parts = c.parts(table.features) if table.peaks.size else {p: np.zeros(0) for p in self.parts}
        classes, class_confidence = self.classify(table.features, context_features(table.peaks, table.fs))
        return RecordingResult(
            fs=table.fs, lead=lead, duration_s=table.n_samples / table.fs, source=source, sample=table.peaks,
            rr_s=table.rr_s, score=score, threshold=c.threshold, is_anomaly=score > c.threshold,
            confidence=c.confidence(score), parts=parts, features=table.features, model=self.model_info(),
            classes=classes, class_confidence=class_confidence)

    def beat_verdict(self, samples: np.ndarray, fs: float, peak: int):
        """The beat at R peak ``peak`` as the beat autoencoder sees it: its ``Verdict`` (the
        z-normalised template window, its reconstruction and per-sample error; the score and
        verdict are the autoencoder's alone), or None when the window runs off the signal."""
        items = beat_items(samples, 0, fs, np.array([int(peak)]), self.settings)
        return self.beat.predict(items.z)[0] if items.usable[0] else None

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(p for p in PARTS if any(FEATURE_PARTS[f] == p for f in self.combination.features))

    # ---------------------------------------------------------------- files
    def save(self, path: str | Path) -> Path:
        """One .safetensors file: the beat model (as ``Detector.save`` writes it) plus our JSON metadata."""
        from safetensors import safe_open
        from safetensors.numpy import load_file, save_file

        path = Path(path)
        self.beat.save(path)
        with safe_open(str(path), framework="np") as f:
            metadata = dict(f.metadata() or {})
        tensors = load_file(str(path))
        header = {"format": FORMAT, "combination": self.combination.as_dict(), "settings": asdict(self.settings),
                  "meta": self.meta}
        if self.classifier is not None:
            header["classifier"] = self.classifier.as_dict()
        save_file(tensors, str(path), metadata={**metadata, METADATA_KEY: json.dumps(header)})
        return path

    @classmethod
    def load(cls, path: str | Path, backend: str = "auto") -> RecordingDetector:
        """Read a file written by :meth:`save` (safetensors only, and its beat autoencoder's ONNX
        graph for the onnx backend: no code is executed); ``backend`` as for ``Detector.load``."""
        from safetensors import safe_open

        path = Path(path)
        beat = Detector.load(path, backend)  # checks the file and names it in its errors
        with safe_open(str(path), framework="np") as f:
            raw = (f.metadata() or {}).get(METADATA_KEY)
        if raw is None:
            raise ValueError(f"{path}: a beat model, not a recording model (score beats with `ecgad score`)")
        try:
            header = json.loads(raw)
            if header.get("format") not in READABLE_FORMATS:
                raise ValueError(f"recording model format {header.get('format')!r} is not one of "
                                 f"{', '.join(map(repr, READABLE_FORMATS))}, which this version of ecgad reads: "
                                 f"retrain it with `ecgad train --data-format wfdb`")
            known = {f.name for f in fields(Settings)}
            settings = Settings(**{k: v for k, v in header.get("settings", {}).items() if k in known})
            combination = Combination.from_dict(header["combination"])
            raw_classifier = header.get("classifier")  # none in a /2 file, or one saved without it
            classifier = BeatClassifier.from_dict(raw_classifier) if raw_classifier is not None else None
        except (json.JSONDecodeError, TypeError, KeyError, ValueError, AttributeError) as exc:
            raise ValueError(f"{path}: not an ecgad recording model ({exc.__class__.__name__}: {exc})") from None
        return cls(beat, combination, settings, header.get("meta", {}), classifier)


def load_recording_detector(path: str | Path | None = None, backend: str = "auto") -> RecordingDetector:
    """Load a saved recording detector; with no path, the one shipped with ecgad (MIT-BIH DS1)."""
    if path is None:
        path = files("ecgad") / "assets" / SHIPPED_RECORDING_MODEL
    return RecordingDetector.load(path, backend)


def analyze(signal, detector: RecordingDetector | None = None, *, progress: bool = False) -> RecordingResult:
    """Find, score and explain every beat of ``signal`` (default detector: the shipped one)."""
    return (detector or load_recording_detector()).analyze(signal, progress=progress)
