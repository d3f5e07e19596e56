"""What every analysis page (beat file and recording) says besides its results: who the patient is, the
header printed on paper, the warnings stored with the analysis, and the figures' plotly settings."""
from __future__ import annotations

import html as htmlmod
import json
import re
from datetime import UTC, date, datetime

import pytest
from heartbeats import synthetic_ecg
from webtools import upload_recording

from ecgad.report.figures import PLOT_CONFIG

FS = 250.0
BIRTH = date(1961, 7, 15)
WARNINGS = [{"code": "unlike_training_data", "message": "These beats do not look like the model's training data."},
            {"code": "low_quality", "message": "Only 40% of <b>the recording</b> is readable & was analysed."}]


def _set(app, analysis_id: int, *, warnings=None, lead: str | None = None) -> None:
    """Store warnings (or a lead name) on an analysis, and a birth date on its patient, as the app would."""
    from ecgad.web.extensions import db
    from ecgad.web.models import Analysis

    with app.app_context():
        analysis = db.session.get(Analysis, analysis_id)
        analysis.patient.birth_date = BIRTH
        if warnings is not None:
            analysis.warnings = warnings
        if lead is not None:
            analysis.recording.lead = lead
        db.session.commit()


def _text(html: str, testid: str, end: str = "dd") -> str:
    match = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</{end}>', html, re.S)
    assert match, f"no {testid} on the page"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


@pytest.fixture
def recording(app, client_for, world) -> int:
    x, _ = synthetic_ecg("N" * 30, FS)
    text = "time,II\n" + "".join(f"{i / FS:.4f},{v:.5f}\n" for i, v in enumerate(x))
    response = upload_recording(client_for("doctor"), world.p, [(text.encode(), "holter.csv")])
    assert response.status_code == 302, response.text[:2000]
    return int(response.location.rsplit("/", 1)[1])


@pytest.fixture(params=["beats", "recording"])
def analysis_id(request, world) -> int:
    return world.a if request.param == "beats" else request.getfixturevalue("recording")


def test_the_patient_and_the_printed_header(app, client_for, world, analysis_id):
    from ecgad.web.extensions import db
    from ecgad.web.models import Analysis
    from ecgad.web.util import age

    _set(app, analysis_id)
    page = client_for("doctor").get(f"/analyses/{analysis_id}").text
    with app.app_context():
        analysis = db.session.get(Analysis, analysis_id)
        created, filename, model = analysis.created_at, analysis.filename, analysis.model_id
        version = f" (ecgad {analysis.model_version})" if analysis.model_version else ""
    assert _text(page, "patient-name") == "Ann Example"
    assert _text(page, "patient-identifier") == "MRN-001"
    years = age(BIRTH, datetime.now(UTC).date())
    assert _text(page, "patient-birth-date") == f"1961-07-15 ({years})" and years.endswith(" years")
    header = _text(page, "print-header", "dl")
    when = created.strftime("%Y-%m-%d %H:%M:%S UTC")  # with seconds
    assert header == f"Record {filename} Analysed {when} By Dr Dora Model {model}{version}", header
    assert 'class="patient-facts print-only"' in page  # on paper only; the screen has it in the summary
    assert 'id="analysis-warnings"' not in page  # no warnings stored


def test_warnings_banner_one_line_each_escaped(app, client_for, world, analysis_id):
    _set(app, analysis_id, warnings=WARNINGS)
    page = client_for("doctor").get(f"/analyses/{analysis_id}").text
    banner = re.search(r'<div class="alert alert-warning" role="alert" id="analysis-warnings".*?</div>', page, re.S)
    assert banner, "no warnings banner"
    lines = re.findall(r'<li data-testid="analysis-warning" data-code="(\w+)">(.*?)</li>', banner.group(0), re.S)
    assert [(code, htmlmod.unescape(text.strip())) for code, text in lines] == [(w["code"], w["message"])
                                                                                for w in WARNINGS]
    assert "<b>the recording</b>" not in page and "&lt;b&gt;the recording&lt;/b&gt; is readable &amp; was" in page


def test_pages_hand_the_plot_config_to_the_scripts(client_for, world, analysis_id):
    page = client_for("doctor").get(f"/analyses/{analysis_id}").text
    config = json.loads(re.search(r'<script type="application/json" id="plot-config">(.*?)</script>', page,
                                  re.S).group(1))
    assert config == PLOT_CONFIG and config["showSendToCloud"] is False
    buttons = [b for group in config["modeBarButtons"] for b in group]
    assert "sendChartToCloud" not in buttons and not {"select2d", "lasso2d"} & set(buttons)
    # plotly.js's own map stylesheet, linked under the id it looks for, so it injects no <style> (CSP)
    links = re.findall(r'<link rel="stylesheet" id="([\w.-]+)" href="([^"]+)"', page)
    assert len(links) >= 1 and all(p.startswith("/vendor/plotly-style/") for _, p in links)


def test_plotly_injected_stylesheets_are_served(app, client_for, world):
    from ecgad.web.vendor import plotly_injected_styles

    client = client_for("doctor")
    styles = plotly_injected_styles()
    assert styles, "plotly.min.js adds no <style> of its own any more: drop the links"
    for style_id, css in styles.items():
        response = client.get(f"/vendor/plotly-style/{style_id}.css")
        assert response.status_code == 200 and response.mimetype == "text/css" and response.text == css
        assert "max-age" in response.headers["Cache-Control"]
    assert client.get("/vendor/plotly-style/nothing.css").status_code == 404


def test_lead_name_is_escaped_in_the_timeline_legend(app, client_for, world, recording):
    lead = '<a href="https://example.org/x">II</a>'
    _set(app, recording, lead=lead)
    page = client_for("doctor").get(f"/analyses/{recording}").text
    figure = json.loads(re.search(r'id="timeline-figure-data">(.*?)</script>', page, re.S).group(1))
    # plotly.js reads legend names as HTML (and decodes no &quot;)
    assert figure["data"][0]["name"] == 'ECG (&lt;a href="https://example.org/x"&gt;II&lt;/a&gt;)'
    assert '<a href="https://example.org' not in page


def test_recording_is_titled_by_its_name_and_the_form_styles_its_sampling_rate(client_for, world, recording):
    client = client_for("doctor")
    page = client.get(f"/analyses/{recording}").text
    assert '<h1 id="analysis-title">Recording holter.csv</h1>' in page
    css = client.get("/static/css/ecgad.css").text
    inputs = re.search(r'(input\[type="text"\][^{]*)\{', css).group(1)
    assert 'input[type="number"]' in inputs  # the sampling-rate box looks like the others
    assert 'type="number"' in client.get(f"/patients/{world.p}").text


@pytest.mark.parametrize(("born", "on", "said"), [
    (date(2000, 3, 10), date(2025, 3, 9), "24 years"), (date(2000, 3, 10), date(2025, 3, 10), "25 years"),
    (date(2024, 1, 31), date(2024, 2, 29), "0 months"), (date(2024, 1, 15), date(2025, 1, 15), "12 months"),
    (date(2023, 1, 15), date(2025, 1, 15), "2 years"), (date(2024, 1, 15), date(2024, 2, 15), "1 month")])
def test_age(born, on, said):
    from ecgad.web.util import age

    assert age(born, on) == said
