"""The shape of the web layer (issue 9): blueprints import no view of one another in a cycle, even
inside functions; beat-file and recording views are separate (dispatched once, by the analysis's
kind, not switched on ``is_recording``); access rules live in ``ecgad.web.access`` alone."""
from __future__ import annotations

import ast
from pathlib import Path

import ecgad.web

WEB = Path(ecgad.web.__file__).parent
BLUEPRINTS = sorted(p.parent.name for p in WEB.glob("*/__init__.py") if "Blueprint(" in p.read_text())


def _imports(path: Path) -> set[str]:
    """Dotted names (under ecgad.web) that ``path`` imports anywhere, functions included."""
    package = ["ecgad", *path.relative_to(WEB.parent.parent).parent.parts[1:]]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            found |= {module} | {f"{module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {name for name in found if name.startswith("ecgad.web.")}


def _blueprint_of(name: str) -> str | None:
    parts = name.split(".")
    return parts[2] if len(parts) > 2 and parts[2] in BLUEPRINTS else None


def test_blueprints_import_one_another_without_cycles():
    edges = {bp: set() for bp in BLUEPRINTS}
    for bp in BLUEPRINTS:
        for path in (WEB / bp).glob("*.py"):
            edges[bp] |= {other for name in _imports(path) if (other := _blueprint_of(name)) not in (None, bp)}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})) for nxt in edges[start])

    assert {"analyses", "patients", "auth", "admin"} <= set(BLUEPRINTS)
    assert [bp for bp in BLUEPRINTS if reaches(bp, bp, {bp})] == []


def test_beat_file_and_recording_views_are_separate():
    analyses = WEB / "analyses"
    beat_views, recording_views = _imports(analyses / "beat_views.py"), _imports(analyses / "recording_views.py")
    assert not any(name.startswith(("ecgad.web.analyses.views", "ecgad.web.analyses.recording_views"))
                   for name in beat_views)
    assert not any(name.startswith(("ecgad.web.analyses.views", "ecgad.web.analyses.beat_views"))
                   for name in recording_views)
    for path in WEB.rglob("*views.py"):
        assert "is_recording" not in path.read_text(), path


def test_access_rules_live_in_one_module():
    for path in WEB.rglob("*.py"):
        if path.name != "access.py":
            text = path.read_text()
            assert not any(f"def {name}(" in text for name in ("visible_patient", "own_patient", "visible_analysis")), \
                path
