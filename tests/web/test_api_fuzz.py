"""Schema-driven fuzzing of the whole API (schemathesis) against our own OpenAPI document
(``/api/v1/openapi.json``): every operation, with a doctor's valid token and with none, on the real
app and a real SQLite database holding a patient, a beat analysis and a recording. No answer may be
a 5xx; errors must be problem+json. Bounded: ``MAX_EXAMPLES`` cases per operation and way of
authenticating (the whole module well under 3 minutes on 2 cores)."""
from __future__ import annotations

import io
import os
from types import SimpleNamespace

import pytest
from apitools import PROBLEM, auth, make_token
from heartbeats import synthetic_ecg
from hypothesis import HealthCheck, settings

schemathesis = pytest.importorskip("schemathesis")

MAX_EXAMPLES = int(os.environ.get("ECGAD_FUZZ_EXAMPLES", "40"))
FUZZ_SETTINGS = settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
                         suppress_health_check=list(HealthCheck))


@pytest.fixture
def fuzzed(app, world) -> SimpleNamespace:
    """The app with the world's doctor's token and a recording analysis beside the beat analysis."""
    token = make_token(app, world.users["doctor"].id)
    x, _peaks = synthetic_ecg("N" * 20, 250.0)
    csv = ("II\n" + "".join(f"{v:.5f}\n" for v in x)).encode()
    created = app.test_client().post(f"/api/v1/patients/{world.p}/analyses", headers=auth(token),
                                     data={"files": [(io.BytesIO(csv), "holter.csv")], "fs": "250"},
                                     content_type="multipart/form-data")
    assert created.status_code == 201, created.text
    return SimpleNamespace(app=app, headers=auth(token))


def _problems(operation, headers: dict) -> list[str]:
    """Fuzz ``operation`` with valid (positive) and invalid (negative) cases; what went wrong, by case:
    a 5xx, an error that is not problem+json, or (without a token) anything but an error."""
    from hypothesis import given
    from hypothesis import strategies as st
    from schemathesis import GenerationMode

    found: list[str] = []

    @given(case=st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                          operation.as_strategy(GenerationMode.NEGATIVE)))
    @FUZZ_SETTINGS
    def run(case):
        response = case.call(headers=headers)
        status = response.status_code
        kind = (response.headers.get("content-type") or [""])[0]  # schemathesis: lower-case keys, lists
        if status >= 500 or (status >= 400 and not kind.startswith(PROBLEM)):
            found.append(f"{status} {kind}: {case.as_curl_command()} -> {response.text[:300]}")
        elif not headers and operation.path != "/api/v1/health" and status < 400:
            found.append(f"{status} without a token: {case.as_curl_command()}")

    run()
    return found


@pytest.mark.parametrize("with_token", [True, False], ids=["token", "no-token"])
def test_fuzz_every_operation(fuzzed, with_token):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzzed.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20  # 12, and the review's 8
    problems = []
    for operation in operations:
        problems += _problems(operation, fuzzed.headers if with_token else {})
    assert not problems, "\n".join(problems[:20])
