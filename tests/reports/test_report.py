"""The HTML report of a run: one self-contained file with the cost and quality pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from payvider.engine.runs import run_pipeline
from payvider.engine.workspace import Workspace
from payvider.ingest import load_batch
from payvider.reports.html import write_report

FIXTURE = Path(__file__).parents[1] / "fixtures" / "cost"


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("report")
    ws = Workspace(root / "ws", create=True)
    load_batch(ws, FIXTURE)
    run_pipeline(ws)
    return write_report(ws, root / "report.html").read_text(encoding="utf-8")


def test_report_is_self_contained(page):
    assert page.startswith("<!doctype html>")
    # Plotly's inlined source mentions links in its own strings; the page itself loads nothing.
    markup = re.sub(r"<script>.*?</script>", "", page, flags=re.S)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", markup)
    assert "<script src" not in page


def test_report_carries_the_dashboard_charts(page):
    for title in ("PMPM against the market", "Service categories", "Quality measures"):
        assert f'data-chart="{title}"' in page
    assert "Plotly.newPlot" in page


def test_report_has_the_cost_pages_with_hand_computed_figures(page):
    for heading in (
        "Cost of care",
        "PMPM by service category",
        "Utilization per 1,000 members",
        "Leakage",
        "CMS-HCC risk scores",
        "Claims completion",
        "High-cost claimant truncation",
    ):
        assert heading in page, heading
    # tests/fixtures/cost/SOURCE.txt: partner-attributed 2024 allowed 21,370 over 12 months;
    # in-system share 14,910 / 21,370 = 69.8%; the rival system is the top destination
    assert "1,780.83" in page
    assert "69.8%" in page
    assert "Rival Health" in page
    # by service category: A's 2024 acute stays 19,000 over A's 12 partner-attributed months and
    # over all 18 member months (A and B); A's year, pharmacy included, 21,400 / 12
    assert "partner-attributed 2024" in page
    assert "1,583.33" in page and "1,055.56" in page and "1,783.33" in page


def test_report_has_the_quality_page(page):
    assert "<h2>Quality</h2>" in page
    assert "readmission_30d" in page


def test_composite_sdoh_and_experience_sections(tmp_path):
    """Hand-made run tables: the total composite first, small SDOH cells suppressed."""
    import datetime as dt
    from decimal import Decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    from payvider.engine.backends import DuckDBEngine
    from payvider.measures.quality.composite import SCHEMA as COMPOSITE
    from payvider.measures.quality.sdoh import SUMMARY_SCHEMA as SDOH
    from payvider.reports.social_section import social_sections

    def rows(schema, values):
        base = {n: None for n in schema.names}
        return pa.Table.from_pylist([{**base, **v} for v in values], schema=schema.to_pyarrow())

    day = dt.date(2024, 1, 1)
    common = {"period": "2024", "period_start": day, "period_end": day}
    pq.write_table(
        rows(
            COMPOSITE,
            [
                {
                    **common,
                    "level": "organization",
                    "organization_id": "ORG1",
                    "score": Decimal("12.50"),
                    "measures_scored": 1,
                    "measures_configured": 9,
                },
                {
                    **common,
                    "level": "total",
                    "score": Decimal("81.25"),
                    "measures_scored": 7,
                    "measures_configured": 9,
                },
            ],
        ),
        tmp_path / "quality_composite.parquet",
    )
    pq.write_table(
        rows(
            SDOH,
            [
                {
                    **common,
                    "level": "total",
                    "domain": "food",
                    "screened_members": 40,
                    "positive_rate": 0.25,
                    "members_with_need": 10,
                    "referral_rate": 0.5,
                    "small_cell": False,
                },
                {
                    **common,
                    "level": "total",
                    "domain": "housing",
                    "screened_members": 7,
                    "positive_rate": 0.2,
                    "members_with_need": 2,
                    "referral_rate": 1.0,
                    "small_cell": True,
                },
            ],
        ),
        tmp_path / "sdoh_summary.parquet",
    )
    eng = DuckDBEngine()
    page = social_sections(eng, tmp_path)
    eng.close()
    assert page.index("81.25") < page.index("12.50")  # total before organizations
    assert "all members" in page and "7 of 9" in page
    assert '<td>food</td><td class="n">40</td><td class="n">25.0%</td>' in page
    assert '<td>housing</td><td class="n">&lt;11</td>' in page
    assert "Patient experience" not in page  # no experience table in this run
