"""`payvider demo` end to end on a small population: the report is written and the figures it
prints come from the run's tables."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from payvider.cli import app

pytestmark = pytest.mark.slow


def test_demo_writes_the_report_and_prints_the_runs_figures(tmp_path):
    res = CliRunner().invoke(
        app, ["demo", "--dir", str(tmp_path), "--members", "400", "--seed", "5", "--json"]
    )
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    assert (tmp_path / "report.html").exists()
    run_dir = tmp_path / "workspace" / "runs" / payload["run"]["run_id"]
    assert payload["run"]["outputs"]["scope_pmpm"]["rows"] > 0

    *top, total = payload["top_categories"]
    assert total["service_category"] == "all" and len(top) == 3
    assert [r["allowed_pmpm"] for r in top] == sorted(
        (r["allowed_pmpm"] for r in top), reverse=True
    )
    # the total is the partner-attributed scope's allowed dollars of the year over its months
    rows = [
        r
        for r in pq.read_table(run_dir / "scope_pmpm.parquet").to_pylist()
        if r["scope"] == "partner_attributed" and r["month"].year == total["year"]
    ]
    alls = [r for r in rows if r["service_category"] == "all"]
    months = sum(r["member_months"] for r in alls)
    assert total["member_months"] == months
    assert total["allowed_pmpm"] == pytest.approx(
        float(sum(r["allowed_amount"] for r in rows if r["service_category"] != "all")) / months
    )
