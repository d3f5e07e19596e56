"""Request and response schemas of the API (marshmallow): they validate the input and, through
flask-smorest and apispec, make the OpenAPI document. Patients' fields take their limits from the
web form (``patients/forms.py``), which also runs on every API write (``patients.py``)."""
from __future__ import annotations

from datetime import UTC, datetime

import marshmallow as ma
import numpy as np
from marshmallow import fields, validate

from ecgad.data.beats import MAX_ABS_VALUE, MIN_BEAT_LENGTH

from ..models import SEXES
from ..patients.forms import PatientForm

MAX_BEATS = 10_000  # per request, as per upload (config MAX_BEATS)
MAX_BEAT_SAMPLES = 100_000  # one beat is a heartbeat, not a recording
MAX_PER_PAGE = 1000


def _form_max(name: str) -> int:
    """The web form's Length(max=...) for field ``name``: one rule for both."""
    from wtforms.validators import Length

    for validator in PatientForm.__dict__[name].kwargs.get("validators", []):
        if isinstance(validator, Length) and validator.max > 0:
            return int(validator.max)
    raise LookupError(name)


def no_nul(value: str) -> None:
    """Text a database can store: no NUL (PostgreSQL refuses it, and it is never meant) and no lone
    surrogate (JSON's "\\ud800" decodes to one; it is no character and cannot be encoded)."""
    if "\x00" in value:
        raise ma.ValidationError("NUL characters are not allowed.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ma.ValidationError("The text is not valid Unicode (a lone surrogate).") from None


class Schema(ma.Schema):
    """Unknown fields are refused (marshmallow's default), so a misspelt field is a 422, not ignored."""


class UtcDateTime(fields.DateTime):
    """A stored time (naive, UTC) as RFC 3339 with its offset ("...+00:00"), as "date-time" requires."""

    def _serialize(self, value: datetime | None, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


_NUMBER_TYPES = frozenset({int, float})  # what JSON numbers decode to


class Beats(fields.Field):
    """Beats as lists of numbers: checked in one pass, not number by number (10,000 beats of
    hundreds of samples each would take marshmallow seconds). Gives a list of lists of floats."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).update({
            "type": "array", "minItems": 1, "maxItems": MAX_BEATS,
            "items": {"type": "array", "minItems": MIN_BEAT_LENGTH, "maxItems": MAX_BEAT_SAMPLES,
                      "items": {"type": "number", "minimum": -MAX_ABS_VALUE, "maximum": MAX_ABS_VALUE}},
        })
        super().__init__(required=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list) or not value:
            raise ma.ValidationError("Give a non-empty list of beats, each a list of numbers.")
        if len(value) > MAX_BEATS:
            raise ma.ValidationError(f"{len(value)} beats; at most {MAX_BEATS:,} are accepted per request.")
        out = []
        for number, beat in enumerate(value, start=1):
            if not isinstance(beat, list):
                raise ma.ValidationError(f"beat {number}: must be a list of numbers.")
            if not MIN_BEAT_LENGTH <= len(beat) <= MAX_BEAT_SAMPLES:
                raise ma.ValidationError(f"beat {number}: {len(beat)} samples; a beat has {MIN_BEAT_LENGTH} "
                                         f"to {MAX_BEAT_SAMPLES:,}.")
            if not set(map(type, beat)) <= _NUMBER_TYPES:  # bool is not a number here; in C, not value by value
                raise ma.ValidationError(f"beat {number}: values must be numbers.")
            try:
                row = np.array(beat, dtype=np.float64)
            except OverflowError:
                raise ma.ValidationError(f"beat {number}: a number is too large.") from None
            if not np.isfinite(row).all():
                raise ma.ValidationError(f"beat {number}: values must be finite numbers.")
            out.append(row.tolist())
        return out


# ---------------------------------------------------------------- score
class ScoreIn(Schema):
    beats = Beats(metadata={"description": "Beats, each a list of at least 16 samples (any length, any "
                                           "sampling rate: each is resampled to the model's length)."})


class ScoreQuery(Schema):
    detail = fields.Boolean(load_default=False, metadata={
        "description": "1: add each beat's reconstruction and per-sample error (z-normalised, the model's "
                       "length)."})


class Warning_(Schema):
    code = fields.String()
    message = fields.String()


class BeatVerdict(Schema):
    beat = fields.Integer(metadata={"description": "Number of the beat, from 1, in input order."})
    score = fields.Float()
    threshold = fields.Float()
    is_anomaly = fields.Boolean()
    confidence = fields.Float(metadata={"description": "0 to 1."})
    reconstruction = fields.List(fields.Float(), metadata={"description": "With ?detail=1."})
    error = fields.List(fields.Float(), metadata={"description": "With ?detail=1: per-sample squared error."})


class ScoreOut(Schema):
    model = fields.Dict(metadata={"description": "The beat model's metadata (model_id, version, threshold...)."})
    warnings = fields.List(fields.Nested(Warning_))
    beats = fields.List(fields.Nested(BeatVerdict))


# ---------------------------------------------------------------- model, health
class ModelOut(Schema):
    id = fields.String(allow_none=True)
    version = fields.String(allow_none=True)
    threshold = fields.Float(allow_none=True)
    calibration = fields.Dict(metadata={"description": "How scores become confidence: the calibration summary."})
    trained_on = fields.Dict(metadata={"description": "What the model was trained on."})
    info = fields.Dict(metadata={"description": "All the model file's metadata."})


class ModelsOut(Schema):
    beat = fields.Nested(ModelOut, allow_none=True)
    recording = fields.Nested(ModelOut, allow_none=True)


class HealthOut(Schema):
    status = fields.String(metadata={"description": "ok, or degraded when the database or a model is not."})
    database = fields.String()
    models = fields.Dict(keys=fields.String(), values=fields.String())


# ---------------------------------------------------------------- patients
SEX_VALUES = [value for value, _ in SEXES]


def _patient_fields(create: bool) -> dict:
    """The patient's writable fields: for a new patient (name and identifier required, defaults for
    the rest) or for a change (each optional, no defaults: only what is given changes)."""
    defaults = ({"birth_date": {"load_default": None}, "sex": {"load_default": "unknown"},
                 "notes": {"load_default": ""}} if create else {})
    return {
        "name": fields.String(required=create, validate=[validate.Length(min=1, max=_form_max("name")), no_nul]),
        "identifier": fields.String(
            required=create, validate=[validate.Length(min=1, max=_form_max("identifier")), no_nul],
            metadata={"description": "Medical record number, unique among the doctor's patients."}),
        "birth_date": fields.Date(allow_none=True, metadata={"description": "YYYY-MM-DD, from 1900 to today."},
                                  **defaults.get("birth_date", {})),
        "sex": fields.String(validate=validate.OneOf(SEX_VALUES), **defaults.get("sex", {})),
        "notes": fields.String(validate=[validate.Length(max=_form_max("notes")), no_nul],
                               **defaults.get("notes", {})),
    }


PatientIn = Schema.from_dict(_patient_fields(create=True), name="PatientIn")
PatientPatch = Schema.from_dict(_patient_fields(create=False), name="PatientPatch")


class PatientOut(Schema):
    id = fields.Integer()
    name = fields.String()
    identifier = fields.String()
    birth_date = fields.Date(allow_none=True)
    sex = fields.String(validate=validate.OneOf(SEX_VALUES))
    notes = fields.String()
    doctor_id = fields.Integer()
    created_at = UtcDateTime()
    updated_at = UtcDateTime()


class PageQuery(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=2**31 - 1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PER_PAGE))


class PatientQuery(PageQuery):
    q = fields.String(load_default="", validate=[validate.Length(max=200), no_nul],
                      metadata={"description": "Part of the name or record number (any case)."})


class Paging(Schema):
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    pages = fields.Integer()


class PatientList(Paging):
    items = fields.List(fields.Nested(PatientOut))


# ---------------------------------------------------------------- analyses
class AnalysisBeatsIn(Schema):
    beats = Beats(metadata={"description": "Beats, each a list of at least 16 samples."})
    filename = fields.String(load_default="api.json", validate=[validate.Length(min=1, max=255), no_nul],
                             metadata={"description": "A name to show for this analysis."})


RECORDING_UPLOAD = {  # multipart/form-data: the web form's recording upload (forms.RecordingForm)
    "type": "object",
    "required": ["files"],
    "properties": {
        "files": {"type": "array", "items": {"type": "string", "format": "binary"},
                  "description": "An EDF, a CSV or TSV, or a WFDB record's .hea with the signal files it names "
                                 "and optionally its .atr, one file per part."},
        "fs": {"type": "number", "minimum": 100, "maximum": 20000,
               "description": "Sampling rate (Hz), only for CSV or TSV files without a time column."},
        "lead": {"type": "string", "maxLength": 64,
                 "description": "Lead name (such as II or MLII) or number from 0; default lead II if present."},
    },
}


class AnalysisOut(Schema):
    id = fields.Integer()
    patient_id = fields.Integer()
    created_at = UtcDateTime()
    kind = fields.String(metadata={"description": "beats or recording"})
    filename = fields.String()
    source = fields.String()
    model = fields.Dict(metadata={"description": "model_id, version and threshold of the model that made it."})
    summary = fields.Dict(metadata={"description": "n_beats, n_anomalies, max_score, threshold; for a recording "
                                                   "also fs, lead, duration_s, heart rate, readable_fraction."})
    warnings = fields.List(fields.Nested(Warning_))


class AnalysisList(Paging):
    items = fields.List(fields.Nested(AnalysisOut))


class StoredBeat(Schema):
    beat = fields.Integer(metadata={"description": "Number from 1."})
    score = fields.Float()
    is_anomaly = fields.Boolean()
    confidence = fields.Float()
    label = fields.Integer(allow_none=True, metadata={"description": "Beat analyses: a labelled file's label."})
    length = fields.Integer(metadata={"description": "Beat analyses: samples as uploaded."})
    sample = fields.Integer(metadata={"description": "Recordings: the R peak's sample."})
    time_s = fields.Float(metadata={"description": "Recordings: the R peak's time (s)."})
    rr_s = fields.Float(allow_none=True, metadata={"description": "Recordings: time since the beat before (s)."})
    annotation = fields.String(allow_none=True, metadata={"description": "Recordings: the .atr symbol."})
    parts = fields.Dict(metadata={"description": "Recordings: log-odds each part of the score adds."})
    class_ = fields.String(data_key="class", attribute="class", allow_none=True,
                           metadata={"description": "Recordings: the beat's class (N, S, V, F, Q); null when the "
                                                    "model gives none."})
    class_confidence = fields.Float(allow_none=True, metadata={"description": "Recordings: the class's probability."})


class AnalysisDetail(AnalysisOut):
    beats = fields.List(fields.Nested(StoredBeat))
    beats_page = fields.Nested(Paging, allow_none=True,
                               metadata={"description": "Recordings: which page of beats this is."})
    holter = fields.Dict(allow_none=True, metadata={"description": "Recordings: the Holter summary (heart rate, "
                                                                   "hourly table, V and S events, pauses), as "
                                                                   "`ecgad analyze --json` gives it."})


class BeatsPageQuery(PageQuery):
    per_page = fields.Integer(load_default=MAX_PER_PAGE, validate=validate.Range(min=1, max=MAX_BEATS))


class WindowQuery(Schema):
    start = fields.Float(required=True, validate=validate.Range(min=0, max=1e9),
                         metadata={"description": "Seconds from the recording's start."})
    end = fields.Float(required=True, validate=validate.Range(min=0, max=1e9), metadata={"description": "Seconds."})

    @ma.validates_schema
    def _end_after_start(self, data, **kwargs):
        if not data["end"] > data["start"]:
            raise ma.ValidationError("end must come after start.", "end")


class Trace(Schema):
    x = fields.List(fields.Float())
    y = fields.List(fields.Float(allow_none=True))
    customdata = fields.List(fields.List(fields.Float(allow_none=True)), metadata={
        "description": "Per beat: number, score, confidence, rr_s, then each part; null: missing."})


class WindowOut(Schema):
    start = fields.Float()
    end = fields.Float()
    thinned = fields.Boolean(metadata={"description": "The signal is thinned to min/max per stretch."})
    complete = fields.Boolean(metadata={"description": "false: only the highest-scoring anomalous beats."})
    beats = fields.Integer()
    signal = fields.Dict(metadata={"description": "x: seconds, y: mV (null: missing)."})
    normal = fields.Nested(Trace)
    abnormal = fields.Nested(Trace)
    unreadable = fields.List(fields.List(fields.Raw()), metadata={"description": "[start_s, end_s, reason]"})


class Problem(Schema):
    type = fields.String(metadata={"description": "about:blank: the status says what kind of problem."})
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.Dict(metadata={"description": "Field -> messages, when the input did not validate."})
