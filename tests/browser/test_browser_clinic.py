"""A clinic's day in a real browser: the admin creates a doctor; the doctor creates a patient, analyses
the example files (uploaded, and with the one-click buttons), looks at a beat's figure, reads the
patient's history and is told about a bad file; another doctor cannot see that patient; the admin
reads the audit log. Each step checks what a person sees, and that the browser console stays clean.
"""
from __future__ import annotations

import re

import pytest
from browsertools import ADMIN, EXAMPLES, OTHER, PASSWORD, screenshot, skip_reason, update_docs_screenshot

_reason = skip_reason()
if _reason:
    pytest.skip(_reason, allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

pytestmark = pytest.mark.timeout(180)

DOCTOR = {"email": "dora@example.org", "name": "Dr Dora", "password": "a long and secret password 1"}
PATIENT = {"name": "Ann Example", "identifier": "MRN-1001", "birth_date": "1960-04-02", "sex": "female",
           "notes": "Palpitations since March."}


# ------------------------------------------------------------------ steps


def sign_in(page, email: str, password: str, name: str) -> None:
    page.goto("/login")
    expect(page.locator("#login-form")).to_be_visible()
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#login-submit")
    expect(page.locator("[data-testid=current-user]")).to_contain_text(name)
    expect(page).to_have_url(re.compile(r"/patients$"))
    page.log.check(f"after {email} signed in")


def sign_out(page) -> None:
    page.click("#logout")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator("[data-testid=flash-info]")).to_have_text("You are signed out.")
    expect(page.locator("#login-form")).to_be_visible()
    expect(page.locator("#logout")).to_have_count(0)
    expect(page.locator("[data-testid=current-user]")).to_have_count(0)
    page.log.check("after signing out")


def rows(page, selector: str, attribute: str) -> list[str]:
    return page.locator(selector).evaluate_all(f"els => els.map(e => e.getAttribute('{attribute}'))")


def check_analysis_page(page, filename: str, verdicts: list[bool]) -> int:
    """The analysis page of ``filename`` shows the model's verdicts; returns the analysis id."""
    n, k = len(verdicts), sum(verdicts)
    expect(page).to_have_url(re.compile(r"/analyses/\d+$"))
    expect(page.locator("[data-testid=flash-success]")).to_have_text(
        f"{filename}: {n} beats analysed, {k} anomalous.")
    expect(page.locator("#analysis-title")).to_have_text(f"Analysis of {filename}")
    expect(page.locator("[data-testid=summary-beats]")).to_have_text(str(n))
    expect(page.locator("[data-testid=summary-anomalies]")).to_have_text(str(k))
    expect(page.locator("[data-testid=summary-threshold]")).to_have_text(re.compile(r"^\d[\d.e+-]*$"))
    expect(page.locator("[data-testid=model-id]")).not_to_be_empty()
    expect(page.locator("#beat-table tr[data-testid=beat-row]")).to_have_count(n)
    shown = rows(page, "#beat-table tr[data-testid=beat-row]", "data-verdict")
    assert shown == ["anomalous" if v else "normal" for v in verdicts], f"{filename}: verdicts on the page"
    # Without a beat in the address, the page plots the beat with the highest score.
    expect(page.locator("#beat-heading")).to_have_text(re.compile(r"^Beat \d+$"))
    expect(page.locator("#beat-verdict")).to_have_text(re.compile(r"^(anomalous|normal), confidence \d\.\d\d$"))
    check_plot(page)
    return int(re.search(r"/analyses/(\d+)", page.url).group(1))


def check_plot(page, beat: int | None = None) -> None:
    """Plotly has drawn the figure: its traces are in the SVG and in the element's data."""
    page.wait_for_selector("#beat-plot[data-rendered]", state="attached")
    expect(page.locator("#beat-plot")).to_have_attribute("data-rendered", "true")
    traces = page.locator("#beat-plot .scatterlayer .trace").count()
    assert traces >= 2, f"only {traces} traces drawn"
    names = page.evaluate("document.getElementById('beat-plot').data.map(t => t.name)")
    assert len(names) >= 2 and {"beat", "reconstruction"} <= set(names), names
    title = page.locator("#beat-plot .gtitle").text_content()
    assert "threshold" in title and (beat is None or f"Beat {beat}:" in title), title
    expect(page.locator("#beat-plot .legend")).to_be_visible()


def upload(page, path_or_file, *, labelled: bool = False) -> None:
    page.set_input_files("#file", path_or_file)
    if labelled:
        page.check("#labelled")
    page.click("#upload-submit")


def history(page) -> list[int]:
    return [int(i) for i in rows(page, "#analysis-history tr[data-testid=analysis-row]", "data-analysis-id")]


# ------------------------------------------------------------------ the scenario


def test_a_clinic_day(page, live_server, expected, browser):
    # --- the admin signs in and creates a doctor's account in the UI
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator("h1")).to_have_text("Sign in")
    screenshot(page, "01-login")
    sign_in(page, ADMIN.email, PASSWORD, ADMIN.name)
    expect(page.locator("[data-testid=current-user] .badge")).to_have_text("admin")
    expect(page.locator("h1")).to_have_text("All patients")
    page.click("#nav-users")
    expect(page.locator("h1")).to_have_text("Accounts")
    page.click("#new-user")
    page.fill("#email", DOCTOR["email"])
    page.fill("#name", DOCTOR["name"])
    page.fill("#password", DOCTOR["password"])
    page.fill("#confirm", DOCTOR["password"])
    page.click("#create-user")
    expect(page.locator("[data-testid=flash-success]")).to_have_text(f"Doctor account {DOCTOR['email']} created.")
    row = page.locator(f"#user-list tr[data-testid=user-row][data-email='{DOCTOR['email']}']")
    expect(row).to_have_attribute("data-status", "active")
    expect(row).to_contain_text(DOCTOR["name"])
    expect(row.locator("[data-testid=deactivate-user]")).to_be_visible()
    expect(row.locator("[data-testid=reset-password]")).to_be_visible()
    page.log.check("on the accounts page")
    screenshot(page, "05-admin-users")
    sign_out(page)

    # --- the doctor signs in and creates a patient
    sign_in(page, DOCTOR["email"], DOCTOR["password"], DOCTOR["name"])
    expect(page.locator("#nav-users")).to_have_count(0)
    expect(page.locator("#nav-audit")).to_have_count(0)
    expect(page.locator("[data-testid=no-patients]")).to_be_visible()
    page.click("#new-patient")
    page.fill("#name", PATIENT["name"])
    page.fill("#identifier", PATIENT["identifier"])
    page.fill("#birth_date", PATIENT["birth_date"])
    page.select_option("#sex", PATIENT["sex"])
    page.fill("#notes", PATIENT["notes"])
    page.click("#save-patient")
    expect(page.locator("[data-testid=flash-success]")).to_have_text(f"Patient {PATIENT['name']} created.")
    expect(page.locator("#patient-name")).to_have_text(PATIENT["name"])
    expect(page.locator("[data-testid=patient-identifier]")).to_have_text(PATIENT["identifier"])
    expect(page.locator("[data-testid=patient-birth-date]")).to_have_text(PATIENT["birth_date"])
    expect(page.locator("[data-testid=patient-sex]")).to_have_text("Female")
    expect(page.locator("[data-testid=patient-notes]")).to_contain_text(PATIENT["notes"])
    expect(page.locator("[data-testid=no-analyses]")).to_be_visible()
    patient_url = page.url
    patient_id = int(re.search(r"/patients/(\d+)$", patient_url).group(1))
    page.log.check("on the new patient's page")

    # --- uploads the normal and the abnormal example files
    upload(page, EXAMPLES / "normal_beats.csv")
    normal_id = check_analysis_page(page, "normal_beats.csv", expected["normal"])
    page.log.check("on the normal file's analysis")
    page.click("#back-to-patient")
    expect(page).to_have_url(patient_url)
    upload(page, EXAMPLES / "abnormal_beats.csv")
    abnormal_id = check_analysis_page(page, "abnormal_beats.csv", expected["abnormal"])
    page.log.check("on the abnormal file's analysis")

    # --- opens a beat: the first anomalous one if there is one
    verdicts = expected["abnormal"]
    number = verdicts.index(True) + 1 if any(verdicts) else 2
    page.locator(f"#beat-table tr[data-beat='{number}'] [data-testid=beat-link]").click()
    expect(page).to_have_url(re.compile(rf"/analyses/{abnormal_id}\?beat={number}#beat-plot-section$"))
    expect(page.locator("#beat-heading")).to_have_text(f"Beat {number}")
    verdict = "anomalous" if verdicts[number - 1] else "normal"
    expect(page.locator("#beat-verdict")).to_have_text(re.compile(rf"^{verdict}, confidence "))
    expect(page.locator(f"#beat-table tr[data-beat='{number}']")).to_have_class(re.compile("selected"))
    expect(page.locator("[data-testid=beat-threshold]")).to_have_text(
        page.locator("[data-testid=summary-threshold]").inner_text())
    check_plot(page, number)
    page.log.check("on the beat's figure")
    shot = screenshot(page, "04-analysis")
    update_docs_screenshot(browser, shot)

    # --- filters and sorts the beats
    page.click("#filter-anomalies")
    expect(page.locator("#beat-table tr[data-testid=beat-row], [data-testid=no-beats]")).to_have_count(
        max(sum(verdicts), 1))
    if any(verdicts):
        assert set(rows(page, "#beat-table tr[data-testid=beat-row]", "data-verdict")) == {"anomalous"}
    page.click("#filter-all")
    page.click("#sort-score")
    expect(page.locator("th[aria-sort=descending] #sort-score")).to_have_count(1)
    scores = page.locator("#beat-table tr[data-testid=beat-row] td.num:nth-of-type(1)").all_inner_texts()
    assert [float(s) for s in scores] == sorted((float(s) for s in scores), reverse=True), scores
    check_plot(page, number)  # the selected beat stays selected
    page.log.check("after sorting")

    # --- the one-click examples
    page.click("#back-to-patient")
    page.click("#example-normal")
    example_normal_id = check_analysis_page(page, "normal_beats.csv", expected["normal"])
    expect(page.locator("#analysis-meta .badge")).to_have_text("example")
    page.click("#back-to-patient")
    page.click("#example-abnormal")
    example_abnormal_id = check_analysis_page(page, "abnormal_beats.csv", expected["abnormal"])
    page.log.check("after the example buttons")

    # --- the patient's history, newest first
    page.click("#back-to-patient")
    ids = [example_abnormal_id, example_normal_id, abnormal_id, normal_id]
    expect(page.locator("#analysis-history tr[data-testid=analysis-row]")).to_have_count(4)
    assert history(page) == ids, "the history is not newest first"
    history_rows = page.locator("#analysis-history tr[data-testid=analysis-row]")
    files = [t.strip() for t in history_rows.locator("td:nth-of-type(1)").all_inner_texts()]
    assert files == ["abnormal_beats.csv example", "normal_beats.csv example", "abnormal_beats.csv",
                     "normal_beats.csv"], files
    anomalies = [t.strip() for t in history_rows.locator("td:nth-of-type(3)").all_inner_texts()]
    k_normal, k_abnormal = str(sum(expected["normal"])), str(sum(expected["abnormal"]))
    assert anomalies == [k_abnormal, k_normal, k_abnormal, k_normal], anomalies
    history_rows.nth(2).locator("a").click()  # the uploaded abnormal file's analysis
    expect(page).to_have_url(re.compile(rf"/analyses/{abnormal_id}$"))
    check_plot(page)
    page.click("#back-to-patient")
    screenshot(page, "03-patient")
    page.log.check("on the patient's history")

    # --- bad files: the page says what is wrong and nothing is stored
    counts = (live_server.count("Analysis"), live_server.count("AnalysisBeat"))
    upload(page, {"name": "notes.csv", "mimeType": "text/csv", "buffer": b"0.1,0.2,0.3\n0.4,abc,0.6\n"})
    page.log.allow(r"Failed to load resource: .* 400")
    expect(page.locator("#upload-error")).to_contain_text("notes.csv line 2, column 2: 'abc' is not a number")
    expect(page.locator("#upload-error")).to_contain_text("Nothing was stored.")
    expect(page.locator("#patient-name")).to_have_text(PATIENT["name"])
    assert history(page) == ids
    upload(page, {"name": "labels.csv", "mimeType": "text/csv", "buffer": b"1,0.1,0.2,0.3\n1e20,0.4,0.5,0.6\n"},
           labelled=True)
    page.log.allow(r"Failed to load resource: .* 400")
    expect(page.locator("#upload-error")).to_contain_text("labels.csv line 2: label 1e+20 is too large")
    upload(page, {"name": "beats.exe", "mimeType": "application/octet-stream", "buffer": b"MZ\x90\x00"})
    page.log.allow(r"Failed to load resource: .* 400")
    expect(page.locator("#upload-error")).to_contain_text("files of type .exe are not accepted")
    assert history(page) == ids
    assert (live_server.count("Analysis"), live_server.count("AnalysisBeat")) == counts
    screenshot(page, "03b-patient-upload-error")
    page.log.check("after the bad uploads")

    # --- the patient list, and its search
    page.click("#nav-patients")
    expect(page.locator("h1")).to_have_text("Your patients")
    row = page.locator("#patient-list tr[data-testid=patient-row]")
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-patient-id", str(patient_id))
    expect(row).to_contain_text(PATIENT["identifier"])
    expect(row.locator("td.num")).to_have_text("4")
    screenshot(page, "02-patients")
    page.fill("#q", "mrn-10")
    page.click("#search-submit")
    expect(page.locator("#patient-list tr[data-testid=patient-row]")).to_have_count(1)
    page.fill("#q", "nobody")
    page.click("#search-submit")
    expect(page.locator("[data-testid=no-patients]")).to_contain_text("nobody")
    page.log.check("on the patient list")
    sign_out(page)

    # --- another doctor cannot reach this patient, nor its analyses
    sign_in(page, OTHER.email, PASSWORD, OTHER.name)
    expect(page.locator("[data-testid=no-patients]")).to_be_visible()
    for path in (f"/patients/{patient_id}", f"/analyses/{abnormal_id}", f"/analyses/{abnormal_id}?beat=1",
                 f"/patients/{patient_id}/edit"):
        response = page.goto(path)
        assert response.status == 404, path
        expect(page.locator("[data-testid=error-page]")).to_have_attribute("data-status", "404")
        expect(page.locator("#error-title")).to_have_text("Not found")
        expect(page.locator("body")).not_to_contain_text(PATIENT["name"])
        page.log.allow(r"Failed to load resource: .* 404")
    screenshot(page, "07-not-found")
    page.log.check("on the 404 pages")
    sign_out(page)

    # --- the admin reads the audit log and sees the patient
    sign_in(page, ADMIN.email, PASSWORD, ADMIN.name)
    row = page.locator("#patient-list tr[data-testid=patient-row]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(DOCTOR["name"])
    page.click("#nav-audit")
    expect(page.locator("h1")).to_have_text("Audit log")
    actions = rows(page, "#audit-log tr[data-testid=audit-row]", "data-action")
    for action, n in {"user.create": 3, "patient.create": 1, "analysis.create": 4, "logout": 3,
                      "login.success": 4}.items():
        assert actions.count(action) == n, (action, actions)
    assert actions[0] == "login.success", "the audit log is not newest first"
    screenshot(page, "06-audit")
    page.select_option("#action", "analysis.create")
    page.click("#audit-filter-submit")
    expect(page.locator("#audit-log tr[data-testid=audit-row]")).to_have_count(4)
    page.log.check("on the audit log")
    sign_out(page)


def test_sign_in_refuses_wrong_passwords_and_forged_forms(page, live_server):
    page.goto("/login")
    page.fill("#email", ADMIN.email)
    page.fill("#password", "not the password at all")
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/login")) as info:
        page.click("#login-submit")
    assert info.value.headers.get("x-ratelimit-limit"), "sign-in is not rate limited"  # the limits are on
    expect(page.locator("[data-testid=flash-error]")).to_have_text("The email address or the password is not right.")
    expect(page.locator("#login-form")).to_be_visible()

    # CSRF protection is on: a form whose token was tampered with is refused, and nobody is signed in.
    page.fill("#email", ADMIN.email)
    page.fill("#password", PASSWORD)
    page.locator("#login-form input[name=csrf_token]").evaluate("el => el.value = 'forged'")
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/login")) as info:
        page.click("#login-submit")
    assert info.value.status == 400
    page.log.allow(r"Failed to load resource: .* 400")
    expect(page.locator("[data-testid=error-page]")).to_have_attribute("data-status", "400")
    expect(page.locator("#error-title")).to_have_text("Form expired")
    page.goto("/patients")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    expect(page.locator("[data-testid=flash-info]")).to_have_text("Please sign in to see this page.")
    page.log.check()
