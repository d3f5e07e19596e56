"""The app itself: configuration, secret key, security headers, error pages, vendored Plotly."""
from __future__ import annotations

import os
import stat

import pytest
from webtools import BASE_CONFIG


@pytest.mark.parametrize("path", ["/login", "/no/such/page", "/static/css/ecgad.css", "/vendor/plotly.css",
                                  "/healthz", "/patients"])
def test_security_headers_everywhere(app, path):
    response = app.test_client().get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_pages_have_no_inline_script_or_style(client_for, world):
    client = client_for("doctor")
    for path in ("/login", "/patients", f"/patients/{world.p}", f"/patients/{world.p}/edit",
                 f"/analyses/{world.a}", "/account/password"):
        text = client.get(path).text
        assert "<script>" not in text and "<style" not in text and " style=" not in text, path
        assert "onclick=" not in text and "javascript:" not in text, path
        assert "http://" not in text and "https://" not in text, path  # nothing from elsewhere


def test_private_pages_are_not_cached(client_for, world):
    response = client_for("doctor").get(f"/patients/{world.p}")
    assert response.headers["Cache-Control"] == "no-store"


def test_main_routes_are_a_blueprint_and_only_public_files_are_cached(app, client_for, world):
    """/, /healthz and /vendor/... come from the ``main`` blueprint; only files alike for everyone
    (static, Plotly's) may be kept by browsers (static revalidated: Flask's default), every page is no-store."""
    from ecgad.web.vendor import plotly_injected_styles

    urls = app.url_map.bind("localhost")
    style = next(iter(plotly_injected_styles()))
    cached = {"/static/css/ecgad.css": "static", "/vendor/plotly.min.js": "main.vendor_plotly",
              "/vendor/plotly.css": "main.vendor_plotly_css",
              f"/vendor/plotly-style/{style}.css": "main.vendor_plotly_injected_css"}
    assert urls.match("/")[0] == "main.index" and urls.match("/healthz")[0] == "main.healthz"
    client = client_for("doctor")
    for path, endpoint in cached.items():
        response = client.get(path)
        assert response.status_code == 200 and urls.match(path)[0] == endpoint, path
        assert "no-store" not in response.headers["Cache-Control"], path
        assert path.startswith("/static/") or "max-age" in response.headers["Cache-Control"], path
        response.close()
    assert client.get("/").location == "/patients" and app.test_client().get("/").location.startswith("/login")
    assert client.get("/healthz").headers["Cache-Control"] == "no-store"
    page = client.get(f"/analyses/{world.a}").text  # templates link to main's endpoints
    assert 'src="/vendor/plotly.min.js?v=' in page and 'href="/vendor/plotly.css"' in page and 'href="/"' in page


def test_plotly_served_locally(app):
    client = app.test_client()
    script = client.get("/vendor/plotly.min.js")
    assert script.status_code == 200 and script.mimetype == "text/javascript" and b"plotly.js" in script.data[:200]
    script.close()
    css = client.get("/vendor/plotly.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    # the rules plotly.js would otherwise inject (and our CSP would block) are all there
    assert css.text.count("{") > 50
    assert ".js-plotly-plot .plotly .main-svg{position:absolute" in css.text
    assert ".js-plotly-plot .plotly .modebar{" in css.text and ".plotly-notifier{" in css.text


def test_error_pages_are_friendly(app):
    @app.get("/boom")
    def boom():
        raise RuntimeError("kaboom")

    app.testing = False  # let the 500 handler answer instead of the exception propagating
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    response = client.get("/boom")
    assert response.status_code == 500 and "Something went wrong" in response.text and "kaboom" not in response.text
    assert 'data-testid="error-page"' in response.text and "Content-Security-Policy" in response.headers
    missing = client.get("/nothing-here")
    assert missing.status_code == 404 and "Not found" in missing.text
    api = client.get("/api/nothing", headers={"Accept": "application/json"})
    assert api.status_code == 404 and api.get_json()["status"] == 404


def test_secret_key_generated_once_with_mode_600(tmp_path, model_path):
    from ecgad.web import create_app

    config = {k: v for k, v in BASE_CONFIG.items() if k != "SECRET_KEY"}
    instance = tmp_path / "inst"
    app = create_app({**config, "INSTANCE_PATH": str(instance), "MODEL_PATH": str(model_path)})
    key_file = instance / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(app.config["SECRET_KEY"]) >= 64
    again = create_app({**config, "INSTANCE_PATH": str(instance), "MODEL_PATH": str(model_path)})
    assert again.config["SECRET_KEY"] == app.config["SECRET_KEY"]
    assert (instance / "ecgad.sqlite3").exists()  # SQLite in the instance folder by default
    assert not [p for p in instance.iterdir() if p.name.startswith(".secret_key")]


def test_environment_configuration(tmp_path, model_path, monkeypatch):
    from ecgad.web import create_app

    monkeypatch.setenv("ECGAD_INSTANCE_PATH", str(tmp_path / "from-env"))
    monkeypatch.setenv("ECGAD_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("ECGAD_MODEL_PATH", str(model_path))
    monkeypatch.setenv("ECGAD_RATELIMIT_STORAGE_URL", "memory://")
    config = {k: v for k, v in BASE_CONFIG.items() if k != "SECRET_KEY"}
    app = create_app(config)
    assert app.instance_path == str(tmp_path / "from-env")
    assert app.config["SECRET_KEY"] == "k" * 40 and not (tmp_path / "from-env" / "secret_key").exists()
    assert app.config["MODEL_PATH"] == str(model_path)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'from-env' / 'ecgad.sqlite3'}"


def test_database_url_uses_psycopg():
    from ecgad.web.config import database_url

    assert database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_first_admin_hint(app):
    from webtools import add_user

    from ecgad.web import first_admin_hint

    hint = first_admin_hint(app)
    assert hint and "ecgad users create" in hint and "--role admin" in hint
    add_user(app, "admin@example.org", "admin")
    assert first_admin_hint(app) is None


def test_detector_loaded_once_per_process(app, client_for, world):
    from ecgad.web import detection

    detection.forget_detectors()
    client = client_for("doctor")
    client.post(f"/patients/{world.p}/analyses/example/normal")
    loaded = dict(detection._models)
    assert len(loaded) == 1
    client.post(f"/patients/{world.p}/analyses/example/abnormal")
    assert dict(detection._models) == loaded  # the same object, not reloaded


def test_clean_filename():
    from ecgad.web.analyses.service import clean_filename

    assert clean_filename("C:\\Users\\me\\day 1.csv") == "day 1.csv"
    assert clean_filename("../../etc/passwd\x00.csv") == "passwd.csv"
    assert clean_filename("") == "upload" and clean_filename(None) == "upload"
    assert len(clean_filename("a" * 400 + ".csv")) == 255


def test_no_pickle_in_the_web_package():
    from pathlib import Path

    import ecgad.web

    root = Path(ecgad.web.__file__).parent
    for path in root.rglob("*.py"):
        text = path.read_text()
        assert "import pickle" not in text and "torch.load" not in text, path


def test_instance_folder_is_private(app):
    assert stat.S_IMODE(os.stat(app.instance_path).st_mode) == 0o700


def test_nul_characters_are_refused(client_for, world):
    client = client_for("doctor")
    assert client.get("/patients?q=a%00b").status_code == 400
    assert client.get("/patients?q=ok&q=a%00b").status_code == 400
    assert client.post("/patients/new", data={"name": "a\x00b", "identifier": "x"}).status_code == 400
    assert client.post("/login", data={"email": "a\x00@example.org", "password": "x"}).status_code == 400
