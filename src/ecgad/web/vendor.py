"""Plotly.js, served by the app itself from the plotly package: no CDN, works offline.

Plotly.js normally injects its stylesheet at run time (``<style>`` elements), which a
strict Content-Security-Policy (``style-src 'self'``) blocks. Plotly.js skips that when
the page has a stylesheet with id ``plotly.js-style-global`` and class
``no-inline-styles``; ``plotly_css`` builds that stylesheet from the rules inside the
installed plotly.min.js, so it always matches the script's version.

Plotly.js also adds, as it loads, a ``<style>`` element of its own for map traces
(maplibre-gl's stylesheet), unless the page already has an element with that
style's id. ``plotly_injected_styles`` finds these in the script, so that a page can
link each as a stylesheet under its id: the CSP stays strict and the console clean.

The script is 4.8 MB; ``plotly_script`` reads it once per process and gzips it once (1.5 MB, about
0.3 s), so that no request compresses it again, and names its version by a digest of its bytes:
pages link it as ``/vendor/plotly.min.js?v=<digest>``, which browsers may then keep for good.
"""
from __future__ import annotations

import gzip
import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

_STRING = r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\''
_PAIR = re.compile(rf"\s*({_STRING}|[A-Za-z_$][\w$]*)\s*:\s*({_STRING})\s*,?")  # minifiers unquote some keys
_ESCAPE = re.compile(r"\\(.)")
_STYLE_INJECTION = re.compile(
    rf'createElement\("style"\);(\w+)\.id="([\w-]+)",\1\.textContent=({_STRING})')


def plotly_js_path() -> Path:
    return Path(str(files("plotly") / "package_data" / "plotly.min.js"))


@dataclass(frozen=True)
class Script:
    """A file served as it is and gzipped, under a version that changes with its bytes."""

    data: bytes
    gzipped: bytes
    version: str  # the first 16 hex digits of the SHA-256 of ``data``


@lru_cache(maxsize=1)
def plotly_script() -> Script:
    data = plotly_js_path().read_bytes()
    return Script(data=data, gzipped=gzip.compress(data, compresslevel=9, mtime=0),
                  version=hashlib.sha256(data).hexdigest()[:16])


def _unquote(literal: str) -> str:
    if literal[:1] not in ("'", '"'):
        return literal
    return _ESCAPE.sub(lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), literal[1:-1])


def extract_rules(script: str) -> dict[str, str]:
    """The ``{selector: declarations}`` rules plotly.js would inject ('X' and 'Y' expanded)."""
    anchor = script.find('"X,X div":')
    if anchor < 0:
        return {}
    rules: dict[str, str] = {}
    position = anchor
    while True:
        match = _PAIR.match(script, position)
        if not match:
            break
        selector = _unquote(match.group(1))
        selector = re.sub(r"^,", " ,", selector).replace("X", ".js-plotly-plot .plotly").replace(
            "Y", ".plotly-notifier")
        rules[selector] = _unquote(match.group(2))
        position = match.end()
    return rules


@lru_cache(maxsize=1)
def plotly_css() -> str:
    script = plotly_js_path().read_text(encoding="utf-8")
    rules = extract_rules(script)
    lines = ["/* plotly.js rules, taken from the installed plotly.min.js (see ecgad/web/vendor.py) */"]
    lines += [f"{selector}{{{declarations}}}" for selector, declarations in rules.items()]
    return "\n".join(lines) + "\n"


@lru_cache(maxsize=1)
def plotly_injected_styles() -> dict[str, str]:
    """``{element id: CSS}`` of the ``<style>`` elements plotly.min.js adds by itself when it loads."""
    script = plotly_js_path().read_text(encoding="utf-8")
    return {m.group(2): _unquote(m.group(3)) for m in _STYLE_INJECTION.finditer(script)}
