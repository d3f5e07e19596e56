"""Browser tests: the real app, served over HTTP by werkzeug in a background thread, driven by
Debian's Chromium (/usr/bin/chromium) through Playwright's sync API.

Production settings stay on: CSRF protection, rate limits, security headers (strict CSP).
Only argon2 is made cheap, and the model is the small one the web tests train (tests/web/webtools.py).

No browser is ever downloaded (no ``playwright install``): without /usr/bin/chromium the tests skip
(``make test`` installs it with apt-get when it can). Full-page screenshots, 1280 pixels wide, go to
tests/browser/screenshots/ (not committed). With ``ECGAD_UPDATE_DOCS_SCREENSHOT=1`` the analysis page's
screenshot is also written, downscaled, to docs/screenshots/analysis.png for the README:

    ECGAD_UPDATE_DOCS_SCREENSHOT=1 ECGAD_DATA_DIR=../shared/data .venv/bin/python -m pytest tests/browser -q
"""
from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from browsertools import (
    ADMIN,
    CHROMIUM,
    CHROMIUM_ARGS,
    EXAMPLES,
    FAST_ARGON2,
    OTHER,
    PASSWORD,
    ROOT,
    VIEWPORT,
    BrowserLog,
    docs_screenshot_wanted,
    normal_beats,
    skip_reason,
)
from servers import served

# ------------------------------------------------------------------ the app


@pytest.fixture(scope="session")
def browser_model_path(tmp_path_factory) -> Path:
    """The web tests' small model: 3 epochs on ECG5000 normals (ECGAD_DATA_DIR) or synthetic beats.

    For the README's screenshot (ECGAD_UPDATE_DOCS_SCREENSHOT=1): the model shipped with ecgad when there
    is one, else one trained for longer on ECG5000's normal beats, so that its reconstructions look right.
    """

    from ecgad.detector import SHIPPED_MODEL, Detector
    from ecgad.train import TrainConfig

    epochs = 3
    if docs_screenshot_wanted():
        shipped = ROOT / "src" / "ecgad" / "assets" / SHIPPED_MODEL
        if shipped.is_file():
            return shipped
        if not os.environ.get("ECGAD_DATA_DIR"):
            pytest.fail("ECGAD_UPDATE_DOCS_SCREENSHOT=1 needs the shipped model or ECGAD_DATA_DIR (ECG5000), "
                        "or the screenshot would show a model trained on synthetic beats")
        epochs = 200
    detector = Detector(train_config=TrainConfig(epochs=epochs)).fit(normal_beats(), progress=False)
    return detector.save(tmp_path_factory.mktemp("browser-model") / "test-model.safetensors")


@pytest.fixture(scope="session")
def expected(browser_model_path) -> dict[str, list[bool]]:
    """What the model says about each example file, beat by beat (True: anomalous); the pages must agree."""
    from ecgad.data.beatfile import read_beats
    from ecgad.detector import load_detector

    detector = load_detector(browser_model_path)
    return {name: [bool(v.is_anomaly) for v in detector.predict(read_beats(EXAMPLES / f"{name}_beats.csv"))]
            for name in ("normal", "abnormal")}


class LiveServer(SimpleNamespace):
    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def count(self, model_name: str) -> int:
        from sqlalchemy import func, select

        from ecgad.web import models
        from ecgad.web.extensions import db

        with self.app.app_context():
            model = getattr(models, model_name)
            return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture(scope="module")
def live_server(tmp_path_factory, browser_model_path):
    """The app on a fresh SQLite database in tmp, at http://127.0.0.1:<free port>, with an admin and a
    second doctor ('otto') made by the account code (the first doctor is made in the UI by the test).
    One per test module: each module's scenario (and the audit log it checks) starts from a clean slate."""
    from ecgad.web import create_app
    from ecgad.web.accounts import create_user
    from ecgad.web.detection import forget_detectors
    from ecgad.web.extensions import db

    instance = tmp_path_factory.mktemp("browser-instance")
    app = create_app({
        "INSTANCE_PATH": str(instance),
        "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(instance / "ecgad.sqlite3"),
        "SECRET_KEY": "browser-test-secret-key-not-for-production",
        "MODEL_PATH": str(browser_model_path),
        "WTF_CSRF_ENABLED": True,  # as in production
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "memory://",
        "SESSION_COOKIE_SECURE": False,  # plain http on 127.0.0.1
        "REMEMBER_COOKIE_SECURE": False,
        "PROXY_COUNT": 0,
        **FAST_ARGON2,
    })
    with app.app_context():
        create_user(ADMIN.email, PASSWORD, "admin", ADMIN.name, via="browser tests")
        create_user(OTHER.email, PASSWORD, "doctor", OTHER.name, via="browser tests")

    with served(app, "ecgad-browser-tests") as base_url:
        yield LiveServer(app=app, base_url=base_url)
    forget_detectors()
    with app.app_context():
        db.engine.dispose()


# ------------------------------------------------------------------ the browser


@pytest.fixture(scope="session")
def browser():
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser profile (no cookies) on the live app; ``page.log`` is its BrowserLog."""
    context = browser.new_context(base_url=live_server.base_url, viewport=VIEWPORT, locale="en-GB",
                                  timezone_id="UTC")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.log = BrowserLog(page)
    try:
        yield page
        page.log.check("at the end of the test")
    finally:
        context.close()
