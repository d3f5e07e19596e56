"""Figures: the expected traces, titles and axes, built from small made-up verdicts."""
from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import pytest

from ecgad.detector import Verdict
from ecgad.report.figures import (
    ANOMALY_COLOUR,
    PLOT_CONFIG,
    TIME_ORIGIN_MS,
    beat_figure,
    figure_html,
    pr_figure,
    reconstruction_examples,
    recording_timeline,
    roc_figure,
    score_histogram,
)


def verdict(score: float = 0.8, threshold: float = 0.5, index: int = 7) -> Verdict:
    t = np.linspace(0, 2 * np.pi, 140)
    beat = np.sin(t).astype(np.float32)
    recon = (np.sin(t) * 0.9).astype(np.float32)
    return Verdict(index=index, score=score, threshold=threshold, is_anomaly=score > threshold, confidence=0.97,
                   beat=beat, reconstruction=recon, error=(beat - recon) ** 2, meta={"model_id": "m"})


def names(fig: go.Figure) -> list[str]:
    return [trace.name for trace in fig.data]


def test_beat_figure_shows_beat_reconstruction_band_and_error():
    fig = beat_figure(verdict(), title="Patient <x>")
    assert isinstance(fig, go.Figure)
    assert set(names(fig)) == {"beat", "reconstruction", "difference", "squared error"}
    by_name = {t.name: t for t in fig.data}
    assert by_name["reconstruction"].line.dash == "dash"
    assert by_name["difference"].fill == "toself"  # the band between beat and reconstruction
    assert len(by_name["difference"].x) == 2 * 140
    np.testing.assert_allclose(by_name["squared error"].y, verdict().error, rtol=1e-6)
    title = fig.layout.title.text
    assert "anomalous, confidence 0.97" in title and "threshold 0.5" in title
    assert "Patient &lt;x&gt;" in title  # user text is escaped
    assert fig.layout.yaxis.title.text and fig.layout.xaxis2.title.text == "sample"


def test_roc_and_pr_put_each_curve_with_its_auc_in_the_legend():
    y = np.array([0, 0, 1, 1, 0, 1], bool)
    curves = {"perfect": ([0.1, 0.2, 0.8, 0.9, 0.3, 0.7], y), "reversed": ([0.9, 0.8, 0.2, 0.1, 0.7, 0.3], y)}
    roc = roc_figure(curves)
    assert names(roc) == ["chance", "perfect (AUC 1.000)", "reversed (AUC 0.000)"]
    assert roc.layout.xaxis.title.text.startswith("false positive rate")
    pr = pr_figure(curves)
    assert "perfect (AP 1.000)" in names(pr)
    assert "chance (0.50)" in names(pr)


def test_histogram_names_every_ecg5000_class_and_marks_the_threshold():
    rng = np.random.default_rng(0)
    labels = np.repeat([1, 2, 3, 4, 5], 20)
    scores = np.exp(rng.normal(np.where(labels == 1, -4.0, 0.0), 1.0))  # spans several decades
    fig = score_histogram(scores, labels, threshold=0.1)
    assert [n.split(" (")[0] for n in names(fig)] == ["normal", "R-on-T PVC", "PVC", "SP or EB", "unclassified"]
    assert fig.layout.xaxis.type == "log"
    assert [s.x0 for s in fig.layout.shapes] == [0.1]
    # each class is normalised to its own size
    for trace in fig.data:
        assert np.asarray(trace.y)[::2].sum() == pytest.approx(1.0)


def test_histogram_with_booleans_has_two_classes_on_a_linear_axis():
    fig = score_histogram([0.1, 0.2, 0.3, 0.9], np.array([False, False, True, True]), threshold=0.25)
    assert [n.split(" (")[0] for n in names(fig)] == ["normal", "abnormal"]
    assert fig.layout.xaxis.type == "linear"


def test_reconstruction_examples_grid():
    fig = reconstruction_examples({"normal": verdict(0.1), "PVC": verdict(2.0), "SP or EB": verdict(0.9),
                                   "unclassified": verdict(0.7)})
    assert len(fig.data) == 4 * 3  # band, reconstruction, beat per cell
    assert sum(t.showlegend is not False for t in fig.data) == 3  # one legend entry per kind
    titles = [a.text for a in fig.layout.annotations]
    assert any(t.startswith("PVC: anomalous") for t in titles)
    assert any(t.startswith("normal: normal") for t in titles)
    with pytest.raises(ValueError):
        reconstruction_examples({})


def test_plot_config_keeps_patient_data_in_the_app():
    """No modebar button uploads a figure: plotly.js 4's "sendChartToCloud" is off (it is shown by default),
    and the modebar lists only buttons the vendored plotly.js defines, none of them cloud, select or lasso."""
    import re

    from ecgad.web.vendor import plotly_js_path

    script = plotly_js_path().read_text(encoding="utf-8")
    assert "showSendToCloud:{valType" in script and 'name:"sendChartToCloud"' in script  # what we turn off
    assert PLOT_CONFIG["showSendToCloud"] is False and PLOT_CONFIG["displaylogo"] is False
    buttons = [b for group in PLOT_CONFIG["modeBarButtons"] for b in group]
    defined = set(re.findall(r'\.(\w+)=\{name:"\1"', script))
    assert set(buttons) <= defined, set(buttons) - defined
    assert buttons == ["toImage", "zoom2d", "pan2d", "zoomIn2d", "zoomOut2d", "autoScale2d", "resetScale2d"]
    html = figure_html(roc_figure({"a": ([0.1, 0.9, 0.4], [False, True, False])}), include_plotlyjs=False)
    assert json.dumps(PLOT_CONFIG) in html and "<script src=" not in html


def test_recording_timeline_counts_hh_mm_ss_within_the_recording():
    from types import SimpleNamespace

    fs, n = 100.0, 9000  # 90 s
    sample = np.array([150, 450, 900, 1200])
    result = SimpleNamespace(
        sample=sample, is_anomaly=np.array([False, True, False, False]), parts={"rhythm": np.zeros(4)},
        score=np.ones(4), confidence=np.ones(4), rr_s=np.array([np.nan, 3.0, 4.5, 3.0]),
        heart_rate_bpm=np.array([np.nan, 20.0, 13.3, 20.0]), threshold=1.0,
        summary={"beats": 4, "anomalies": 1, "mean_hr_bpm": 17.0})
    signal = SimpleNamespace(samples=np.zeros(n, dtype=np.float32), fs=fs, lead="<i>II</i>")
    fig = recording_timeline(result, signal)
    axis = fig.layout.xaxis
    assert axis.type == "date" and axis.tickformat == "%H:%M:%S" and axis.hoverformat == "%H:%M:%S.%L"
    start = TIME_ORIGIN_MS  # 2000-01-01 00:00: plotly.js would read 1500 (ms from 1970) as a year
    assert tuple(axis.range) == (start, start + 20_000) and axis.minallowed == start
    assert axis.maxallowed == start + 90_000 and tuple(fig.layout.xaxis2.rangeslider.range) == (start, start + 90_000)
    # the web page's drawer (ecgad.web.analyses.timeline): the same traces, in the same order
    assert [t.name for t in fig.data] == ["ECG (&lt;i&gt;II&lt;/i&gt;)", "normal beat", "anomalous beat", "heart rate",
                                          "anomalous beat"]
    signal, normal, abnormal, rate, marked = fig.data
    assert signal.hoverinfo == "skip" and len(signal.x) == n  # every sample: fewer than max_points
    np.testing.assert_allclose(normal.x, start + np.array([1500, 9000, 12000]))  # ms
    assert [c[0] for c in normal.customdata] == [1, 3, 4] and [c[0] for c in abnormal.customdata] == [2]
    assert abnormal.marker.color == ANOMALY_COLOUR and abnormal.marker.symbol == "diamond"
    np.testing.assert_allclose(rate.y, [20.0, 13.3, 20.0])
    np.testing.assert_allclose(marked.x, [start + 4500]) and marked.customdata[0][0] == 2
    assert fig.layout.title.text == "4 beats, 1 abnormal, mean heart rate 17 bpm"


def test_recording_timeline_shades_unreadable_stretches_as_the_web_page_does():
    from types import SimpleNamespace

    from ecgad.report.figures import timeline_beats, timeline_window, unreadable_shapes

    fs = 100.0
    quality = SimpleNamespace(segments=lambda: [(2000, 3500, "noise")])  # 20 s to 35 s, in samples
    result = SimpleNamespace(
        sample=np.array([150, 450]), is_anomaly=np.array([False, True]), parts={"rhythm": np.zeros(2)},
        score=np.array([0.5, 2.0]), confidence=np.ones(2), rr_s=np.array([np.nan, 3.0]),
        heart_rate_bpm=np.array([np.nan, 20.0]), threshold=1.0, quality=quality,
        summary={"beats": 2, "anomalies": 1, "mean_hr_bpm": 20.0})
    signal = SimpleNamespace(samples=np.zeros(6000, dtype=np.float32), fs=fs, lead="II")
    fig = recording_timeline(result, signal)
    bands = [shape for shape in fig.layout.shapes if shape.name == "unreadable"]
    assert [(b.x0, b.x1, b.label.text) for b in bands] == [(TIME_ORIGIN_MS + 20_000, TIME_ORIGIN_MS + 35_000,
                                                            "noise")]
    # a window cuts the stretch to itself, as timeline.json serves it
    window = timeline_window(signal.samples[2500:], 2500, fs, timeline_beats(result), ["rhythm"],
                             quality.segments(), 25.0, 60.0, max_points=100, max_beats=1)
    assert window["unreadable"] == [[25.0, 35.0, "noise"]] and window["thinned"]
    # more beats than max_beats: the anomalous ones only
    assert not window["complete"] and window["normal"]["x"] == [] and window["abnormal"]["customdata"][0][0] == 2
    assert [s["x0"] for s in unreadable_shapes(window["unreadable"])] == [TIME_ORIGIN_MS + 25_000]
