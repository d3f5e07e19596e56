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

Windows give times in seconds; the figure's x values are milliseconds on a date axis
(``ecgad.report.figures.clock_axis``: hh:mm:ss of the recording), and recording-plot.js converts.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from sqlalchemy import select

from ecgad.report.figures import (
    ANOMALY_COLOUR,
    BEAT_COLOUR,
    HOVER_CLOCK,
    PALETTE,
    UNREADABLE_COLOUR,
    apply_layout,
    beat_hover,
    clock_axis,
    decimate,
    plain,
    to_ms,
)

from ..extensions import db
from ..models import Analysis, RecordingBeat

MAX_POINTS = 20_000
MAX_BEATS = 3_000
MAX_WINDOW_SAMPLES = 1 << 22  # 16 MB of float32: 3.2 hours at 360 Hz, 70 minutes at 1 kHz
INITIAL_WINDOW_S = 20.0
PART_COLUMNS = {"autoencoder": RecordingBeat.part_autoencoder, "template": RecordingBeat.part_template,
                "rhythm": RecordingBeat.part_rhythm}


def _beats(analysis: Analysis, lo: int | None = None, hi: int | None = None) -> dict[str, np.ndarray]:
    """Columns of the analysis's beats (with R peak in ``[lo, hi]`` samples), in time order."""
    parts = analysis.recording.part_names
    columns = [RecordingBeat.position, RecordingBeat.sample, RecordingBeat.score, RecordingBeat.confidence,
               RecordingBeat.rr_s, RecordingBeat.is_anomaly] + [PART_COLUMNS[p] for p in parts]
    query = select(*columns).where(RecordingBeat.analysis_id == analysis.id)
    if lo is not None:
        query = query.where(RecordingBeat.sample.between(lo, hi))
    rows = db.session.execute(query.order_by(RecordingBeat.sample)).all()
    names = ["number", "sample", "score", "confidence", "rr_s", "is_anomaly", *parts]
    values = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    out = {name: np.array([np.nan if v is None else v for v in column], dtype=np.float64)
           for name, column in zip(names, values, strict=True)}
    out["number"] += 1
    out["is_anomaly"] = out["is_anomaly"].astype(bool)
    return out


def _json_list(values: np.ndarray) -> list:
    """``values`` rounded to 4 decimals as (nested) lists, NaN and infinity as None: JSON has no NaN
    (a part of the score missing for a beat is stored as NULL, read back as NaN)."""
    out = np.round(np.asarray(values, dtype=np.float64), 4).astype(object)
    out[~np.isfinite(np.asarray(values, dtype=np.float64))] = None
    return out.tolist()


def _markers(beats: dict[str, np.ndarray], mask: np.ndarray, parts: list[str], fs: float,
             amplitude: np.ndarray) -> dict:
    custom = np.stack([beats["number"], beats["score"], beats["confidence"], np.nan_to_num(beats["rr_s"])]
                      + [beats[p] for p in parts], axis=1)[mask]
    return {"x": _json_list(beats["sample"][mask] / fs), "y": _json_list(amplitude[mask]),
            "customdata": _json_list(custom)}


def unreadable_in(analysis: Analysis, start_s: float, end_s: float) -> list[list]:
    """``[start_s, end_s, reason]`` of the unreadable stretches (left out of beats and heart rate)
    that overlap ``[start_s, end_s]``, clipped to it."""
    recording = analysis.recording
    fs = recording.fs
    return [[round(max(a / fs, start_s), 4), round(min(b / fs, end_s), 4), reason]
            for a, b, reason in recording.unreadable if a / fs < end_s and b / fs > start_s]


def unreadable_shapes(stretches: list[list]) -> list[dict]:
    """Grey bands over both rows, one per unreadable stretch (recording-plot.js makes the same)."""
    return [{"type": "rect", "name": "unreadable", "xref": "x", "yref": "paper", "x0": float(to_ms(a)),
             "x1": float(to_ms(b)), "y0": 0,
             "y1": 1, "fillcolor": UNREADABLE_COLOUR, "opacity": 0.3, "line": {"width": 0}, "layer": "below",
             "label": {"text": reason, "textposition": "top left", "font": {"size": 11}}}
            for a, b, reason in stretches]


def window_data(analysis: Analysis, start_s: float, end_s: float) -> dict:
    """The signal and beat markers of ``[start_s, end_s]`` (seconds), as plotly trace data."""
    recording = analysis.recording
    fs, n = recording.fs, recording.n_samples
    start_s = min(max(0.0, float(start_s)), n / fs)
    end_s = min(max(start_s, float(end_s)), n / fs, start_s + MAX_WINDOW_SAMPLES / fs)
    lo, hi = int(np.floor(start_s * fs)), min(n, int(np.ceil(end_s * fs)) + 1)
    samples = recording.samples(lo, hi)
    idx, y = decimate(samples, MAX_POINTS)
    beats = _beats(analysis, lo, hi - 1)
    amplitude = samples[np.clip(beats["sample"].astype(np.int64) - lo, 0, max(samples.size - 1, 0))] \
        if samples.size else np.zeros(beats["sample"].size)
    abnormal = beats["is_anomaly"]
    normal = ~abnormal
    complete = beats["sample"].size <= MAX_BEATS
    if not complete:  # too many to draw: the anomalous ones only, highest scores first
        normal = np.zeros_like(abnormal)
        keep = np.flatnonzero(abnormal)
        keep = keep[np.argsort(-beats["score"][keep], kind="stable")[:MAX_BEATS]]
        abnormal = np.zeros_like(abnormal)
        abnormal[keep] = True
    parts = recording.part_names
    return {"start": start_s, "end": end_s, "thinned": bool(idx.size < samples.size), "complete": complete,
            "beats": int(beats["sample"].size),
            "signal": {"x": np.round((idx + lo) / fs, 4).tolist(), "y": _json_list(y)},
            "normal": _markers(beats, normal, parts, fs, amplitude),
            "abnormal": _markers(beats, abnormal, parts, fs, amplitude),
            "unreadable": unreadable_in(analysis, start_s, end_s)}


def figure(analysis: Analysis) -> go.Figure:
    """The timeline as the page opens: the first ``INITIAL_WINDOW_S`` seconds, heart rate throughout."""
    recording = analysis.recording
    duration = recording.duration_s
    window = window_data(analysis, 0.0, min(INITIAL_WINDOW_S, duration))
    hover = beat_hover(analysis.threshold, recording.part_names)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.72, 0.28], vertical_spacing=0.05)
    # The signal takes no hover or click: each beat marker sits on it, and plotly gives a tie to the
    # first trace, so the beat under the pointer would show the signal's label and a click would miss it.
    # plotly.js reads legend names as HTML: the lead's name comes from the uploaded file
    fig.add_trace(go.Scatter(x=to_ms(window["signal"]["x"]).tolist(), y=window["signal"]["y"], mode="lines",
                             name=f"ECG ({plain(recording.lead)})",
                             line={"color": BEAT_COLOUR, "width": 1}, hoverinfo="skip"),
                  row=1, col=1)
    for key, name, colour, size, symbol in (("normal", "normal beat", PALETTE[0], 6, "circle"),
                                            ("abnormal", "anomalous beat", ANOMALY_COLOUR, 10, "diamond")):
        fig.add_trace(go.Scatter(**{**window[key], "x": to_ms(window[key]["x"]).tolist()}, mode="markers", name=name,
                                 marker={"color": colour, "size": size, "symbol": symbol},
                                 hovertemplate=hover + f"<extra>{name}</extra>"), row=1, col=1)
    beats = _beats(analysis)
    t, hr = beats["sample"] / recording.fs, 60.0 / beats["rr_s"]
    ok = np.isfinite(hr)
    idx, rate = decimate(hr[ok], MAX_POINTS)
    fig.add_trace(go.Scatter(x=to_ms(t[ok][idx]), y=np.round(rate, 1), mode="lines", name="heart rate",
                             line={"color": PALETTE[2], "width": 1.2},
                             hovertemplate=f"{HOVER_CLOCK}<br>%{{y:.0f}} bpm<extra></extra>"),
                  row=2, col=1)
    marked = np.flatnonzero(ok & beats["is_anomaly"])
    marked = np.sort(marked[np.argsort(-beats["score"][marked], kind="stable")[:MAX_BEATS]])
    fig.add_trace(go.Scatter(x=to_ms(t[marked]), y=np.round(hr[marked], 1), mode="markers", showlegend=False,
                             name="anomalous beat", marker={"color": ANOMALY_COLOUR, "size": 6, "symbol": "diamond"},
                             customdata=beats["number"][marked, None],
                             hovertemplate=f"beat %{{customdata[0]:d}} at {HOVER_CLOCK}<br>%{{y:.0f}} bpm"
                                           "<extra>anomalous beat</extra>"),
                  row=2, col=1)
    apply_layout(fig, None, height=620, margin={"l": 60, "r": 20, "t": 40, "b": 40},
            legend={"orientation": "h", "x": 0, "xanchor": "left", "y": 1.02, "yanchor": "bottom"})
    for shape in unreadable_shapes(window["unreadable"]):
        fig.add_shape(shape)
    clock_axis(fig, duration, window["end"])
    fig.update_yaxes(title_text="mV", row=1, col=1)
    fig.update_yaxes(title_text="bpm", row=2, col=1)
    return fig
