"""The shell of every HTML report (``ecgad evaluate --report``, ``ecgad analyze --report``): one
self-contained page with its stylesheet, a header of facts and notes, then the report's own body."""
from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

REPORT_STYLE = """\
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a; margin: 0 auto;
       max-width: 1100px; padding: 1.5rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .25rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; padding-bottom: .25rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dt { color: #555; } dd { margin: 0; }
.table { overflow-x: auto; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: .85rem; }
th, td { padding: .3rem .5rem; border-bottom: 1px solid #e5e5e5; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
tr.mean td { font-weight: 600; border-top: 2px solid #999; }
tr.std td { color: #555; }
.note { background: #fff6e0; border-left: 4px solid #E69F00; padding: .5rem .8rem; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 1rem; }
.figures > div { min-width: 0; }  /* else a plot sizes its cell instead of the cell sizing the plot */
"""

_DOCUMENT = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
{style}</style>
</head>
<body>
<header>
<h1>{title}</h1>
<dl>{header}</dl>
{notes}
</header>
{body}
</body>
</html>
"""


def report_page(title: str, header: Mapping[str, str], body: str, notes: Sequence[str] = ()) -> str:
    """One self-contained HTML report: ``title``, a list of ``header`` facts and notes (all escaped
    here), then ``body`` (HTML)."""
    return _DOCUMENT.format(
        style=REPORT_STYLE, title=html.escape(title), body=body,
        header="".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in header.items()),
        notes="".join(f'<p class="note">{html.escape(n)}</p>' for n in notes))
