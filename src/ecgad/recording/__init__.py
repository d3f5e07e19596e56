"""Scoring a whole recording: every beat found, scored, given a verdict and explained.

    detector = load_recording_detector()              # the shipped MIT-BIH model
    result = analyze(read_recording("mitdb/100"), detector)
    result.summary                                    # {"beats", "anomalies", "mean_hr_bpm", "classes"}
    result.classes, result.class_confidence           # "N", "S", "V", "F" or "Q" per beat, its probability
    result.score, result.is_anomaly, result.parts     # one value per beat

Morphology learnt from other patients is not enough across patients: what is
normal for one patient (a bundle branch block, say) is unusual for another, and a
premature beat can look normal but come early. So each beat is described by what
a cardiologist looks at, in three parts, and the parts are combined:

Every value of a beat comes from its own signal (``segment_s``, 1 s, either side of
its R peak, band-passed on its own), from earlier beats and from the next R peak
only, so a stream gives the values of the whole signal (see "Fed in pieces" below).

``autoencoder`` (the hybrid autoencoder, trained on AAMI-normal beats of other patients)
    ``latent``: log distance of the beat's latent code to the median latent code of
    the reference beats (the patient's dominant beat in the autoencoder's learned
    terms). ``autoencoder``: the log reconstruction error itself; computed and shown,
    but not in the default combination: across patients it does not add to the
    other features (benchmarks/RESULTS.md, "Beat scores, pooled (the ablation)"). The beat window is the
    template window below, z-normalised.
``template`` (the patient's own dominant beat)
    ``template``: log RMS distance of the z-normalised beat (0.25 s before to
    0.45 s after the R peak, 140 samples) to the dominant beat, a trimmed median
    of the reference beats: the median of all, then twice the median of the half
    closest to it. ``qrs``: log RMS distance of the QRS complex (0.10 s before to
    0.15 s after the R peak, in mV, best of small shifts up to 30 ms) to the
    dominant QRS, relative to the dominant QRS's amplitude. ``qrs_width``: how much
    wider the QRS complex is than the dominant beats', ``max(0, log(width / dominant
    width))``, the width being the time the band-passed signal's slope stays above a
    fifth of its maximum within 0.12 s of the R peak (a wide QRS is the textbook sign
    of a ventricular beat). The reference beats of a block of ``block_beats`` (32)
    beats are the ``reference_beats`` (256, about 3.5 minutes) before it; the first
    ``warmup_beats`` (32) beats of a recording are their own reference. So the
    dominant beat follows slow changes of the patient's morphology.
``rhythm`` (prematurity)
    ``premature``: ``-log(RR_prev / RR_local)`` with ``RR_local`` the median
    previous-RR of the 16 beats before this one; ``premature_local``: the same
    divided by the spread of that ratio over those 16 beats (so the irregular
    rhythm of atrial fibrillation counts less than one early beat in a regular
    rhythm); ``pause``: ``log(RR_next / RR_prev)``, the compensatory pause.

Score: a logistic combination ``w . features + b`` (a log-odds of "abnormal"
under balanced classes), fitted on the labelled beats of the TRAINING records
only, with every weight kept non-negative (each feature can only raise the
score: a combination that cannot learn a record's quirks the wrong way round).
A feature missing for a beat (a window running off the signal, a flat
window) takes the training normals' median. Higher = more abnormal.

Parts: ``parts[p] = sum of w_f (feature_f - median of feature_f over training
normal beats)`` over the features of part ``p``: 0 for a typical normal beat, and
how many log-odds each part adds for this beat. ``score = sum(parts) + constant``.

Threshold: the cut of the training records' beat scores that maximises accuracy
there (see :func:`ecgad.thresholds.choose_threshold`).

Confidence (in [0, 1]), as for the beat Detector: how far a beat's score lies
from the threshold, in the spread of the training normal beats' scores:
``confidence = |erf(z / sqrt(2))|`` with ``z = (score - threshold) / sigma`` and
``sigma`` = 1.4826 x the median absolute deviation of those scores. It is 0 at the
threshold, 0.68 one spread away, 0.95 two spreads away, on whichever side the
verdict falls.

Beat classes (AAMI N, S, V, F, Q) and their probability: :mod:`.classes` (a small numpy
classifier on these features and the rhythm context; in the model file from format
``ecgad-recording/3``; ``result.classes`` is None for a /2 model).

Readable parts only: after R-peak detection each 5-second window is judged by
:mod:`ecgad.data.quality` (flat, saturated, noise, not ECG-like); beats in
unreadable windows are left out of the result and of the heart rate, the
result carries the windows (``quality``) and its ``warnings``, and a recording
with too little readable ECG is refused (``UnreadableRecording``), as is one shorter
than ``MIN_DURATION_S`` seconds (``RecordingTooShort``).

Long recordings: R peaks are found chunk by chunk
(:func:`~ecgad.data.rpeaks.detect_r_peaks_chunked`), beats are cut and embedded a few
thousand at a time and their dominant beats made block by block, so the memory beyond
the signal itself stays at a few thousand beats' windows and the per-beat results.

Model file: one ``.safetensors`` file that is also a valid beat-model file (the
beat Detector's weights and its ``ecgad`` JSON metadata, readable by
``Detector.load``) with the recording model's JSON under the ``ecgad_recording``
metadata key: features, weights, threshold, calibration, settings, provenance.
No pickle.

Fed in pieces (a live stream): :class:`~ecgad.recording.stream.RecordingStream`
(``detector.stream(fs)``) gives each beat's verdict once the evidence for it is in,
equal to :meth:`RecordingDetector.analyze` on the whole signal (the tolerance, and
how long after its R peak each verdict comes, are in its docstring).

The package, one module per job: :mod:`.settings` (settings, feature names),
:mod:`.rhythm`, :mod:`.morphology` and :mod:`.autoencoder` (the three parts'
features), :mod:`.table` (all features of one recording, block by block), :mod:`.stream` (a recording fed in pieces),
:mod:`.combination` (score, threshold, calibration), :mod:`.result`,
:mod:`.detector` (analysis and the model file), :mod:`.training` (annotated
records, the beat autoencoder, cross-fitting), :mod:`.report` (the HTML report).
Reference annotations (``.atr`` files, AAMI classes, peak matching) are in
:mod:`ecgad.data.annotations`.
"""
from __future__ import annotations

from ..data.annotations import (
    ABNORMAL_SYMBOLS,
    NORMAL_SYMBOLS,
    SUPRAVENTRICULAR_SYMBOLS,
    VENTRICULAR_SYMBOLS,
    label_peaks,
)
from ..data.quality import UnreadableRecording
from .autoencoder import embed_beats
from .classes import CLASSES, BeatClassifier, aami_classes, context_features
from .combination import Combination
from .detector import (
    FORMAT,
    METADATA_KEY,
    SHIPPED_RECORDING_MODEL,
    RecordingDetector,
    RecordingTooShort,
    analyze,
    load_recording_detector,
)
from .morphology import BeatItems, beat_items, template_features
from .report import write_report
from .result import RecordingResult
from .rhythm import rhythm_features
from .settings import AUTOENCODER_FEATURES, DEFAULT_FEATURES, FEATURE_PARTS, MIN_DURATION_S, PARTS, Settings
from .stream import RecordingStream
from .table import BeatTable, BlockFeatures, beat_table
from .training import (
    BEAT_CONFIG,
    BEAT_TRAIN_CONFIG,
    CLASS_FEATURES,
    AnnotatedRecord,
    find_records,
    fit_beat_model,
    fit_on_records,
    read_annotated,
    train_recording_detector,
    training_tables,
)

__all__ = [
    "ABNORMAL_SYMBOLS", "AUTOENCODER_FEATURES", "BEAT_CONFIG", "BEAT_TRAIN_CONFIG", "DEFAULT_FEATURES",
    "FEATURE_PARTS", "FORMAT", "METADATA_KEY", "MIN_DURATION_S", "NORMAL_SYMBOLS", "PARTS",
    "SHIPPED_RECORDING_MODEL", "SUPRAVENTRICULAR_SYMBOLS", "VENTRICULAR_SYMBOLS",
    "AnnotatedRecord", "BeatItems", "BeatTable", "BlockFeatures", "Combination", "RecordingDetector",
    "RecordingResult", "RecordingStream", "RecordingTooShort", "Settings", "UnreadableRecording",
    "analyze", "beat_items", "beat_table", "embed_beats", "find_records", "fit_beat_model",
    "fit_on_records", "label_peaks", "load_recording_detector", "read_annotated",
    "rhythm_features", "template_features", "train_recording_detector", "training_tables", "write_report",
    "BeatClassifier", "CLASSES", "CLASS_FEATURES", "aami_classes", "context_features",
]
