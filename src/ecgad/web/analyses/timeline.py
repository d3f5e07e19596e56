"""The recording page's timeline, drawn by plotly.js as SVG and filled window by window.

plotly.js draws its WebGL traces with code it generates at run time, which our
Content-Security-Policy (no 'unsafe-eval') refuses; SVG traces need none of that
but slow down past some tens of thousands of points. So the page gets the heart
rate of the whole recording (row 2, with the range slider) and the signal and
beat markers of the window in view only (row 1); each time the view moves,
recording-plot.js asks ``window_data`` for the new window. A window holds the
signal at full resolution up to ``MAX_POINTS`` samples (thinned to the minimum and
maximum of each stretch beyond, so no QRS disappears) and every beat up to
``MAX_BEATS`` (beyond, the anomalous ones only, highest scores first), and the
unreadable stretches in it (grey bands: no beats were kept there). A window is
clamped to the recording and to ``MAX_WINDOW_SAMPLES`` from its start, so that no
request decompresses more than that (a whole day would take gigabytes).

This module reads the stored recording and its beats; ``ecgad.report.figures`` cuts the
windows (``timeline_window``) and draws the figure (``timeline_figure``), as it does for the
report of ``ecgad analyze``. Windows give times in seconds; the figure's x values are
milliseconds on a date axis (``clock_axis``: hh:mm:ss of the recording), and recording-plot.js converts.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from sqlalchemy import select

from ecgad.report.figures import BEAT_COLUMNS, timeline_figure, timeline_window

from ..extensions import db
from ..models import Analysis, RecordingBeat

MAX_POINTS = 20_000
MAX_BEATS = 3_000
MAX_WINDOW_SAMPLES = 1 << 22  # 16 MB of float32: 3.2 hours at 360 Hz, 70 minutes at 1 kHz
INITIAL_WINDOW_S = 20.0
PART_COLUMNS = {"autoencoder": RecordingBeat.part_autoencoder, "template": RecordingBeat.part_template,
                "rhythm": RecordingBeat.part_rhythm}


def _beats(analysis: Analysis, lo: int | None = None, hi: int | None = None) -> dict[str, np.ndarray]:
    """``timeline_beats`` columns of the analysis's stored beats (with R peak in ``[lo, hi]`` samples),
    in time order."""
    parts = analysis.recording.part_names
    columns = [RecordingBeat.position, RecordingBeat.sample, RecordingBeat.score, RecordingBeat.confidence,
               RecordingBeat.rr_s, RecordingBeat.is_anomaly] + [PART_COLUMNS[p] for p in parts]
    query = select(*columns).where(RecordingBeat.analysis_id == analysis.id)
    if lo is not None:
        query = query.where(RecordingBeat.sample.between(lo, hi))
    rows = db.session.execute(query.order_by(RecordingBeat.sample)).all()
    names = [*BEAT_COLUMNS, *parts]
    values = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    out = {name: np.array([np.nan if v is None else v for v in column], dtype=np.float64)
           for name, column in zip(names, values, strict=True)}
    out["number"] += 1  # stored from 0
    out["is_anomaly"] = out["is_anomaly"].astype(bool)
    return out


def clamp(recording, start_s: float, end_s: float) -> tuple[float, float]:
    """``[start_s, end_s]`` within the recording and at most ``MAX_WINDOW_SAMPLES`` long."""
    fs, n = recording.fs, recording.n_samples
    start_s = min(max(0.0, float(start_s)), n / fs)
    return start_s, min(max(start_s, float(end_s)), n / fs, start_s + MAX_WINDOW_SAMPLES / fs)


def window_data(analysis: Analysis, start_s: float, end_s: float) -> dict:
    """The signal and beat markers of ``[start_s, end_s]`` (seconds), as plotly trace data (see
    ``timeline_window``), clamped to the recording and to ``MAX_WINDOW_SAMPLES`` from its start."""
    recording = analysis.recording
    fs, n = recording.fs, recording.n_samples
    start_s, end_s = clamp(recording, start_s, end_s)
    lo, hi = int(np.floor(start_s * fs)), min(n, int(np.ceil(end_s * fs)) + 1)
    return timeline_window(recording.samples(lo, hi), lo, fs, _beats(analysis, lo, hi - 1), recording.part_names,
                           recording.unreadable, start_s, end_s, max_points=MAX_POINTS, max_beats=MAX_BEATS)


def opening(duration_s: float, around_s: float | None = None) -> tuple[float, float]:
    """The window the page opens on: ``INITIAL_WINDOW_S`` seconds from the start, or centred on
    ``around_s`` (a beat or event the address names), within the recording."""
    span = min(INITIAL_WINDOW_S, duration_s)
    if around_s is None:
        return 0.0, span
    start = min(max(0.0, float(around_s) - span / 2), duration_s - span)
    return start, start + span


def figure(analysis: Analysis, around_s: float | None = None) -> go.Figure:
    """The timeline as the page opens (see ``opening``), heart rate throughout."""
    from ecgad.report.figures import to_ms

    recording = analysis.recording
    start, end = opening(recording.duration_s, around_s)
    window = window_data(analysis, start, end)
    fig = timeline_figure(window, _beats(analysis), fs=recording.fs, duration_s=recording.duration_s,
                          lead=recording.lead, threshold=analysis.threshold, parts=recording.part_names,
                          max_points=MAX_POINTS, max_beats=MAX_BEATS)
    if start > 0:
        fig.update_xaxes(range=[float(to_ms(start)), float(to_ms(end))])
    return fig
