"""Helpers for the browser tests (imported by conftest.py and the test modules)."""
from __future__ import annotations

import base64
import os
import re
import sys
from pathlib import Path
from types import SimpleNamespace

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SCREENSHOTS = HERE / "screenshots"
DOCS_SCREENSHOT = ROOT / "docs" / "screenshots" / "analysis.png"
DOCS_RECORDING_SCREENSHOT = ROOT / "docs" / "screenshots" / "recording.png"
EXAMPLES = ROOT / "src" / "ecgad" / "assets" / "examples"
VIEWPORT = {"width": 1280, "height": 800}
ADMIN = SimpleNamespace(email="admin@example.org", name="Ada Admin")
OTHER = SimpleNamespace(email="otto@example.org", name="Dr Otto")

if str(ROOT / "tests" / "web") not in sys.path:  # the web tests' helpers: model data, passwords
    sys.path.insert(0, str(ROOT / "tests" / "web"))

from webtools import FAST_ARGON2, PASSWORD, normal_beats  # noqa: E402


def skip_reason() -> str | None:
    if not CHROMIUM.is_file():
        return (f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium; "
                "`make test` does it as root) to run the browser tests")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing: pip install -e '.[dev]'"
    return None


# Reports CSP violations (with the element that broke the policy) on the console, where BrowserLog sees them.
_CSP_REPORTER = """
document.addEventListener("securitypolicyviolation", function (e) {
  var target = e.target && e.target.nodeType === 1 ? e.target : null;
  console.error("CSP violation: " + JSON.stringify({directive: e.effectiveDirective, blocked: e.blockedURI,
    sample: e.sample, source: e.sourceFile, line: e.lineNumber,
    element: target ? target.tagName.toLowerCase() : null, id: target ? target.id : null}));
});
"""


class BrowserLog:
    """Console errors, uncaught exceptions and CSP violations of one page.

    ``check()`` fails on any that is not allowed by ``allow(regex)``, e.g. the 'Failed to load resource:
    ... 404' of an error page the test asked for; then it starts afresh. None is known to be harmless: the
    pages link the stylesheets plotly.js would inject (which the CSP would block), see ecgad/web/vendor.py.
    """

    def __init__(self, page):
        self.entries: list[str] = []
        self.allowed: list[re.Pattern] = []
        self.ignored: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.entries.append(f"uncaught exception: {error}"))
        page.add_init_script(_CSP_REPORTER)

    def _console(self, message) -> None:
        if message.type == "error":
            location = message.location or {}
            self.entries.append(f"{message.text} [{location.get('url', '')}]")

    def allow(self, pattern: str) -> None:
        self.allowed.append(re.compile(pattern))

    def check(self, where: str = "") -> None:
        unexpected = []
        for entry in self.entries:
            if any(p.search(entry) for p in self.allowed):
                self.ignored.append(entry)
            else:
                unexpected.append(entry)
        self.entries, self.allowed = [], []
        assert not unexpected, f"unexpected browser console errors{' ' + where if where else ''}:\n" + \
            "\n".join(unexpected)


# ------------------------------------------------------------------ screenshots


def screenshot(page, name: str) -> Path:
    """A full-page screenshot, 1280 wide, as tests/browser/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, animations="disabled", caret="hide")
    return path


def docs_screenshot_wanted() -> bool:
    return os.environ.get("ECGAD_UPDATE_DOCS_SCREENSHOT", "").strip().lower() in ("1", "true", "yes", "on")


def update_docs_screenshot(browser, source: Path, width: int = 960, max_bytes: int = 300_000,
                           target: Path = DOCS_SCREENSHOT) -> Path | None:
    """With ECGAD_UPDATE_DOCS_SCREENSHOT=1: ``source`` downscaled (by Chromium's canvas: no image library
    needed) to ``target`` (docs/screenshots/); smaller widths are tried until it is under ``max_bytes``."""
    if not docs_screenshot_wanted():
        return None
    data_url = "data:image/png;base64," + base64.b64encode(source.read_bytes()).decode("ascii")
    context = browser.new_context()
    try:
        scratch = context.new_page()
        scratch.set_content("<!doctype html><title>scale</title>")
        for w in (width, 880, 800, 720, 640):
            png_url = scratch.evaluate("""([src, width]) => new Promise((resolve, reject) => {
                const img = new Image();
                img.onload = () => {
                  const canvas = document.createElement("canvas");
                  canvas.width = width;
                  canvas.height = Math.round(img.naturalHeight * width / img.naturalWidth);
                  const ctx = canvas.getContext("2d");
                  ctx.imageSmoothingEnabled = true;
                  ctx.imageSmoothingQuality = "high";
                  ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
                  resolve(canvas.toDataURL("image/png"));
                };
                img.onerror = () => reject(new Error("the screenshot could not be read"));
                img.src = src;
            })""", [data_url, w])
            png = base64.b64decode(png_url.split(",", 1)[1])
            if len(png) <= max_bytes:
                break
    finally:
        context.close()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(png)
    return target



__all__ = [
    "ADMIN",
    "DOCS_RECORDING_SCREENSHOT",
    "EXAMPLES",
    "FAST_ARGON2",
    "OTHER",
    "PASSWORD",
    "ROOT",
    "VIEWPORT",
    "BrowserLog",
    "docs_screenshot_wanted",
    "normal_beats",
    "screenshot",
    "skip_reason",
    "update_docs_screenshot",
]
