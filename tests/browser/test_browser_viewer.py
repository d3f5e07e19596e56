"""The ECG viewer in a real browser: a doctor uploads a two-lead recording; the viewer draws both leads on
the paper grid; n and p jump between abnormal beats (the label, the address and the beat figure follow);
the gain control changes the drawn scale (measured in the canvas's pixels); a clock time and a drag move
it; a click in the overview timeline moves it too; another doctor gets 404 for its data. The console
must stay clean. With ECGAD_UPDATE_DOCS_SCREENSHOT=1 and MIT-BIH 208: docs/screenshots/viewer.png.
"""
from __future__ import annotations

import re

import numpy as np
import pytest
from browsertools import OTHER, PASSWORD, ROOT, SCREENSHOTS, docs_screenshot_wanted, skip_reason, update_docs_screenshot

_reason = skip_reason()
if _reason:
    pytest.skip(_reason, allow_module_level=True)

from heartbeats import synthetic_ecg  # noqa: E402
from playwright.sync_api import expect  # noqa: E402
from test_browser_recordings import KINDS, add_patient, sign_in, upload  # noqa: E402

pytestmark = pytest.mark.timeout(240)

FS = 250.0
PX_PER_MM = 96 / 25.4
DOCS_VIEWER_SCREENSHOT = ROOT / "docs" / "screenshots" / "viewer.png"


def abnormal_beats(live_server, analysis_id: int) -> tuple[list[int], np.ndarray]:
    """The numbers of the abnormal beats (flagged, or classed other than N) and every beat's R peak."""
    from sqlalchemy import select

    from ecgad.web.extensions import db
    from ecgad.web.models import RecordingBeat

    with live_server.app.app_context():
        rows = db.session.execute(select(RecordingBeat.sample, RecordingBeat.is_anomaly, RecordingBeat.beat_class)
                                  .where(RecordingBeat.analysis_id == analysis_id)
                                  .order_by(RecordingBeat.position)).all()
    numbers = [i + 1 for i, (_, flag, cls) in enumerate(rows) if flag or cls not in (None, "N")]
    return numbers, np.array([r[0] for r in rows])


# the vertical extent (CSS px) of dark trace pixels in the second lead's band and below (V1 = -II / 2: at
# 20 mm/mV it stays on the canvas, and II stays above it), read from the canvas itself
TRACE_EXTENT = """() => {
  const c = document.getElementById('ecg-viewer-canvas');
  const ratio = c.width / c.getBoundingClientRect().width;
  const mm = 96 / 25.4, top = Math.round(35 * mm * ratio), bottom = c.height;
  const data = c.getContext('2d').getImageData(0, top, c.width, bottom - top).data;
  let lo = Infinity, hi = -Infinity;
  for (let y = 0; y < bottom - top; y++) {
    for (let x = Math.round(60 * ratio); x < c.width; x++) {   // right of the lead's name
      const i = 4 * (y * c.width + x);
      if (data[i] < 50 && data[i + 1] < 50 && data[i + 2] < 50) { lo = Math.min(lo, y); hi = Math.max(hi, y); }
    }
  }
  return (hi - lo) / ratio;
}"""


def viewer_start(page) -> float:
    return float(page.locator("#ecg-viewer-canvas").get_attribute("data-start"))


def wait_for_start(page, seconds: float, tolerance: float = 0.02) -> None:
    """Until the viewer is drawn from ``seconds`` at its left edge (it redraws on the next frame)."""
    page.wait_for_function("([s, tol]) => Math.abs(Number(document.getElementById('ecg-viewer-canvas')"
                           ".getAttribute('data-start')) - s) <= tol", arg=[round(seconds, 2), tolerance])


def test_the_viewer(page, live_server, tmp_path):
    x, _ = synthetic_ecg(KINDS, FS)
    csv = tmp_path / "two-leads.csv"
    csv.write_text("time,II,V1\n" + "".join(f"{i / FS:.4f},{v:.5f},{-v / 2:.5f}\n" for i, v in enumerate(x)))
    patient_id = add_patient(live_server, OTHER.email, identifier="MRN-VIEW-1")
    sign_in(page, OTHER.email, PASSWORD)
    page.goto(f"/patients/{patient_id}")
    upload(page, csv)
    expect(page).to_have_url(re.compile(r"/analyses/\d+$"))
    analysis_id = int(re.search(r"/analyses/(\d+)$", page.url).group(1))
    abnormal, sample = abnormal_beats(live_server, analysis_id)
    assert len(abnormal) >= 3

    # --- drawn: both leads, 25 mm/s and 10 mm/mV, the first screenful's beats labelled
    canvas = page.locator("#ecg-viewer-canvas")
    expect(canvas).to_have_attribute("data-drawn", "true")
    expect(canvas).to_have_attribute("data-px-per-mv", f"{10 * PX_PER_MM:.3f}")
    expect(canvas).to_have_attribute("data-px-per-s", f"{25 * PX_PER_MM:.3f}")
    expect(page.locator("#viewer-scale")).to_have_text("25 mm/s · 10 mm/mV")
    box = canvas.bounding_box()
    assert box["height"] == pytest.approx((10 + 2 * 25 + 5) * PX_PER_MM, abs=1.5)  # two leads' bands
    span = int(box["width"]) / (25 * PX_PER_MM)  # seconds in view
    assert int(canvas.get_attribute("data-beats-shown")) == int(np.sum(sample <= span * FS))
    expect(page.locator("#viewer-time")).to_have_text(re.compile(r"^00:00:00\.0 – 00:00:\d\d\.\d$"))
    page.log.check("with the viewer drawn")

    # --- the gain: the trace's drawn height follows it
    at10 = page.evaluate(TRACE_EXTENT)
    assert at10 > 15
    page.select_option("#viewer-gain", "20")
    expect(canvas).to_have_attribute("data-px-per-mv", f"{20 * PX_PER_MM:.3f}")
    at20 = page.evaluate(TRACE_EXTENT)
    page.select_option("#viewer-gain", "5")
    expect(canvas).to_have_attribute("data-px-per-mv", f"{5 * PX_PER_MM:.3f}")
    at5 = page.evaluate(TRACE_EXTENT)
    assert at5 < at10 < at20 and 1.6 < at20 / at10 < 2.4 and 1.6 < at10 / at5 < 2.4, (at5, at10, at20)
    page.select_option("#viewer-gain", "10")
    expect(page.locator("#viewer-scale")).to_have_text("25 mm/s · 10 mm/mV")

    # --- n and p: from abnormal beat to abnormal beat; the label, the address and the beat figure follow
    canvas.focus()
    first = next(i for i, n in enumerate(abnormal) if sample[n - 1] / FS > span / 2)  # after the view's centre
    steps = [("n", first), ("n", first + 1), ("n", first + 2), ("p", first + 1)]
    for key, index in steps:
        expected = abnormal[index]
        page.keyboard.press(key)
        expect(page.locator("#viewer-beat")).to_have_attribute("data-beat", str(expected))
        expect(page.locator("#viewer-beat")).to_have_text(re.compile(rf"^Beat {expected} at 00:0\d:\d\d\.\d · class "))
        expect(page).to_have_url(re.compile(rf"[?&]beat={expected}\b"))
        expect(page.locator("#beat-plot")).to_have_attribute("data-beat", str(expected))
        t = sample[expected - 1] / FS
        wait_for_start(page, max(0.0, min(t - span / 2, x.size / FS - span)))
    for index in range(first, -1, -1):  # the buttons, back to the first abnormal beat, then no further
        page.click("#viewer-previous")
        expect(page.locator("#viewer-beat")).to_have_attribute("data-beat", str(abnormal[index]))
    page.click("#viewer-previous")
    expect(page.locator("#viewer-status")).to_have_text("No abnormal beat before this one.")
    page.log.check("after jumping between abnormal beats")

    # --- speed 50 mm/s: twice the pixels per second, around the same time
    page.select_option("#viewer-speed", "50")
    expect(canvas).to_have_attribute("data-px-per-s", f"{50 * PX_PER_MM:.3f}")
    page.select_option("#viewer-speed", "25")

    # --- a clock time (no start in a CSV: time from the start), then a drag
    page.fill("#viewer-clock", "00:01:00")
    page.click("#viewer-go")
    expect(canvas).to_have_attribute("data-start", f"{60 - span / 2:.2f}")
    page.fill("#viewer-clock", "0:25")  # mm:ss
    page.press("#viewer-clock", "Enter")
    expect(canvas).to_have_attribute("data-start", f"{25 - span / 2:.2f}")
    for bad in ("9:99:99x", "02:00:00"):  # not a time; after the end
        page.fill("#viewer-clock", bad)
        page.click("#viewer-go")
        expect(page.locator("#viewer-status")).to_have_text("Give a time within the recording as hh:mm:ss.")
        page.fill("#viewer-clock", "")
        page.click("#viewer-go")  # (an empty time is not one either; the status stays)
    before = viewer_start(page)
    canvas.scroll_into_view_if_needed()
    now = canvas.bounding_box()
    middle = (now["x"] + now["width"] / 2, now["y"] + now["height"] / 2)
    page.mouse.move(*middle)
    page.mouse.down()
    page.mouse.move(middle[0] - 100, middle[1], steps=5)
    page.mouse.move(middle[0] - 189, middle[1], steps=5)
    page.mouse.up()
    expect(canvas).to_have_attribute("data-start", f"{before + 189 / (25 * PX_PER_MM):.2f}")
    expect(canvas).to_have_attribute("data-drawn", "true")

    # --- a click on an anomalous beat in the overview moves the viewer there
    page.wait_for_selector("#timeline-plot[data-rendered=true]", state="attached")
    page.locator("#timeline-plot .scatterlayer .trace:nth-child(3) .point").first.click(force=True)
    number = int(page.locator("#beat-plot").get_attribute("data-beat"))
    t = sample[number - 1] / FS
    wait_for_start(page, max(0.0, t - span / 2))
    page.log.check("after moving the viewer")

    # --- another doctor: 404 for the strip and the abnormal beats
    from ecgad.web.accounts import create_user

    with live_server.app.app_context():
        create_user("vera@example.org", PASSWORD, "doctor", "Dr Vera", via="browser tests")
    page.context.clear_cookies()
    sign_in(page, "vera@example.org", PASSWORD)
    for url in (f"/analyses/{analysis_id}/strip.json?start=0&end=10", f"/analyses/{analysis_id}/abnormal.json?after=0",
                f"/analyses/{analysis_id}"):
        assert page.request.get(url).status == 404, url


def viewer_beat(page) -> int | None:
    value = page.locator("#viewer-beat").get_attribute("data-beat")
    return int(value) if value else None


@pytest.mark.opt_in
def test_the_viewer_for_the_readme(page, live_server, browser):
    """With ECGAD_UPDATE_DOCS_SCREENSHOT=1 and MIT-BIH 208 under ECGAD_DATA_DIR: both leads on the grid
    around an abnormal beat (n pressed), as docs/screenshots/viewer.png."""
    import os
    from pathlib import Path

    record = Path(os.environ.get("ECGAD_DATA_DIR") or "/nonexistent") / "mitdb" / "208"
    if not docs_screenshot_wanted() or not record.with_suffix(".hea").is_file():
        pytest.skip("only to update the README's screenshot: ECGAD_UPDATE_DOCS_SCREENSHOT=1 and MIT-BIH 208 "
                    "under ECGAD_DATA_DIR")
    patient_id = add_patient(live_server, OTHER.email, "MRN-208-VIEW")
    sign_in(page, OTHER.email, PASSWORD)
    page.goto(f"/patients/{patient_id}")
    upload(page, [record.with_suffix(s) for s in (".hea", ".dat", ".atr")])
    expect(page).to_have_url(re.compile(r"/analyses/\d+$"))
    page.log.check("on record 208's page")
    expect(page.locator("#ecg-viewer-canvas")).to_have_attribute("data-drawn", "true", timeout=20_000)
    page.fill("#viewer-clock", "00:10:00")
    page.click("#viewer-go")
    page.locator("#ecg-viewer-canvas").focus()
    page.keyboard.press("n")
    expect(page.locator("#viewer-beat")).to_have_attribute("data-beat", re.compile(r"\d+"))
    expect(page.locator("#ecg-viewer-canvas")).to_have_attribute("data-drawn", "true")
    page.log.check("on record 208's viewer")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "viewer-208.png"
    page.locator("#viewer-section").screenshot(path=str(shot), animations="disabled", caret="hide")
    assert update_docs_screenshot(browser, shot, target=DOCS_VIEWER_SCREENSHOT) == DOCS_VIEWER_SCREENSHOT
