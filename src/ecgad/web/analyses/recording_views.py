"""Recordings: upload on a patient's page, the timeline page, one beat's figure."""
from __future__ import annotations

import json
import math

import numpy as np
from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from .. import audit
from ..access import own_patient, visible_analysis
from ..detection import ModelMismatch, ModelUnavailable, recording_detector_of
from ..extensions import db
from ..forms import RecordingForm
from ..models import Analysis, RecordingBeat
from ..patients.views import render_patient
from ..util import script_json
from . import bp, listing, strip, timeline
from .holter import holter_for, stored_beats
from .recordings import analyse_recording
from .service import AnalysisError

MODEL_MISSING = ("The recording model is not available on this server, so nothing could be analysed. "
                 "Tell your administrator.")


def clock(seconds: float) -> str:
    """hh:mm:ss.s, as the recording page shows times."""
    from ecgad.report import clock as recording_clock

    return recording_clock(seconds, 1)


@bp.url_value_preprocessor
def _allow_large_recordings(endpoint: str | None, values: dict | None) -> None:
    """Recordings may be larger than other requests. Set here because URL value preprocessors run
    before every before_request function, the CSRF check among them, which reads the body."""
    if endpoint == "analyses.upload_recording":
        request.max_content_length = current_app.config["MAX_RECORDING_BYTES"]


@bp.post("/patients/<int:patient_id>/recordings")
@login_required
def upload_recording(patient_id: int):
    patient = own_patient(patient_id)
    form = RecordingForm(prefix="recording")
    if not form.validate_on_submit():
        message = next((e for errors in form.errors.values() for e in errors), "The upload could not be read.")
        return render_patient(patient, recording_form=form, recording_error=message, status=400)
    try:
        analysis = analyse_recording(patient, current_user._get_current_object(), form.files.data,
                                     fs=form.fs.data, lead=(form.lead.data or "").strip() or None)
    except AnalysisError as exc:
        return render_patient(patient, recording_form=form, recording_error=str(exc), status=400)
    except ModelUnavailable:
        return render_patient(patient, recording_form=form, recording_error=MODEL_MISSING, status=503)
    flash(f"{analysis.filename}: {analysis.n_beats} beats found, {analysis.n_anomalies} anomalous.", "success")
    return redirect(url_for("analyses.show", analysis_id=analysis.id))


def timeline_json(analysis: Analysis, around_s: float | None = None) -> str:
    return script_json(timeline.figure(analysis, around_s).to_json())


def viewer_json(analysis: Analysis, around_s: float | None) -> str:
    """What ecg-viewer.js needs to start: where to fetch, the leads, the clock, where to open."""
    recording = analysis.recording
    start = recording.start_at
    return script_json(json.dumps({
        "strip_url": url_for("analyses.strip_window", analysis_id=analysis.id),
        "abnormal_url": url_for("analyses.abnormal_json", analysis_id=analysis.id),
        "duration_s": recording.duration_s, "leads": recording.lead_names,
        "start_of_day_s": start.hour * 3600 + start.minute * 60 + start.second + start.microsecond / 1e6
        if start else None,
        "initial_s": around_s}))


EDGE_NOTE = "This beat lies too close to the start or end of the recording to be drawn."
FIGURE_MODEL_MISSING = "The recording model is not available on this server, so this beat's shape is not drawn."


def dominant_beat(analysis: Analysis, detector, beat: RecordingBeat) -> np.ndarray | None:
    """The patient's dominant beat that ``beat``'s template part compared it with, recomputed from the
    stored lead and R peaks (``RecordingDetector.dominant_beat``). Beats of unreadable stretches are not
    stored, so after one the blocks may be cut a few beats off those of the analysis."""
    from ecgad.recording.morphology import reference_span

    recording = analysis.recording
    peaks = np.array(db.session.scalars(select(RecordingBeat.sample).where(RecordingBeat.analysis_id == analysis.id)
                                        .order_by(RecordingBeat.position)).all(), dtype=np.int64)
    first, end = reference_span(beat.position // detector.settings.block_beats, detector.settings, peaks.size)
    if end <= first:
        return None
    margin = int(round(detector.settings.segment_s * recording.fs)) + 1
    lo = max(0, int(peaks[first]) - margin)
    samples = recording.samples(lo, int(peaks[end - 1]) + margin)
    return detector.dominant_beat(samples, recording.fs, peaks, beat.position, start=lo)


PART_MEANINGS = {"template": ("how unlike the patient's own dominant beat it is", "the dotted green line"),
                 "autoencoder": ("how unlike the autoencoder's reconstruction it is", "the dashed blue line"),
                 "rhythm": ("its timing: prematurity and the pause after it", None)}


def explain_parts(beat: RecordingBeat, parts: list[str]) -> list[str]:
    """One sentence per part of the score: what it adds (log-odds, from the stored parts) and what it
    measures, naming the line of the figure that shows it; the largest first."""
    values = [(p, beat.part(p)) for p in parts if beat.part(p) is not None]
    out = []
    for name, value in sorted(values, key=lambda item: -abs(item[1])):
        meaning, line = PART_MEANINGS.get(name, (name, None))
        out.append(f"{name.capitalize()} part {value:+.2f}: {meaning}" + (f" ({line})." if line else "."))
    return out


def beat_figure(analysis: Analysis, beat: RecordingBeat | None) -> tuple[str | None, str | None]:
    """``(figure JSON, None)``: the beat-vs-reconstruction figure of one recorded beat with its stored
    verdict and the patient's dominant beat, drawn by the model that made the analysis; or
    ``(None, why it is not drawn)``."""
    from dataclasses import replace

    from ecgad.report.figures import beat_figure as draw

    if beat is None:
        return None, None
    try:
        detector = recording_detector_of(analysis.model_id)
    except ModelUnavailable:
        return None, FIGURE_MODEL_MISSING
    except ModelMismatch as exc:
        return None, str(exc)
    recording = analysis.recording
    margin = int(round(detector.settings.segment_s * recording.fs)) + 1  # all the detector reads of a beat
    lo = max(0, beat.sample - margin)
    excerpt = recording.samples(lo, beat.sample + margin)
    verdict = detector.beat_verdict(excerpt, recording.fs, beat.sample - lo)
    if verdict is None:
        return None, EDGE_NOTE
    verdict = replace(verdict, index=beat.position, score=beat.score, threshold=analysis.threshold,
                      is_anomaly=beat.is_anomaly, confidence=beat.confidence, meta=analysis.model)
    title = f"Beat {beat.number} at {clock(beat.sample / recording.fs)}"
    dominant = dominant_beat(analysis, detector, beat)
    return script_json(draw(verdict, title=title, dominant=dominant).to_json()), None


def page(analysis: Analysis, can_change: bool):
    """The page of a recording analysis (``views.show`` dispatches here): anomalous beats listed by default."""
    selected = listing.selected_beat(RecordingBeat, analysis)
    figure_json, figure_note = beat_figure(analysis, selected)
    table = listing.list_beats(RecordingBeat, analysis, selected, current_app.config["RECORDING_BEATS_PER_PAGE"],
                               default_only="anomalies")
    recording = analysis.recording
    # a beat named in the address (an event's link) opens the timeline on it; else the start
    around = selected.sample / recording.fs if selected is not None and "beat" in request.args else None
    return render_template(
        "analyses/recording.html", analysis=analysis, recording=recording, patient=analysis.patient,
        beats=table.beats, page=table.page, only=table.only, sort=table.sort, link=table.link, selected=selected,
        clock=clock, timeline_json=timeline_json(analysis, around), figure_json=figure_json, figure_note=figure_note,
        viewer_json=viewer_json(analysis, around),
        explanation=explain_parts(selected, recording.part_names) if selected is not None else [],
        can_change=can_change, holter=holter_for(analysis), shown_events=SHOWN_EVENTS, **review_context(analysis))


SHOWN_FAMILIES = 12  # families listed on the page, largest first (the API lists all)


def sparkline(values, width: int = 120, height: int = 36) -> str:
    """A mean beat as an inline SVG polyline (no script, nothing fetched): NaN points are skipped."""
    import numpy as np

    y = np.array([np.nan if v is None else v for v in values], dtype=float)
    ok = np.isfinite(y)
    if ok.sum() < 2:
        return "—"
    lo, hi = float(y[ok].min()), float(y[ok].max())
    span = hi - lo or 1.0
    x = np.linspace(1, width - 1, y.size)
    points = " ".join(f"{a:.1f},{height - 2 - (b - lo) / span * (height - 4):.1f}" for a, b in zip(x[ok], y[ok],
                                                                                                   strict=True))
    return (f'<svg class="sparkline" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="mean beat" data-testid="family-mean"><polyline fill="none" stroke="currentColor" '
            f'stroke-width="1.2" points="{points}"/></svg>')


def review_context(analysis: Analysis) -> dict:
    from ..forms import ConfirmForm
    from . import review

    return {"families": review.family_list(analysis), "shown_families": SHOWN_FAMILIES, "sparkline": sparkline,
            "review_labels": review.LABELS, "label_names": review.LABEL_NAMES, "confirm_form": ConfirmForm(),
            "max_interpretation": review.MAX_INTERPRETATION}


SHOWN_EVENTS = 50  # events of a kind listed on the page (the summary keeps up to holter.MAX_EVENTS, the PDF 100)


def _reviewed_note(summary: dict) -> str | None:
    review = summary.get("review")
    if not review:
        return None
    note = f"Reviewed: {review['changed']} label{'s' if review['changed'] != 1 else ''} changed from the model's"
    if review["artefacts"]:
        note += f"; {review['artefacts']} artefact beat{'s' if review['artefacts'] != 1 else ''} left out"
    return note + ". The summary uses the reviewed labels."


@bp.get("/analyses/<int:analysis_id>/report.pdf")
@login_required
def report_pdf(analysis_id: int):
    """The Holter report of a recording as a PDF (``?paper=A4`` or ``Letter``), audited."""
    from ecgad.recording.pdf import PAPERS, ReportHeader, holter_pdf

    analysis = visible_analysis(analysis_id, kind="recording")
    paper = request.args.get("paper", "A4")
    if paper not in PAPERS:
        return {"error": "Bad request", "message": f"paper must be one of {', '.join(PAPERS)}.", "status": 400}, 400
    recording, patient = analysis.recording, analysis.patient
    summary = holter_for(analysis)
    by = analysis.created_by
    header = ReportHeader(
        patient_name=patient.name, patient_identifier=patient.identifier,
        patient_birth_date=patient.birth_date.isoformat() if patient.birth_date else None,
        source=analysis.filename, lead=recording.lead, fs=recording.fs, start=summary.get("start"),
        duration_s=recording.duration_s,
        models={k: str(v) for k, v in analysis.model.items() if k.endswith("model_id") and v}
        or {"model_id": analysis.model_id},
        analysed_by=f"{by.display_name} ({by.email})" if by else "a deleted account",
        analysed_at=analysis.created_at.strftime("%Y-%m-%d %H:%M UTC"),
        readable_fraction=recording.readable_fraction, interpretation=analysis.interpretation,
        signed_by=analysis.signed_by_name,
        signed_at=analysis.signed_at.strftime("%Y-%m-%d %H:%M UTC") if analysis.signed_at else None,
        reviewed=_reviewed_note(summary))
    data = holter_pdf(summary, fs=recording.fs, samples=recording.samples, n_samples=recording.n_samples,
                      header=header, beats=stored_beats(analysis), paper=paper)
    audit.viewed("report.view", "analysis", analysis.id, patient.id, f"file={analysis.filename}; paper={paper}")
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="holter-{analysis.id}.pdf"'
    response.headers["Cache-Control"] = "no-store"  # patient data: not kept in caches
    return response


@bp.get("/analyses/<int:analysis_id>/timeline.json")
@login_required
def timeline_window(analysis_id: int):
    """The signal and beats of one window of a recording (``start`` and ``end`` in seconds; NaN is refused,
    the rest clamped to the recording and to a window's largest span)."""
    return _window(analysis_id, "timeline", timeline.window_data)


@bp.get("/analyses/<int:analysis_id>/strip.json")
@login_required
def strip_window(analysis_id: int):
    """Every stored lead and the beats' labels over ``start``..``end`` seconds, for the ECG viewer
    (clamped to the recording and to ``strip.MAX_STRIP_S``; NaN refused)."""
    return _window(analysis_id, "viewer", strip.strip_data)


def _window(analysis_id: int, what: str, data):
    """``data(analysis, start, end)`` of the window ``?start=&end=`` (seconds) of a visible recording,
    its view audited once; 400 when either is missing or end is not after start."""
    analysis = visible_analysis(analysis_id, kind="recording")
    start, end = request.args.get("start", type=float), request.args.get("end", type=float)
    if start is None or end is None or not end > start:
        return {"error": "Bad request", "message": "Give start and end in seconds, end after start.",
                "status": 400}, 400
    audit.viewed("analysis.beats_view", "analysis", analysis.id, analysis.patient_id, what, once=True)
    return data(analysis, start, end)


@bp.get("/analyses/<int:analysis_id>/abnormal.json")
@login_required
def abnormal_json(analysis_id: int):
    """The next abnormal beat after ``after`` seconds, or the previous one before ``before``:
    ``{"beat": {...}}``, or ``{"beat": null}`` when there is none that way."""
    analysis = visible_analysis(analysis_id, kind="recording")
    after, before = request.args.get("after", type=float), request.args.get("before", type=float)
    time = after if after is not None else before
    if time is None or not math.isfinite(time) or (after is not None and before is not None):
        return {"error": "Bad request", "message": "Give either after or before, in seconds.", "status": 400}, 400
    audit.viewed("analysis.beats_view", "analysis", analysis.id, analysis.patient_id, "viewer", once=True)
    return {"beat": strip.abnormal_beat(analysis, time, "next" if after is not None else "previous")}


def beat_data(analysis: Analysis, number: int) -> dict:
    """Recorded beat ``number`` as JSON (``views.beat_json`` dispatches here)."""
    from ecgad.recording.result import recording_beat

    beat = listing.beat_at(RecordingBeat, analysis, number)
    figure, note = beat_figure(analysis, beat)
    recording = analysis.recording
    return {"analysis": analysis.id, "beat": beat.number,
            **recording_beat(beat.sample, recording.fs, beat.rr_s, beat.score, analysis.threshold, beat.is_anomaly,
                             beat.confidence, {p: beat.part(p) for p in recording.part_names}),
            **({"class": beat.beat_class, "class_confidence": beat.class_confidence} if beat.beat_class else {}),
            "time": clock(beat.sample / recording.fs), "heart_rate_bpm": beat.heart_rate_bpm,
            "explanation": explain_parts(beat, recording.part_names), "class": beat.beat_class,
            "verdict": beat.verdict_text, "annotation": beat.annotation,
            "family": beat.family, "reviewed_label": beat.reviewed_label,
            "figure": json.loads(figure) if figure else None, "figure_note": note}

