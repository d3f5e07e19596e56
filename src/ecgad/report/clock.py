"""The one clock format of a moment in a recording: the CLI, the HTML reports and the web pages."""
from __future__ import annotations


def clock(seconds: float, decimals: int = 3) -> str:
    """``hh:mm:ss.sss`` (``decimals`` digits of the seconds)."""
    h, rest = divmod(round(float(seconds), decimals), 3600)  # rounded first: 59.96 s is 00:01:00.0
    m, s = divmod(rest, 60)
    return f"{int(h):02d}:{int(m):02d}:{s:0{3 + decimals if decimals else 2}.{decimals}f}"
