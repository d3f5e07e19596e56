"""Patients: list and search, create, edit, delete with confirmation."""
from __future__ import annotations

from webtools import add_patient, audit_actions, row_counts

NEW = {"name": "Grace Hopper", "identifier": "MRN-042", "birth_date": "1906-12-09", "sex": "female",
       "notes": "Follow-up in spring."}


def _patient(app, patient_id):
    from ecgad.web.extensions import db
    from ecgad.web.models import Patient

    with app.app_context():
        return db.session.get(Patient, patient_id)


def test_create_show_edit(app, client_for, users):
    client = client_for("doctor")
    response = client.post("/patients/new", data=NEW)
    assert response.status_code == 302
    patient_id = int(response.location.rsplit("/", 1)[1])
    page = client.get(response.location).text
    assert "Grace Hopper" in page and "MRN-042" in page and "1906-12-09" in page and "Follow-up in spring." in page
    assert 'id="upload-form"' in page and 'id="example-normal"' in page

    edit = client.get(f"/patients/{patient_id}/edit").text
    assert 'value="Grace Hopper"' in edit
    response = client.post(f"/patients/{patient_id}/edit", data={**NEW, "name": "Grace B. Hopper", "notes": ""})
    assert response.status_code == 302
    patient = _patient(app, patient_id)
    assert patient.name == "Grace B. Hopper" and patient.notes == "" and patient.doctor_id == users["doctor"].id
    changes = [a for a in audit_actions(app) if not a.endswith("view")]  # opening the page is audited too
    assert changes[-2:] == ["patient.create", "patient.update"] and "patient.view" in audit_actions(app)


def test_validation_messages(client_for):
    client = client_for("doctor")
    response = client.post("/patients/new", data={"name": " ", "identifier": "", "birth_date": "2999-01-01",
                                                  "sex": "alien"})
    assert response.status_code == 400
    text = response.text
    assert "Enter the patient&#39;s name." in text and "Enter the medical record number." in text
    assert "The birth date is in the future." in text and "Not a valid choice" in text
    response = client.post("/patients/new", data={**NEW, "birth_date": "09/12/1906"})
    assert response.status_code == 400 and "Not a valid date value" in response.text
    response = client.post("/patients/new", data={**NEW, "notes": "x" * 5001})
    assert response.status_code == 400


def test_identifier_unique_per_doctor(app, client_for, users):
    doctor, other = client_for("doctor"), client_for("other")
    assert doctor.post("/patients/new", data=NEW).status_code == 302
    again = doctor.post("/patients/new", data={**NEW, "name": "Someone Else"})
    assert again.status_code == 400 and "already have a patient with this medical record number" in again.text
    assert other.post("/patients/new", data=NEW).status_code == 302  # another doctor may use it
    second = add_patient(app, users["doctor"].id, "Second", "MRN-2")
    clash = doctor.post(f"/patients/{second}/edit", data={**NEW, "name": "Second"})
    assert clash.status_code == 400 and "already have a patient" in clash.text


def test_list_and_search(app, client_for, users):
    for name, mrn in [("Alice Alpha", "A-1"), ("Bob Beta", "B-2"), ("Carol 100%_x", "C-3")]:
        add_patient(app, users["doctor"].id, name, mrn)
    client = client_for("doctor")
    page = client.get("/patients").text
    assert page.count('data-testid="patient-row"') == 3
    assert client.get("/patients?q=alpha").text.count('data-testid="patient-row"') == 1
    assert client.get("/patients?q=b-2").text.count('data-testid="patient-row"') == 1  # record number
    assert client.get("/patients?q=%25_").text.count('data-testid="patient-row"') == 1  # wildcards are literal
    none = client.get("/patients?q=zzz").text
    assert 'data-testid="no-patients"' in none and "No patient matches" in none


def test_list_pagination(app, client_for, users):
    app.config["PATIENTS_PER_PAGE"] = 2
    for i in range(5):
        add_patient(app, users["doctor"].id, f"Patient {i}", f"P-{i}")
    client = client_for("doctor")
    first = client.get("/patients").text
    assert first.count('data-testid="patient-row"') == 2 and "Page 1 of 3" in first and 'id="page-next"' in first
    last = client.get("/patients?page=3").text
    assert last.count('data-testid="patient-row"') == 1 and 'id="page-prev"' in last
    assert client.get("/patients?page=99").status_code == 200
    assert client.get("/patients?page=abc").status_code == 200


def test_delete_needs_confirmation_and_cascades(app, client_for, world):
    client = client_for("doctor")
    before = row_counts(app)
    confirm = client.get(f"/patients/{world.p}/delete")
    assert confirm.status_code == 200 and 'id="confirm-delete"' in confirm.text
    assert "1</strong> analysis" in confirm.text
    assert row_counts(app) == before  # the GET changed nothing
    response = client.post(f"/patients/{world.p}/delete")
    assert response.status_code == 302 and response.location == "/patients"
    after = row_counts(app)
    assert after["patients"] == before["patients"] - 1
    assert after["analyses"] == 0 and after["analysis_beats"] == 0  # cascaded
    assert client.get(f"/patients/{world.p}").status_code == 404
    assert audit_actions(app)[-1] == "patient.delete"


def test_admin_sees_all_but_changes_nothing(app, client_for, world):
    admin = client_for("admin")
    page = admin.get(f"/patients/{world.p}").text
    assert "Ann Example" in page and 'id="upload-form"' not in page and 'id="edit-patient"' not in page
    assert "Dr Dora" in page  # the doctor is shown to admins
    assert admin.post("/patients/new", data=NEW).status_code == 403
