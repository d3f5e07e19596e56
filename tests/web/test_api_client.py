"""ecgad.client against the real app served over real HTTP (werkzeug in a thread, SQLite in tmp):
every method, recordings uploaded from files on disk (CSV, EDF, WFDB with annotations), and every
kind of error turned into its exception with the problem's detail. ``import ecgad.client`` needs
neither torch nor Flask."""
from __future__ import annotations

import socket
import subprocess
import sys
from datetime import date

import numpy as np
import pytest
from apitools import make_token
from heartbeats import synthetic_ecg
from servers import served
from webtools import normal_beats, row_counts

from ecgad.client import (
    ApiError,
    Client,
    Conflict,
    ConnectionFailed,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    Unauthorized,
    ValidationFailed,
)

FS = 250.0
KINDS = "N" * 12 + "V" + "N" * 10 + "A" + "N" * 9  # 34 beats, about 28 s


@pytest.fixture
def live(app, world):
    """Clients of the served app: as the doctor, the other doctor and the admin, and with no token."""
    with served(app) as url:
        yield {role: Client(url, make_token(app, world.users[role].id)) for role in ("doctor", "other", "admin")} \
            | {"anonymous": Client(url, None), "url": url}


def test_import_needs_neither_torch_nor_flask():
    code = ("import sys, ecgad.client; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'flask', 'numpy', 'werkzeug')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_health_model_and_score(app, live):
    assert live["anonymous"].health() == {"status": "ok", "database": "ok", "models": {"beat": "ok",
                                                                                        "recording": "ok"}}
    models = live["doctor"].model()
    assert models["beat"]["id"] and models["recording"]["id"] and models["beat"]["threshold"] > 0
    before = row_counts(app)
    beats = normal_beats()[:4]  # a numpy array: the client makes lists of it
    scored = live["doctor"].score(beats, detail=True)
    assert [b["beat"] for b in scored["beats"]] == [1, 2, 3, 4]
    assert len(scored["beats"][0]["reconstruction"]) == scored["model"]["length"]
    from ecgad.web.detection import get_detector

    with app.app_context():
        expected = [v.score for v in get_detector().predict(list(beats))]
    assert [b["score"] for b in scored["beats"]] == pytest.approx(expected)
    assert "reconstruction" not in live["doctor"].score(beats.tolist())["beats"][0]
    assert {k: v for k, v in row_counts(app).items() if k != "audit_events"} == \
        {k: v for k, v in before.items() if k != "audit_events"}


def test_patients_lifecycle(live, world):
    api = live["doctor"]
    made = api.create_patient("Bea Client", "MRN-CL-1", birth_date=date(1970, 5, 6), sex="female", notes="n")
    assert made["id"] > 0 and made["birth_date"] == "1970-05-06" and made["sex"] == "female"
    assert api.get_patient(made["id"]) == made
    found = api.list_patients("bea")
    assert [p["id"] for p in found["items"]] == [made["id"]] and found["total"] == 1
    everyone = api.list_patients(per_page=1)
    assert everyone["total"] == 2 and everyone["pages"] == 2 and len(everyone["items"]) == 1
    changed = api.update_patient(made["id"], notes="changed", birth_date="1971-01-02")
    assert changed["notes"] == "changed" and changed["birth_date"] == "1971-01-02" and changed["name"] == "Bea Client"
    assert live["admin"].get_patient(made["id"])["id"] == made["id"]  # an admin sees every patient
    with pytest.raises(NotFound) as other:
        live["other"].get_patient(made["id"])  # another doctor's patient
    assert other.value.status == 404 and other.value.title == "Not Found" and other.value.detail
    assert api.delete_patient(made["id"]) is None
    with pytest.raises(NotFound):
        api.get_patient(made["id"])


def test_errors_carry_the_problem(live, world):
    api = live["doctor"]
    with pytest.raises(Conflict) as taken:
        api.create_patient("Twin", "MRN-001")  # the doctor's patient p has it
    assert taken.value.status == 409 and "medical record number" in taken.value.detail
    with pytest.raises(ValidationFailed) as invalid:
        api.create_patient("Future", "MRN-F", birth_date="2999-01-01", sex="dragon")
    assert invalid.value.status == 422 and set(invalid.value.errors) >= {"sex"}
    assert invalid.value.body["type"] == invalid.value.type == "about:blank"
    with pytest.raises(ValidationFailed) as short:
        api.score([[1.0] * 15])
    assert "15 samples" in str(short.value.errors)
    with pytest.raises(Forbidden) as admin:
        live["admin"].create_patient("Ann", "MRN-A")
    assert admin.value.status == 403 and "doctors" in admin.value.detail.lower()
    for client in (live["anonymous"], Client(live["url"], "ecgad_not-a-real-token")):
        with pytest.raises(Unauthorized) as refused:
            client.model()
        assert refused.value.status == 401 and refused.value.detail
        assert refused.value.headers.get("WWW-Authenticate", "").startswith("Bearer")
    with pytest.raises(NotFound):
        api.get_analysis(10**9)
    with pytest.raises(ApiError) as base:
        api.delete_patient(10**9)
    assert isinstance(base.value, NotFound) and str(base.value).startswith("404 Not Found: ")
    with pytest.raises(ValueError, match="either beats or files"):
        api.create_analysis(world.p)


def test_rate_limit_and_body_limit(make_app, world):
    from webtools import add_patient, add_user

    app = make_app(API_RATE_LIMIT="3 per minute", MAX_CONTENT_LENGTH=64 * 1024)
    user = add_user(app, "dr@example.org", "doctor")
    patient = add_patient(app, user.id)
    with served(app) as url:
        api = Client(url, make_token(app, user.id))
        with pytest.raises(PayloadTooLarge) as large:
            api.create_analysis(patient, [[0.5, 1.0] * 2000] * 10)  # about 200 kB of JSON
        assert large.value.status == 413 and "Nothing was stored" in large.value.detail
        for _ in range(3):
            api.model()
        with pytest.raises(RateLimited) as limited:
            api.model()
        assert limited.value.status == 429 and 0 < limited.value.retry_after <= 60


def test_connection_failure_is_not_an_api_error():
    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ConnectionFailed):
        Client(f"http://127.0.0.1:{port}", "t", timeout=5).health()
    with pytest.raises(ValueError, match="http"):
        Client("ftp://example.org", "t")


def test_beat_analyses(live, world):
    api = live["doctor"]
    beats = normal_beats()[:6]
    made = api.create_analysis(world.p, beats, filename="gateway.json")
    assert made["kind"] == "beats" and made["filename"] == "gateway.json" and made["summary"]["n_beats"] == 6
    listed = api.list_analyses(world.p)
    assert [a["id"] for a in listed["items"]][:1] == [made["id"]] and listed["total"] == 2  # world's one too
    shown = api.get_analysis(made["id"])
    assert [b["beat"] for b in shown["beats"]] == list(range(1, 7)) and shown["beats_page"] is None
    with pytest.raises(NotFound):
        live["other"].get_analysis(made["id"])
    with pytest.raises(NotFound):
        api.timeline(made["id"], 0, 1)  # beat analyses have no signal
    with pytest.raises(ValidationFailed) as bad:
        api.create_analysis(world.p, [list(beats[0]), [1.0] * 20])  # a constant beat
    assert "beat 2" in bad.value.detail and "Nothing was stored" in bad.value.detail
    assert api.list_analyses(world.p)["total"] == 2
    assert api.delete_analysis(made["id"]) is None
    with pytest.raises(NotFound):
        api.get_analysis(made["id"])


def _write_wfdb(folder, x, peaks, symbols):
    import wfdb

    folder.mkdir()
    wfdb.wrsamp("rec", fs=FS, units=["mV"], sig_name=["MLII"], p_signal=x[:, None], fmt=["16"],
                write_dir=str(folder))
    wfdb.wrann("rec", "atr", peaks, symbol=symbols, write_dir=str(folder))
    return [folder / "rec.hea", folder / "rec.dat", folder / "rec.atr"]


def _write_edf(path, x):
    from pyedflib import highlevel

    n = x.size // int(FS) * int(FS)  # whole one-second data records
    headers = [highlevel.make_signal_header(name, dimension="mV", sample_frequency=FS, physical_min=-5,
                                            physical_max=5) for name in ("V1", "II")]
    highlevel.write_edf(str(path), [x[:n] * 0.3, x[:n]], headers)
    return path


def test_recordings_from_files(live, world, tmp_path):
    api = live["doctor"]
    x, peaks = synthetic_ecg(KINDS, FS)
    csv = tmp_path / "holter.csv"
    csv.write_text("II\n" + "".join(f"{v:.5f}\n" for v in x))
    made = api.create_analysis(world.p, files=[csv], fs=FS, lead="II")
    assert made["kind"] == "recording" and made["filename"] == "holter.csv"
    s = made["summary"]
    assert s["format"] == "csv" and s["fs"] == FS and s["lead"] == "II" and abs(s["n_beats"] - len(KINDS)) <= 1
    first, second = (api.get_analysis(made["id"], page=p, per_page=20) for p in (1, 2))
    assert first["beats_page"] == {"page": 1, "per_page": 20, "total": s["n_beats"], "pages": 2}
    assert [b["beat"] for b in first["beats"] + second["beats"]] == list(range(1, s["n_beats"] + 1))
    window = api.timeline(made["id"], 2, 6)
    assert window["start"] == 2 and window["end"] == 6 and len(window["signal"]["x"]) == 4 * int(FS) + 1
    np.testing.assert_allclose(window["signal"]["y"], x[500:1501], atol=1e-3)

    symbols = ["V" if k == "V" else "A" if k == "A" else "N" for k in KINDS]
    wfdb_made = api.create_analysis(world.p, files=_write_wfdb(tmp_path / "record", x, peaks, symbols))
    ws = wfdb_made["summary"]
    assert ws["format"] == "wfdb" and ws["lead"] == "MLII" and ws["annotated_beats"] == len(KINDS)
    assert ws["sensitivity"] == 1.0
    edf = api.create_analysis(world.p, files=[_write_edf(tmp_path / "holter.edf", x)], lead="II")
    assert edf["summary"]["format"] == "edf" and edf["summary"]["lead"] == "II"
    in_memory = api.create_analysis(world.p, files=[("trace.tsv", csv.read_bytes().replace(b",", b"\t"))], fs=FS)
    assert in_memory["summary"]["n_beats"] == s["n_beats"]

    with pytest.raises(ValidationFailed) as missing:  # the header names a .dat that is not sent
        api.create_analysis(world.p, files=[tmp_path / "record" / "rec.hea"])
    assert "rec.dat" in str(missing.value.body), missing.value.body
    with pytest.raises(FileNotFoundError):
        api.create_analysis(world.p, files=[tmp_path / "absent.csv"])
    assert api.list_analyses(world.p)["total"] == 5  # the world's, and the four above
