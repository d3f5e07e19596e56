"""Recordings on the web: uploads (CSV, EDF, WFDB; a real MIT-BIH record with ECGAD_DATA_DIR), every
way an upload can fail (storing nothing), the recording page, its timeline windows and beat JSON, who
may see what, deletion, and a missing recording model. On PostgreSQL too, and the migration that
added recordings: test_web_database.py.

The recordings are analysed by the recording model shipped with ecgad (RECORDING_MODEL_PATH unset).
The synthetic signal (tests/heartbeats.py) has normal beats (N), premature beats (A), wide beats on
time (W) and premature wide beats (V); the shipped model flags every A and V and no N of it, and
scores W above every N, though below its threshold: the tests assert no more than that.
"""
from __future__ import annotations

import html
import io
import json
import math
import re
import shutil
import tempfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from heartbeats import synthetic_ecg
from webtools import audit_actions, row_counts, upload_recording

from ecgad.report.figures import ANOMALY_COLOUR, TIME_ORIGIN_MS, to_ms

FS = 250.0
KINDS = ("N" * 12 + "V" + "N" * 10 + "A" + "N" * 9 + "W") * 3  # 102 beats, about 83 s
SYMBOLS = {"N": "N", "A": "A", "V": "V", "W": "L"}  # MIT-BIH symbols; W as a left bundle branch block beat


# ------------------------------------------------------------------ files


@pytest.fixture(scope="module")
def ecg() -> SimpleNamespace:
    x, peaks = synthetic_ecg(KINDS, FS)
    return SimpleNamespace(x=x, peaks=peaks, kinds=np.array(list(KINDS)))


def csv_with_time(x: np.ndarray, fs: float = FS) -> bytes:
    return ("time,II\n" + "".join(f"{i / fs:.4f},{v:.5f}\n" for i, v in enumerate(x))).encode()


def csv_without_time(x: np.ndarray) -> bytes:
    return ("II\n" + "".join(f"{v:.5f}\n" for v in x)).encode()


def write_edf(path: Path, leads: dict[str, np.ndarray], fs: float = FS) -> Path:
    from pyedflib import highlevel

    n = min(len(v) for v in leads.values()) // int(fs) * int(fs)  # whole one-second data records
    headers = [highlevel.make_signal_header(name, dimension="mV", sample_frequency=fs, physical_min=-5,
                                            physical_max=5) for name in leads]
    highlevel.write_edf(str(path), [np.asarray(v[:n], dtype=np.float64) for v in leads.values()], headers)
    return path


def write_wfdb(folder: Path, x: np.ndarray, peaks=None, symbols=None, name: str = "rec", fs: float = FS,
               lead: str = "MLII") -> list[Path]:
    """A one-lead WFDB record (.hea, .dat, and .atr when ``peaks`` are given) in ``folder``."""
    import wfdb

    folder.mkdir(parents=True, exist_ok=True)
    wfdb.wrsamp(name, fs=fs, units=["mV"], sig_name=[lead], p_signal=np.asarray(x, dtype=np.float64)[:, None],
                fmt=["16"], write_dir=str(folder))
    paths = [folder / f"{name}.hea", folder / f"{name}.dat"]
    if peaks is not None:
        wfdb.wrann(name, "atr", np.asarray(peaks), symbol=list(symbols), write_dir=str(folder))
        paths.append(folder / f"{name}.atr")
    return paths


# ------------------------------------------------------------------ reading back


def _analysis_id(response) -> int:
    assert response.status_code == 302, response.text[:2000]
    match = re.fullmatch(r"/analyses/(\d+)", response.location)
    assert match, response.location
    return int(match.group(1))


def stored(app, analysis_id: int) -> SimpleNamespace:
    from sqlalchemy import func, select

    from ecgad.web.extensions import db
    from ecgad.web.models import Analysis, RecordingBeat, RecordingChunk

    with app.app_context():
        analysis = db.session.get(Analysis, analysis_id)
        recording = analysis.recording
        beats = db.session.scalars(select(RecordingBeat).where(RecordingBeat.analysis_id == analysis_id)
                                   .order_by(RecordingBeat.position)).all()
        chunks = db.session.scalar(select(func.count()).select_from(RecordingChunk)
                                   .where(RecordingChunk.analysis_id == analysis_id))
        return SimpleNamespace(
            analysis=analysis, recording=recording, chunks=chunks, samples=recording.samples(),
            sample=np.array([b.sample for b in beats]), score=np.array([b.score for b in beats]),
            is_anomaly=np.array([b.is_anomaly for b in beats], dtype=bool),
            rr_s=np.array([np.nan if b.rr_s is None else b.rr_s for b in beats]),
            annotation=[b.annotation for b in beats])


def text_of(html: str, name: str) -> str:
    """The text of the element with data-testid=name (tags inside stripped, spaces collapsed)."""
    match = re.search(rf'data-testid="{name}"[^>]*>(.*?)</(dd|div|p|strong|small)>', html, re.S)
    assert match, f"no {name} on the page"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def clock(seconds: float) -> str:
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{int(h):02d}:{int(m):02d}:{s:04.1f}"


def check_summary(html: str, s: SimpleNamespace) -> None:
    """The page's summary says what is stored."""
    a, r = s.analysis, s.recording
    assert text_of(html, "summary-beats") == str(a.n_beats)
    assert text_of(html, "summary-anomalies") == f"{a.n_anomalies} ({100 * a.n_anomalies / a.n_beats:.1f}%)"
    assert text_of(html, "summary-heart-rate") == \
        f"{r.mean_hr_bpm:.0f} bpm range {r.low_hr_bpm:.0f}–{r.high_hr_bpm:.0f}"
    assert text_of(html, "summary-duration") == clock(r.n_samples / r.fs)
    assert text_of(html, "recording-lead") == r.lead


@pytest.fixture
def recording(app, client_for, world, ecg) -> int:
    """The doctor's patient p has a recording analysis of the synthetic signal (a CSV with a time column)."""
    return _analysis_id(upload_recording(client_for("doctor"), world.p, [(csv_with_time(ecg.x), "holter.csv")]))


# ------------------------------------------------------------------ uploads that work


@pytest.mark.parametrize("how", ["time column", "sampling rate"])
def test_csv_upload_stores_and_shows_the_recording(app, client_for, world, ecg, how):
    client = client_for("doctor")
    before = row_counts(app)
    if how == "time column":
        response = upload_recording(client, world.p, [(csv_with_time(ecg.x), "holter.csv")])
    else:
        response = upload_recording(client, world.p, [(csv_without_time(ecg.x), "trace.csv")], fs=FS)
    analysis_id = _analysis_id(response)
    s = stored(app, analysis_id)
    a, r = s.analysis, s.recording

    # what is stored
    assert a.kind == "recording" and a.is_recording and a.source == "upload" and not a.has_labels
    assert a.filename == ("holter.csv" if how == "time column" else "trace.csv")
    assert a.created_by_id == world.users["doctor"].id and a.model_id.startswith("recording-")
    assert r.format == "csv" and r.lead == "II" and r.fs == pytest.approx(FS) and r.n_samples == ecg.x.size
    assert r.part_names == ["autoencoder", "template", "rhythm"]
    assert a.n_beats == len(KINDS) == s.sample.size and a.n_anomalies == int(s.is_anomaly.sum())
    assert a.max_score == pytest.approx(s.score.max())
    assert np.abs(s.sample - ecg.peaks).max() <= 0.02 * FS  # every R peak found, where it is
    assert s.chunks == math.ceil(ecg.x.size / (1 << 16))
    np.testing.assert_allclose(s.samples, ecg.x, atol=1e-4)  # the lead as uploaded (5 decimals, float32)
    after = row_counts(app)
    assert after["analyses"] == before["analyses"] + 1 and after["recordings"] == before["recordings"] + 1
    assert after["recording_beats"] == before["recording_beats"] + a.n_beats
    assert after["recording_chunks"] == before["recording_chunks"] + s.chunks
    assert audit_actions(app)[-1] == "analysis.create"

    # what the model made of it: premature (A) and premature wide (V) beats flagged, normal ones not,
    # wide beats on time (W) scored above every normal beat
    kinds = ecg.kinds
    assert s.is_anomaly[kinds == "V"].all() and s.is_anomaly[kinds == "A"].all()
    assert s.is_anomaly[kinds == "N"].mean() <= 0.05
    assert s.score[kinds == "W"].min() > s.score[kinds == "N"].max()
    assert 70 < r.mean_hr_bpm < 80 and r.low_hr_bpm < r.mean_hr_bpm < r.high_hr_bpm  # RR 0.8 s: 75 bpm

    # what the page shows
    page = client.get(response.location)
    assert page.status_code == 200
    html = page.text
    assert f"{a.filename}: {a.n_beats} beats found, {a.n_anomalies} anomalous." in html
    check_summary(html, s)
    assert 'data-testid="annotation-check"' not in html  # no annotations uploaded
    rows = re.findall(r'data-testid="beat-row" data-beat="(\d+)" data-verdict="(\w+)"', html)
    assert [int(n) for n, _ in rows] == [i + 1 for i in np.flatnonzero(s.is_anomaly)]  # anomalous only, in order
    assert {v for _, v in rows} == {"anomalous"}
    assert 'id="delete-analysis"' in html and 'id="timeline-figure-data"' in html
    assert "<script>" not in html  # no inline scripts


def test_recording_page_table_beat_and_sorting(app, client_for, world, recording):
    app.config["RECORDING_BEATS_PER_PAGE"] = 40
    client = client_for("doctor")
    s = stored(app, recording)
    # by default the highest-scoring beat is drawn
    html = client.get(f"/analyses/{recording}").text
    top = int(np.argmax(s.score)) + 1
    assert f'<h2 id="beat-heading">Beat {top} at {clock(s.sample[top - 1] / FS)}</h2>' in html
    assert 'id="beat-figure-data"' in html
    figure = json.loads(re.search(r'id="timeline-figure-data">(.*?)</script>', html, re.S).group(1))
    assert [t["name"] for t in figure["data"]] == ["ECG (II)", "normal beat", "anomalous beat", "heart rate",
                                                   "anomalous beat"]
    assert figure["data"][0]["hoverinfo"] == "skip"  # clicks and hovers go to the beat markers on the signal
    # time runs as hh:mm:ss of the recording (milliseconds on a date axis), held within the recording
    axis, start = figure["layout"]["xaxis"], TIME_ORIGIN_MS
    end = start + 1000 * s.samples.size / FS
    assert axis["type"] == "date" and axis["tickformat"] == "%H:%M:%S"
    assert axis["range"] == [start, start + 20_000] and axis["minallowed"] == start and axis["maxallowed"] == end
    assert figure["layout"]["xaxis2"]["rangeslider"]["visible"]
    assert figure["layout"]["xaxis2"]["rangeslider"]["range"] == [start, end]
    assert figure["layout"]["meta"]["time_origin_ms"] == start
    assert figure["data"][0]["x"][0] == start and figure["data"][0]["x"][-1] == start + 20_000
    assert axis["hoverformat"] == "%H:%M:%S.%L" and "at %{x}<br>" in figure["data"][1]["hovertemplate"]
    assert [m["color"] for m in (figure["data"][2]["marker"], figure["data"][4]["marker"])] == [ANOMALY_COLOUR] * 2
    assert figure["data"][2]["marker"]["symbol"] == "diamond" and "red diamonds" in html  # as the text says
    assert len(figure["data"][2]["x"]) == int(s.is_anomaly[s.sample <= 20 * FS].sum())

    every = client.get(f"/analyses/{recording}?only=all").text
    numbers = [int(n) for n in re.findall(r'data-testid="beat-row" data-beat="(\d+)"', every)]
    assert numbers == list(range(1, 41)) and "Page 1 of 3" in every
    last = client.get(f"/analyses/{recording}?only=all&page=3").text
    assert last.count('data-testid="beat-row"') == len(KINDS) - 80

    by_score = client.get(f"/analyses/{recording}?only=all&sort=-score").text
    order = [int(n) for n in re.findall(r'data-testid="beat-row" data-beat="(\d+)"', by_score)]
    assert [s.score[n - 1] for n in order] == sorted(s.score, reverse=True)[:40]
    assert 'aria-sort="descending"' in by_score

    chosen = client.get(f"/analyses/{recording}?beat=5&only=all").text
    assert f'<h2 id="beat-heading">Beat 5 at {clock(s.sample[4] / FS)}</h2>' in chosen
    assert re.search(r'class="selected" aria-current="true">\s*<th scope="row" class="num"><a [^>]*data-beat="5"',
                     chosen)
    assert client.get(f"/analyses/{recording}?beat={len(KINDS) + 1}").status_code == 404
    assert client.get(f"/analyses/{recording}?sort=bogus&only=bogus&page=-3").status_code == 200


def test_edf_upload_chooses_the_lead(app, client_for, world, ecg, tmp_path):
    other = -0.5 * synthetic_ecg(KINDS, FS, seed=7)[0]  # an inverted, smaller lead
    path = write_edf(tmp_path / "holter.edf", {"V1": other, "II": ecg.x})
    n = ecg.x.size // int(FS) * int(FS)
    client = client_for("doctor")
    for lead, expected, signal in ((None, "II", ecg.x), ("V1", "V1", other), ("0", "V1", other),
                                   ("1", "II", ecg.x), ("lead ii", "II", ecg.x)):
        s = stored(app, _analysis_id(upload_recording(client, world.p, [path], lead=lead)))
        assert s.recording.format == "edf" and s.recording.fs == pytest.approx(FS), lead
        assert s.recording.lead == expected and s.recording.n_samples == n, lead
        np.testing.assert_allclose(s.samples, signal[:n], atol=2e-4)  # 16-bit EDF over +-5 mV
        assert s.analysis.n_beats >= len(KINDS) - 2, lead


def test_every_format_of_the_table_is_accepted_as_the_readers_read_it(app, client_for, world, ecg, tmp_path):
    """The upload form takes every extension of ``ecgad.data.formats`` (BDF and .rec EDF files, .txt
    read as TSV) and stores the format the readers read it as."""
    from ecgad.data import formats

    edf = write_edf(tmp_path / "holter.edf", {"II": ecg.x}).read_bytes()
    tsv = csv_with_time(ecg.x).replace(b",", b"\t")
    client = client_for("doctor")
    for data, name, kind in ((edf, "holter.rec", "edf"), (tsv, "holter.txt", "tsv"), (tsv, "holter.tsv", "tsv")):
        assert formats.format_of(name).name == kind
        s = stored(app, _analysis_id(upload_recording(client, world.p, [(data, name)])))
        assert s.recording.format == kind and s.analysis.n_beats >= len(KINDS) - 2, name
    assert set(formats.SINGLE_FILE_EXTENSIONS) == {".edf", ".bdf", ".rec", ".csv", ".tsv", ".txt"}


def test_wfdb_upload_with_annotations(app, client_for, world, ecg, tmp_path):
    symbols = [SYMBOLS[k] for k in KINDS]
    paths = write_wfdb(tmp_path / "record", ecg.x, ecg.peaks, symbols)
    client = client_for("doctor")
    response = upload_recording(client, world.p, paths)
    s = stored(app, _analysis_id(response))
    r = s.recording
    assert s.analysis.filename == "rec" and s.analysis.has_labels
    assert r.format == "wfdb" and r.lead == "MLII" and r.fs == pytest.approx(FS) and r.n_samples == ecg.x.size
    assert r.annotated_beats == len(KINDS) and r.sensitivity == 1.0 and r.positive_predictivity == 1.0
    assert s.annotation == symbols

    html = client.get(f"{response.location}?only=all").text
    check_summary(html, s)
    check = text_of(html, "annotation-check")
    assert f"({len(KINDS)} beats, 150 ms tolerance)" in check
    assert "beats found 100.00% (sensitivity)" in check and "real 100.00% (positive predictivity)" in check
    assert '<th scope="col">Annotation</th>' in html
    cells = re.findall(r"<td>([A-Z])</td>\s*</tr>", html)
    assert cells == symbols[:len(cells)] and len(cells) == 50  # one page of 50
    beat = client.get(f"/analyses/{_analysis_id(response)}/beats/13.json").get_json()
    assert beat["annotation"] == "V" and beat["is_anomaly"]

    # the same record without its annotations
    s = stored(app, _analysis_id(upload_recording(client, world.p, paths[:2])))
    assert not s.analysis.has_labels and s.recording.annotated_beats is None and set(s.annotation) == {None}


def test_real_mitdb_record(app, client_for, world, data_dir, tmp_path):
    """MIT-BIH record 119 (30 minutes, 2 leads, many premature ventricular beats), as it is. 119 is one of
    the shipped recording model's 22 training records: the verdicts check the upload path and the fit, not
    generalisation (tests/test_recording_rules.py tests records the model never saw)."""
    files = [data_dir / "mitdb" / f"119.{ext}" for ext in ("hea", "dat", "atr")]
    client = client_for("doctor")
    response = upload_recording(client, world.p, files)
    s = stored(app, _analysis_id(response))
    r = s.recording
    assert r.format == "wfdb" and r.lead == "MLII" and r.fs == 360.0 and r.n_samples == 650_000
    assert r.lead_names == ["MLII", "V1"] and s.chunks == 2 * math.ceil(650_000 / (1 << 16))  # both leads
    assert r.annotated_beats == 1987 and r.sensitivity > 0.99 and r.positive_predictivity > 0.99
    notes = np.array([a or "" for a in s.annotation])
    assert s.is_anomaly[notes == "V"].mean() > 0.9 and s.is_anomaly[notes == "N"].mean() < 0.1

    html = client.get(response.location).text
    check_summary(html, s)
    check = text_of(html, "annotation-check")
    assert "(1987 beats, 150 ms tolerance)" in check and f"{100 * r.sensitivity:.2f}% (sensitivity)" in check
    assert '<th scope="col">Annotation</th>' in html and "<td>V</td>" in html

    # another lead by name
    s = stored(app, _analysis_id(upload_recording(client, world.p, files[:2], lead="V1")))
    assert s.recording.lead == "V1" and s.analysis.n_beats > 1500


def test_real_ptb_record_with_all_its_signal_files(app, client_for, world, data_dir):
    """PTB's s0010_re keeps 12 leads in its .dat and 3 Frank leads in a .xyz file that its header names too:
    without the .xyz the upload is refused, saying which file is missing; with it, any lead can be read."""
    folder = data_dir / "wfdb"
    client = client_for("doctor")
    before = row_counts(app)
    response = upload_recording(client, world.p, [folder / n for n in ("s0010_re.hea", "s0010_re.dat")], lead="v5")
    assert response.status_code == 400
    error = re.search(r'data-testid="recording-error">([^<]*)<', response.text).group(1)
    assert "signal file s0010_re.xyz named in s0010_re.hea not found" in error and "Nothing was stored." in error
    assert row_counts(app) == before
    files = [folder / n for n in ("s0010_re.hea", "s0010_re.dat", "s0010_re.xyz")]
    for lead in ("v5", "vx"):  # one lead from each signal file
        s = stored(app, _analysis_id(upload_recording(client, world.p, files, lead=lead)))
        assert s.recording.lead.lower() == lead and s.recording.fs == 1000 and s.analysis.n_beats > 50


# ------------------------------------------------------------------ uploads that fail


def _bad_cases(ecg, folder: Path) -> dict[str, tuple[list, dict, str]]:
    """name: (files, form fields, what the error says)."""
    good = csv_with_time(ecg.x)
    hea, dat, atr = (p.read_bytes() for p in write_wfdb(folder / "rec", ecg.x, ecg.peaks, ["N"] * ecg.peaks.size))
    two_leads = ("time,II,V1\n" + "".join(f"{i / FS:.4f},{v:.5f},0.5\n" for i, v in enumerate(ecg.x))).encode()
    return {
        "no file": ([], {}, "Choose the recording&#39;s files to upload."),
        "dat without hea": ([(dat, "rec.dat")], {}, "WFDB files without their header (.hea)"),
        "atr without hea": ([(atr, "rec.atr")], {}, "WFDB files without their header (.hea)"),
        "hea without dat": ([(hea, "rec.hea")], {}, "signal file rec.dat named in rec.hea not found"),
        "two headers": ([(hea, "rec.hea"), (hea, "other.hea"), (dat, "rec.dat")], {},
                        "2 WFDB headers (rec.hea, other.hea); upload one record at a time"),
        "atr of another record": ([(hea, "rec.hea"), (dat, "rec.dat"), (atr, "100.atr")], {},
                                  "the annotations must be named rec.atr, after the header rec.hea"),
        "same name twice": ([(good, "a.csv"), (good, "a.csv")], {}, "two uploaded files have the same name"),
        "two csv files": ([(good, "a.csv"), (good, "b.csv")], {}, "2 files. Upload one EDF file"),
        "exe": ([(b"MZ\x90\x00", "holter.exe")], {}, "holter.exe: files of type .exe are not accepted"),
        "json": ([(b"[1, 2, 3]", "holter.json")], {}, "holter.json: files of type .json are not accepted"),
        "no extension": ([(good, "holter")], {}, "holter: files without an extension are not accepted"),
        "exe with a record": ([(hea, "rec.hea"), (dat, "rec.dat"), (b"MZ", "x.exe")], {},
                              "x.exe: not named by rec.hea as a signal file"),
        "csv without time or fs": ([(csv_without_time(ecg.x), "trace.csv")], {},
                                   "trace.csv: no sampling rate: give fs"),
        "fs below 100": ([(csv_without_time(ecg.x), "trace.csv")], {"recording-fs": "50"},
                         "The sampling rate must be between 100 and 20,000 Hz."),
        "fs not a number": ([(csv_without_time(ecg.x), "trace.csv")], {"recording-fs": "fast"},
                            "Not a valid float value."),
        "fs contradicts the record": ([(hea, "rec.hea"), (dat, "rec.dat")], {"recording-fs": "500"},
                                      "rec says 250 Hz but fs=500 was given"),
        "not a number in the csv": ([(b"time,II\n0,0.1\n0.004,abc\n", "x.csv")], {},
                                    "x.csv line 3, column 2: &#39;abc&#39; is not a number"),
        "unknown lead": ([(good, "holter.csv")], {"recording-lead": "V9"},
                         "holter.csv: no lead &#39;V9&#39;; available: &#39;II&#39;"),
        "lead number out of range": ([(hea, "rec.hea"), (dat, "rec.dat")], {"recording-lead": "3"},
                                     "rec: lead index 3 out of range; it has 1 lead (0 to 0): &#39;MLII&#39;"),
        "flat lead": ([(two_leads, "two.csv")], {"recording-lead": "V1"},
                      "two.csv: lead &#39;V1&#39; is flat (constant 0.5 mV): no ECG on it; choose another lead"),
        "truncated dat": ([(hea, "rec.hea"), (dat[:len(dat) // 2], "rec.dat")], {},
                          f"rec.dat holds {len(dat) // 2} bytes but rec.hea describes {ecg.x.size} samples"),
        "not a header": ([(b"hello world\n", "rec.hea"), (dat, "rec.dat")], {}, "rec.hea"),
        "not an edf": ([(good, "holter.edf")], {}, "holter.edf"),
        "too short": ([(csv_with_time(ecg.x[:int(2 * FS)]), "short.csv")], {},
                      "short.csv: the recording lasts 2.00 s, too short to find heartbeats in; recordings of at "
                      "least 5 s are accepted. Nothing was stored."),
        "three seconds": ([(csv_with_time(ecg.x[:int(3 * FS)]), "three.csv")], {},
                          "three.csv: the recording lasts 3.00 s, too short to find heartbeats in; recordings of "
                          "at least 5 s are accepted. Nothing was stored."),
        "a few samples": ([(b"time,II\n0,0.1\n0.004,0.5\n0.008,0.2\n", "tiny.csv")], {},
                          "tiny.csv: the recording lasts 0.01 s"),
        "empty csv": ([(b"", "empty.csv")], {}, "empty.csv is empty: no samples"),
    }


def test_bad_uploads_store_nothing_and_say_why(app, client_for, world, ecg, tmp_path, monkeypatch):
    """One test for all cases (a parametrised test would build the app and accounts ~30 times)."""
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(uploads))  # where the app's temporary folders go
    client = client_for("doctor")
    before = row_counts(app)
    failures = []
    for name, (files, fields, message) in _bad_cases(ecg, tmp_path / "files").items():
        response = upload_recording(client, world.p, files, **fields)
        error = re.search(r'data-testid="recording-error">([^<]*)<', response.text)
        text = error.group(1) if error else ""
        if response.status_code != 400 or message not in text:
            failures.append(f"{name}: {response.status_code} {text or response.text[:300]!r}")
            continue
        if "Nothing was stored." not in text and name not in ("no file", "fs below 100", "fs not a number"):
            failures.append(f"{name}: does not say nothing was stored: {text!r}")
        if str(uploads) in text or "ecgad-upload-" in text:
            failures.append(f"{name}: the temporary folder shows in {text!r}")
        if 'id="recording-form"' not in response.text:
            failures.append(f"{name}: no form to try again")
    assert not failures, "\n".join(failures)
    assert row_counts(app) == before
    assert list(uploads.iterdir()) == []  # the temporary folders are gone


def test_header_naming_a_file_outside_its_folder_is_refused(app, client_for, world, ecg, tmp_path, monkeypatch):
    """A header that names ../secret.dat (beside the temporary upload folder) or an absolute path: the
    file there is a valid signal file, so reading it would succeed; the upload must fail instead."""
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    hea, dat = write_wfdb(tmp_path / "record", ecg.x)
    shutil.copyfile(dat, uploads / "secret.dat")
    monkeypatch.setattr(tempfile, "tempdir", str(uploads))
    header = hea.read_text()
    assert header.splitlines()[1].startswith("rec.dat ")
    client = client_for("doctor")
    before = row_counts(app)
    for name in ("../secret.dat", str(uploads / "secret.dat"), "..", "/etc/passwd", "sub/../../secret.dat"):
        response = upload_recording(client, world.p, [(header.replace("rec.dat", name, 1).encode(), "rec.hea"),
                                                      (dat.read_bytes(), "rec.dat")])
        assert response.status_code == 400, name
        error = re.search(r'data-testid="recording-error">([^<]*)<', response.text).group(1)
        assert error.startswith("rec.hea") and "Nothing was stored." in error, error
    assert row_counts(app) == before
    assert sorted(p.name for p in uploads.iterdir()) == ["secret.dat"]


def test_recording_longer_than_allowed(app, client_for, world, ecg):
    app.config["MAX_RECORDING_HOURS"] = 0.01  # 36 s; the recording lasts 83 s
    client = client_for("doctor")
    before = row_counts(app)
    response = upload_recording(client, world.p, [(csv_with_time(ecg.x), "holter.csv")])
    assert response.status_code == 400
    assert re.search(r"holter.csv: \d+ samples at 250 Hz last 1.39 minutes; at most 36 s are accepted: split the "
                     r"recording", response.text)
    assert row_counts(app) == before


def test_flat_signal_is_refused(app, client_for, world, ecg):
    """A flat lead (an electrode off: a few microvolts of noise) is refused by the quality check, saying why."""
    client = client_for("doctor")
    before = row_counts(app)
    flat = np.random.default_rng(0).normal(0, 0.002, ecg.x.size)
    response = upload_recording(client, world.p, [(csv_with_time(flat), "holter.csv")])
    assert response.status_code == 400
    assert "lead II: no part of it is readable ECG: flat 100%. At least 20% readable ECG is needed; is it an " \
           "ECG lead? Choose another lead by name or number. Nothing was stored." in response.text
    assert row_counts(app) == before


@pytest.mark.parametrize("kind", ["sine", "square"])
def test_non_ecg_upload_is_refused(app, client_for, world, kind):
    t = np.arange(int(60 * FS)) / FS
    x = np.sin(2 * np.pi * 5 * t) if kind == "sine" else np.sign(np.sin(2 * np.pi * t))
    client = client_for("doctor")
    before = row_counts(app)
    response = upload_recording(client, world.p, [(csv_with_time(x), f"{kind}.csv")])
    assert response.status_code == 400
    error = re.search(r'data-testid="recording-error">([^<]*)<', response.text).group(1)
    assert error.startswith("lead II: ") and "readable ECG is needed" in error and "Nothing was stored." in error
    assert ("not ECG-like 100%" if kind == "sine" else "saturated 100%") in error
    assert row_counts(app) == before


def test_noisy_stretch_is_stored_shown_and_left_out(app, client_for, world, ecg, recording):
    """Readable fraction, unreadable stretches and the warning are stored; no beat is kept inside a
    stretch; the page says how much was readable and the timeline sends the stretches of its window."""
    clean = stored(app, recording)
    assert clean.recording.readable_fraction == 1.0 and clean.recording.unreadable == []
    assert clean.analysis.warnings == []
    x = ecg.x.astype(np.float64).copy()
    a, b = int(10 * FS), int(35 * FS)
    x[a:b] += np.random.default_rng(0).standard_normal(b - a)
    client = client_for("doctor")
    analysis_id = _analysis_id(upload_recording(client, world.p, [(csv_with_time(x), "noisy.csv")]))
    s = stored(app, analysis_id)
    r = s.recording
    assert 0.5 < r.readable_fraction < 0.9
    assert r.unreadable and all(reason == "noise" for _, _, reason in r.unreadable)
    assert r.unreadable[0][0] >= 5 * FS and r.unreadable[-1][1] <= 40 * FS
    for lo, hi, _ in r.unreadable:
        assert not ((s.sample >= lo) & (s.sample < hi)).any()
    assert [w["code"] for w in s.analysis.warnings] == ["low_quality"]
    assert f"Only {100 * r.readable_fraction:.0f}% of this recording" in s.analysis.warnings[0]["message"]
    page = client.get(f"/analyses/{analysis_id}").text
    assert text_of(page, "summary-readable").startswith(f"{100 * r.readable_fraction:.1f}%")
    figure = json.loads(re.search(r'id="timeline-figure-data">(.*?)</script>', page, re.S).group(1))
    bands = [sh for sh in figure["layout"].get("shapes", []) if sh.get("name") == "unreadable"]
    assert [[sh["x0"], sh["x1"]] for sh in bands] == [[float(to_ms(lo / FS)), float(to_ms(min(hi / FS, 20.0)))]
                                                      for lo, hi, _ in r.unreadable if lo / FS < 20.0]
    w = _window(client, analysis_id, 20, 60)
    assert w["unreadable"] == [[max(lo / FS, 20), min(hi / FS, 60), "noise"] for lo, hi, _ in r.unreadable
                               if hi / FS > 20]
    assert _window(client, analysis_id, 50, 60)["unreadable"] == []


def test_too_large_upload(app, client_for, world, ecg):
    app.config["MAX_RECORDING_BYTES"] = 100_000
    data = csv_with_time(ecg.x)
    assert len(data) > 100_000
    client = client_for("doctor")
    before = row_counts(app)
    response = upload_recording(client, world.p, [(data, "holter.csv")])
    assert response.status_code == 413
    assert "larger than the 100000 bytes accepted" in response.text and 'data-testid="error-page"' in response.text
    assert row_counts(app) == before


def test_recording_may_be_larger_than_other_requests_with_csrf_on(make_app, ecg):
    """MAX_RECORDING_BYTES, not MAX_CONTENT_LENGTH, limits recordings, also where the CSRF check reads the body."""
    from webtools import PASSWORD, add_patient, add_user, csrf_token

    app = make_app(WTF_CSRF_ENABLED=True, MAX_CONTENT_LENGTH=50_000)
    doctor = add_user(app, "doctor@example.org", "doctor")
    patient = add_patient(app, doctor.id)
    client = app.test_client()
    token = csrf_token(client.get("/login").text)
    assert client.post("/login", data={"email": doctor.email, "password": PASSWORD,
                                       "csrf_token": token}).status_code == 302
    page = client.get(f"/patients/{patient}").text
    token = re.search(r'name="recording-csrf_token"[^>]*value="([^"]+)"', page).group(1)
    data = csv_with_time(ecg.x)
    assert len(data) > 50_000
    response = upload_recording(client, patient, [(data, "holter.csv")], **{"recording-csrf_token": token})
    assert response.status_code == 302, response.text[:500]
    assert client.post(f"/patients/{patient}/analyses", data={"file": (io.BytesIO(data), "b.csv")},
                       content_type="multipart/form-data").status_code == 413  # beat files: still 50 kB
    missing = upload_recording(client, patient, [(data, "holter.csv")])  # no token
    assert missing.status_code == 400 and "Form expired" in missing.text


def test_model_missing_is_a_clear_503(app, client_for, world, ecg, recording, tmp_path):
    app.config["RECORDING_MODEL_PATH"] = str(tmp_path / "no-such-model.safetensors")
    client = client_for("doctor")
    before = row_counts(app)
    response = upload_recording(client, world.p, [(csv_with_time(ecg.x), "holter.csv")])
    assert response.status_code == 503
    assert "The recording model is not available on this server, so nothing could be analysed." in response.text
    assert 'data-testid="recording-error"' in response.text
    assert row_counts(app) == before
    # stored recordings still open, without the beat figure that needs the model
    page = client.get(f"/analyses/{recording}")
    assert page.status_code == 200 and 'id="timeline-figure-data"' in page.text
    assert 'id="beat-figure-data"' not in page.text
    note = html.unescape(text_of(page.text, "beat-figure-note"))
    assert note == "The recording model is not available on this server, so this beat's shape is not drawn."
    beat = client.get(f"/analyses/{recording}/beats/3.json").get_json()
    assert beat["beat"] == 3 and beat["figure"] is None and beat["figure_note"] == note


def test_another_recording_model_does_not_redraw_a_stored_analysis(app, client_for, recording, tmp_path):
    """A beat's figure is the reconstruction of the model that made the analysis, never another's."""
    from ecgad.recording import load_recording_detector

    other = load_recording_detector()
    other.meta = {**other.meta, "model_id": "recording-another0001"}
    app.config["RECORDING_MODEL_PATH"] = str(other.save(tmp_path / "another.safetensors"))
    client = client_for("doctor")
    s = stored(app, recording)
    top = int(np.argmax(s.score)) + 1
    page = client.get(f"/analyses/{recording}")
    assert page.status_code == 200 and 'id="beat-figure-data"' not in page.text
    note = html.unescape(text_of(page.text, "beat-figure-note"))
    assert note.startswith("The recording model on this server (recording-another0001) is not the one that "
                           f"analysed this recording ({s.analysis.model_id})")
    assert f'<h2 id="beat-heading">Beat {top} at' in page.text and text_of(page.text, "beat-verdict").startswith(
        "anomalous")  # the verdict stored at analysis time
    beat = client.get(f"/analyses/{recording}/beats/{top}.json").get_json()
    assert beat["figure"] is None and beat["figure_note"] == note
    assert beat["score"] == pytest.approx(s.score[top - 1]) and beat["is_anomaly"]
    # the model that made it draws it again
    app.config["RECORDING_MODEL_PATH"] = None
    beat = client.get(f"/analyses/{recording}/beats/{top}.json").get_json()
    assert beat["figure"]["data"] and beat["figure_note"] is None


# ------------------------------------------------------------------ who may see what


def test_access_to_a_recording(app, client_for, world, recording, ecg):
    urls = [f"/analyses/{recording}", f"/analyses/{recording}?only=all&beat=2",
            f"/analyses/{recording}/timeline.json?start=0&end=10", f"/analyses/{recording}/beats/2.json",
            f"/analyses/{recording}/delete"]
    expected = {"doctor": [200] * 5, "other": [404] * 5, "admin": [200, 200, 200, 200, 403],
                "anonymous": [302] * 5}
    for role, statuses in expected.items():
        client = client_for(role)
        for url, status in zip(urls, statuses, strict=True):
            response = client.get(url)
            assert response.status_code == status, f"{role} {url}: {response.status_code}"
            if role == "anonymous":
                assert response.location.startswith("/login?next=")
            elif "json" in url:  # as recording-plot.js asks: JSON answers, errors too
                response = client.get(url, headers={"Accept": "application/json"})
                assert response.status_code == status and response.is_json
                assert status == 200 or response.get_json()["status"] == 404
    admin_page = client_for("admin").get(f"/analyses/{recording}").text
    assert 'id="delete-analysis"' not in admin_page and 'data-testid="summary-beats"' in admin_page

    # nobody but the patient's doctor adds recordings, or deletes them
    clients = {role: client_for(role) for role in ("other", "admin", "anonymous")}
    before = row_counts(app)
    for role, status in (("other", 404), ("admin", 403), ("anonymous", 302)):
        response = upload_recording(clients[role], world.p, [(csv_with_time(ecg.x), "holter.csv")])
        assert response.status_code == status, role
        assert clients[role].post(f"/analyses/{recording}/delete").status_code == status, role
    assert row_counts(app) == before
    # the other doctor's own patient q: fine
    assert upload_recording(client_for("other"), world.q, [(csv_with_time(ecg.x), "q.csv")]).status_code == 302


# ------------------------------------------------------------------ timeline windows and beats


def _window(client, analysis_id: int, start, end):
    response = client.get(f"/analyses/{analysis_id}/timeline.json?start={start}&end={end}")
    assert response.status_code == 200, response.text
    return response.get_json()


def test_timeline_window(app, client_for, recording, ecg):
    client = client_for("doctor")
    s = stored(app, recording)
    w = _window(client, recording, 10, 30)
    assert w["start"] == 10 and w["end"] == 30 and w["complete"] and not w["thinned"]
    x, y = np.array(w["signal"]["x"]), np.array(w["signal"]["y"])
    assert x.size == y.size == 20 * FS + 1 and x.min() >= 10 and x.max() <= 30
    np.testing.assert_allclose(y, ecg.x[2500:7501], atol=1e-3)
    inside = np.flatnonzero((s.sample >= 10 * FS) & (s.sample <= 30 * FS))
    normal, abnormal = w["normal"], w["abnormal"]
    assert w["beats"] == inside.size == len(normal["x"]) + len(abnormal["x"])
    for markers, flag in ((normal, False), (abnormal, True)):
        assert len(markers["x"]) == len(markers["y"]) == len(markers["customdata"])
        numbers = [int(c[0]) for c in markers["customdata"]]
        assert all(s.is_anomaly[n - 1] == flag for n in numbers)
        assert all(10 <= t <= 30 for t in markers["x"])
        np.testing.assert_allclose(markers["x"], s.sample[np.array(numbers, dtype=int) - 1] / FS, atol=1e-3)
        assert all(len(c) == 4 + 3 for c in markers["customdata"])  # number, score, confidence, RR, 3 parts
    assert sorted(int(c[0]) for c in normal["customdata"] + abnormal["customdata"]) == list(inside + 1)

    # past the end, or starting before 0: clipped to the recording
    duration = ecg.x.size / FS
    w = _window(client, recording, -5, 1e9)
    assert w["start"] == 0 and w["end"] == pytest.approx(duration) and w["beats"] == len(KINDS)
    w = _window(client, recording, duration + 10, duration + 20)
    assert w["signal"]["x"] == [] and w["beats"] == 0 and w["normal"]["x"] == []


def test_timeline_window_thinned_and_incomplete(app, client_for, recording, ecg, monkeypatch):
    from ecgad.web.analyses import timeline

    client = client_for("doctor")
    s = stored(app, recording)
    monkeypatch.setattr(timeline, "MAX_POINTS", 1000)
    w = _window(client, recording, 0, 60)
    x, y = np.array(w["signal"]["x"]), np.array(w["signal"]["y"])
    assert w["thinned"] and x.size == y.size and 400 <= x.size <= 1000
    assert np.all(np.diff(x) > 0) and x.min() >= 0 and x.max() <= 60
    window = ecg.x[:int(60 * FS) + 1]
    assert y.max() == pytest.approx(window.max(), abs=1e-3) and y.min() == pytest.approx(window.min(), abs=1e-3)
    assert w["complete"] and len(w["normal"]["x"]) + len(w["abnormal"]["x"]) == w["beats"]

    monkeypatch.setattr(timeline, "MAX_BEATS", 3)
    w = _window(client, recording, 0, 60)
    inside = np.flatnonzero(s.sample <= 60 * FS)
    assert not w["complete"] and w["beats"] == inside.size > 3
    assert w["normal"]["x"] == [] and len(w["abnormal"]["x"]) == 3
    numbers = [int(c[0]) for c in w["abnormal"]["customdata"]]
    best = inside[np.argsort(-s.score[inside], kind="stable")[:3]] + 1
    assert sorted(numbers) == sorted(best.tolist()) and all(s.is_anomaly[n - 1] for n in numbers)


def test_timeline_window_clamped_to_the_recording_and_a_longest_span(app, client_for, recording, ecg, monkeypatch):
    """``start=-inf&end=inf`` decompressed a whole recording (1.2 GB for 10^8 samples) and ``start=1e300``
    was a server error: a window is clamped to the recording, and to MAX_WINDOW_SAMPLES from its start."""
    from ecgad.web.analyses import timeline

    client = client_for("doctor")
    duration = ecg.x.size / FS
    w = _window(client, recording, "-inf", "inf")
    assert w["start"] == 0 and w["end"] == pytest.approx(duration) and w["beats"] == len(KINDS)
    for start, end in (("1e300", "1e301"), ("1e300", "inf"), (duration + 10, "1e300")):
        w = _window(client, recording, start, end)
        assert w["start"] == w["end"] == pytest.approx(duration) and w["signal"]["x"] == [] and w["beats"] == 0
    w = _window(client, recording, "-1e300", 5)
    assert w["start"] == 0 and w["end"] == 5

    monkeypatch.setattr(timeline, "MAX_WINDOW_SAMPLES", 1000)  # 4 s at 250 Hz
    w = _window(client, recording, 10, "inf")
    assert w["start"] == 10 and w["end"] == pytest.approx(14) and len(w["signal"]["x"]) == 1001
    assert max(w["signal"]["x"]) <= 14 and all(10 <= t <= 14 for t in w["normal"]["x"] + w["abnormal"]["x"])


def test_timeline_window_bad_requests(app, client_for, world, recording):
    client = client_for("doctor")
    for query in ("", "?start=1", "?end=5", "?start=a&end=5", "?start=nan&end=5", "?start=1&end=nan",
                  "?start=9&end=5", "?start=5&end=5"):
        response = client.get(f"/analyses/{recording}/timeline.json{query}")
        assert response.status_code == 400, query
        assert response.get_json()["message"] == "Give start and end in seconds, end after start."
    assert client.get(f"/analyses/{world.a}/timeline.json?start=0&end=5").status_code == 404  # a beats analysis
    assert client.get("/analyses/999999/timeline.json?start=0&end=5").status_code == 404


def test_beat_json_of_a_recording(app, client_for, recording):
    client = client_for("doctor")
    s = stored(app, recording)
    n = int(np.flatnonzero(s.is_anomaly)[0]) + 1
    beat = client.get(f"/analyses/{recording}/beats/{n}.json").get_json()
    assert beat["beat"] == n and beat["analysis"] == recording and beat["sample"] == s.sample[n - 1]
    assert beat["time_s"] == pytest.approx(s.sample[n - 1] / FS, abs=1e-3) and beat["time"] == clock(beat["time_s"])
    assert beat["rr_s"] == pytest.approx(s.rr_s[n - 1]) and beat["heart_rate_bpm"] == pytest.approx(60 / beat["rr_s"])
    assert beat["is_anomaly"] and beat["score"] == pytest.approx(s.score[n - 1]) and beat["score"] > beat["threshold"]
    assert re.fullmatch(r"anomalous, confidence \d\.\d\d", beat["verdict"])
    assert set(beat["parts"]) == {"autoencoder", "template", "rhythm"} and beat["annotation"] is None
    figure = beat["figure"]
    assert figure["data"] and figure["layout"]["title"]["text"].startswith(f"Beat {n} at {beat['time']}")
    first = client.get(f"/analyses/{recording}/beats/1.json").get_json()
    assert first["rr_s"] is None and first["heart_rate_bpm"] is None
    for bad in (0, len(KINDS) + 1, 99999):
        assert client.get(f"/analyses/{recording}/beats/{bad}.json").status_code == 404


# ------------------------------------------------------------------ deletion


def test_delete_recording_removes_everything(app, client_for, world, recording):
    client = client_for("doctor")
    s = stored(app, recording)
    second = _analysis_id(upload_recording(client, world.p, [(csv_with_time(s.samples[:int(30 * FS)]), "b.csv")]))
    before = row_counts(app)
    page = client.get(f"/patients/{world.p}").text
    assert page.count('data-testid="recording-badge"') == 2
    response = client.post(f"/analyses/{recording}/delete")
    assert response.status_code == 302 and response.location == f"/patients/{world.p}"
    after = row_counts(app)
    assert after["analyses"] == before["analyses"] - 1 and after["recordings"] == before["recordings"] - 1
    assert after["recording_beats"] == before["recording_beats"] - len(KINDS)
    assert after["recording_chunks"] == before["recording_chunks"] - s.chunks
    assert audit_actions(app)[-1] == "analysis.delete"
    assert client.get(f"/analyses/{recording}").status_code == 404
    assert client.get(f"/analyses/{second}").status_code == 200  # the other recording is untouched
    # deleting the patient takes the rest
    assert client.post(f"/patients/{world.p}/delete").status_code == 302
    left = row_counts(app)
    assert left["recordings"] == left["recording_beats"] == left["recording_chunks"] == 0


# ------------------------------------------------------------------ the Holter summary and its PDF


def test_holter_summary_on_the_page(app, client_for, world, recording, ecg):
    """The page shows the stored Holter summary: what the synthetic signal's beats say (its longest RR is
    the compensatory pause after the first premature beat: 1.4 x 0.8 s), an hour row of every beat, and
    links to events; with ?beat=N the timeline opens on that beat."""
    from sqlalchemy import select

    from ecgad.web.extensions import db
    from ecgad.web.models import Recording, RecordingBeat

    with app.app_context():
        holter = json.loads(db.session.get(Recording, recording).holter_json)
        classes = db.session.scalars(select(RecordingBeat.beat_class).where(RecordingBeat.analysis_id == recording)
                                     .order_by(RecordingBeat.position)).all()
    assert holter["beats"] == len(KINDS) and holter["start"] is None  # a CSV tells no start
    assert holter["longest_rr"]["rr_s"] == pytest.approx(1.12, abs=0.01)
    assert holter["longest_rr"]["beat"] == KINDS.index("V") + 1 and holter["pauses"]["count"] == 0
    page = client_for("doctor").get(f"/analyses/{recording}").text
    assert text_of(page, "holter-longest-rr").startswith("1.12 s")
    assert text_of(page, "holter-pauses") == "0"
    assert text_of(page, "holter-hr-mean") == f"{holter['heart_rate']['mean_bpm']:.0f} bpm"
    rows = re.findall(r'data-testid="hour-row"><th scope="row">([^<]+)</th><td class="num">(\d+)</td>', page)
    assert rows == [("00:00", str(len(KINDS)))]
    link = re.search(r'href="([^"]+)"[^>]*data-testid="event-link" data-beat="(\d+)" data-time="([\d.]+)"', page)
    assert link and html.unescape(link.group(1)) == f"/analyses/{recording}?beat={link.group(2)}#timeline-section"
    if all(classes):  # a model with beat classes: the page counts what was stored
        assert text_of(page, "holter-v") == str(classes.count("V"))
    else:
        assert 'data-testid="holter-no-classes"' in page
    # the address names a beat: the timeline opens on a 20-s window around it
    number = 60
    t = ecg.peaks[number - 1] / FS
    opened = client_for("doctor").get(f"/analyses/{recording}?beat={number}").text
    figure = json.loads(re.search(r'id="timeline-figure-data">(.*?)</script>', opened, re.S).group(1))
    assert figure["layout"]["xaxis"]["range"] == pytest.approx([float(to_ms(t - 10)), float(to_ms(t + 10))], abs=1)
    assert min(figure["data"][0]["x"]) >= to_ms(t - 10) - 1


def test_pdf_report(app, client_for, world, recording):
    from pypdf import PdfReader

    from ecgad.web.extensions import db
    from ecgad.web.models import AuditEvent

    doctor = client_for("doctor")
    response = doctor.get(f"/analyses/{recording}/report.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    pdf = PdfReader(io.BytesIO(response.data))
    assert float(pdf.pages[0].mediabox.width) == pytest.approx(595.28, abs=0.01)  # A4
    text = " ".join(" ".join(p.extract_text() for p in pdf.pages).split())
    for expected in ("Holter ECG report", "Ann Example", "MRN-001", "holter.csv", "Dr Dora (doctor@example.org)",
                     f"Beats {len(KINDS)}", "Reviewed and signed by", "25 mm/s, 10 mm/mV"):
        assert expected in text, expected
    letter = PdfReader(io.BytesIO(doctor.get(f"/analyses/{recording}/report.pdf?paper=Letter").data))
    assert float(letter.pages[0].mediabox.width) == 612.0
    assert doctor.get(f"/analyses/{recording}/report.pdf?paper=A3").status_code == 400
    assert client_for("other").get(f"/analyses/{recording}/report.pdf").status_code == 404
    assert client_for("admin").get(f"/analyses/{recording}/report.pdf").status_code == 200
    page = doctor.get(f"/analyses/{recording}").text
    assert f'href="/analyses/{recording}/report.pdf"' in page
    from sqlalchemy import select

    with app.app_context():
        lines = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "report.view")
                                   .order_by(AuditEvent.id)).all()
        assert [(e.actor_email, e.patient_id, e.target_id) for e in lines] == \
            [("doctor@example.org", world.p, recording)] * 2 + [("admin@example.org", world.p, recording)]
        assert "paper=Letter" in lines[1].detail


def test_summary_made_again_for_a_recording_stored_before_summaries(app, client_for, recording):
    """A recording stored before migration 0005 has no summary: the page and the PDF make it from its beats."""
    from ecgad.web.extensions import db
    from ecgad.web.models import Recording

    with app.app_context():
        row = db.session.get(Recording, recording)
        before = json.loads(row.holter_json)
        row.holter_json = None
        db.session.commit()
    page = client_for("doctor").get(f"/analyses/{recording}").text
    assert text_of(page, "holter-longest-rr").startswith(f"{before['longest_rr']['rr_s']:.2f} s")
    assert client_for("doctor").get(f"/analyses/{recording}/report.pdf").status_code == 200


def test_holter_summary_with_stored_classes(app, client_for, recording):
    """Beats stored with classes (here the signal's own kinds: V, A as S, the rest N) and no summary: the
    page and the PDF count and list the ventricular and supraventricular beats from them."""
    from sqlalchemy import select

    from ecgad.web.extensions import db
    from ecgad.web.models import Recording, RecordingBeat

    truth = {"V": "V", "A": "S", "N": "N", "W": "N"}
    with app.app_context():
        beats = db.session.scalars(select(RecordingBeat).where(RecordingBeat.analysis_id == recording)
                                   .order_by(RecordingBeat.position)).all()
        for beat, kind in zip(beats, KINDS, strict=True):
            beat.beat_class, beat.class_confidence = truth[kind], 0.9
        db.session.get(Recording, recording).holter_json = None
        db.session.commit()
    client = client_for("doctor")
    page = client.get(f"/analyses/{recording}").text
    assert text_of(page, "holter-v") == "3" and text_of(page, "holter-s") == "3"
    isolated = re.search(r'data-testid="events-v-isolated">(.*?)</div>', page, re.S).group(1)
    v_beats = [i + 1 for i, k in enumerate(KINDS) if k == "V"]
    assert [int(n) for n in re.findall(r'data-beat="(\d+)"', isolated)] == v_beats
    row = re.search(r'data-testid="holter-row-v">(.*?)</tr>', page, re.S).group(1)
    assert re.findall(r'<td class="num">(\d+)</td>', row) == ["3", "3", "0", "0", "0", "0"]
    assert re.findall(r'data-testid="beat-class">(\w)', page)  # the beat table's class column
    beat = client.get(f"/analyses/{recording}/beats/{v_beats[0]}.json").get_json()
    assert beat["class"] == "V" and beat["class_confidence"] == pytest.approx(0.9)
    from pypdf import PdfReader

    pdf = PdfReader(io.BytesIO(client.get(f"/analyses/{recording}/report.pdf").data))
    text = " ".join(" ".join(p.extract_text() for p in pdf.pages).split())
    assert "Isolated ventricular beat" in text and "Isolated supraventricular beat" in text
    assert "Ventricular 3: isolated 3, couplets 0, runs 0" in text
