"""The HTML report of one recording's analysis (``ecgad analyze --report``)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..report import clock, report_page
from .result import RecordingResult

_BODY = """<section><h2>Timeline</h2>
<p>Drag the range slider under the heart rate to move through the recording; hover a beat for its score and
the part each of autoencoder, template (the patient's dominant beat) and rhythm adds to it.</p>
{figure}</section>
<section><h2>Abnormal beats{shown}</h2>
<div class="table"><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>
</section>"""


def write_report(result: RecordingResult, signal, out_dir: str | Path, max_rows: int = 2000) -> Path:
    """Write ``report.html`` (one self-contained page, plotly.js inline) into ``out_dir``; returns its path."""
    import html

    from ..report.figures import figure_html, recording_timeline

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    figure = figure_html(recording_timeline(result, signal), include_plotlyjs=True)
    s = result.summary
    hr = result.heart_rate_bpm[np.isfinite(result.heart_rate_bpm)]
    header = {
        "source": result.source or "-",
        "lead": f"{result.lead} ({result.fs:g} Hz)",
        "duration": clock(result.duration_s),
        "beats": str(s["beats"]),
        "abnormal": f"{s['anomalies']} ({100 * s['anomalies'] / max(s['beats'], 1):.1f}%)",
        "heart rate": (f"mean {s['mean_hr_bpm']:.0f} bpm, 5-95% range {np.percentile(hr, 5):.0f}-"
                       f"{np.percentile(hr, 95):.0f} bpm") if hr.size else "-",
        "model": f"{result.model.get('model_id', '-')} (threshold {result.threshold:.3f})",
    }
    if result.quality is not None:
        q = result.quality
        header["readable ECG"] = f"{100 * q.readable_fraction:.1f}%" + (
            f" (left out: {q.breakdown()}; shaded on the timeline)" if q.segments() else "")
    parts = list(result.parts)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in ["time", "sample", "RR (s)", "score", "confidence", *parts])
    abnormal = np.flatnonzero(result.is_anomaly)
    rows = []
    for i in abnormal[:max_rows]:
        rr = result.rr_s[i]
        cells = [clock(result.sample[i] / result.fs), str(int(result.sample[i])),
                 f"{rr:.3f}" if np.isfinite(rr) else "-", f"{result.score[i]:.2f}", f"{result.confidence[i]:.2f}",
                 *(f"{result.parts[p][i]:+.2f}" for p in parts)]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    title = f"ecgad recording analysis: {Path(result.source).name if result.source else 'recording'}"
    body = _BODY.format(figure=figure, head=head, rows="".join(rows),
                        shown=f" (first {max_rows} of {abnormal.size})" if abnormal.size > max_rows else "")
    page = report_page(title, header, body, notes=[f"Warning: {w['message']}" for w in result.warnings])
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
