"""The one clock format of the CLI, the reports and the web pages."""
from ecgad.report import clock


def test_clock_rounds_before_it_carries() -> None:
    assert clock(3725.4567) == "01:02:05.457" and clock(3725.4567, 1) == "01:02:05.5"
    assert clock(59.96, 1) == "00:01:00.0" and clock(0) == "00:00:00.000"
