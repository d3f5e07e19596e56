"""The WebSocket stream (issue 11), against the real app served on a real socket (Werkzeug's
threaded server on a free port, as ``ecgad serve --dev`` runs it), with the ``websockets`` client."""
from __future__ import annotations

import json
import zlib
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from apitools import auth, make_token
from servers import served
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect
from webtools import login

from ecgad.web.streaming import CLOSE_NORMAL, CLOSE_POLICY, CLOSE_TOO_BIG, CLOSE_TRY_LATER, CLOSE_UNSUPPORTED

STREAM = "/api/v1/stream"
TOLERANCE = 1e-9  # tests/test_recording_stream.py's: the stream's scores against the whole file's
SHOWN = 5e-5      # beat messages give scores to 4 decimals


@contextmanager
def served_port(app):
    """``app`` served as ``ecgad serve --dev`` would (one torch thread per call); yields its port."""
    from ecgad.web.server import one_torch_thread

    one_torch_thread()
    with served(app, "ecgad-stream-tests") as base_url:
        yield int(base_url.rsplit(":", 1)[1])


@pytest.fixture
def port(app):
    with served_port(app) as p:
        yield p


@pytest.fixture
def token(app, world) -> str:
    return make_token(app, world.users["doctor"].id)


def open_stream(port: int, token: str | None, path: str = STREAM, **kwargs):
    headers = auth(token) if token else {}
    # max_queue=None: the client reads the beats into memory while it sends (else, with its default
    # high-water mark, a test that sends everything first would stop reading and both sides would wait)
    # ping_interval=None: a client that has sent minutes of signal ahead sees its keepalive ping answered
    # only after them (the server reads in order, and no faster than it scores); on a busy machine that
    # may take longer than the client's default 20 s
    return connect(f"ws://127.0.0.1:{port}{path}", additional_headers=headers, open_timeout=10,
                   max_size=None, max_queue=None, ping_interval=None, **kwargs)


def talk(ws, messages) -> tuple[list[dict], int | None]:
    """Send ``messages`` (dicts, or raw str/bytes), then read until the server closes:
    (the server's messages, the close code)."""
    for m in messages:
        try:
            ws.send(m if isinstance(m, str | bytes) else json.dumps(m))
        except ConnectionClosed:
            break
    got = []
    try:
        while True:
            got.append(json.loads(ws.recv(timeout=60)))
    except ConnectionClosed:
        pass
    return got, ws.close_code


def session(port, token, messages, **kwargs):
    with open_stream(port, token, **kwargs) as ws:
        return talk(ws, messages)


def chunks(x: np.ndarray, size: int):
    return [{"type": "samples", "samples": x[i:i + size].tolist()} for i in range(0, x.size, size)]


def mitdb(data_dir: Path, record: str, minutes: float):
    from ecgad.data.readers import read_recording

    signal = read_recording(data_dir / "mitdb" / record)
    return signal, signal.samples[: int(minutes * 60 * signal.fs)]


# ------------------------------------------------------------------ the same answers as a file
@pytest.mark.parametrize("record", ["208", "119"])
def test_mitdb_excerpt_streamed_gives_the_annotated_beats_and_the_file_analysis(
        port, token, world, data_dir, record):
    """208: many PVCs; 119: ventricular bigeminy. Sent in 1-s chunks as fast as the server takes them."""
    from ecgad.data.annotations import BEAT_SYMBOLS, match_peaks, read_annotations
    from ecgad.data.signal import Signal
    from ecgad.recording import load_recording_detector

    signal, x = mitdb(data_dir, record, 4)
    got, code = session(port, token, [{"type": "start", "fs": signal.fs, "lead": signal.lead}, *chunks(x, 360),
                                      {"type": "end"}])
    assert code == CLOSE_NORMAL, got[-1]
    assert got[0]["type"] == "started" and got[0]["fs"] == signal.fs and got[0]["lead"] == signal.lead
    beats = [m for m in got if m["type"] == "beat"]
    end = got[-1]
    assert end["type"] == "end" and end["summary"]["samples"] == x.size  # nothing dropped
    assert end["summary"]["beats"] == len(beats) and end["summary"]["analysis_id"] is None

    whole = load_recording_detector().analyze(Signal(x, signal.fs, signal.lead, (signal.lead,), record))
    assert [b["sample"] for b in beats] == whole.sample.tolist()
    assert np.max(np.abs(np.array([b["score"] for b in beats]) - whole.score)) <= SHOWN + TOLERANCE
    near = np.abs(whole.score - whole.threshold) <= SHOWN + TOLERANCE
    assert np.array_equal(np.array([b["is_anomaly"] for b in beats])[~near], whole.is_anomaly[~near])
    assert end["summary"]["anomalies"] == int(whole.is_anomaly.sum()) > 0
    assert all(set(b) >= {"sample", "time_s", "rr_s", "score", "threshold", "is_anomaly", "confidence"}
               for b in beats)

    ref, symbols = read_annotations(data_dir / "mitdb" / record)
    ref = ref[np.isin(symbols, list(BEAT_SYMBOLS)) & (ref < x.size)]
    ref = ref[whole.quality.readable_beats(ref)]
    tp, fp, fn = match_peaks(np.array([b["sample"] for b in beats]), ref, signal.fs)  # within 150 ms
    assert abs(len(beats) - ref.size) <= 0.01 * ref.size
    assert fn <= 0.01 * ref.size and fp <= 0.01 * ref.size, (tp, fp, fn)


# ------------------------------------------------------------------ storing a session
def test_a_session_with_a_patient_is_stored_from_the_streams_own_result(app, port, token, world, data_dir):
    from ecgad.data.signal import Signal
    from ecgad.recording import load_recording_detector
    from ecgad.web.extensions import db
    from ecgad.web.models import AuditEvent, RecordingChunk

    signal, x = mitdb(data_dir, "101", 1.5)
    got, code = session(port, token, [{"type": "start", "fs": 360, "patient_id": world.p, "lead": "MLII"},
                                      *chunks(x, 500), {"type": "end"}])
    assert code == CLOSE_NORMAL, got[-1]
    assert got[0]["patient_id"] == world.p
    summary = got[-1]["summary"]
    analysis_id = summary["analysis_id"]
    assert isinstance(analysis_id, int)

    client = app.test_client()
    body = client.get(f"/api/v1/analyses/{analysis_id}?per_page=1000", headers=auth(token)).get_json()
    assert body["kind"] == "recording" and body["source"] == "stream" and body["patient_id"] == world.p
    assert body["summary"]["format"] == "stream" and body["summary"]["lead"] == "MLII"
    assert body["summary"]["n_samples"] == x.size and body["summary"]["n_beats"] == summary["beats"]
    stored = body["beats"]
    streamed = [m for m in got if m["type"] == "beat"]
    assert [b["sample"] for b in stored] == [b["sample"] for b in streamed]
    whole = load_recording_detector().analyze(Signal(x, 360.0, "MLII", ("MLII",), "101"))
    assert np.max(np.abs(np.array([b["score"] for b in stored]) - whole.score)) <= TOLERANCE
    with app.app_context():
        rows = db.session.scalars(db.select(RecordingChunk).where(RecordingChunk.analysis_id == analysis_id)
                                  .order_by(RecordingChunk.position)).all()
        kept = np.concatenate([np.frombuffer(zlib.decompress(r.data), "<f4") for r in rows])
        assert np.array_equal(kept, x)  # the samples as sent
        event = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "analysis.create",
                                                               AuditEvent.target_id == analysis_id)).one()
        assert event.actor_id == world.users["doctor"].id and "via API token" in event.detail
        assert f"patient={world.p}" in event.detail and "stream=" in event.detail


def test_a_session_too_short_to_judge_stores_nothing(app, port, token, world):
    from ecgad.web.extensions import db
    from ecgad.web.models import Analysis

    got, code = session(port, token, [{"type": "start", "fs": 360, "patient_id": world.p},
                                      {"type": "samples", "samples": [0.0] * 3600}, {"type": "end"}])
    assert code == CLOSE_POLICY and got[-1]["type"] == "error"
    assert "Nothing was stored" in got[-1]["detail"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Analysis).where(
            Analysis.patient_id == world.p, Analysis.kind == "recording")) == 0


# ------------------------------------------------------------------ protocol errors
START = {"type": "start", "fs": 360}
BAD_MESSAGES = {
    "not JSON": (["{nope"], CLOSE_POLICY, "not valid JSON"),
    "binary": ([b"\x00\x01"], CLOSE_UNSUPPORTED, "JSON text, not binary"),
    "not an object": (["[1, 2]"], CLOSE_POLICY, 'a "type"'),
    "no type": ([{"fs": 360}], CLOSE_POLICY, 'a "type"'),
    "samples first": ([{"type": "samples", "samples": [1.0]}], CLOSE_POLICY, "first message must be"),
    "no fs": ([{"type": "start"}], CLOSE_POLICY, '"fs" must be'),
    "fs a string": ([{"type": "start", "fs": "360"}], CLOSE_POLICY, '"fs" must be'),
    "fs true": ([{"type": "start", "fs": True}], CLOSE_POLICY, '"fs" must be'),
    "fs too low": ([{"type": "start", "fs": 20}], CLOSE_POLICY, '"fs" must be'),
    "fs NaN": (['{"type": "start", "fs": NaN}'], CLOSE_POLICY, "not valid JSON"),
    "unknown field": ([{**START, "gain": 200}], CLOSE_POLICY, "Unknown fields"),
    "lead a number": ([{**START, "lead": 2}], CLOSE_POLICY, '"lead" must be'),
    "lead empty": ([{**START, "lead": " "}], CLOSE_POLICY, '"lead" must be'),
    "patient a string": ([{**START, "patient_id": "3"}], CLOSE_POLICY, '"patient_id" must be'),
    "start twice": ([START, START], CLOSE_POLICY, "already started"),
    "unknown type": ([START, {"type": "pause"}], CLOSE_POLICY, "Unknown message type"),
    "samples missing": ([START, {"type": "samples"}], CLOSE_POLICY, "a list of numbers"),
    "samples a string": ([START, {"type": "samples", "samples": "1,2"}], CLOSE_POLICY, "a list of numbers"),
    "sample a string": ([START, {"type": "samples", "samples": [1.0, "2"]}], CLOSE_POLICY, "numbers only"),
    "sample null": ([START, {"type": "samples", "samples": [1.0, None]}], CLOSE_POLICY, "numbers only"),
    "sample true": ([START, {"type": "samples", "samples": [True]}], CLOSE_POLICY, "numbers only"),
    "sample Infinity": ([START, '{"type": "samples", "samples": [Infinity]}'], CLOSE_POLICY, "not valid JSON"),
    "sample 1e400": ([START, '{"type": "samples", "samples": [1e400]}'], CLOSE_POLICY, "finite number"),
    "sample 10**400": ([START, '{"type": "samples", "samples": [1' + "0" * 400 + "]}"], CLOSE_POLICY,
                       "finite number"),
    "sample in µV": ([START, {"type": "samples", "samples": [12000.0]}], CLOSE_POLICY, "in mV"),
    "extra field": ([START, {"type": "samples", "samples": [], "t": 0}], CLOSE_POLICY, "Unknown fields"),
    "end too early": ([START, {"type": "samples", "samples": [0.1] * 720}, {"type": "end"}], CLOSE_POLICY,
                      "too short"),
}


@pytest.mark.parametrize("name", list(BAD_MESSAGES))
def test_every_protocol_error_is_an_error_message_then_a_close(port, token, name):
    messages, code, detail = BAD_MESSAGES[name]
    got, closed = session(port, token, messages)
    assert closed == code
    assert got[-1]["type"] == "error" and detail in got[-1]["detail"], got[-1]
    assert sum(m["type"] == "error" for m in got) == 1


def test_the_server_keeps_serving_after_errors(port, token):
    for name in ("not JSON", "binary", "sample 10**400"):
        session(port, token, BAD_MESSAGES[name][0])
    got, code = session(port, token, [START, {"type": "samples", "samples": [0.0] * 100}, {"type": "end"}])
    assert got[0]["type"] == "started" and code == CLOSE_POLICY


# ------------------------------------------------------------------ limits
def test_a_message_over_the_size_limit_is_refused_with_1009(make_app, world_for, tmp_path):
    app = make_app(STREAM_MAX_MESSAGE_BYTES=10_000)
    token = world_for(app)
    with served_port(app) as port:
        got, code = session(port, token, [START, {"type": "samples", "samples": [0.125] * 4000}])
    assert code == CLOSE_TOO_BIG and "larger than the 10000 bytes" in got[-1]["detail"]


def test_samples_per_message_and_session_length_limits(make_app, world_for):
    app = make_app(STREAM_MAX_SAMPLES_PER_MESSAGE=1000, STREAM_MAX_SAMPLES=5000)
    token = world_for(app)
    with served_port(app) as port:
        got, code = session(port, token, [START, {"type": "samples", "samples": [0.0] * 1001}])
        assert code == CLOSE_TOO_BIG and "at most 1000 are accepted" in got[-1]["detail"]
        got, code = session(port, token, [START, *[{"type": "samples", "samples": [0.0] * 1000}] * 6])
        assert code == CLOSE_POLICY and "longer than the 5000 samples" in got[-1]["detail"]
        assert got[0]["limits"]["max_session_samples"] == 5000


def test_streams_per_user_and_per_process(make_app, world_for):
    app = make_app(STREAMS_PER_USER=1, STREAM_SLOTS=2)
    token = world_for(app)
    other = world_for(app, role="other")
    admin = world_for(app, role="admin")
    with served_port(app) as port:
        with open_stream(port, token) as first:
            first.send(json.dumps(START))
            assert json.loads(first.recv(timeout=30))["type"] == "started"
            got, code = session(port, token, [START])
            assert code == CLOSE_POLICY and "already have 1 streams open" in got[-1]["detail"]
            with open_stream(port, other) as second:
                second.send(json.dumps(START))
                assert json.loads(second.recv(timeout=30))["type"] == "started"
                got, code = session(port, admin, [START])
                assert code == CLOSE_TRY_LATER and "try again later" in got[-1]["detail"]
        got, code = session(port, token, [START, {"type": "end"}])  # the slots are given back
        assert got[0]["type"] == "started"


def test_an_idle_stream_is_closed(make_app, world_for):
    app = make_app(STREAM_IDLE_SECONDS=0.5)
    token = world_for(app)
    with served_port(app) as port, open_stream(port, token) as ws:
        ws.send(json.dumps(START))
        got, code = talk(ws, [])
    assert code == CLOSE_POLICY and "No message for 0.5 s" in got[-1]["detail"]


def test_a_fast_sender_is_slowed_not_dropped(make_app, world_for, data_dir):
    """Backpressure: with one message read ahead, the client's sends wait for the server; every
    sample is counted and every beat comes back."""
    app = make_app(STREAM_MAX_QUEUED=1)
    token = world_for(app)
    _, x = mitdb(data_dir, "101", 1)
    with served_port(app) as port:
        got, code = session(port, token, [START, *chunks(x, 37), {"type": "end"}])
    assert code == CLOSE_NORMAL and got[-1]["summary"]["samples"] == x.size
    assert got[-1]["summary"]["beats"] == sum(m["type"] == "beat" for m in got) > 60


# ------------------------------------------------------------------ who may stream
def test_no_token_or_a_bad_one_is_refused_before_the_upgrade(app, port, world):
    from ecgad.web import tokens
    from ecgad.web.extensions import db
    from ecgad.web.models import ApiToken

    for token in (None, "ecgad_nonsense"):
        with pytest.raises(InvalidStatus) as refused:
            open_stream(port, token)
        assert refused.value.response.status_code == 401
        assert b"problem" not in refused.value.response.body or b'"status": 401' in refused.value.response.body
    token = make_token(app, world.users["doctor"].id)
    with app.app_context():
        row = db.session.scalars(db.select(ApiToken).order_by(ApiToken.id.desc())).first()
        tokens.revoke(row)
        db.session.commit()
    with pytest.raises(InvalidStatus) as refused:
        open_stream(port, token)
    assert refused.value.response.status_code == 401


def test_opening_a_stream_counts_against_the_tokens_rate_limit(make_app, world_for):
    app = make_app(API_RATE_LIMIT="2 per minute")
    token = world_for(app)
    with served_port(app) as port:
        for _ in range(2):
            assert session(port, token, [START, {"type": "end"}])[0][0]["type"] == "started"
        with pytest.raises(InvalidStatus) as refused:
            open_stream(port, token)
    assert refused.value.response.status_code == 429


def test_another_doctors_patient_is_not_found(app, port, token, world):
    got, code = session(port, token, [{**START, "patient_id": world.q}])
    assert code == CLOSE_POLICY and f"Patient {world.q} was not found" in got[-1]["detail"]
    got, code = session(port, token, [{**START, "patient_id": 99999}])
    assert code == CLOSE_POLICY and "was not found" in got[-1]["detail"]
    admin = make_token(app, world.users["admin"].id)
    got, code = session(port, admin, [{**START, "patient_id": world.p}])
    assert code == CLOSE_POLICY and "another doctor's" in got[-1]["detail"]


def test_a_plain_get_of_the_stream_is_not_an_upgrade(app, token):
    response = app.test_client().get(STREAM, headers=auth(token))
    assert response.status_code == 400


# ------------------------------------------------------------------ the monitor's socket
AGENT = "ecgad-test-browser"  # the session is bound to its user agent (Flask-Login's strong protection)


def _cookie(app, email: str) -> str:
    client = app.test_client()
    assert login(client, email, headers={"User-Agent": AGENT}).status_code == 302
    return f"ecgad_session={client.get_cookie('ecgad_session').value}"


def test_the_monitor_socket_needs_a_session_and_this_sites_origin(app, port, world):
    url = f"ws://127.0.0.1:{port}/monitor/ws"
    same = f"http://127.0.0.1:{port}"
    with pytest.raises(InvalidStatus) as refused:
        connect(url, origin=same, open_timeout=10)
    assert refused.value.response.status_code == 401
    cookie = _cookie(app, world.users["doctor"].email)
    for origin in ("http://evil.example", f"http://127.0.0.1:{port + 1}", f"https://127.0.0.1:{port}", None):
        with pytest.raises(InvalidStatus) as refused:
            connect(url, origin=origin, additional_headers={"Cookie": cookie}, open_timeout=10,
                     user_agent_header=AGENT)
        assert refused.value.response.status_code == 403, origin
    with connect(url, origin=same, additional_headers={"Cookie": cookie}, open_timeout=10,
                     user_agent_header=AGENT) as ws:
        got, code = talk(ws, [{**START, "patient_id": world.q}])
    assert code == CLOSE_POLICY and "was not found" in got[-1]["detail"]
    with connect(url, origin=same, additional_headers={"Cookie": cookie}, open_timeout=10,
                     user_agent_header=AGENT) as ws:
        ws.send(json.dumps({**START, "patient_id": world.p}))
        started = json.loads(ws.recv(timeout=30))
    assert started["type"] == "started" and started["patient_id"] == world.p


@pytest.fixture
def world_for():
    """A doctor (or 'other', 'admin') and a token of theirs, in an app made with other limits."""
    from webtools import add_user

    def make(app, role: str = "doctor") -> str:
        user = add_user(app, f"{role}@example.org", "admin" if role == "admin" else "doctor")
        return make_token(app, user.id)

    return make


# ------------------------------------------------------------------ ecgad replay
def test_ecgad_replay_prints_each_beat_and_the_summary(app, port, token, world, data_dir):
    from click.testing import CliRunner

    from ecgad.cli import main

    record = str(data_dir / "mitdb" / "208.hea")
    result = CliRunner().invoke(main, ["replay", record, "--url", f"http://127.0.0.1:{port}", "--token", token,
                                       "--speed", "0", "--duration", "60", "--patient", str(world.p)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    beats = [line for line in lines if " RR " in line]
    assert len(beats) > 60 and any(line.endswith("ABNORMAL") for line in beats)
    assert lines[-1].startswith(f"summary: {len(beats)} beats") and "stored as analysis" in lines[-1]

    refused = CliRunner().invoke(main, ["replay", record, "--url", f"http://127.0.0.1:{port}", "--token", "nope"])
    assert refused.exit_code == 2 and "HTTP 401" in refused.output
    mine_not = CliRunner().invoke(main, ["replay", record, "--url", f"127.0.0.1:{port}", "--token", token,
                                         "--speed", "0", "--duration", "10", "--patient", str(world.q)])
    assert mine_not.exit_code == 1 and "was not found" in mine_not.output
