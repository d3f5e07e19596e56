"""The HTML report shell: every header fact and note escaped, the body kept as HTML."""
from ecgad.report import REPORT_STYLE, report_page


def test_report_page_escapes_the_header_and_keeps_the_body() -> None:
    page = report_page("a <b>", {"x&y": "<1>"}, "<p>body</p>", notes=["n<"])
    assert "<title>a &lt;b&gt;</title>" in page and "<dt>x&amp;y</dt><dd>&lt;1&gt;</dd>" in page
    assert '<p class="note">n&lt;</p>' in page and "<p>body</p>" in page and REPORT_STYLE in page
