"""What the HTML reports and the web pages draw alike: :mod:`.page` (the report shell and its style),
:mod:`.clock` (the clock format) and :mod:`.figures` (every Plotly figure and PLOT_CONFIG).

The figures are not imported here, so that the shell and the clock come without Plotly.
"""
from __future__ import annotations

from .clock import clock
from .page import REPORT_STYLE, report_page

__all__ = ["REPORT_STYLE", "clock", "report_page"]
