"""Scoring a whole recording: every beat found, scored, given a verdict and explained.

    detector = load_recording_detector()              # the shipped MIT-BIH model
    result = analyze(read_recording("mitdb/100"), detector)
    result.summary                                    # {"beats", "anomalies", "mean_hr_bpm"}
    result.score, result.is_anomaly, result.parts     # one value per beat

Morphology learnt from other patients is not enough across patients: what is
normal for one patient (a bundle branch block, say) is unusual for another, and a
premature beat can look normal but come early. So each beat is described by what
a cardiologist looks at, in three parts, and the parts are combined:

``autoencoder`` (the hybrid autoencoder, trained on AAMI-normal beats of other patients)
    ``latent``: log distance of the beat's latent code to the median latent code of
    the beats around it (the patient's dominant beat in the autoencoder's learned
    terms). ``autoencoder``: the log reconstruction error itself; computed and shown,
    but not in the default combination: across patients it does not add to the
    other features (benchmarks/RESULTS.md, "Beat scores, pooled (the ablation)"). The beat window is the
    template window below, z-normalised.
``template`` (the patient's own dominant beat)
    ``template``: log RMS distance of the z-normalised beat (0.25 s before to
    0.45 s after the R peak, 140 samples) to the recording's dominant beat, a
    trimmed median: the median of all beats, then twice the median of the half
    closest to it. ``qrs``: log RMS distance of the QRS complex (0.10 s before to
    0.15 s after the R peak, in mV, best of small shifts up to 30 ms) to the
    dominant QRS, relative to the dominant QRS's amplitude. ``qrs_width``: how much
    wider the QRS complex is than the dominant beats', ``max(0, log(width / dominant
    width))``, the width being the time the band-passed signal's slope stays above a
    fifth of its maximum within 0.12 s of the R peak (a wide QRS is the textbook sign
    of a ventricular beat). Dominant beat and median
    latent code are made anew every ``chunk_s`` seconds (10 minutes), so they follow
    slow changes of the patient's morphology.
``rhythm`` (prematurity)
    ``premature``: ``-log(RR_prev / RR_local)`` with ``RR_local`` the median
    previous-RR of the 33 beats centred on this one; ``premature_local``: the same
    divided by the local spread of that ratio (so the irregular rhythm of atrial
    fibrillation counts less than one early beat in a regular rhythm); ``pause``:
    ``log(RR_next / RR_prev)``, the compensatory pause.

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

Readable parts only: after R-peak detection each 5-second window is judged by
:mod:`ecgad.data.quality` (flat, saturated, noise, not ECG-like); beats in
unreadable windows are left out of the result and of the heart rate, the
result carries the windows (``quality``) and its ``warnings``, and a recording
with too little readable ECG is refused (``UnreadableRecording``), as is one shorter
than ``MIN_DURATION_S`` seconds (``RecordingTooShort``).

Long recordings: R peaks are found chunk by chunk
(:func:`~ecgad.data.rpeaks.detect_r_peaks_chunked`); windows, dominant beats and
autoencoder features are computed ``chunk_s`` seconds at a time, from a band-passed
copy of that chunk only (plus a few seconds either side), so the memory beyond the
signal itself stays at a few copies of one chunk and the per-beat results.

Model file: one ``.safetensors`` file that is also a valid beat-model file (the
beat Detector's weights and its ``ecgad`` JSON metadata, readable by
``Detector.load``) with the recording model's JSON under the ``ecgad_recording``
metadata key: features, weights, threshold, calibration, settings, provenance.
No pickle.

Fed in pieces (a live stream), what this analysis would need, and when each
value is final (exactly as on the whole signal):

* R peaks: :class:`ecgad.data.rpeaks.RPeakStream`, exact, each at most
  ``chunk_s + overlap_s`` of its chunking after it (search-back can add ~1.7 RR).
* Rhythm: ``premature_local`` of beat *i* depends on beats *i-33* to *i+32* at most (the
  local RR median of each of its 33 neighbours), ``pause`` on the next beat: final
  by 32 beats (about 25 s at 75 bpm) after the beat; the last 32 beats only at the end.
* Template and autoencoder: the dominant beat, QRS and width and the median latent
  code come from all beats of the beat's ``chunk_s`` (10-minute) chunk, later ones
  included, and a last chunk under half that joins the one before: final when the
  chunk ends (up to 15 minutes later), plus ``margin_s`` for the band-pass filter.
* Quality: the ``saturated`` test compares each window with the whole recording's
  extremes, so no window's verdict is final before the end.

So a live stream needs running definitions instead (the dominant beat, median
code and extremes of the beats and samples so far); they change the features the
shipped combination was fitted on, so they come with a retrained model and rerun
benchmarks, not as a silent change here.

The package, one module per job: :mod:`.settings` (settings, feature names),
:mod:`.rhythm`, :mod:`.morphology` and :mod:`.autoencoder` (the three parts'
features), :mod:`.table` (all features of one recording, chunk by chunk),
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
from .autoencoder import autoencoder_features
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
from .morphology import beat_shapes, morphology_features
from .report import write_report
from .result import RecordingResult
from .rhythm import rhythm_features
from .settings import AUTOENCODER_FEATURES, DEFAULT_FEATURES, FEATURE_PARTS, MIN_DURATION_S, PARTS, Settings
from .table import BeatTable, beat_table
from .training import (
    BEAT_CONFIG,
    BEAT_TRAIN_CONFIG,
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
    "AnnotatedRecord", "BeatTable", "Combination", "RecordingDetector", "RecordingResult", "RecordingTooShort",
    "Settings", "UnreadableRecording",
    "analyze", "autoencoder_features", "beat_shapes", "beat_table", "find_records", "fit_beat_model",
    "fit_on_records", "label_peaks", "load_recording_detector", "morphology_features", "read_annotated",
    "rhythm_features", "train_recording_detector", "training_tables", "write_report",
]
