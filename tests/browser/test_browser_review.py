"""The clinician's review in a real browser: a doctor opens a recording, jumps from abnormal beat to
abnormal beat with the keys n and p, relabels a whole beat family as
artefact and sees the Holter summary change (its beats left out, "Reviewed: N labels changed"), writes an
interpretation, signs; the labels and the text are then locked (the forms disabled, a forged post answers
409); another doctor cannot see any of it (404). CSRF on, as in production; the console must stay clean.
"""
from __future__ import annotations

import re

import pytest
from browsertools import OTHER, PASSWORD, screenshot, skip_reason

_reason = skip_reason()
if _reason:
    pytest.skip(_reason, allow_module_level=True)

from heartbeats import synthetic_ecg  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

pytestmark = pytest.mark.timeout(180)

FS = 250.0
KINDS = ("N" * 12 + "V" + "N" * 10 + "A" + "N" * 9 + "W") * 3  # 102 beats
THIRD = "rita@example.org"  # a doctor with patients of her own, none of these


def sign_in(page, email: str) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    expect(page).to_have_url(re.compile(r"/patients$"))


def setup(live_server) -> int:
    """Otto's patient, and a third doctor's account; the patient's id."""
    from sqlalchemy import select

    from ecgad.web.accounts import create_user
    from ecgad.web.extensions import db
    from ecgad.web.models import Patient, User

    with live_server.app.app_context():
        create_user(THIRD, PASSWORD, "doctor", "Dr Rita", via="browser tests")
        otto = db.session.scalar(select(User).where(User.email == OTHER.email))
        patient = Patient(doctor_id=otto.id, name="Rhea Review", identifier="MRN-REV-1", sex="female", notes="")
        db.session.add(patient)
        db.session.commit()
        return patient.id


def reviewed_labels(live_server, analysis_id: int) -> dict:
    from sqlalchemy import func, select

    from ecgad.web.extensions import db
    from ecgad.web.models import RecordingBeat

    with live_server.app.app_context():
        return dict(db.session.execute(select(RecordingBeat.reviewed_label, func.count())
                                       .where(RecordingBeat.analysis_id == analysis_id)
                                       .group_by(RecordingBeat.reviewed_label)).all())


def flagged_beats(live_server, analysis_id: int) -> list[int]:
    from sqlalchemy import select

    from ecgad.web.extensions import db
    from ecgad.web.models import RecordingBeat

    with live_server.app.app_context():
        return [p + 1 for p in db.session.scalars(select(RecordingBeat.position).where(
            RecordingBeat.analysis_id == analysis_id, RecordingBeat.is_anomaly).order_by(RecordingBeat.position))]


def _beat_column(live_server, analysis_id: int, number: int, column: str):
    from sqlalchemy import select

    from ecgad.web.extensions import db
    from ecgad.web.models import RecordingBeat

    with live_server.app.app_context():
        return db.session.scalar(select(getattr(RecordingBeat, column)).where(
            RecordingBeat.analysis_id == analysis_id, RecordingBeat.position == number - 1))


def family_of(live_server, analysis_id: int, number: int) -> int:
    return _beat_column(live_server, analysis_id, number, "family")


def class_of(live_server, analysis_id: int, number: int) -> str | None:
    return _beat_column(live_server, analysis_id, number, "beat_class")


def test_review_relabel_sign_lock(page, browser, live_server, tmp_path):
    x, _ = synthetic_ecg(KINDS, FS)
    csv = tmp_path / "review.csv"
    csv.write_text("time,II\n" + "".join(f"{i / FS:.4f},{v:.5f}\n" for i, v in enumerate(x)))
    patient_id = setup(live_server)
    sign_in(page, OTHER.email)
    page.goto(f"/patients/{patient_id}")
    page.set_input_files("#recording-files", csv)
    page.click("#recording-submit")
    expect(page).to_have_url(re.compile(r"/analyses/\d+$"))
    analysis_id = int(re.search(r"/analyses/(\d+)$", page.url).group(1))
    page.log.check("on the recording's page")

    # --- the viewer: n and p jump from one abnormal beat to the next and back (the viewer's own test has more)
    flagged = flagged_beats(live_server, analysis_id)
    shown = page.locator("#viewer-beat")
    canvas = page.locator("#ecg-viewer-canvas")
    expect(canvas).to_have_attribute("data-beats-shown", re.compile(r"^\d+$"))  # drawn
    canvas.focus()
    page.keyboard.press("n")
    expect(shown).to_have_attribute("data-beat", re.compile(r"^\d+$"))
    first = int(shown.get_attribute("data-beat"))
    assert first in flagged
    page.keyboard.press("n")
    following = flagged[flagged.index(first) + 1]
    expect(shown).to_have_attribute("data-beat", str(following))
    page.keyboard.press("p")
    expect(shown).to_have_attribute("data-beat", str(first))
    # the selected beat's label form follows the beat shown (no reload): relabel that beat V
    form = page.locator("#beat-label-form")
    expect(form).to_have_attribute("data-beat", str(first))
    assert form.get_attribute("action").endswith(f"/analyses/{analysis_id}/beats/{first}/label")
    label = "S" if class_of(live_server, analysis_id, first) == "V" else "V"  # not the model's class
    page.select_option("#beat-label", label)
    form.locator("button[type=submit]").click()
    expect(page.locator("[data-testid=flash-success]")).to_have_text(f"Beat {first} labelled {label}.")
    beats_total = int(page.locator("[data-testid=holter-beats]").text_content())
    assert reviewed_labels(live_server, analysis_id) == {label: 1, None: beats_total - 1}
    expect(page.locator("[data-testid=holter-reviewed]")).to_contain_text("Reviewed: 1 label changed")

    # --- the families: largest first, each with its count, mean beat and examples
    rows = page.locator("[data-testid=family-row]")
    assert rows.count() >= 2
    counts = [int(c) for c in page.locator("[data-testid=family-count]").all_text_contents()]
    assert counts == sorted(counts, reverse=True)
    expect(rows.first.locator("svg[data-testid=family-mean] polyline")).to_have_count(1)
    beats = int(page.locator("[data-testid=holter-beats]").text_content())

    # --- an example beat opens that beat
    example = rows.first.locator("[data-testid=family-example]").first
    number = example.get_attribute("data-beat")
    example.click()
    expect(page).to_have_url(re.compile(rf"\?beat={number}#beat-plot-section$"))
    expect(page.locator("#beat-heading")).to_have_text(re.compile(rf"^Beat {number} at "))

    # --- relabel the smallest listed family (not beat ``first``'s) as artefact: the summary leaves its beats
    # out and says so
    last = page.locator(f"[data-testid=family-row]:not([data-family='{family_of(live_server, analysis_id, first)}'])"
                        ).last
    family = last.get_attribute("data-family")
    n = int(last.locator("[data-testid=family-count]").text_content())
    last.locator("select").select_option("X")
    last.locator("button[type=submit]").click()
    expect(page.locator("[data-testid=flash-success]")).to_have_text(
        f"Family {family}: {n} beat{'s' if n != 1 else ''} labelled X.")
    row = page.locator(f"[data-testid=family-row][data-family='{family}']")
    expect(row.locator("[data-testid=family-label]")).to_have_text("X")
    expect(page.locator("[data-testid=holter-beats]")).to_have_text(str(beats - n))
    expect(page.locator("[data-testid=holter-reviewed]")).to_contain_text(f"Reviewed: {n + 1} labels changed")
    final = {"X": n, label: 1, None: beats - n - 1}
    assert reviewed_labels(live_server, analysis_id) == final
    page.log.check("after relabelling a family")

    # --- interpretation, then signed: everything locked
    page.fill("#interpretation-text", "Sinus rhythm with isolated wide beats.")
    page.click("#save-interpretation")
    expect(page.locator("[data-testid=flash-success]")).to_have_text("Interpretation saved.")
    page.click("#sign")
    expect(page.locator("[data-testid=signed-line]")).to_contain_text("Reviewed and signed by Dr Otto")
    expect(page.locator("#interpretation-text")).to_be_disabled()
    expect(page.locator("#interpretation-text")).to_have_value("Sinus rhythm with isolated wide beats.")
    for select in page.locator("[data-testid=family-form] select").all():
        expect(select).to_be_disabled()
    expect(page.locator("[data-testid=family-form] button").first).to_be_disabled()
    expect(page.locator("#unlock")).to_be_visible()
    page.locator("#families").scroll_into_view_if_needed()
    screenshot(page, "review")
    # a post that goes around the disabled form (with a valid CSRF token) is refused: 409
    token = page.locator("#interpretation-form input[name=csrf_token]").get_attribute("value")
    forged = page.request.post(f"/analyses/{analysis_id}/families/1/label", form={"csrf_token": token, "label": "V"})
    assert forged.status == 409 and "unlock it first" in forged.text()
    assert reviewed_labels(live_server, analysis_id) == final
    pdf = page.request.get(f"/analyses/{analysis_id}/report.pdf")
    assert pdf.status == 200 and pdf.body()[:5] == b"%PDF-"
    page.log.check("after signing")

    # --- another doctor sees none of it
    context = browser.new_context(base_url=live_server.base_url, locale="en-GB", timezone_id="UTC")
    try:
        other = context.new_page()
        sign_in(other, THIRD)
        for path in (f"/analyses/{analysis_id}", f"/analyses/{analysis_id}/report.pdf"):
            assert other.goto(path).status == 404, path
        other.goto("/patients")
        token = other.locator(".logout-form input[name=csrf_token]").get_attribute("value")  # her own, valid
        for path in ("unlock", "families/1/label"):
            assert other.request.post(f"/analyses/{analysis_id}/{path}",
                                      form={"csrf_token": token, "label": "N"}).status == 404, path
    finally:
        context.close()
    assert reviewed_labels(live_server, analysis_id) == final
