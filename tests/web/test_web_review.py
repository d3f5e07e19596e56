"""The clinician's review of a recording on the web and in the API: beat families stored with the
recording, relabelling a family or a beat (kept beside the model's class), the Holter summary and the
PDF with the reviewed labels, the interpretation, sign and unlock, who may do what, the audit log.
The migration that added it (0007): test_web_database.py; the browser: tests/browser/test_browser_review.py.

The recording is the synthetic one of test_web_recordings.py: normal beats (N), premature beats (A),
wide beats (W, V). "Labels changed" counts beats whose reviewed label differs from the model's class."""
from __future__ import annotations

import io
import re

import numpy as np
import pytest
from apitools import assert_problem, auth, make_token
from heartbeats import synthetic_ecg
from webtools import audit_actions, csrf_token, upload_recording

FS = 250.0
KINDS = ("N" * 12 + "V" + "N" * 10 + "A" + "N" * 9 + "W") * 3  # 102 beats


@pytest.fixture(scope="module")
def csv() -> bytes:
    x, _ = synthetic_ecg(KINDS, FS)
    return ("time,II\n" + "".join(f"{i / FS:.4f},{v:.5f}\n" for i, v in enumerate(x))).encode()


@pytest.fixture
def rec(app, world, client_for, csv):
    """The doctor's recording of patient p: (analysis id, the doctor's client)."""
    client = client_for("doctor")
    response = upload_recording(client, world.p, [(csv, "holter.csv")])
    assert response.status_code == 302, response.text[:500]
    return int(response.location.rsplit("/", 1)[1]), client


def _beats(app, analysis_id):
    from sqlalchemy import select

    from ecgad.web.extensions import db
    from ecgad.web.models import RecordingBeat

    with app.app_context():
        return db.session.execute(select(RecordingBeat.position, RecordingBeat.family, RecordingBeat.beat_class,
                                         RecordingBeat.reviewed_label, RecordingBeat.sample)
                                  .where(RecordingBeat.analysis_id == analysis_id)
                                  .order_by(RecordingBeat.position)).all()


def _post(client, path, page_path, **form):
    token = csrf_token(client.get(page_path).text)
    return client.post(path, data={"csrf_token": token, **form})


def _holter(app, analysis_id):
    """The summary the page, the API and the PDF show (analyses/holter.holter_for)."""
    from ecgad.web.analyses.holter import holter_for
    from ecgad.web.extensions import db
    from ecgad.web.models import Analysis

    with app.app_context():
        return holter_for(db.session.get(Analysis, analysis_id))


# ------------------------------------------------------------------ families stored


def test_families_stored_with_the_recording(app, rec):
    """Every beat has a family; the families' counts add up; each example is a beat of its family; the
    synthetic recording's normal beats and its wide beats fall in different families."""
    from ecgad.web.extensions import db
    from ecgad.web.models import Recording

    analysis_id, client = rec
    beats = _beats(app, analysis_id)
    with app.app_context():
        stored = db.session.get(Recording, analysis_id).families
    family = np.array([b.family for b in beats])
    assert (family >= 0).all() and (family > 0).sum() == sum(f["count"] for f in stored["families"])
    for f in stored["families"]:
        assert (family == f["id"]).sum() == f["count"]
        assert all(family[n - 1] == f["id"] for n in f["examples"])
        assert len(f["mean_mv"]) > 100  # 0.7 s of beat at 250 Hz
    # the largest family's mean beat is a normal beat's: its R peak stands out at the window's R position
    largest = np.array(stored["families"][0]["mean_mv"], dtype=float)
    r = int(round(-stored["mean_start_s"] * stored["fs"]))
    assert np.nanargmax(largest) in range(r - 5, r + 6)
    # wide beats (every 12th-or-so beat of KINDS) are not in the normal beats' family
    sample = np.array([b.sample for b in beats])
    x, peaks = synthetic_ecg(KINDS, FS)
    kinds = np.array(list(KINDS))
    nearest = np.abs(sample[:, None] - peaks[None, :]).argmin(axis=1)
    wide = np.isin(kinds[nearest], ["V", "W"])
    assert wide.any() and not set(family[wide]) & set(family[~wide])
    page = client.get(f"/analyses/{analysis_id}")
    assert page.text.count('data-testid="family-row"') == min(len(stored["families"]), 12)
    assert 'data-testid="family-mean"' in page.text and "<svg" in page.text


# ------------------------------------------------------------------ relabel on the web


def test_relabel_family_as_artefact_changes_the_summary(app, world, rec):
    """A family relabelled X (artefact) on the page: its beats get the reviewed label, the model's
    class stays, the summary leaves them out and says so, the PDF too; audited."""
    analysis_id, client = rec
    page_path = f"/analyses/{analysis_id}"
    before = _holter(app, analysis_id)
    beats = _beats(app, analysis_id)
    target = max({b.family for b in beats} - {0})  # a small family
    n = sum(b.family == target for b in beats)
    response = _post(client, f"/analyses/{analysis_id}/families/{target}/label", page_path, label="X")
    assert response.status_code == 303
    after = _beats(app, analysis_id)
    assert [b.reviewed_label for b in after] == ["X" if b.family == target else None for b in beats]
    assert [b.beat_class for b in after] == [b.beat_class for b in beats]  # the model's, untouched
    holter = _holter(app, analysis_id)
    assert holter["beats"] == before["beats"] - n
    assert holter["review"] == {"changed": n, "artefacts": n, "reviewed": n}
    page = client.get(page_path).text
    assert re.search(rf'data-testid="holter-beats">{before["beats"] - n}<', page)
    assert f"Reviewed: {n} label" in page and f"{n} artefact beat" in page
    assert f'data-family="{target}" data-label="X"' in page
    pdf = client.get(f"/analyses/{analysis_id}/report.pdf")
    assert pdf.status_code == 200 and f"Reviewed: {n} label" in _pdf_text(pdf.data)
    assert audit_actions(app).count("analysis.relabel") == 1
    # back to the model's class: the stored summary stands again
    assert _post(client, f"/analyses/{analysis_id}/families/{target}/label", page_path,
                 label="model").status_code == 303
    assert all(b.reviewed_label is None for b in _beats(app, analysis_id))
    assert _holter(app, analysis_id) == before


def test_reviewed_classes_feed_the_summary(app, rec):
    """Once every beat has a reviewed label the summary counts classes: all N, then one family V."""
    analysis_id, client = rec
    page_path = f"/analyses/{analysis_id}"
    beats = _beats(app, analysis_id)
    families = sorted({b.family for b in beats} - {0})
    for f in families:
        assert _post(client, f"/analyses/{analysis_id}/families/{f}/label", page_path, label="N").status_code == 303
    for b in beats:
        if b.family == 0:
            assert _post(client, f"/analyses/{analysis_id}/beats/{b.position + 1}/label", page_path,
                         label="N").status_code == 303
    holter = _holter(app, analysis_id)
    assert holter["classes"]["N"] == len(beats) and holter["classes"]["V"] == 0
    v_family = families[-1]
    assert _post(client, f"/analyses/{analysis_id}/families/{v_family}/label", page_path, label="V").status_code == 303
    n_v = sum(b.family == v_family for b in beats)
    holter = _holter(app, analysis_id)
    assert holter["classes"]["V"] == n_v and holter["ventricular"]["beats"] == n_v
    # one beat back to V from N: one more
    one = next(b for b in beats if b.family != v_family)
    assert _post(client, f"/analyses/{analysis_id}/beats/{one.position + 1}/label", page_path,
                 label="V").status_code == 303
    assert _holter(app, analysis_id)["classes"]["V"] == n_v + 1


def test_bad_or_forged_changes_store_nothing(app, world, rec, client_for):
    """An unknown label: 422; an unknown family or beat: 404; another doctor: 404; an admin: 403.
    Nothing changes, nothing is audited."""
    analysis_id, client = rec
    page_path = f"/analyses/{analysis_id}"
    path = f"/analyses/{analysis_id}/families/1/label"
    assert _post(client, path, page_path, label="Z").status_code == 422
    assert _post(client, f"/analyses/{analysis_id}/families/999/label", page_path, label="V").status_code == 404
    assert _post(client, f"/analyses/{analysis_id}/beats/9999/label", page_path, label="V").status_code == 404
    assert _post(client, f"/analyses/{analysis_id}/interpretation", page_path,
                 text="x" * 20_001).status_code == 422
    other, admin = client_for("other"), client_for("admin")
    assert other.get(page_path).status_code == 404
    token = csrf_token(other.get(f"/patients/{world.q}").text)
    for path_ in (path, f"/analyses/{analysis_id}/sign", f"/analyses/{analysis_id}/interpretation"):
        assert other.post(path_, data={"csrf_token": token, "label": "V", "text": "t"}).status_code == 404
        assert _post(admin, path_, page_path, label="V", text="t").status_code == 403
    assert all(b.reviewed_label is None for b in _beats(app, analysis_id))
    assert not {"analysis.relabel", "analysis.sign", "analysis.interpretation"} & set(audit_actions(app))


def test_review_forms_need_the_csrf_token(make_app, csv):
    """With CSRF protection on (as served): a review form without its token is refused (400), with it
    accepted."""
    from webtools import PASSWORD, add_patient, add_user

    app = make_app(WTF_CSRF_ENABLED=True)
    doctor = add_user(app, "doctor@example.org", "doctor")
    patient = add_patient(app, doctor.id)
    created = app.test_client().post(f"/api/v1/patients/{patient}/analyses", headers=auth(make_token(app, doctor.id)),
                                     data={"files": [(io.BytesIO(csv), "holter.csv")]},
                                     content_type="multipart/form-data")
    assert created.status_code == 201, created.text
    analysis_id = created.json["id"]
    client = app.test_client()
    client.post("/login", data={"email": "doctor@example.org", "password": PASSWORD,
                                "csrf_token": csrf_token(client.get("/login").text)})
    for path, form in ((f"/analyses/{analysis_id}/families/1/label", {"label": "V"}),
                       (f"/analyses/{analysis_id}/beats/1/label", {"label": "V"}),
                       (f"/analyses/{analysis_id}/interpretation", {"text": "t"}),
                       (f"/analyses/{analysis_id}/sign", {}), (f"/analyses/{analysis_id}/unlock", {})):
        assert client.post(path, data=form).status_code == 400, path
    assert "analysis.relabel" not in audit_actions(app)
    assert _post(client, f"/analyses/{analysis_id}/families/1/label", f"/analyses/{analysis_id}",
                 label="V").status_code == 303
    assert "analysis.relabel" in audit_actions(app)


# ------------------------------------------------------------------ interpretation and signature


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_sign_locks_until_unlocked(app, rec):
    """Interpretation saved, signed (who and when): labels and text locked (409, forms disabled), the
    PDF shows interpretation and signature; unlock (recorded) opens them again. All audited in order."""
    from ecgad.web.extensions import db
    from ecgad.web.models import Analysis

    analysis_id, client = rec
    page_path = f"/analyses/{analysis_id}"
    text = "Sinus rhythm.\nIsolated wide beats, see family 2."
    assert _post(client, f"/analyses/{analysis_id}/interpretation", page_path, text=text).status_code == 303
    assert _post(client, f"/analyses/{analysis_id}/sign", page_path).status_code == 303
    with app.app_context():
        analysis = db.session.get(Analysis, analysis_id)
        assert analysis.interpretation == text and analysis.signed_by_name == "Dr Dora (doctor@example.org)"
        assert analysis.signed_at is not None
    page = client.get(page_path).text
    assert 'data-testid="signed-line"' in page and "Reviewed and signed by Dr Dora" in page
    assert re.search(r'<textarea[^>]*id="interpretation-text"[^>]*disabled', page)
    assert re.search(r'<select name="label" id="family-label-1"[^>]*disabled', page)
    for path, form in ((f"/analyses/{analysis_id}/families/1/label", {"label": "V"}),
                       (f"/analyses/{analysis_id}/beats/1/label", {"label": "V"}),
                       (f"/analyses/{analysis_id}/interpretation", {"text": "changed"}),
                       (f"/analyses/{analysis_id}/sign", {})):
        response = _post(client, path, page_path, **form)
        assert response.status_code == 409 and "unlock it first" in response.text
    assert all(b.reviewed_label is None for b in _beats(app, analysis_id))
    pdf = _pdf_text(client.get(f"/analyses/{analysis_id}/report.pdf").data)
    assert "Sinus rhythm." in pdf and "Isolated wide beats" in pdf
    assert "Reviewed and signed by Dr Dora (doctor@example.org) on" in pdf.replace("\n", " ")
    assert _post(client, f"/analyses/{analysis_id}/unlock", page_path, reason="late lab result").status_code == 303
    assert _post(client, f"/analyses/{analysis_id}/families/1/label", page_path, label="N").status_code == 303
    assert _post(client, f"/analyses/{analysis_id}/unlock", page_path).status_code == 409  # not signed
    actions = [a for a in audit_actions(app) if a.startswith("analysis.") and a not in
               ("analysis.create", "analysis.view", "analysis.beats_view")]
    assert actions == ["analysis.interpretation", "analysis.sign", "analysis.unlock",
                       "analysis.relabel"]
    from sqlalchemy import select

    from ecgad.web.models import AuditEvent

    with app.app_context():
        detail = db.session.scalar(select(AuditEvent.detail).where(AuditEvent.action == "analysis.unlock"))
    assert "signed_by=Dr Dora" in detail and "reason=late lab result" in detail


# ------------------------------------------------------------------ API


@pytest.fixture
def tokens(app, world):
    return {role: make_token(app, world.users[role].id, role) for role in ("doctor", "other", "admin")}


def test_api_review(app, world, rec, tokens):
    """Families and beats with family, class and reviewed label; a family and a beat relabelled; the
    interpretation; sign, then 409 on every change; unlock; problem+json for bad input."""
    analysis_id, _ = rec
    client = app.test_client()
    h = auth(tokens["doctor"])
    fams = client.get(f"/api/v1/analyses/{analysis_id}/families", headers=h)
    assert fams.status_code == 200
    items = fams.json["items"]
    assert items and {"id", "count", "label", "mean_mv", "examples", "machine_class"} <= set(items[0])
    total = fams.json["unassigned"] + sum(f["count"] for f in items)
    beats = client.get(f"/api/v1/analyses/{analysis_id}/beats?per_page=40&page=2", headers=h)
    assert beats.status_code == 200 and beats.json["total"] == total and len(beats.json["items"]) == 40
    first = beats.json["items"][0]
    assert first["beat"] == 41 and {"family", "class", "reviewed_label"} <= set(first)
    fam = items[-1]
    put = client.put(f"/api/v1/analyses/{analysis_id}/families/{fam['id']}/label", json={"label": "V"}, headers=h)
    assert put.status_code == 200 and put.json == {"family": fam["id"], "label": "V", "beats": fam["count"]}
    put = client.put(f"/api/v1/analyses/{analysis_id}/beats/1/label", json={"label": "artefact"}, headers=h)
    assert put.status_code == 200 and put.json["reviewed_label"] == "X" and put.json["beat"] == 1
    listed = {f["id"]: f for f in client.get(f"/api/v1/analyses/{analysis_id}/families", headers=h).json["items"]}
    assert listed[fam["id"]]["label"] == "V"
    assert listed[1]["label"] == "mixed" if listed[1]["count"] > 1 else True
    assert_problem(client.put(f"/api/v1/analyses/{analysis_id}/beats/1/label", json={"label": "Z"}, headers=h), 422)
    assert_problem(client.put(f"/api/v1/analyses/{analysis_id}/beats/1/label", json={}, headers=h), 422)
    assert_problem(client.put(f"/api/v1/analyses/{analysis_id}/families/999/label", json={"label": "N"},
                              headers=h), 404)
    text = client.put(f"/api/v1/analyses/{analysis_id}/interpretation", json={"text": "Sinus."}, headers=h)
    changed = sum(b.reviewed_label is not None and b.reviewed_label != b.beat_class for b in _beats(app, analysis_id))
    assert changed >= 1  # beat 1 as artefact, at least
    assert text.status_code == 200 and text.json["interpretation"] == "Sinus."
    assert text.json["labels_changed"] == changed
    signed = client.post(f"/api/v1/analyses/{analysis_id}/sign", headers=h)
    assert signed.status_code == 200 and signed.json["signed"] and signed.json["signed_by"].startswith("Dr Dora")
    for method, path, body in (("PUT", f"families/{fam['id']}/label", {"label": "N"}),
                               ("PUT", "beats/1/label", {"label": "N"}),
                               ("PUT", "interpretation", {"text": "other"}), ("POST", "sign", None)):
        assert_problem(client.open(f"/api/v1/analyses/{analysis_id}/{path}", method=method, json=body, headers=h),
                       409)
    assert client.get(f"/api/v1/analyses/{analysis_id}/review", headers=h).json["interpretation"] == "Sinus."
    unlocked = client.post(f"/api/v1/analyses/{analysis_id}/unlock", json={"reason": "typo"}, headers=h)
    assert unlocked.status_code == 200 and not unlocked.json["signed"]
    assert_problem(client.post(f"/api/v1/analyses/{analysis_id}/unlock", headers=h), 409)
