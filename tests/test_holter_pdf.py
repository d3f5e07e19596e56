"""The Holter PDF (ecgad.recording.pdf), read back with pypdf: page size, text, and the strips'
scale measured in the page's content stream (1 mm = 72 / 25.4 pt)."""
from __future__ import annotations

import numpy as np
import pytest

from ecgad.data.synthetic import synthetic_ecg
from ecgad.recording.holter import holter_summary
from ecgad.recording.pdf import GAIN_MM_MV, MAJOR_COLOUR, MINOR_COLOUR, MM, SPEED_MM_S, ReportHeader, holter_pdf

pypdf = pytest.importorskip("pypdf")
FS = 250.0
# 20 normal beats, a run of 4 V, normal, an S couplet, normal
KINDS = "N" * 20 + "VVVV" + "N" * 10 + "AA" + "N" * 12
NAME = "Zoë Łukasiewicz-Ångström"


@pytest.fixture(scope="module")
def report():
    x, peaks = synthetic_ecg(KINDS, FS)
    classes = np.array(["S" if k == "A" else k for k in KINDS])
    summary = holter_summary(peaks, FS, classes, n_samples=x.size)
    header = ReportHeader(patient_name=NAME, patient_identifier="MRN-77", patient_birth_date="1950-04-02",
                          source="holter.csv", lead="II", fs=FS, duration_s=x.size / FS,
                          models={"model_id": "recording-abc"}, analysed_by="Dr Test",
                          analysed_at="2026-11-30 10:00 UTC")

    def make(paper):
        return holter_pdf(summary, fs=FS, samples=lambda lo, hi: x[lo:hi], n_samples=x.size, header=header,
                          beats=(peaks, classes), paper=paper)

    return make, summary, x


def read(data: bytes):
    import io

    return pypdf.PdfReader(io.BytesIO(data))


def test_page_size_and_text(report):
    make, summary, _ = report
    a4, letter = read(make("A4")), read(make("Letter"))
    assert (float(a4.pages[0].mediabox.width), float(a4.pages[0].mediabox.height)) == pytest.approx((595.28, 841.89),
                                                                                                   abs=0.01)
    assert (float(letter.pages[0].mediabox.width), float(letter.pages[0].mediabox.height)) == (612.0, 792.0)
    text = " ".join(" ".join(p.extract_text() for p in a4.pages).split())
    for expected in ("Holter ECG report", NAME, "MRN-77", "1950-04-02", "Dr Test", "recording-abc",
                     "Reviewed and signed by", "Fastest ventricular run: 4 beats", "Supraventricular couplet",
                     "25 mm/s, 10 mm/mV", "V run", "S couplet"):
        assert expected in text, expected
    v = summary["ventricular"]
    assert v["runs"]["count"] == 1 and summary["supraventricular"]["couplets"]["count"] == 1
    with pytest.raises(ValueError, match="A4 or Letter"):
        make("A3")


def _paths(page):
    """Every stroked path of ``page``: (stroke colour, points), with the current transformation checked
    to be a translation only (so content coordinates are page points)."""
    from pypdf.generic import ContentStream

    ops = ContentStream(page.get_contents(), page.pdf).operations
    colour, points, out = None, [], []
    for operands, op in ops:
        op = op.decode() if isinstance(op, bytes) else op
        if op == "cm":
            a, b, c, d = (float(v) for v in operands[:4])
            assert (a, b, c, d) == (1, 0, 0, 1), "a strip must not be scaled"
        elif op == "RG":
            colour = tuple(round(float(v), 2) for v in operands)
        elif op == "m":
            points = [tuple(float(v) for v in operands)]
        elif op == "l":
            points.append(tuple(float(v) for v in operands))
        elif op in ("S", "s"):
            out.append((colour, points))
            points = []
        elif op == "n":
            points = []
    return out


def test_strip_grid_and_trace_are_true_to_scale(report):
    make, _, x = report
    pdf = read(make("A4"))
    paths = [p for page in pdf.pages for p in _paths(page)]
    minor = tuple(round(v, 2) for v in MINOR_COLOUR)
    major = tuple(round(v, 2) for v in MAJOR_COLOUR)
    vertical = {round(pts[0][0], 2) for colour, pts in paths if colour in (minor, major) and len(pts) == 2
                and pts[0][0] == pts[1][0]}
    xs = np.sort(np.array(list(vertical)))
    assert xs.size > 150
    # every grid line 1 mm from the next; the thick ones every 5 mm
    np.testing.assert_allclose(np.diff(xs), 72 / 25.4, atol=0.011)
    thick = np.sort(np.array(list({round(pts[0][0], 2) for colour, pts in paths if colour == major
                                   and pts[0][0] == pts[1][0]})))
    np.testing.assert_allclose(np.diff(thick), 5 * 72 / 25.4, atol=0.011)
    # the calibration pulse: 1 mV = 10 mm high, 0.2 s = 5 mm wide
    pulses = [pts for colour, pts in paths if colour == (0, 0, 0) and len(pts) == 6]
    assert pulses
    for pts in pulses:
        assert pts[2][1] - pts[1][1] == pytest.approx(GAIN_MM_MV * MM, abs=0.011)
        assert pts[3][0] - pts[2][0] == pytest.approx(0.2 * SPEED_MM_S * MM, abs=0.011)
    # the trace: one point a sample, 25 mm/s apart in time; 10 mm/mV in height
    traces = [np.array(pts) for colour, pts in paths if colour == (0, 0, 0) and len(pts) > 100]
    assert traces
    for trace in traces:
        np.testing.assert_allclose(np.diff(trace[:, 0]), SPEED_MM_S * MM / FS, atol=0.011)
        n = trace.shape[0]
        spans = [np.ptp(x[a:a + n]) for a in range(0, x.size - n + 1)]
        # its height is some window's range of the signal at 10 mm/mV
        assert min(abs(np.ptp(trace[:, 1]) - GAIN_MM_MV * MM * s) for s in spans) < 0.05
