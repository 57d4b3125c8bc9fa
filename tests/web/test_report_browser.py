"""The HTML report opened from disk in headless Chromium: its Plotly charts draw without any
network request."""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "report"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
)


def test_report_charts_render_offline(synthetic_run, tmp_path):
    pytest.importorskip("playwright")
    from playwright.sync_api import sync_playwright

    from payvider.reports.html import write_report

    path = write_report(synthetic_run["workspace"], tmp_path / "report.html")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(path.as_uri())
        n = page.evaluate("document.querySelectorAll('.pv-chart').length")
        assert n >= 8
        page.wait_for_function(
            f"document.querySelectorAll('.pv-chart svg.main-svg').length >= {n}", timeout=30_000
        )
        for chart in page.query_selector_all(".pv-chart"):
            marks = chart.query_selector_all("path.js-line, g.point, g.trace path")
            assert marks, f"chart {chart.get_attribute('data-chart')} has no marks"
        assert [u for u in requests if not u.startswith("file:")] == []
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=False)
        browser.close()
