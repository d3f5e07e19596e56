"""Figures and paper in a real browser, on both kinds of analysis page (a beat file's, and a recording's
with a beat clicked on its timeline): the figures' modebar holds only the buttons a clinician uses (none
sends the chart to a cloud service); printed, a page shows the patient and the analysis at the top, the
stored warnings, figures as wide as an A4 or Letter page, and no navigation, buttons or forms; a lead
named like a link is shown as text in the timeline's legend. The console stays clean throughout.
"""
from __future__ import annotations

import re
from datetime import date

import pytest
from browsertools import OTHER, PASSWORD, screenshot, skip_reason

_reason = skip_reason()
if _reason:
    pytest.skip(_reason, allow_module_level=True)

from heartbeats import synthetic_ecg  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from ecgad.report.figures import PLOT_CONFIG  # noqa: E402

pytestmark = pytest.mark.timeout(180)

FS = 250.0
KINDS = ("N" * 10 + "V" + "N" * 6) * 2  # 34 beats, two of them ventricular
BUTTONS = [b for group in PLOT_CONFIG["modeBarButtons"] for b in group]
PRINT_WIDTH_PX = 700  # beat-plot.js: the printable width of an A4 page (186 mm), the narrower of A4 and Letter
LEAD = '<a href="https://example.org/x">II</a>'
WARNING = {"code": "low_quality", "message": "Only 61% of the recording is readable; <b>read it with care</b>."}


def sign_in(page) -> None:
    page.goto("/login")
    page.fill("#email", OTHER.email)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    expect(page).to_have_url(re.compile(r"/patients$"))


def change(live_server, **values):
    """Set fields of the newest analysis (and of its recording, for ``lead``), as the app would have."""
    from sqlalchemy import select

    from ecgad.web.extensions import db
    from ecgad.web.models import Analysis

    with live_server.app.app_context():
        analysis = db.session.scalars(select(Analysis).order_by(Analysis.id.desc())).first()
        if "lead" in values:
            analysis.recording.lead = values.pop("lead")
        for key, value in values.items():
            setattr(analysis, key, value)
        db.session.commit()


def add_patient(live_server) -> int:
    from sqlalchemy import select

    from ecgad.web.extensions import db
    from ecgad.web.models import Patient, User

    with live_server.app.app_context():
        doctor = db.session.scalar(select(User).where(User.email == OTHER.email))
        patient = Patient(doctor_id=doctor.id, name="Paula Print", identifier="MRN-PRINT-7", sex="female",
                          birth_date=date(1950, 2, 3), notes="")
        db.session.add(patient)
        db.session.commit()
        return patient.id


def modebar(page, plot: str) -> list[str]:
    """The names of the modebar buttons plotly.js made for the figure in #plot."""
    page.hover(f"#{plot} .nsewdrag", force=True)  # the modebar shows on hover
    expect(page.locator(f"#{plot} .modebar")).to_be_visible()
    return page.locator(f"#{plot} .modebar-btn").evaluate_all(
        "els => els.map(e => e.getAttribute('data-title'))"), page.evaluate(
        f"document.getElementById('{plot}')._fullLayout._modeBar.buttons.flat().map(b => b.name)")


def check_modebar(page, plot: str) -> None:
    titles, names = modebar(page, plot)
    assert names == BUTTONS, names
    assert len(titles) == len(BUTTONS) and not any(re.search(r"(?i)cloud|share|edit|lasso|select", t)
                                                   for t in titles), titles


def plot_width(page, plot: str) -> float:
    return page.evaluate(f"document.querySelector('#{plot} .main-svg').getBoundingClientRect().width")


def check_print(page, plots: list[str], filename: str, shot: str) -> None:
    """Printed: the header (patient, record, date and time, who, model) and the figures, nothing to click."""
    page.emulate_media(media="print")
    for hidden in (".site-header", "nav", "#logout", "#back-to-patient", "#delete-analysis", ".filters",
                   ".site-footer"):
        expect(page.locator(hidden).first).to_be_hidden()
    assert page.locator("form:visible, button:visible, .button:visible").count() == 0
    expect(page.locator("#print-title")).to_be_visible()
    expect(page.locator("[data-testid=patient-name]")).to_have_text("Paula Print")
    expect(page.locator("[data-testid=patient-identifier]")).to_have_text("MRN-PRINT-7")
    expect(page.locator("[data-testid=patient-birth-date]")).to_contain_text("1950-02-03 (")
    header = page.locator("#print-header")
    expect(header).to_be_visible()
    expect(header).to_contain_text(f"Record{filename}")
    expect(header).to_contain_text(re.compile(r"Analysed\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"))
    expect(header).to_contain_text(f"By{OTHER.name}")
    expect(header).to_contain_text("Model")
    for plot in plots:  # redrawn as wide as the paper allows (emulated print keeps the window's width)
        page.wait_for_function(f"document.querySelector('#{plot} .main-svg').getBoundingClientRect().width"
                               f" <= {PRINT_WIDTH_PX}")
    screenshot(page, shot)
    page.emulate_media(media="screen")
    expect(page.locator(".site-header")).to_be_visible()
    expect(page.locator("#print-header")).to_be_hidden()
    for plot in plots:  # back to the page's width
        page.wait_for_function(f"document.querySelector('#{plot} .main-svg').getBoundingClientRect().width"
                               f" > {PRINT_WIDTH_PX + 100}")


def test_figures_and_paper(page, live_server, tmp_path):
    patient_id = add_patient(live_server)
    sign_in(page)

    # --- a beat file's analysis (the abnormal example), with its figure
    page.goto(f"/patients/{patient_id}")
    page.click("#example-abnormal")
    expect(page).to_have_url(re.compile(r"/analyses/\d+$"))
    page.wait_for_selector("#beat-plot[data-rendered=true]", state="attached")
    check_modebar(page, "beat-plot")
    page.log.check("on the beat file's analysis")
    change(live_server, warnings=[WARNING])
    page.reload()
    page.wait_for_selector("#beat-plot[data-rendered=true]", state="attached")
    expect(page.locator("[data-testid=analysis-warning]")).to_have_text(WARNING["message"])  # as text
    check_print(page, ["beat-plot"], "abnormal_beats.csv", "print-beats")
    expect(page.locator("#analysis-warnings")).to_be_visible()
    page.log.check("printing the beat file's analysis")

    # --- a recording, its lead named like a link; a beat clicked on the timeline
    x, _ = synthetic_ecg(KINDS, FS)
    csv = tmp_path / "holter.csv"
    csv.write_text("time,II\n" + "".join(f"{i / FS:.4f},{v:.5f}\n" for i, v in enumerate(x)))
    page.goto(f"/patients/{patient_id}")
    page.set_input_files("#recording-files", csv)
    page.click("#recording-submit")
    expect(page).to_have_url(re.compile(r"/analyses/\d+$"))
    change(live_server, lead=LEAD)
    page.reload()
    page.wait_for_selector("#timeline-plot[data-rendered=true]", state="attached")
    legend = page.locator("#timeline-plot .legend .legendtext").first
    expect(legend).to_have_text(f"ECG ({LEAD})")  # shown as written, not as a link
    expect(page.locator("#timeline-plot .legend a")).to_have_count(0)
    markers = page.locator("#timeline-plot .scatterlayer .trace:nth-child(3) .point")
    markers.first.hover(force=True)
    expect(page.locator("#timeline-plot .hoverlayer")).to_contain_text(
        re.compile(r"beat \d+ at 00:00:\d\d\.\d\d\d"))  # the recording's clock, to the millisecond
    ticks = page.locator("#timeline-plot .x2tick text").all_text_contents()  # under the heart rate
    assert ticks and all(re.fullmatch(r"00:00:[0-2]\d", t) for t in ticks), ticks  # the first 20 s, from 0
    markers.first.click(force=True)
    page.wait_for_selector("#beat-plot[data-beat][data-rendered=true]", state="attached")
    check_modebar(page, "timeline-plot")
    check_modebar(page, "beat-plot")
    page.log.check("on the recording's page")
    check_print(page, ["timeline-plot", "beat-plot"], "holter.csv", "print-recording")
    page.log.check("printing the recording's page")
