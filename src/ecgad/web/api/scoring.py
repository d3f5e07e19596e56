"""Score beats without storing anything; the models in use; the health check."""
from __future__ import annotations

from flask import abort, jsonify
from sqlalchemy import text

from ..detection import ModelUnavailable, get_detector, get_recording_detector
from ..extensions import db
from . import bp
from .schemas import HealthOut, ModelsOut, ScoreIn, ScoreOut, ScoreQuery

MODEL_MISSING = "The {} model is not available on this server. Tell your administrator."


def _round(values) -> list[float]:
    return [round(float(v), 6) for v in values]


@bp.route("/score", methods=["POST"])
@bp.arguments(ScoreQuery, location="query")
@bp.arguments(ScoreIn)
@bp.response(200, ScoreOut)
@bp.alt_response(503, response="SERVICE_UNAVAILABLE")
def score(query: dict, body: dict):
    """Score beats; nothing is stored.

    Each beat is resampled to the model's length and z-normalised. ``warnings`` say when the beats,
    as a group, do not look like the model's training data."""
    try:
        detector = get_detector()
    except ModelUnavailable:
        abort(503, description=MODEL_MISSING.format("beat"))
    try:
        verdicts, warnings = detector.predict_with_data_fit(body["beats"])
    except ValueError as exc:  # a constant beat, say: prepare() names it
        abort(422, description=f"{str(exc).rstrip('.')}.")
    rows = []
    for v in verdicts:
        row = v.as_dict()
        if query["detail"]:
            row["reconstruction"], row["error"] = _round(v.reconstruction), _round(v.error)
        rows.append(row)
    return jsonify({"model": detector.model_info(), "warnings": warnings, "beats": rows})


CONFIDENCE = "|erf(z / sqrt 2)|, z: the score's distance from the threshold in units of sigma (ecgad.calibration)"
TRAINING_KEYS = ("trained_on", "training_data_sha256", "n_train", "protocol", "seed", "trained_at", "beats_fitted",
                 "beat_model_id", "arch", "length", "features")


def _describe(info: dict, calibration: dict) -> dict:
    """A model's metadata as the API shows it: id, version, threshold, calibration, what it was trained on."""
    return {"id": info.get("model_id"), "version": info.get("version"), "threshold": info.get("threshold"),
            "calibration": {**calibration, "confidence": CONFIDENCE},
            "trained_on": {k: info[k] for k in TRAINING_KEYS if k in info}, "info": info}


def _beat_model() -> dict:
    detector = get_detector()
    return _describe(detector.model_info(), {"space": "log score", "sigma": detector.log_scale})


def _recording_model() -> dict:
    detector = get_recording_detector()
    return _describe(detector.model_info(), {"space": "score", "sigma": detector.combination.sigma})


@bp.get("/model")
@bp.response(200, ModelsOut)
def model():
    """The beat model and the recording model this server uses (null: not available)."""
    out = {}
    for name, describe in (("beat", _beat_model), ("recording", _recording_model)):
        try:
            out[name] = describe()
        except ModelUnavailable:
            out[name] = None
    return jsonify(out)


@bp.get("/health")
@bp.response(200, HealthOut)
@bp.alt_response(503, schema=HealthOut, description="The database or a model is not available.")
@bp.doc(security=[])
def health():
    """Liveness, the database and the models; needs no token and tells nothing private."""
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception:  # noqa: BLE001 - any failure means: not available
        db.session.rollback()
        database = "unavailable"
    models = {}
    for name, get in (("beat", get_detector), ("recording", get_recording_detector)):
        try:
            get()
            models[name] = "ok"
        except ModelUnavailable:
            models[name] = "unavailable"
    ok = database == "ok" and all(v == "ok" for v in models.values())
    return jsonify({"status": "ok" if ok else "degraded", "database": database, "models": models}), \
        200 if ok else 503
