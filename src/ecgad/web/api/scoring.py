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


def _describe(info: dict) -> dict:
    """A model file's metadata as the API shows it: id, version, threshold, calibration, training."""
    calibration = {k: v for k, v in info.items() if "calib" in k or k in ("confidence", "score_scale", "normal_share")}
    trained = {k: v for k, v in info.items()
               if k.startswith(("train", "data", "protocol", "seed", "split", "label", "n_train", "source"))}
    return {"id": info.get("model_id"), "version": info.get("version"), "threshold": info.get("threshold"),
            "calibration": calibration, "trained_on": trained, "info": info}


@bp.get("/model")
@bp.response(200, ModelsOut)
def model():
    """The beat model and the recording model this server uses (null: not available)."""
    out = {}
    for name, get in (("beat", get_detector), ("recording", get_recording_detector)):
        try:
            out[name] = _describe(get().model_info())
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
