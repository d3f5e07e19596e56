"""Bad input gets a 4xx with a clear message, never a server error (issue 8, item 5): huge ids in any
URL, a nameless multipart part, deep JSON and huge numbers in beat files, lead '²', odd file names,
NUL bytes in a recording's lead names, url_for's own arguments in a paginated page's query, binary
files uploaded as recordings. On SQLite, and on PostgreSQL where the two differ (the
``database_url`` fixture of conftest.py: a schema of its own per test)."""
from __future__ import annotations

import re

import pytest
from heartbeats import synthetic_ecg
from webtools import (
    BASE_CONFIG,
    PASSWORD,
    add_analysis,
    add_patient,
    add_user,
    login,
    row_counts,
    upload,
    upload_recording,
)

FS = 250.0
HUGE = "99999999999999999999999"


@pytest.fixture(scope="module")
def ecg_csv() -> bytes:
    x, _ = synthetic_ecg("N" * 20, FS)
    return ("time,II\n" + "".join(f"{i / FS:.4f},{v:.5f}\n" for i, v in enumerate(x))).encode()


@pytest.fixture
def site(database_url, tmp_path, model_path):
    """An app on SQLite or PostgreSQL with a doctor signed in, a patient and a beats analysis."""
    from ecgad.web import create_app
    from ecgad.web.extensions import db

    app = create_app({**BASE_CONFIG, "INSTANCE_PATH": str(tmp_path / "instance"), "MODEL_PATH": str(model_path),
                      "SQLALCHEMY_DATABASE_URI": database_url})
    try:
        doctor = add_user(app, "doctor@example.org", "doctor")
        patient = add_patient(app, doctor.id)
        analysis = add_analysis(app, patient, doctor.id)
        client = app.test_client()
        assert login(client, "doctor@example.org").status_code == 302
        yield app, client, patient, analysis
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def error_text(response) -> str:
    match = re.search(r'data-testid="(?:recording|upload)-error">(.*?)</div>', response.text, re.S)
    assert match, response.text[:2000]
    return match.group(1)


def test_huge_ids_in_any_url_are_not_found(site) -> None:
    """Above 2^31 - 1 (PostgreSQL's integer), or above 2^63 (SQLite's): 404, by the app-wide int converter."""
    app, client, patient, analysis = site
    gets = [f"/patients/{HUGE}", "/patients/2147483648", f"/patients/{HUGE}/edit", f"/analyses/{HUGE}",
            f"/analyses/{HUGE}/timeline.json?start=0&end=1", f"/analyses/{analysis}/beats/{HUGE}.json",
            f"/analyses/{analysis}/beats/2147483648.json", f"/analyses/{analysis}?beat={HUGE}",
            f"/analyses/{analysis}?beat=2147483648", f"/admin/users/{HUGE}/edit"]
    for url in gets:
        assert client.get(url).status_code == 404, url
    for url in (f"/patients/{HUGE}/delete", f"/patients/{HUGE}/analyses", f"/patients/{HUGE}/recordings",
                f"/analyses/{HUGE}/delete"):
        assert client.post(url).status_code == 404, url
    assert client.get(f"/patients/{patient}").status_code == 200  # ordinary ids still work


@pytest.mark.parametrize("path", ["/login", "recordings", "analyses", "/patients/new"])
def test_nameless_multipart_part_is_a_bad_request(make_app, users, world, path: str) -> None:
    """``Content-Disposition: ;;;`` gives a part without a name, which Flask-WTF's CSRF check tripped on."""
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/login").text).group(1)
    if path != "/login":
        response = client.post("/login", data={"email": users["doctor"].email, "password": PASSWORD,
                                               "csrf_token": token})
        assert response.status_code == 302
        path = path if path.startswith("/") else f"/patients/{world.p}/{path}"
    body = (b'--B\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n' + token.encode()
            + b"\r\n--B\r\nContent-Disposition: ;;;\r\n\r\nx\r\n--B--\r\n")
    response = client.post(path, data=body, content_type="multipart/form-data; boundary=B")
    assert response.status_code == 400
    assert "Bad request" in response.text


@pytest.mark.parametrize("data, filename, message", [
    (b"[" * 5000 + b"]" * 5000, "deep.json", "deep.json: JSON nested too deeply"),
    (b"[[1, 2, " + b"7" * 5000 + b"]]", "big.json", "big.json line 1, column 9: &#39;" + "7" * 40 + "…&#39; is not a "
                                                     "finite number"),
])
def test_deep_json_and_huge_integers_in_beat_files(app, client_for, world, data, filename, message) -> None:
    client = client_for("doctor")
    before = row_counts(app)
    response = upload(client, world.p, data, filename)
    assert response.status_code == 400
    assert message in error_text(response) and "Nothing was stored" in error_text(response)
    assert row_counts(app) == before


def test_lead_superscript_two_is_an_unknown_lead(app, client_for, world, ecg_csv) -> None:
    response = upload_recording(client_for("doctor"), world.p, [(ecg_csv, "holter.csv")], lead="²")
    assert response.status_code == 400
    assert "holter.csv: no lead &#39;²&#39;; available: &#39;II&#39;" in error_text(response)


def test_upload_named_dot_dot(app, client_for, world, ecg_csv, tmp_path) -> None:
    """'..' was saved as the upload folder's parent (a server error); it is a name like any other now."""
    import wfdb

    client = client_for("doctor")
    x, _ = synthetic_ecg("N" * 20, FS)
    wfdb.wrsamp("rec", fs=FS, units=["mV"], sig_name=["II"], p_signal=x[:, None], fmt=["16"], write_dir=str(tmp_path))
    files = [((tmp_path / "rec.hea").read_bytes(), "rec.hea"), ((tmp_path / "rec.dat").read_bytes(), "rec.dat"),
             (b"x", "..")]
    response = upload_recording(client, world.p, files)
    assert response.status_code == 400
    assert "not named by rec.hea as a signal file" in error_text(response)
    response = upload_recording(client, world.p, [(ecg_csv, "..")])
    assert response.status_code == 400 and "files without an extension are not accepted" in error_text(response)
    assert upload(client, world.p, b"1,2,3\n", "..").status_code == 400


def test_upload_with_a_250_character_name(app, client_for, world, ecg_csv) -> None:
    """250 characters of 'é' are 500 bytes, more than a file name may take on disk: the end is kept."""
    from ecgad.web.extensions import db
    from ecgad.web.models import Analysis

    name = "é" * 246 + ".csv"
    response = upload_recording(client_for("doctor"), world.p, [(ecg_csv, name)])
    assert response.status_code == 302, response.text[:2000]
    with app.app_context():
        stored = db.session.get(Analysis, int(response.location.rsplit("/", 1)[1])).filename
    assert stored.endswith("éé.csv") and len(stored.encode()) <= 255


def test_nul_in_a_csv_header_or_lead_name(site, tmp_path) -> None:
    """A NUL byte cannot be stored in PostgreSQL text: a CSV with one is not text; a WFDB lead name
    loses its control characters."""
    import wfdb

    from ecgad.web.extensions import db
    from ecgad.web.models import Analysis

    app, client, patient, _ = site
    x, _ = synthetic_ecg("N" * 20, FS)
    data = ("time,I\x00I\n" + "".join(f"{i / FS:.4f},{v:.5f}\n" for i, v in enumerate(x))).encode()
    before = row_counts(app)
    response = upload_recording(client, patient, [(data, "nul.csv")])
    assert response.status_code == 400
    assert "nul.csv: not a text file (it holds NUL bytes)" in error_text(response)
    assert row_counts(app) == before

    wfdb.wrsamp("rec", fs=FS, units=["mV"], sig_name=["II"], p_signal=x[:, None], fmt=["16"], write_dir=str(tmp_path))
    header = (tmp_path / "rec.hea").read_text().replace(" II\n", " I\x01I\n").encode()
    dat = (tmp_path / "rec.dat").read_bytes()
    response = upload_recording(client, patient, [(header, "rec.hea"), (dat, "rec.dat")])
    assert response.status_code == 302, response.text[:2000]
    with app.app_context():
        assert db.session.get(Analysis, int(response.location.rsplit("/", 1)[1])).recording.lead == "II"


@pytest.mark.parametrize("query", ["_method=POST", "_external=1", "_anchor=x", "_scheme=javascript",
                                   "analysis_id=abc", "patient_id=abc"])
def test_url_for_arguments_in_a_paginated_page_query(app, client_for, world, query) -> None:
    """The pagination links repeat the page's query; ``_method`` and its kin are url_for's own arguments
    (``?_method=POST`` was a server error), and a route's own arguments must not be replaced."""
    from webtools import normal_beats

    app.config["PATIENTS_PER_PAGE"] = 1
    app.config["BEATS_PER_PAGE"] = 2
    add_patient(app, world.users["doctor"].id, name="Bea Second", identifier="MRN-002")
    analysis = add_analysis(app, world.p, world.users["doctor"].id, beats=list(normal_beats()[:5]))
    client = client_for("doctor")
    for url, own in (("/patients", None), (f"/analyses/{analysis}", "analysis_id")):
        response = client.get(f"{url}?{query}")
        assert response.status_code == 200, (url, response.status_code)
        link = re.search(r'id="page-next" href="([^"]+)"', response.text).group(1).replace("&amp;", "&")
        keys = [part.split("=")[0] for part in link.split("?", 1)[1].split("&")]
        assert link.startswith(f"{url}?") and "page" in keys and not any(k.startswith("_") for k in keys), link
        assert own not in keys


def test_binary_recording_message_is_printable_and_short(app, client_for, world) -> None:
    response = upload_recording(client_for("doctor"), world.p, [(bytes(range(256)) * 40, "scan.csv")])
    assert response.status_code == 400
    message = error_text(response)
    assert message.startswith("scan.csv: not a text file")
    assert all(ch.isprintable() for ch in message) and len(message) < 300
