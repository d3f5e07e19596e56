"""The clinician's review through the API (web/analyses/review.py does the work): families and beats
with their reviewed labels, relabelling, interpretation, sign and unlock. Reads: whoever may see the
analysis; changes: its patient's doctor only (404 for others, 403 for admins); a change to a signed
analysis answers 409."""
from __future__ import annotations

from flask_login import current_user
from sqlalchemy import func, select

from .. import audit
from ..access import own_patient, visible_analysis
from ..analyses import review
from ..extensions import db
from ..models import Analysis, RecordingBeat
from ..util import Page
from . import bp
from .problems import problem
from .schemas import (
    FamilyLabelOut,
    FamilyList,
    InterpretationIn,
    LabelIn,
    PageQuery,
    ReviewedBeat,
    ReviewedBeatList,
    ReviewOut,
    UnlockIn,
)


@bp.errorhandler(review.ReviewError)
def _review_error(error: review.ReviewError):
    return problem(error.status, str(error)[:1].upper() + str(error)[1:] + ".")


def _changeable(analysis_id: int, kind: str | None = None) -> Analysis:
    analysis = visible_analysis(analysis_id, kind=kind)
    own_patient(analysis.patient_id)
    return analysis


@bp.get("/analyses/<int:analysis_id>/families")
@bp.response(200, FamilyList)
def list_families(analysis_id: int):
    """A recording's beat families, largest first: each with its count, mean beat, example beats, the
    model's majority class and the reviewed label. 404 for beat analyses."""
    analysis = visible_analysis(analysis_id, kind="recording")
    audit.viewed("analysis.beats_view", "analysis", analysis.id, analysis.patient_id, "families", once=True)
    unassigned = db.session.scalar(select(func.count()).where(RecordingBeat.analysis_id == analysis.id,
                                                              RecordingBeat.family == 0))
    stored = analysis.recording.families or {}
    return {"items": review.family_list(analysis), "representation": stored.get("representation"),
            "unassigned": unassigned}


@bp.get("/analyses/<int:analysis_id>/beats")
@bp.arguments(PageQuery, location="query")
@bp.response(200, ReviewedBeatList)
def list_beats(query: dict, analysis_id: int):
    """A recording's beats in time order, by page: each with its family, the model's ``class`` and the
    ``reviewed_label`` (null when none)."""
    analysis = visible_analysis(analysis_id, kind="recording")
    audit.viewed("analysis.beats_view", "analysis", analysis.id, analysis.patient_id, "beats", once=True)
    fs = analysis.recording.fs
    page = Page(query["page"], query["per_page"], analysis.n_beats)
    rows = db.session.execute(
        select(RecordingBeat.position, RecordingBeat.sample, RecordingBeat.family, RecordingBeat.beat_class,
               RecordingBeat.reviewed_label, RecordingBeat.is_anomaly, RecordingBeat.score)
        .where(RecordingBeat.analysis_id == analysis.id).order_by(RecordingBeat.position)
        .limit(page.per_page).offset(page.offset)).all()
    return {"items": [_beat(p + 1, fs, s, f, c, r, a, sc) for p, s, f, c, r, a, sc in rows],
            "page": page.number, "per_page": page.per_page, "total": analysis.n_beats, "pages": page.pages}


@bp.put("/analyses/<int:analysis_id>/families/<int:family_id>/label")
@bp.arguments(LabelIn)
@bp.response(200, FamilyLabelOut)
@bp.alt_response(409, response="CONFLICT")
def label_family(body: dict, analysis_id: int, family_id: int):
    """Label every beat of the family (kept beside the model's class); 409 when the analysis is signed."""
    analysis = _changeable(analysis_id, kind="recording")
    n = review.relabel_family(analysis, family_id, body["label"], current_user._get_current_object())
    return {"family": family_id, "label": review.parse_label(body["label"]), "beats": n}


@bp.put("/analyses/<int:analysis_id>/beats/<int:number>/label")
@bp.arguments(LabelIn)
@bp.response(200, ReviewedBeat)
@bp.alt_response(409, response="CONFLICT")
def label_beat(body: dict, analysis_id: int, number: int):
    """Label one beat (kept beside the model's class); 409 when the analysis is signed."""
    analysis = _changeable(analysis_id, kind="recording")
    beat = review.relabel_beat(analysis, number, body["label"], current_user._get_current_object())
    return _beat(beat.number, analysis.recording.fs, beat.sample, beat.family, beat.beat_class, beat.reviewed_label,
                 beat.is_anomaly, beat.score)


def _beat(number: int, fs: float, sample: int, family, beat_class, reviewed_label, is_anomaly, score) -> dict:
    """A recording's beat as the review API gives it (``ReviewedBeat``), numbered from 1."""
    return {"beat": number, "sample": sample, "time_s": round(sample / fs, 4), "family": family,
            "beat_class": beat_class, "reviewed_label": reviewed_label, "is_anomaly": is_anomaly, "score": score}


@bp.put("/analyses/<int:analysis_id>/interpretation")
@bp.arguments(InterpretationIn)
@bp.response(200, ReviewOut)
@bp.alt_response(409, response="CONFLICT")
def put_interpretation(body: dict, analysis_id: int):
    """The analysis's free-text interpretation (blank clears it); 409 when signed."""
    analysis = _changeable(analysis_id)
    review.set_interpretation(analysis, body["text"], current_user._get_current_object())
    return review.review_state(analysis)


@bp.get("/analyses/<int:analysis_id>/review")
@bp.response(200, ReviewOut)
def get_review(analysis_id: int):
    """The interpretation, the signature and how many labels the review changed."""
    analysis = visible_analysis(analysis_id)
    audit.viewed("analysis.view", "analysis", analysis.id, analysis.patient_id, "review", once=True)
    return review.review_state(analysis)


@bp.post("/analyses/<int:analysis_id>/sign")
@bp.response(200, ReviewOut)
@bp.alt_response(409, response="CONFLICT")
def sign(analysis_id: int):
    """Reviewed and signed by the caller now: labels and interpretation locked; 409 when already signed."""
    analysis = _changeable(analysis_id)
    review.sign(analysis, current_user._get_current_object())
    return review.review_state(analysis)


@bp.post("/analyses/<int:analysis_id>/unlock")
@bp.arguments(UnlockIn, required=False)
@bp.response(200, ReviewOut)
@bp.alt_response(409, response="CONFLICT")
def unlock(body: dict, analysis_id: int):
    """Remove the signature so that labels and text can change (audited, with the optional ``reason``);
    409 when not signed."""
    analysis = _changeable(analysis_id)
    review.unlock(analysis, current_user._get_current_object(), (body or {}).get("reason", ""))
    return review.review_state(analysis)
