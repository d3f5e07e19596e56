"""The Holter report as a PDF (``ecgad analyze --pdf``, the recording page's *PDF report*).

    pdf = holter_pdf(summary, fs=fs, samples=lambda lo, hi: x[lo:hi], n_samples=x.size,
                     beats=(result.sample, result.classes), header=ReportHeader(...), paper="A4")

Drawn with ReportLab (pure wheels, no browser, no system library; imported here only, lazily):
a header (patient, recording, model ids, who ran the analysis and when, a signature line), the
summary and the hourly table, the heart-rate trend, ECG strips of the most significant events and
the event list. Text is set in DejaVu Sans (shipped with matplotlib, a dependency of wfdb) so that
names in any Latin, Greek or Cyrillic script print; Helvetica when it cannot be found.

The strips are true to scale: 25 mm/s and 10 mm/mV, on the standard grid of 1 mm (thin) and 5 mm
(thick) lines, drawn as vector lines in millimetres of the page (1 mm = 72 / 25.4 pt), each with
the 1 mV x 0.2 s calibration pulse at its left. Print at 100 % ("actual size"), not "fit to page".
"""
from __future__ import annotations

import importlib.util
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..report.clock import clock

MM = 72.0 / 25.4            # points per millimetre
SPEED_MM_S = 25.0           # paper speed
GAIN_MM_MV = 10.0           # amplitude
STRIP_MM = 40.0             # strip height (4 mV)
CAL_MM = 10.0               # left part of a strip holding the calibration pulse
MARGIN_MM = 12.0
MINOR_COLOUR, MAJOR_COLOUR = (0.98, 0.80, 0.80), (0.90, 0.50, 0.50)
PAPERS = ("A4", "Letter")
MAX_ROWS = 100              # events listed per kind in the PDF (the summary counts them all)
LABEL_COLOURS = {"V": (0.75, 0.05, 0.05), "S": (0.85, 0.45, 0.0)}  # other classes dark blue


@dataclass
class ReportHeader:
    """What the report's header says: every value a short text, None for "not given"."""

    patient_name: str | None = None
    patient_identifier: str | None = None
    patient_birth_date: str | None = None
    source: str = ""
    lead: str = ""
    fs: float = 0.0
    start: str | None = None           # ISO date and time, or None
    duration_s: float = 0.0
    models: dict[str, str] = field(default_factory=dict)   # what -> id
    analysed_by: str = ""
    analysed_at: str = ""
    readable_fraction: float | None = None
    interpretation: str | None = None   # the clinician's free text
    signed_by: str | None = None        # who reviewed and signed, None while unsigned
    signed_at: str | None = None        # when, as text
    reviewed: str | None = None         # what the review changed ("reviewed: 3 labels changed"), or None


def _fonts() -> tuple[str, str]:
    """(regular, bold) font names: DejaVu Sans from matplotlib's data when it is there."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "EcgadSans" in pdfmetrics.getRegisteredFontNames():
        return "EcgadSans", "EcgadSans-Bold"
    spec = importlib.util.find_spec("matplotlib")  # its path only: matplotlib is not imported
    if spec and spec.submodule_search_locations:
        ttf = Path(spec.submodule_search_locations[0]) / "mpl-data" / "fonts" / "ttf"
        if (ttf / "DejaVuSans.ttf").is_file() and (ttf / "DejaVuSans-Bold.ttf").is_file():
            pdfmetrics.registerFont(TTFont("EcgadSans", str(ttf / "DejaVuSans.ttf")))
            pdfmetrics.registerFont(TTFont("EcgadSans-Bold", str(ttf / "DejaVuSans-Bold.ttf")))
            return "EcgadSans", "EcgadSans-Bold"
    return "Helvetica", "Helvetica-Bold"


def strip_seconds(paper: str) -> float:
    """The seconds of signal a strip holds on ``paper`` (0.2-s steps, the width left after the margins)."""
    width_mm = _page_size(paper)[0] / MM - 2 * MARGIN_MM - CAL_MM
    return float(np.floor(width_mm / SPEED_MM_S * 5) / 5)


def _page_size(paper: str) -> tuple[float, float]:
    from reportlab.lib.pagesizes import A4, LETTER

    sizes = {"a4": A4, "letter": LETTER}
    if paper.lower() not in sizes:
        raise ValueError(f"paper {paper!r}: choose A4 or Letter")
    return sizes[paper.lower()]


def _when(event: dict) -> str:
    """An event's time: its time of day when the start is known, and hh:mm:ss from the start."""
    elapsed = event["clock"]
    return f"{event['at'][11:19]} ({elapsed})" if event.get("at") else elapsed


def _strip_choices(summary: dict) -> list[tuple[str, dict]]:
    """The most significant events, each to draw as a strip: (title, event)."""
    out = []
    v, s = summary.get("ventricular") or {}, summary.get("supraventricular") or {}
    if v.get("fastest_run"):
        r = v["fastest_run"]
        out.append((f"Fastest ventricular run: {r['beats']} beats at {r['rate_bpm']:.0f} bpm", r))
    if s.get("fastest_run"):
        r = s["fastest_run"]
        out.append((f"Fastest supraventricular run: {r['beats']} beats at {r['rate_bpm']:.0f} bpm", r))
    if summary.get("longest_rr") and summary["pauses"]["count"]:
        r = summary["longest_rr"]
        out.append((f"Longest pause: {r['rr_s']:.2f} s", r))
    for name, part, what in (("Ventricular couplet", v, "couplets"), ("Isolated ventricular beat", v, "isolated"),
                             ("Ventricular bigeminy", v, "bigeminy"), ("Supraventricular couplet", s, "couplets"),
                             ("Isolated supraventricular beat", s, "isolated")):
        events = (part.get(what) or {}).get("events") or []
        if events:
            out.append((name, events[0]))
    hr = summary.get("heart_rate") or {}
    for key, name in (("max", "Fastest heart rate"), ("min", "Slowest heart rate")):
        if hr.get(key):
            out.append((f"{name} ({hr['average_beats']}-beat average): {hr[key]['bpm']:.0f} bpm", hr[key]))
    return out[:6]


def _strip_flowable(samples: np.ndarray, fs: float, labels: list[tuple[float, str]], seconds: float, font: str):
    """A flowable drawing one strip (``samples`` in mV, ``seconds`` long at ``fs``) at true scale."""
    from reportlab.platypus import Flowable

    class Strip(Flowable):
        def __init__(self):
            super().__init__()
            self.width = (CAL_MM + seconds * SPEED_MM_S) * MM
            self.height = STRIP_MM * MM

        def draw(self):
            c = self.canv
            w_mm, h_mm = CAL_MM + seconds * SPEED_MM_S, STRIP_MM
            for step, colour, width in ((1.0, MINOR_COLOUR, 0.25), (5.0, MAJOR_COLOUR, 0.6)):
                c.setStrokeColorRGB(*colour)
                c.setLineWidth(width)
                for k in range(int(round(w_mm / step)) + 1):
                    if step == 1.0 and k % 5 == 0:
                        continue  # a thick line goes there
                    c.line(k * step * MM, 0, k * step * MM, h_mm * MM)
                for k in range(int(round(h_mm / step)) + 1):
                    if step == 1.0 and k % 5 == 0:
                        continue
                    c.line(0, k * step * MM, w_mm * MM, k * step * MM)
            base = (h_mm / 2 - 10.0) * MM  # the trace's median sits at mid-height; the pulse 1 cm below it
            c.setStrokeColorRGB(0, 0, 0)
            c.setLineWidth(0.8)
            pulse = c.beginPath()  # 1 mV for 0.2 s: 10 mm high, 5 mm wide, from x = 2 mm
            pulse.moveTo(0, base)
            pulse.lineTo(2 * MM, base)
            pulse.lineTo(2 * MM, base + GAIN_MM_MV * MM)
            pulse.lineTo((2 + 0.2 * SPEED_MM_S) * MM, base + GAIN_MM_MV * MM)
            pulse.lineTo((2 + 0.2 * SPEED_MM_S) * MM, base)
            pulse.lineTo(CAL_MM * MM, base)
            c.drawPath(pulse, stroke=1, fill=0)
            if samples.size:
                mid = (h_mm / 2) * MM
                y = mid + (samples - np.median(samples)) * GAIN_MM_MV * MM
                x = CAL_MM * MM + np.arange(samples.size) / fs * SPEED_MM_S * MM
                c.saveState()
                box = c.beginPath()
                box.rect(CAL_MM * MM, 0, seconds * SPEED_MM_S * MM, h_mm * MM)
                c.clipPath(box, stroke=0, fill=0)
                trace = c.beginPath()
                trace.moveTo(float(x[0]), float(y[0]))
                for xi, yi in zip(x[1:].tolist(), y[1:].tolist(), strict=True):
                    trace.lineTo(xi, yi)
                c.drawPath(trace, stroke=1, fill=0)
                c.restoreState()
            c.setFont(font, 7)
            for t, text in labels:  # each beat's class above its R peak, on white over the trace
                x_mm = CAL_MM + t * SPEED_MM_S
                c.setFillColorRGB(1, 1, 1)
                c.rect((x_mm - 1.3) * MM, (h_mm - 4.1) * MM, 2.6 * MM, 3.2 * MM, stroke=0, fill=1)
                c.setFillColorRGB(*LABEL_COLOURS.get(text, (0.1, 0.1, 0.5)))
                c.drawCentredString(x_mm * MM, (h_mm - 3.5) * MM, text)

    return Strip()


def _trend_flowable(trend: dict, width: float, font: str):
    """The heart rate of each minute over the recording, with an hourly (or 10-minute) time axis."""
    from reportlab.platypus import Flowable

    bpm = [b for b in trend["bpm"]]
    step = float(trend["step_s"])

    class Trend(Flowable):
        def __init__(self):
            super().__init__()
            self.width, self.height = width, 45 * MM

        def draw(self):
            c = self.canv
            left, bottom = 12 * MM, 6 * MM
            w, h = self.width - left, self.height - bottom - 2 * MM
            values = [b for b in bpm if b is not None]
            top = max(160.0, float(np.ceil(max(values, default=0) / 20) * 20))
            total_s = max(step * len(bpm), step)
            c.setFont(font, 7)
            c.setStrokeColorRGB(0.85, 0.85, 0.85)
            c.setLineWidth(0.4)
            for level in range(40, int(top) + 1, 20):
                y = bottom + (level - 30) / (top - 30) * h
                c.line(left, y, left + w, y)
                c.drawRightString(left - 2, y - 2, str(level))
            tick = 3600.0 if total_s > 3 * 3600 else 600.0
            t = 0.0
            while t <= total_s + 1e-9:
                x = left + t / total_s * w
                c.line(x, bottom, x, bottom + h)
                c.drawCentredString(x, bottom - 8, clock(t, 0)[:5])
                t += tick
            c.setStrokeColorRGB(0.75, 0.1, 0.1)
            c.setLineWidth(0.8)
            path, drawing = c.beginPath(), False
            for i, b in enumerate(bpm):
                if b is None:
                    drawing = False
                    continue
                x = left + (i + 0.5) * step / total_s * w
                y = bottom + (min(max(b, 30.0), top) - 30) / (top - 30) * h
                if drawing:
                    path.lineTo(x, y)
                else:
                    path.moveTo(x, y)
                    drawing = True
            c.drawPath(path, stroke=1, fill=0)
            c.setFillColorRGB(0, 0, 0)
            c.drawString(left, bottom + h + 1, "bpm (mean of each minute)")

    return Trend()


def _header_rows(h: ReportHeader) -> list[list[str]]:
    def given(value) -> str:
        return value if value else "not given"

    start = h.start.replace("T", " ") if h.start else "not given in the file"
    models = "; ".join(f"{k} {v}" for k, v in h.models.items()) or "-"
    readable = f", {100 * h.readable_fraction:.1f}% readable" if h.readable_fraction is not None else ""
    return [["Patient", given(h.patient_name), "Record number", given(h.patient_identifier)],
            ["Birth date", given(h.patient_birth_date), "Recording", h.source or "-"],
            ["Start", start, "Duration", f"{clock(h.duration_s, 0)}{readable}"],
            ["Lead", f"{h.lead} at {h.fs:g} Hz", "Models", models],
            ["Analysed by", h.analysed_by or "-", "Analysed at", h.analysed_at or "-"]]


def _summary_rows(s: dict) -> list[list[str]]:
    hr = s["heart_rate"]

    def rate(e):
        return f"{e['bpm']:.0f} bpm at {_when(e)}" if e else "-"

    rows = [["Beats", f"{s['beats']}", "Mean heart rate", f"{hr['mean_bpm']:.0f} bpm" if hr["mean_bpm"] else "-"],
            [f"Min HR ({hr['average_beats']}-beat avg.)", rate(hr["min"]),
             f"Max HR ({hr['average_beats']}-beat avg.)", rate(hr["max"])],
            ["Pauses > 2 s", str(s["pauses"]["count"]), "Longest RR",
             f"{s['longest_rr']['rr_s']:.2f} s at {_when(s['longest_rr'])}" if s["longest_rr"] else "-"]]
    if s.get("classes"):
        c, v, sv = s["classes"], s["ventricular"], s["supraventricular"]
        rows += [["Classes", ", ".join(f"{k} {n}" for k, n in c.items()), "", ""],
                 ["Ventricular", f"{v['beats']}: isolated {v['isolated']['count']}, couplets {v['couplets']['count']}, "
                  f"runs {v['runs']['count']}", "Bigeminy / trigeminy",
                  f"{v['bigeminy']['count']} / {v['trigeminy']['count']} episodes"],
                 ["Supraventricular", f"{sv['beats']}: isolated {sv['isolated']['count']}, couplets "
                  f"{sv['couplets']['count']}, runs {sv['runs']['count']}", "", ""]]
    else:
        rows.append(["Classes", "this model gives no beat classes", "", ""])
    return rows


def _event_rows(s: dict) -> list[list[str]]:
    rows = [["Event", "Time", "Beat", "Beats", "Rate", "Duration / RR"]]

    def add(name: str, listed: dict | None, beats=None, rate=None, length=None):
        if not listed:
            return
        for e in listed["events"][:MAX_ROWS]:
            rows.append([name, _when(e), str(e["beat"]), beats(e) if beats else "", rate(e) if rate else "",
                         length(e) if length else ""])
        if listed["count"] > MAX_ROWS:
            rows.append([name, f"... and {listed['count'] - MAX_ROWS} more", "", "", "", ""])

    v, sv = s.get("ventricular"), s.get("supraventricular")
    for part, label in ((v, "V"), (sv, "S")):
        if part:
            add(f"{label} run", part["runs"], lambda e: str(e["beats"]), lambda e: f"{e['rate_bpm']:.0f} bpm",
                lambda e: f"{e['duration_s']:.2f} s")
            add(f"{label} couplet", part["couplets"], lambda e: "2", None, lambda e: f"RR {e['rr_s']:.2f} s")
    if v:
        add("Bigeminy", v["bigeminy"], lambda e: f"{e['cycles']} V", None, lambda e: f"{e['duration_s']:.1f} s")
        add("Trigeminy", v["trigeminy"], lambda e: f"{e['cycles']} V", None, lambda e: f"{e['duration_s']:.1f} s")
    add("Pause", s["pauses"], None, None, lambda e: f"RR {e['rr_s']:.2f} s")
    return rows


def _review_flowables(header: ReportHeader, body, h2, paragraph) -> list:
    """The interpretation, what the review changed and the signature (a blank line while unsigned)."""
    from xml.sax.saxutils import escape

    out = []
    if header.reviewed:
        out.append(paragraph(f"<b>{escape(header.reviewed)}</b>", body))
    if header.interpretation:
        out += [paragraph("Interpretation", h2),
                paragraph(escape(header.interpretation).replace("\n", "<br/>"), body)]
    if header.signed_by:
        out.append(paragraph(f"<b>Reviewed and signed by</b> {escape(header.signed_by)} on "
                             f"{escape(header.signed_at or '')}", body))
    else:
        out.append(paragraph("Reviewed and signed by: ________________________________ "
                             "Date: ______________ Signature: ______________________", body))
    return out


def holter_pdf(summary: dict, *, fs: float, samples: Callable[[int, int], np.ndarray], n_samples: int,
               header: ReportHeader, beats: tuple[np.ndarray, np.ndarray | None] | None = None,
               paper: str = "A4") -> bytes:
    """The report as PDF bytes. ``summary``: ``holter_summary``'s dict; ``samples(lo, hi)``: the lead's
    samples ``lo:hi`` in mV (for the strips); ``beats``: every beat's R peak and class (labels above the
    strips), optional."""
    from reportlab.lib import colors
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    size = _page_size(paper)
    regular, bold = _fonts()
    body = ParagraphStyle("body", fontName=regular, fontSize=8.5, leading=11)
    h1 = ParagraphStyle("h1", fontName=bold, fontSize=14, leading=18, spaceAfter=4)
    h2 = ParagraphStyle("h2", fontName=bold, fontSize=11, leading=14, spaceBefore=8, spaceAfter=4, keepWithNext=1)
    small = ParagraphStyle("small", fontName=regular, fontSize=7.5, leading=9.5)
    width = size[0] - 2 * MARGIN_MM * MM

    def table(rows, widths, head=False):
        t = Table(rows, colWidths=widths, repeatRows=1 if head else 0)
        style = [("FONT", (0, 0), (-1, -1), regular, 8), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                 ("GRID", (0, 0), (-1, -1), 0.3, colors.grey), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                 ("TOPPADDING", (0, 0), (-1, -1), 2)]
        if head:
            style += [("FONT", (0, 0), (-1, 0), bold, 8), ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke)]
        else:
            style += [("FONT", (0, 0), (0, -1), bold, 8), ("FONT", (2, 0), (2, -1), bold, 8)]
        t.setStyle(TableStyle(style))
        return t

    story = [Paragraph("Holter ECG report", h1),
             table([[Paragraph(c, small) for c in row] for row in _header_rows(header)],
                   [0.14 * width, 0.36 * width, 0.14 * width, 0.36 * width]),
             Spacer(1, 4 * MM),
             *_review_flowables(header, body, h2, Paragraph),
             Paragraph("Summary", h2),
             table([[Paragraph(c, small) for c in row] for row in _summary_rows(summary)],
                   [0.17 * width, 0.33 * width, 0.17 * width, 0.33 * width])]
    classified = bool(summary.get("classes"))
    head = ["Hour", "Beats", "HR mean", "HR min", "HR max"] + (["N", "S", "V"] if classified else [])
    rows = [head] + [[r["hour"], str(r["beats"]), *(f"{r[k]:.0f}" if r[k] is not None else "-"
                                                    for k in ("hr_mean", "hr_min", "hr_max")),
                      *([str(r["N"]), str(r["S"]), str(r["V"])] if classified else [])]
                     for r in summary["hourly"]]
    story += [Paragraph("Hour by hour", h2), table(rows, [width / len(head)] * len(head), head=True),
              Paragraph("Heart-rate trend", h2), _trend_flowable(summary["trend"], width, regular)]

    seconds = strip_seconds(paper)
    n = int(round(seconds * fs))
    peaks, classes = (np.asarray(beats[0]), beats[1]) if beats is not None else (np.zeros(0, np.int64), None)
    strips = [Paragraph(f"ECG strips: {SPEED_MM_S:g} mm/s, {GAIN_MM_MV:g} mm/mV, grid 1 mm and 5 mm; "
                        f"calibration pulse 1 mV x 0.2 s at the left of each strip. Print at actual size (100 %).",
                        body)]
    for title, event in _strip_choices(summary):
        centre = (event["sample"] + event.get("end_sample", event["sample"])) // 2
        lo = int(min(max(0, centre - n // 2), max(0, n_samples - n)))
        x = np.asarray(samples(lo, lo + n), dtype=np.float64)
        inside = (peaks >= lo) & (peaks < lo + x.size)
        labels = [((p - lo) / fs, str(classes[i])) for i, p in zip(np.flatnonzero(inside), peaks[inside],
                                                                    strict=True)] if classes is not None else []
        caption = Paragraph(f"<b>{title}</b> — {_when(event)}, beat {event['beat']}; strip from "
                            f"{clock(lo / fs, 1)}", body)
        strips.append(KeepTogether([caption, Spacer(1, 1 * MM), _strip_flowable(x, fs, labels, seconds, regular),
                                    Spacer(1, 3 * MM)]))
    if len(strips) > 1:
        story += [Paragraph("ECG strips", h2), *strips]
    events = _event_rows(summary)
    story += [Paragraph("Events", h2)]
    story += [table(events, [0.17 * width, 0.27 * width, 0.1 * width, 0.12 * width, 0.14 * width, 0.2 * width],
                    head=True)] if len(events) > 1 else [Paragraph("No ventricular or supraventricular "
                                                                   "events and no pauses.", body)]
    story.append(Paragraph("Definitions: " + "; ".join(f"{k.replace('_', ' ')}: {v}"
                                                       for k, v in summary["definitions"].items()) + ".", small))

    out = io.BytesIO()

    def footer(canvas, doc):
        canvas.saveState()
        canvas.setFont(regular, 7)
        canvas.drawString(MARGIN_MM * MM, 6 * MM, f"{header.patient_name or header.source} · ecgad Holter report")
        canvas.drawRightString(size[0] - MARGIN_MM * MM, 6 * MM, f"page {doc.page}")
        canvas.restoreState()

    doc = SimpleDocTemplate(out, pagesize=size, leftMargin=MARGIN_MM * MM, rightMargin=MARGIN_MM * MM,
                            topMargin=MARGIN_MM * MM, bottomMargin=MARGIN_MM * MM, title="Holter ECG report",
                            author="ecgad", subject=header.source)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
