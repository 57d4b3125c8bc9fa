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
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)


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


def test_report_has_the_quality_page(page):
    assert "<h2>Quality</h2>" in page
    assert "readmission_30d" in page
