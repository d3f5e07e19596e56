"""Plotly figures shared by the evaluation report and the web UI.

Every function returns a ``plotly.graph_objects.Figure`` on a plain white
template, with colours from the Okabe–Ito palette (safe for colour-blind readers).
"""
from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..verdict import Verdict

# Okabe & Ito (2008), "Color Universal Design".
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
CLASS_NAMES = {1: "normal", 2: "R-on-T PVC", 3: "PVC", 4: "SP or EB", 5: "unclassified"}
CLASS_COLOURS = {1: "#0072B2", 2: "#D55E00", 3: "#E69F00", 4: "#CC79A7", 5: "#009E73"}
BEAT_COLOUR, RECON_COLOUR, ERROR_COLOUR = "#000000", "#0072B2", "#D55E00"
UNREADABLE_COLOUR = "#999999"  # shaded stretches a recording's quality check left out
ERROR_FILL = "rgba(213, 94, 0, 0.30)"
# Anomalous beats on a timeline: red diamonds (the pages say so), against blue dots for normal beats.
ANOMALY_COLOUR = "#D7191C"
TEMPLATE = "plotly_white"
FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 13}
# How plotly.js shows every figure, in the reports and on the web pages (which receive it as JSON).
# Patient data never leaves the app: no "send to cloud" button (shown by default in plotly.js 4,
# as "sendChartToCloud"). The modebar holds only what a clinician uses on an ECG (save as PNG, zoom,
# pan, zoom in and out, autoscale, reset): no select, lasso, spike or hover toggles, no cloud.
PLOT_CONFIG = {
    "displaylogo": False,
    "showSendToCloud": False,
    "responsive": True,
    "modeBarButtons": [["toImage"], ["zoom2d", "pan2d"], ["zoomIn2d", "zoomOut2d", "autoScale2d", "resetScale2d"]],
    "toImageButtonOptions": {"format": "png", "filename": "ecgad-figure", "scale": 2},
}


def plain(text: str) -> str:
    """``text`` for plotly.js, which reads titles and legend names as HTML: its tags shown as written.
    Quotes stay: plotly.js decodes no ``&quot;``, and without ``<`` no tag can start."""
    return html.escape(str(text), quote=False)


def figure_html(fig: go.Figure, include_plotlyjs: bool) -> str:
    """A report's ``<div>`` of ``fig``, drawn with ``PLOT_CONFIG``; plotly.js goes inline with it when
    ``include_plotlyjs`` (once per page: no network needed)."""
    return fig.to_html(full_html=False, include_plotlyjs=include_plotlyjs, config=dict(PLOT_CONFIG))


def class_name(label: int) -> str:
    return CLASS_NAMES.get(int(label), f"class {int(label)}")


def apply_layout(fig: go.Figure, title: str | None = None, legend: dict | None = None, **kwargs) -> go.Figure:
    kwargs.setdefault("margin", {"l": 60, "r": 20, "t": 80 if title else 30, "b": 50})
    fig.update_layout(template=TEMPLATE, font=FONT,
                      title={"text": title, "x": 0.01, "xanchor": "left"} if title else None,
                      legend={"bgcolor": "rgba(255,255,255,0.8)", **(legend or {})}, **kwargs)
    return fig


def _verdict_caption(verdict: Verdict) -> str:
    relation = ">" if verdict.score > verdict.threshold else "≤"
    return f"score {verdict.score:.4g} {relation} threshold {verdict.threshold:.4g}"


def _beat_traces(verdict: Verdict, showlegend: bool = True) -> list[go.Scatter]:
    """Error band (polygon between beat and reconstruction), reconstruction, beat."""
    beat = np.asarray(verdict.beat, dtype=float)
    recon = np.asarray(verdict.reconstruction, dtype=float)
    x = np.arange(len(beat))
    band = go.Scatter(x=np.concatenate([x, x[::-1]]), y=np.concatenate([beat, recon[::-1]]), fill="toself",
                      fillcolor=ERROR_FILL, line={"width": 0}, hoverinfo="skip", name="difference",
                      legendgroup="difference", showlegend=showlegend)
    recon_trace = go.Scatter(x=x, y=recon, name="reconstruction", legendgroup="reconstruction", showlegend=showlegend,
                             line={"color": RECON_COLOUR, "dash": "dash", "width": 2},
                             hovertemplate="sample %{x}<br>reconstruction %{y:.3f}<extra></extra>")
    beat_trace = go.Scatter(x=x, y=beat, name="beat", legendgroup="beat", showlegend=showlegend,
                            line={"color": BEAT_COLOUR, "width": 2},
                            hovertemplate="sample %{x}<br>beat %{y:.3f}<extra></extra>")
    return [band, recon_trace, beat_trace]


DOMINANT_COLOUR = "#009E73"  # Okabe-Ito bluish green, apart from the beat (black) and reconstruction (blue)


def beat_figure(verdict: Verdict, title: str | None = None, dominant: np.ndarray | None = None) -> go.Figure:
    """One beat with its reconstruction; the gap between them is shaded and the
    per-sample squared error is drawn underneath, so the abnormal part stands out.
    ``dominant``: the patient's dominant beat that a recorded beat's template part compares it
    with (z-normalised like the beat), drawn over them."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.72, 0.28], vertical_spacing=0.06)
    for trace in _beat_traces(verdict):
        fig.add_trace(trace, row=1, col=1)
    if dominant is not None:
        fig.add_trace(go.Scatter(x=np.arange(len(dominant)), y=np.asarray(dominant, dtype=float),
                                 name="patient's dominant beat (template)", legendgroup="dominant",
                                 line={"color": DOMINANT_COLOUR, "dash": "dot", "width": 2.5},
                                 hovertemplate="sample %{x}<br>dominant beat %{y:.3f}<extra></extra>"),
                      row=1, col=1)
    error = np.asarray(verdict.error, dtype=float)
    fig.add_trace(go.Scatter(x=np.arange(len(error)), y=error, name="squared error", fill="tozeroy",
                             fillcolor=ERROR_FILL, line={"color": ERROR_COLOUR, "width": 1.5},
                             hovertemplate="sample %{x}<br>error %{y:.4f}<extra></extra>"), row=2, col=1)
    heading = plain(title) if title else f"Beat {verdict.index + 1}"  # people count beats from 1
    # Two plain lines: <sup> makes plotly.js write a style attribute, which a strict CSP refuses.
    text = f"{heading}: {verdict.describe()}<br>{_verdict_caption(verdict)}"
    # The legend sits under the plot: above it, it would collide with a long title on narrow pages.
    apply_layout(fig, text, height=480, hovermode="x unified", margin={"l": 60, "r": 20, "t": 80, "b": 100},
            legend={"orientation": "h", "x": 0, "xanchor": "left", "y": -0.16, "yanchor": "top"})
    fig.update_yaxes(title_text="amplitude (z-score)", row=1, col=1)
    fig.update_yaxes(title_text="error", rangemode="tozero", row=2, col=1)
    fig.update_xaxes(title_text="sample", row=2, col=1)
    return fig


def _curve_colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def roc_figure(curves: Mapping[str, tuple[Sequence[float], Sequence[bool]]]) -> go.Figure:
    """ROC curves, abnormal = positive; ``curves`` maps a name to (scores, is_anomaly)."""
    from sklearn.metrics import roc_auc_score, roc_curve

    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance", hoverinfo="skip",
                             line={"color": "#999999", "dash": "dot", "width": 1}))
    for i, (name, (scores, is_anomaly)) in enumerate(curves.items()):
        fpr, tpr, _ = roc_curve(np.asarray(is_anomaly, bool), np.asarray(scores, float))
        auc = roc_auc_score(np.asarray(is_anomaly, bool), np.asarray(scores, float))
        fig.add_trace(go.Scatter(x=fpr, y=tpr, mode="lines", name=f"{plain(name)} (AUC {auc:.3f})",
                                 line={"color": _curve_colour(i), "width": 2},
                                 hovertemplate="FPR %{x:.3f}<br>TPR %{y:.3f}<extra></extra>"))
    apply_layout(fig, "ROC curve", height=440, legend={"x": 0.98, "xanchor": "right", "y": 0.02, "yanchor": "bottom"})
    fig.update_xaxes(title_text="false positive rate (normals flagged)", range=[0, 1])
    fig.update_yaxes(title_text="true positive rate (abnormals found)", range=[0, 1.01])
    return fig


def pr_figure(curves: Mapping[str, tuple[Sequence[float], Sequence[bool]]]) -> go.Figure:
    """Precision–recall curves, abnormal = positive; AP (average precision) in the legend."""
    from sklearn.metrics import average_precision_score, precision_recall_curve

    fig = go.Figure()
    prevalences = set()
    for i, (name, (scores, is_anomaly)) in enumerate(curves.items()):
        y, s = np.asarray(is_anomaly, bool), np.asarray(scores, float)
        precision, recall, _ = precision_recall_curve(y, s)
        ap = average_precision_score(y, s)
        prevalences.add(round(float(y.mean()), 6))
        fig.add_trace(go.Scatter(x=recall, y=precision, mode="lines", line_shape="vh",
                                 name=f"{plain(name)} (AP {ap:.3f})",
                                 line={"color": _curve_colour(i), "width": 2},
                                 hovertemplate="recall %{x:.3f}<br>precision %{y:.3f}<extra></extra>"))
    if len(prevalences) == 1:  # chance level is only one line when all curves share a test set mix
        p = prevalences.pop()
        fig.add_trace(go.Scatter(x=[0, 1], y=[p, p], mode="lines", name=f"chance ({p:.2f})", hoverinfo="skip",
                                 line={"color": "#999999", "dash": "dot", "width": 1}))
    apply_layout(fig, "Precision–recall curve", height=440,
            legend={"x": 0.02, "xanchor": "left", "y": 0.02, "yanchor": "bottom"})
    fig.update_xaxes(title_text="recall (abnormals found)", range=[0, 1])
    fig.update_yaxes(title_text="precision (flagged that are abnormal)", range=[0, 1.01])
    return fig


def score_histogram(scores: Sequence[float], is_anomaly_or_labels: Sequence, threshold: float | None) -> go.Figure:
    """Score distribution per class, each normalised to its own size (classes differ
    a lot in number), with the threshold as a vertical line.

    A boolean array means normal vs abnormal; an integer array holds ECG5000 class
    labels (1 normal, 2–5 the abnormal classes, named); a string array a labelled
    file's own label names. The x axis turns
    logarithmic when positive scores span more than two decades.
    """
    s = np.asarray(scores, dtype=float)
    raw = np.asarray(is_anomaly_or_labels)
    if len(raw) != len(s):
        raise ValueError("scores and labels differ in number")
    if raw.dtype == bool:
        groups = {"normal": (~raw, CLASS_COLOURS[1]), "abnormal": (raw, CLASS_COLOURS[2])}
    elif raw.dtype.kind in "US":  # a labelled file's own names, shown as written
        groups = {plain(k): (raw == k, PALETTE[i % len(PALETTE)]) for i, k in enumerate(np.unique(raw))}
    else:
        groups = {class_name(k): (raw == k, CLASS_COLOURS.get(int(k), PALETTE[(int(k) + 5) % len(PALETTE)]))
                  for k in np.unique(raw)}
    positive = s[s > 0]
    log_x = bool(len(positive) == len(s) and len(s) > 1
                 and np.quantile(positive, 0.99) / max(np.quantile(positive, 0.01), 1e-300) > 100)
    finite = s[np.isfinite(s)]
    lo, hi = (finite.min(), finite.max()) if len(finite) else (0.0, 1.0)
    if threshold is not None and math.isfinite(threshold) and (threshold > 0 or not log_x):
        lo, hi = min(lo, threshold), max(hi, threshold)
    if hi <= lo:
        hi = lo + 1.0
    edges = np.geomspace(lo, hi, 51) if log_x else np.linspace(lo, hi, 51)

    fig = go.Figure()
    for name, (mask, colour) in groups.items():
        counts, _ = np.histogram(s[mask], bins=edges)
        share = counts / max(int(mask.sum()), 1)
        # A step outline drawn through bin edges reads correctly on a log axis, unlike bars.
        fig.add_trace(go.Scatter(x=np.repeat(edges, 2)[1:-1], y=np.repeat(share, 2), mode="lines", fill="tozeroy",
                                 name=f"{name} (n={int(mask.sum())})", line={"color": colour, "width": 1.5},
                                 opacity=0.85,
                                 hovertemplate=f"{name}<br>score %{{x:.4g}}<br>share %{{y:.3f}}<extra></extra>"))
    if threshold is not None and math.isfinite(threshold):
        fig.add_vline(x=threshold, line={"color": "#000000", "dash": "dash", "width": 1.5})
        # Annotations (unlike shapes) take log10 positions on a log axis; add_vline's own label gets this wrong.
        fig.add_annotation(x=math.log10(threshold) if log_x else threshold, y=1, yref="paper", showarrow=False,
                           xanchor="left", yanchor="bottom", text=f" threshold {threshold:.4g}")
    apply_layout(fig, "Anomaly scores by class", height=420)
    fig.update_xaxes(title_text="anomaly score" + (" (log scale)" if log_x else ""), type="log" if log_x else "linear")
    fig.update_yaxes(title_text="share of the class's beats", rangemode="tozero")
    return fig


def reconstruction_examples(verdicts_by_class: Mapping[str, Verdict], cols: int = 3) -> go.Figure:
    """A grid of small beat plots, one per named example (e.g. one per class)."""
    if not verdicts_by_class:
        raise ValueError("no examples to plot")
    items = list(verdicts_by_class.items())
    cols = max(1, min(cols, len(items)))
    rows = math.ceil(len(items) / cols)
    titles = [f"{plain(name)}: {v.describe()}<br><sup>{_verdict_caption(v)}</sup>" for name, v in items]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, horizontal_spacing=0.05,
                        vertical_spacing=min(0.16, 0.5 / rows))
    for i, (_, verdict) in enumerate(items):
        for trace in _beat_traces(verdict, showlegend=i == 0):
            fig.add_trace(trace, row=i // cols + 1, col=i % cols + 1)
    apply_layout(fig, "Example reconstructions", height=260 * rows + 140, margin={"l": 60, "r": 20, "t": 100, "b": 90},
            legend={"orientation": "h", "x": 0, "xanchor": "left", "y": 0.01, "yanchor": "bottom", "yref": "container"})
    fig.update_annotations(font={"size": 12})
    fig.update_xaxes(title_text="sample", row=rows)
    fig.update_yaxes(title_text="z-score", col=1)
    return fig


def decimate(x: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of at most ``max_points`` samples: the min and max of each bucket (spikes survive)."""
    n = x.size
    if n <= max_points:
        return np.arange(n), x
    buckets = max(1, max_points // 2)
    size = math.ceil(n / buckets)
    pad = (-n) % size
    xs = np.concatenate([x, np.full(pad, np.nan, dtype=x.dtype)]).reshape(-1, size)
    lo, hi = np.nanargmin(xs, axis=1), np.nanargmax(xs, axis=1)
    base = np.arange(xs.shape[0]) * size
    idx = np.sort(np.concatenate([base + lo, base + hi]))
    idx = np.unique(idx[idx < n])
    return idx, x[idx]


# A recording's timeline counts time in milliseconds on a date axis, so that plotly.js ticks it as
# hh:mm:ss of the recording at any zoom. The recording starts at midnight of 2000-01-01 (UTC): plotly.js
# reads a number of 2 or 4 digits on a date axis as a year, so times counted from 1970 would be wrong in
# a recording's first 10 seconds. Hover texts show x as the axis's hoverformat says.
TIME_ORIGIN_MS = 946_684_800_000
HOVER_CLOCK = "%{x}"


def to_ms(seconds) -> np.ndarray:
    """Seconds from the recording's start as the timeline's x values (milliseconds, to 0.1 ms)."""
    return TIME_ORIGIN_MS + np.round(np.asarray(seconds, dtype=np.float64) * 1000.0, 1)


def clock_axis(fig: go.Figure, duration_s: float, window_s: float) -> go.Figure:
    """The time axis of a two-row timeline: hh:mm:ss (with milliseconds under a second a tick), held
    within the recording, opening on its first ``window_s`` seconds; the range slider under row 2.
    ``layout.meta.time_origin_ms`` tells scripts where the recording starts."""
    start, end = TIME_ORIGIN_MS, float(to_ms(duration_s if duration_s > 0 else 1.0))
    fig.update_layout(meta={"time_origin_ms": TIME_ORIGIN_MS})
    fig.update_xaxes(type="date", range=[start, min(float(to_ms(window_s)), end)], minallowed=start, maxallowed=end,
                     tickformat="%H:%M:%S", tickformatstops=[{"dtickrange": [None, 1000], "value": "%H:%M:%S.%L"}],
                     hoverformat="%H:%M:%S.%L")
    fig.update_xaxes(title_text="time from the start (hh:mm:ss)", row=2, col=1,
                     rangeslider={"visible": True, "thickness": 0.08, "range": [start, end]})
    return fig


def beat_hover(threshold: float, parts: Sequence[str]) -> str:
    """Hover text of a beat marker whose customdata is [number, score, confidence, RR, *parts]."""
    return (f"beat %{{customdata[0]:d}} at {HOVER_CLOCK}<br>score %{{customdata[1]:.2f}} (threshold "
            + f"{threshold:.2f}" + ")<br>confidence %{customdata[2]:.2f}<br>RR %{customdata[3]:.3f} s"
            + "".join(f"<br>{p} %{{customdata[{4 + i}]:+.2f}}" for i, p in enumerate(parts)))


# ------------------------------------------------------------------ a recording's timeline
#
# One drawer for the recording report (``ecgad analyze --report``) and the web's recording page.
# Row 1: the signal and a marker on each beat's R peak (normal: blue dots, anomalous: red diamonds);
# row 2: the heart rate, anomalous beats marked, with the range slider; grey bands over the
# unreadable stretches. Row 1 draws a *window* (``timeline_window``): the whole recording in the
# report, the stretch in view on the web page, whose script asks for each new window (timeline.json)
# and draws it with the same trace order and band look (recording-plot.js).

BEAT_COLUMNS = ("number", "sample", "score", "confidence", "rr_s", "is_anomaly")


def timeline_beats(result) -> dict[str, np.ndarray]:
    """The columns the timeline draws of an ``ecgad.recording.RecordingResult``'s beats, ``(n,)`` each:
    ``number`` (from 1), ``sample`` (R peak), ``score``, ``confidence``, ``rr_s`` (NaN for the first),
    ``is_anomaly`` and one per part of the score, named as the part."""
    n = len(result.sample)
    return {"number": np.arange(1, n + 1, dtype=np.float64), "sample": np.asarray(result.sample, np.float64),
            "score": np.asarray(result.score, np.float64), "confidence": np.asarray(result.confidence, np.float64),
            "rr_s": np.asarray(result.rr_s, np.float64), "is_anomaly": np.asarray(result.is_anomaly, bool),
            **{p: np.asarray(v, np.float64) for p, v in result.parts.items()}}


def _json_list(values) -> list:
    """``values`` rounded to 4 decimals as (nested) lists, NaN and infinity as None: JSON has no NaN
    (a part of the score missing for a beat is stored as NULL, read back as NaN)."""
    values = np.asarray(values, dtype=np.float64)
    out = np.round(values, 4).astype(object)
    out[~np.isfinite(values)] = None
    return out.tolist()


def _markers(beats: Mapping[str, np.ndarray], mask: np.ndarray, parts: Sequence[str], fs: float,
             amplitude: np.ndarray) -> dict:
    """Marker trace data: x in seconds, y in mV, customdata [number, score, confidence, RR, *parts]."""
    custom = np.stack([beats["number"], beats["score"], beats["confidence"], np.nan_to_num(beats["rr_s"])]
                      + [beats[p] for p in parts], axis=1)[mask]
    return {"x": _json_list(beats["sample"][mask] / fs), "y": _json_list(amplitude[mask]),
            "customdata": _json_list(custom)}


def timeline_window(samples: np.ndarray, offset: int, fs: float, beats: Mapping[str, np.ndarray],
                    parts: Sequence[str], unreadable: Sequence, start_s: float, end_s: float, *,
                    max_points: int, max_beats: int | None = None) -> dict:
    """Row 1 of the timeline for ``[start_s, end_s]`` (seconds from the recording's start), as JSON.

    ``samples``: ``(m,)`` mV, the signal from sample ``offset`` on, covering the window; ``beats``:
    ``timeline_beats`` columns of the beats whose R peak lies in it; ``unreadable``: ``(start, end,
    reason)`` stretches in samples, any of the recording's. The signal is kept at full resolution up
    to ``max_points`` samples (beyond, the minimum and maximum of each stretch: no QRS disappears);
    every beat is marked up to ``max_beats`` (beyond, the anomalous ones only, highest scores first;
    ``None``: no limit). Returns ``start``, ``end`` (s), ``thinned``, ``complete``, ``beats`` (how
    many in the window), ``signal`` ``{x: s, y: mV}``, ``normal`` and ``abnormal`` marker data
    (``_markers``) and ``unreadable`` ``[start_s, end_s, reason]`` clipped to the window."""
    samples = np.asarray(samples)
    idx, y = decimate(samples, max_points)
    sample = beats["sample"]
    amplitude = samples[np.clip(sample.astype(np.int64) - offset, 0, max(samples.size - 1, 0))] \
        if samples.size else np.zeros(sample.size)
    abnormal = np.asarray(beats["is_anomaly"], dtype=bool)
    normal = ~abnormal
    complete = max_beats is None or sample.size <= max_beats
    if not complete:  # too many to draw: the anomalous ones only, highest scores first
        normal = np.zeros_like(abnormal)
        keep = np.flatnonzero(abnormal)
        keep = keep[np.argsort(-beats["score"][keep], kind="stable")[:max_beats]]
        abnormal = np.zeros_like(abnormal)
        abnormal[keep] = True
    stretches = [[round(max(a / fs, start_s), 4), round(min(b / fs, end_s), 4), reason]
                 for a, b, reason in unreadable if a / fs < end_s and b / fs > start_s]
    return {"start": start_s, "end": end_s, "thinned": bool(idx.size < samples.size), "complete": complete,
            "beats": int(sample.size),
            "signal": {"x": np.round((idx + offset) / fs, 4).tolist(),
                       "y": _json_list(y)},
            "normal": _markers(beats, normal, parts, fs, amplitude),
            "abnormal": _markers(beats, abnormal, parts, fs, amplitude),
            "unreadable": stretches}


def unreadable_shapes(stretches: Sequence) -> list[dict]:
    """Grey bands over both rows, one per ``[start_s, end_s, reason]`` (recording-plot.js makes the same)."""
    return [{"type": "rect", "name": "unreadable", "xref": "x", "yref": "paper", "x0": float(to_ms(a)),
             "x1": float(to_ms(b)), "y0": 0, "y1": 1, "fillcolor": UNREADABLE_COLOUR, "opacity": 0.3,
             "line": {"width": 0}, "layer": "below",
             "label": {"text": reason, "textposition": "top left", "font": {"size": 11}}}
            for a, b, reason in stretches]


def timeline_figure(window: dict, beats: Mapping[str, np.ndarray], *, fs: float, duration_s: float, lead: str,
                    threshold: float, parts: Sequence[str], max_points: int, max_beats: int | None = None,
                    view_s: float | None = None, title: str | None = None, webgl: bool = False) -> go.Figure:
    """A recording's timeline: row 1 from ``window`` (``timeline_window``), the heart rate of every beat
    in ``beats`` (``timeline_beats`` columns; thinned to ``max_points``, at most ``max_beats`` anomalous
    ones marked, highest scores first) in row 2, on a clock axis (``clock_axis``) opening on the first
    ``view_s`` seconds (default: the window's end). Traces, in this order (recording-plot.js restyles
    the first three): the signal, normal beats, anomalous beats, heart rate, anomalous beats on it.
    ``webgl`` draws row 1 with WebGL, for hundreds of thousands of points in a report; the web page's
    Content-Security-Policy refuses WebGL traces (their code is generated at run time), so it uses SVG."""
    scatter = go.Scattergl if webgl else go.Scatter
    hover = beat_hover(threshold, parts)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.72, 0.28], vertical_spacing=0.05)
    # The signal takes no hover or click: each beat marker sits on it, and plotly gives a tie to the
    # first trace, so the beat under the pointer would show the signal's label and a click would miss it.
    # plotly.js reads legend names as HTML: the lead's name comes from the file
    fig.add_trace(scatter(x=to_ms(window["signal"]["x"]).tolist(), y=window["signal"]["y"], mode="lines",
                          name=f"ECG ({plain(lead)})", line={"color": BEAT_COLOUR, "width": 1}, hoverinfo="skip"),
                  row=1, col=1)
    for key, name, colour, size, symbol in (("normal", "normal beat", PALETTE[0], 6, "circle"),
                                            ("abnormal", "anomalous beat", ANOMALY_COLOUR, 10, "diamond")):
        fig.add_trace(scatter(**{**window[key], "x": to_ms(window[key]["x"]).tolist()}, mode="markers", name=name,
                              marker={"color": colour, "size": size, "symbol": symbol},
                              hovertemplate=hover + f"<extra>{name}</extra>"), row=1, col=1)
    # Row 2 in SVG always: the range slider draws only SVG traces
    t = beats["sample"] / fs
    with np.errstate(divide="ignore", invalid="ignore"):
        hr = 60.0 / beats["rr_s"]
    ok = np.isfinite(hr)
    idx, rate = decimate(hr[ok], max_points)
    fig.add_trace(go.Scatter(x=to_ms(t[ok][idx]), y=np.round(rate, 1), mode="lines", name="heart rate",
                             line={"color": PALETTE[2], "width": 1.2},
                             hovertemplate=f"{HOVER_CLOCK}<br>%{{y:.0f}} bpm<extra></extra>"),
                  row=2, col=1)
    marked = np.flatnonzero(ok & np.asarray(beats["is_anomaly"], dtype=bool))
    marked = np.sort(marked[np.argsort(-beats["score"][marked], kind="stable")[:max_beats]])
    fig.add_trace(go.Scatter(x=to_ms(t[marked]), y=np.round(hr[marked], 1), mode="markers", showlegend=False,
                             name="anomalous beat", marker={"color": ANOMALY_COLOUR, "size": 6, "symbol": "diamond"},
                             customdata=beats["number"][marked, None],
                             hovertemplate=f"beat %{{customdata[0]:d}} at {HOVER_CLOCK}<br>%{{y:.0f}} bpm"
                                           "<extra>anomalous beat</extra>"),
                  row=2, col=1)
    apply_layout(fig, title, height=620, margin={"l": 60, "r": 20, "t": 80 if title else 40, "b": 40},
                 legend={"orientation": "h", "x": 0, "xanchor": "left", "y": 1.02, "yanchor": "bottom"})
    for shape in unreadable_shapes(window["unreadable"]):
        fig.add_shape(shape)
    clock_axis(fig, duration_s, window["end"] if view_s is None else view_s)
    fig.update_yaxes(title_text="mV", row=1, col=1)
    fig.update_yaxes(title_text="bpm", row=2, col=1)
    return fig


def recording_timeline(result, signal, max_points: int = 200_000, window_s: float = 20.0) -> go.Figure:
    """The report's timeline of a whole recording (``timeline_figure`` with WebGL, every beat marked),
    opening on the first ``window_s`` seconds, with the summary as title.

    ``result`` is an ``ecgad.recording.RecordingResult``, ``signal`` the ``ecgad.data.readers.Signal``
    it came from; the signal is thinned to ``max_points`` (see ``timeline_window``)."""
    fs = float(signal.fs)
    duration = len(signal.samples) / fs if fs else 0.0
    beats = timeline_beats(result)
    quality = getattr(result, "quality", None)
    unreadable = quality.segments() if quality is not None else []
    window = timeline_window(signal.samples, 0, fs, beats, list(result.parts), unreadable, 0.0, duration,
                             max_points=max_points)
    summary = result.summary
    title = (f"{summary['beats']} beats, {summary['anomalies']} abnormal"
             + (f", mean heart rate {summary['mean_hr_bpm']:.0f} bpm" if summary["mean_hr_bpm"] else ""))
    return timeline_figure(window, beats, fs=fs, duration_s=duration, lead=signal.lead, threshold=result.threshold,
                           parts=list(result.parts), max_points=max_points, view_s=window_s, title=title, webgl=True)
