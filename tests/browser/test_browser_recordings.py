"""A recording in a real browser: a doctor uploads a synthetic CSV recording on a patient's page, reads
the summary, moves the timeline (the page fetches the window's signal and beats), clicks an anomalous
beat's marker to see its shape, uploads a WFDB record (several files at once), and is told about a bad
upload. The recording model is the one shipped with ecgad; the browser console must stay clean.
"""
from __future__ import annotations

import re

import numpy as np
import pytest
from browsertools import (
    DOCS_RECORDING_SCREENSHOT,
    OTHER,
    PASSWORD,
    SCREENSHOTS,
    docs_screenshot_wanted,
    screenshot,
    skip_reason,
    update_docs_screenshot,
)

_reason = skip_reason()
if _reason:
    pytest.skip(_reason, allow_module_level=True)

from heartbeats import synthetic_ecg  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from ecgad.report.figures import TIME_ORIGIN_MS  # noqa: E402

pytestmark = pytest.mark.timeout(180)

FS = 250.0
KINDS = ("N" * 12 + "V" + "N" * 10 + "A" + "N" * 9 + "W") * 3  # 102 beats, about 83 s
SYMBOLS = {"N": "N", "A": "A", "V": "V", "W": "L"}


def sign_in(page, email: str, password: str) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#login-submit")
    expect(page).to_have_url(re.compile(r"/patients$"))
    page.log.check(f"after {email} signed in")


def add_patient(live_server, email: str, identifier: str = "MRN-REC-1") -> int:
    from sqlalchemy import select

    from ecgad.web.extensions import db
    from ecgad.web.models import Patient, User

    with live_server.app.app_context():
        doctor = db.session.scalar(select(User).where(User.email == email))
        patient = Patient(doctor_id=doctor.id, name="Rhea Recording", identifier=identifier, sex="female",
                          notes="")
        db.session.add(patient)
        db.session.commit()
        return patient.id


def stored_beats(live_server, analysis_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sample, score, is_anomaly) of the analysis's beats, in order."""
    from sqlalchemy import select

    from ecgad.web.extensions import db
    from ecgad.web.models import RecordingBeat

    with live_server.app.app_context():
        rows = db.session.execute(select(RecordingBeat.sample, RecordingBeat.score, RecordingBeat.is_anomaly)
                                  .where(RecordingBeat.analysis_id == analysis_id)
                                  .order_by(RecordingBeat.position)).all()
    sample, score, flag = zip(*rows, strict=True)
    return np.array(sample), np.array(score), np.array(flag, dtype=bool)


# The axis's values as milliseconds: numbers as first drawn, date strings once the page has moved the view.
AS_MS = "(v => typeof v === 'number' ? v : Date.parse(String(v).replace(' ', 'T') + 'Z'))"


def plot_data(page, trace: int) -> dict:
    return page.evaluate(f"(() => {{ const t = document.getElementById('timeline-plot').data[{trace}];"
                         f" return {{x: Array.from(t.x).map({AS_MS}),"
                         " customdata: t.customdata ? Array.from(t.customdata) : null}; })()")


def upload(page, files, **fields) -> None:
    page.set_input_files("#recording-files", files)
    for name, value in fields.items():
        page.fill(f"#recording-{name}", value)
    page.click("#recording-submit")


def test_a_recording(page, live_server, tmp_path):
    import wfdb

    x, peaks = synthetic_ecg(KINDS, FS)
    csv = tmp_path / "holter.csv"
    csv.write_text("time,II\n" + "".join(f"{i / FS:.4f},{v:.5f}\n" for i, v in enumerate(x)))
    patient_id = add_patient(live_server, OTHER.email)
    sign_in(page, OTHER.email, PASSWORD)

    # --- upload the CSV on the patient's page
    page.goto(f"/patients/{patient_id}")
    expect(page.locator("#recording-form")).to_be_visible()
    upload(page, csv)
    expect(page).to_have_url(re.compile(r"/analyses/\d+$"))
    analysis_id = int(re.search(r"/analyses/(\d+)$", page.url).group(1))
    sample, score, flagged = stored_beats(live_server, analysis_id)
    n, k = sample.size, int(flagged.sum())
    assert n == len(KINDS)
    kinds = np.array(list(KINDS))
    assert flagged[kinds == "V"].all() and flagged[kinds == "N"].mean() <= 0.05  # as the web tests check
    expect(page.locator("[data-testid=flash-success]")).to_have_text(f"holter.csv: {n} beats found, {k} anomalous.")
    expect(page.locator("#analysis-title")).to_have_text("Recording holter.csv")
    expect(page.locator("[data-testid=summary-beats]")).to_have_text(str(n))
    expect(page.locator("[data-testid=summary-anomalies]")).to_have_text(f"{k} ({100 * k / n:.1f}%)")
    expect(page.locator("[data-testid=summary-heart-rate]")).to_have_text(re.compile(r"^7\d bpm\s+range \d+–\d+$"))
    expect(page.locator("[data-testid=summary-duration]")).to_have_text(f"00:01:{x.size / FS - 60:04.1f}")
    expect(page.locator("[data-testid=recording-lead]")).to_have_text("II")
    expect(page.locator("#beat-table tr[data-testid=beat-row]")).to_have_count(k)  # anomalous only
    expect(page.locator("#delete-analysis")).to_be_visible()

    # --- the timeline: drawn, the first 20 s in view, the heart rate below
    page.wait_for_selector("#timeline-plot[data-rendered=true]", state="attached")
    names = page.evaluate("document.getElementById('timeline-plot').data.map(t => t.name)")
    assert names[:4] == ["ECG (II)", "normal beat", "anomalous beat", "heart rate"], names
    signal = plot_data(page, 0)
    origin = TIME_ORIGIN_MS  # the time axis: milliseconds on a date axis, from 2000-01-01 00:00
    assert min(signal["x"]) == origin and max(signal["x"]) == pytest.approx(origin + 20_000, abs=10)
    expect(page.locator("#timeline-plot .rangeslider-container")).to_have_count(1)
    # the highest-scoring beat is drawn first
    top = int(np.argmax(score)) + 1
    page.wait_for_selector("#beat-plot[data-rendered=true]", state="attached")
    expect(page.locator("#beat-heading")).to_have_text(re.compile(rf"^Beat {top} at 00:0\d:\d\d\.\d$"))
    page.log.check("on the recording's page")

    # --- move the view: the page fetches that window's signal and beats
    a, b = 30.0, 50.0
    page.evaluate(f"Plotly.relayout('timeline-plot', {{'xaxis.range': [{origin + a * 1000}, {origin + b * 1000}]}})")
    expect(page.locator("#timeline-plot")).to_have_attribute("data-window", f"{a:.1f}-{b:.1f}")
    signal = plot_data(page, 0)
    lo, hi = (min(signal["x"]) - origin) / 1000, (max(signal["x"]) - origin) / 1000
    assert a <= lo < a + 0.01 and b - 0.01 < hi <= b
    assert len(signal["x"]) == (b - a) * FS + 1
    in_view = np.flatnonzero((sample >= a * FS) & (sample <= b * FS))
    normal, abnormal = plot_data(page, 1), plot_data(page, 2)
    assert len(normal["x"]) + len(abnormal["x"]) == in_view.size
    marked = sorted(int(c[0]) for c in abnormal["customdata"])
    assert marked == [i + 1 for i in in_view if flagged[i]] and marked, "anomalous beats in view"
    page.locator("#timeline-plot .scatterlayer .trace:nth-child(3) .point").first.hover(force=True)
    expect(page.locator("#timeline-plot .hoverlayer")).to_contain_text(
        re.compile(r"beat \d+ at 00:00:[345]\d\.\d\d\d"))  # the clock, not raw milliseconds, once moved
    expect(page.locator("#timeline-note")).to_have_text("")
    page.log.check("after moving the view")

    # --- click an anomalous beat's marker: its figure and details replace the panel's
    markers = page.locator("#timeline-plot .scatterlayer .trace:nth-child(3) .point")
    expect(markers).to_have_count(len(marked))
    markers.first.click(force=True)
    number = marked[0]
    expect(page.locator("#beat-plot")).to_have_attribute("data-beat", str(number))
    expect(page.locator("#beat-table tr.selected")).to_have_attribute("data-beat", str(number))  # listed: anomalous
    time = sample[number - 1] / FS
    expect(page.locator("#beat-heading")).to_have_text(f"Beat {number} at 00:00:{time:04.1f}")
    expect(page.locator("#beat-verdict")).to_have_text(re.compile(r"^anomalous, confidence \d\.\d\d$"))
    expect(page.locator("#beat-details")).to_contain_text("rhythm")
    expect(page).to_have_url(re.compile(rf"/analyses/{analysis_id}\?beat={number}#beat-plot-section$"))
    title = page.locator("#beat-plot .gtitle").text_content()
    assert title.startswith(f"Beat {number} at "), title
    page.log.check("after clicking a beat")
    screenshot(page, "recording")

    # --- the address with ?beat=N opens that beat; the whole table lists every beat
    page.reload()
    page.wait_for_selector("#beat-plot[data-rendered=true]", state="attached")
    expect(page.locator("#beat-heading")).to_have_text(f"Beat {number} at 00:00:{time:04.1f}")
    page.click("#filter-all")
    expect(page.locator("#beat-table tr[data-testid=beat-row]")).to_have_count(50)
    page.log.check("after reloading")

    # --- the Holter summary: an event's link moves the timeline to it and shows its beat
    expect(page.locator("#holter")).to_be_visible()
    expect(page.locator("[data-testid=holter-hourly] [data-testid=hour-row]")).to_have_count(1)
    expect(page.locator("[data-testid=holter-pauses]")).to_have_text("0")
    link = page.locator("[data-testid=holter-longest-rr] a.event-link")
    event_beat = int(link.get_attribute("data-beat"))
    assert event_beat == KINDS.index("V") + 1  # the compensatory pause after the first V (an event's first beat)
    link.click()
    t = sample[event_beat - 1] / FS
    lo = max(0.0, t - 10)
    expect(page.locator("#timeline-plot")).to_have_attribute("data-window", f"{lo:.1f}-{lo + 20:.1f}")
    expect(page.locator("#beat-plot")).to_have_attribute("data-beat", str(event_beat))
    expect(page.locator("#beat-heading")).to_have_text(f"Beat {event_beat} at 00:00:{t:04.1f}")
    # the PDF button answers a PDF (fetched with the page's session)
    pdf = page.request.get(page.locator("#pdf-report").get_attribute("href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.body()[:5] == b"%PDF-"
    page.log.check("after following an event of the Holter summary")

    # --- a WFDB record: three files at once, with the annotations checked
    record = tmp_path / "record"
    record.mkdir()
    wfdb.wrsamp("rec", fs=FS, units=["mV"], sig_name=["MLII"], p_signal=x[:, None], fmt=["16"], write_dir=str(record))
    wfdb.wrann("rec", "atr", peaks, symbol=[SYMBOLS[c] for c in KINDS], write_dir=str(record))
    page.click("#back-to-patient")
    upload(page, [record / "rec.hea", record / "rec.dat", record / "rec.atr"])
    expect(page).to_have_url(re.compile(r"/analyses/\d+$"))
    expect(page.locator("#analysis-title")).to_have_text("Recording rec")  # the record's name
    expect(page.locator("[data-testid=recording-lead]")).to_have_text("MLII")
    expect(page.locator("[data-testid=annotation-check]")).to_contain_text("beats found 100.00% (sensitivity)")
    page.wait_for_selector("#timeline-plot[data-rendered=true]", state="attached")
    page.log.check("on the WFDB record's page")

    # --- bad uploads: said on the patient's page, nothing stored
    page.click("#back-to-patient")
    counts = [live_server.count(m) for m in ("Analysis", "Recording", "RecordingBeat", "RecordingChunk")]
    upload(page, [record / "rec.dat"])
    page.log.allow(r"Failed to load resource: .* 400")
    expect(page.locator("#recording-error")).to_contain_text("WFDB files without their header (.hea)")
    expect(page.locator("#recording-error")).to_contain_text("Nothing was stored.")
    samples_only = tmp_path / "trace.csv"
    samples_only.write_text("".join(f"{v:.5f}\n" for v in x))
    upload(page, samples_only, fs="50")
    page.log.allow(r"Failed to load resource: .* 400")
    expect(page.locator("#recording-error")).to_have_text("The sampling rate must be between 100 and 20,000 Hz.")
    upload(page, samples_only, fs="", lead="V9")
    page.log.allow(r"Failed to load resource: .* 400")
    expect(page.locator("#recording-error")).to_contain_text("trace.csv: no sampling rate: give fs")
    assert [live_server.count(m) for m in ("Analysis", "Recording", "RecordingBeat", "RecordingChunk")] == counts
    expect(page.locator("#analysis-history [data-testid=recording-badge]")).to_have_count(2)
    page.log.check("after the bad uploads")


def unreadable_bands(page) -> list[list[float]]:
    """The grey bands' ends, in seconds from the recording's start."""
    ms = page.evaluate("(document.getElementById('timeline-plot').layout.shapes || [])"
                       f".filter(s => s.name === 'unreadable').map(s => [{AS_MS}(s.x0), {AS_MS}(s.x1)])")
    return [[(a - TIME_ORIGIN_MS) / 1000, (b - TIME_ORIGIN_MS) / 1000] for a, b in ms]


def show_window(page, start_s: float, end_s: float) -> None:
    page.evaluate(f"Plotly.relayout('timeline-plot', {{'xaxis.range': [{TIME_ORIGIN_MS + start_s * 1000}, "
                  f"{TIME_ORIGIN_MS + end_s * 1000}]}})")


def test_unreadable_stretches_are_shaded(page, live_server, tmp_path):
    """A recording with a noisy stretch: the page says how much was readable, and the timeline shades the
    stretch in whichever window shows it (sent with the window's data)."""
    x, _ = synthetic_ecg("N" * 100, FS, seed=4)
    a, b = int(25 * FS), int(45 * FS)
    x[a:b] += np.random.default_rng(0).standard_normal(b - a)
    csv = tmp_path / "noisy.csv"
    csv.write_text("time,II\n" + "".join(f"{i / FS:.4f},{v:.5f}\n" for i, v in enumerate(x)))
    patient_id = add_patient(live_server, OTHER.email, identifier="MRN-REC-Q")
    sign_in(page, OTHER.email, PASSWORD)
    page.goto(f"/patients/{patient_id}")
    upload(page, csv)
    expect(page).to_have_url(re.compile(r"/analyses/\d+$"))
    expect(page.locator("[data-testid=summary-readable]")).to_contain_text(re.compile(r"^\s*[5-8]\d\.\d%"))
    page.wait_for_selector("#timeline-plot[data-rendered=true]", state="attached")
    assert unreadable_bands(page) == []  # the first 20 s are clean
    show_window(page, 20, 60)
    expect(page.locator("#timeline-plot")).to_have_attribute("data-window", "20.0-60.0")
    bands = unreadable_bands(page)
    assert bands and 20 <= bands[0][0] <= 26 and 44 <= bands[-1][1] <= 50, bands
    show_window(page, 55, 75)
    expect(page.locator("#timeline-plot")).to_have_attribute("data-window", "55.0-75.0")
    assert unreadable_bands(page) == []
    page.log.check("on a recording with an unreadable stretch")


@pytest.mark.opt_in
def test_a_real_recording_for_the_readme(page, live_server, browser):
    """With ECGAD_UPDATE_DOCS_SCREENSHOT=1 and MIT-BIH at ECGAD_DATA_DIR: record 208 (30 min, frequent PVCs) with
    its annotations, an anomalous beat opened, the top of the page as docs/screenshots/recording.png.
    208 is one of the shipped recording model's 22 training records: the screenshot shows its fit."""
    import os
    from pathlib import Path

    record = Path(os.environ.get("ECGAD_DATA_DIR") or "/nonexistent") / "mitdb" / "208"
    if not docs_screenshot_wanted() or not record.with_suffix(".hea").is_file():
        pytest.skip("only to update the README's screenshot: ECGAD_UPDATE_DOCS_SCREENSHOT=1 and MIT-BIH 208 "
                    "under ECGAD_DATA_DIR")
    patient_id = add_patient(live_server, OTHER.email, "MRN-208")
    sign_in(page, OTHER.email, PASSWORD)
    page.goto(f"/patients/{patient_id}")
    upload(page, [record.with_suffix(s) for s in (".hea", ".dat", ".atr")])
    expect(page).to_have_url(re.compile(r"/analyses/\d+$"))
    expect(page.locator("[data-testid=annotation-check]")).to_contain_text("sensitivity")
    page.wait_for_selector("#timeline-plot[data-rendered=true]", state="attached")
    page.evaluate(f"Plotly.relayout('timeline-plot', {{'xaxis.range': [{TIME_ORIGIN_MS + 600_000}, "
                  f"{TIME_ORIGIN_MS + 615_000}]}})")
    expect(page.locator("#timeline-plot")).to_have_attribute("data-window", "600.0-615.0")
    page.locator("#timeline-plot .scatterlayer .trace:nth-child(3) .point").first.click(force=True)
    page.wait_for_selector("#beat-plot[data-beat]", state="attached")
    page.log.check("on record 208")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "recording-208.png"
    top = page.locator("#beat-plot-section").bounding_box()
    page.screenshot(path=str(shot), clip={"x": 0, "y": 0, "width": 1280, "height": top["y"] + top["height"]},
                    full_page=True, animations="disabled", caret="hide")
    assert update_docs_screenshot(browser, shot, target=DOCS_RECORDING_SCREENSHOT) == DOCS_RECORDING_SCREENSHOT


def test_a_binary_file_keeps_the_page_width(page, live_server, tmp_path):
    """A binary file with a long name uploaded as a recording: a short, printable message that wraps
    inside the page (raw bytes and a long unbroken name widened it), and so do the success flash and
    the analysis page's title."""
    patient_id = add_patient(live_server, OTHER.email, identifier="MRN-REC-BIN")
    sign_in(page, OTHER.email, PASSWORD)
    page.goto(f"/patients/{patient_id}")
    binary = tmp_path / ("scan" * 50 + ".csv")
    binary.write_bytes(bytes(range(256)) * 40)
    upload(page, binary)
    page.log.allow(r"Failed to load resource: .* 400")
    error = page.locator("#recording-error")
    expect(error).to_contain_text("not a text file (it holds NUL bytes)")
    assert all(ch.isprintable() for ch in error.inner_text()) and len(error.inner_text()) < 400
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    x, _ = synthetic_ecg("N" * 20, FS)
    good = tmp_path / ("holter" * 35 + ".csv")
    good.write_text("time,II\n" + "".join(f"{i / FS:.4f},{v:.5f}\n" for i, v in enumerate(x)))
    upload(page, good)
    expect(page).to_have_url(re.compile(r"/analyses/\d+$"))
    expect(page.locator("[data-testid=flash-success]")).to_contain_text("beats found")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.log.check("after the binary upload")
