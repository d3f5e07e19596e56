"""Shared fixtures, and the opt-in strict mode.

``ECGAD_STRICT_TESTS=1`` (``.ci/run`` sets it where the data sets are) turns every skip into a
failure: a machine that should have the data, PostgreSQL, Redis and the browser must not pass by
skipping what it cannot run. Tests marked ``opt_in`` (run only when asked, like the README
screenshot) still skip.
"""
from __future__ import annotations

import functools
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

STRICT = os.environ.get("ECGAD_STRICT_TESTS") == "1"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "opt_in: runs only when asked for; stays a skip under ECGAD_STRICT_TESTS=1")


def _strict_failure(report) -> None:
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = f"ECGAD_STRICT_TESTS=1 turns this skip into a failure: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    outcome = yield
    report = outcome.get_result()
    if (STRICT and report.skipped and not hasattr(report, "wasxfail")
            and item.get_closest_marker("opt_in") is None):
        _strict_failure(report)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    """Module-level skips (``pytest.skip(..., allow_module_level=True)``) happen at collection."""
    outcome = yield
    report = outcome.get_result()
    if STRICT and report.skipped:
        _strict_failure(report)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real data sets (``ECGAD_DATA_DIR``); tests needing them skip, saying why, without it."""
    value = os.environ.get("ECGAD_DATA_DIR")
    if not value:
        pytest.skip("ECGAD_DATA_DIR is not set: no real data set to test against")
    path = Path(value)
    if not path.is_dir():
        pytest.skip(f"ECGAD_DATA_DIR={value} is not a folder")
    return path


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Tiny models and batches on a small shared machine: one thread is fastest and most predictable
    (and a model's weights, hence its id, depend on the thread count)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # keep test output (and captured stderr) to our own
        pass


@pytest.fixture
def local_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path]]:
    """``(base URL, folder it serves)``: an HTTP server on 127.0.0.1 for the download tests."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)  # a CI proxy must not intercept 127.0.0.1
    root = tmp_path / "served"
    root.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
