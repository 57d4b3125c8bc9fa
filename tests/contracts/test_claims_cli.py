"""payvider settle in claims mode on a generated population: the drill-down sums to the
settlement's actual expenditure to the cent, agrees with the run's own cost figures, and every
kept settlement reproduces (or shows what differs)."""

from __future__ import annotations

import json
from decimal import Decimal

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from payvider.cli import app
from tests.contracts.test_settle_cli import HEADER

D = Decimal


def _settle(ws, *args):
    return CliRunner().invoke(app, ["settle", "--workspace", str(ws.root), *args])


@pytest.fixture(scope="module")
def settled(synthetic_run):
    ws = synthetic_run["workspace"]
    r = _settle(
        ws, "-c", "seed:aco-metro-trend", "--year", "2025", "--quality-score", "75", "--json"
    )
    assert r.exit_code == 0, r.output
    record = json.loads(r.stdout)
    return ws, record, ws.root / "settlements" / record["settlement_id"], synthetic_run["run"]


def _item(record, name):
    [s] = record["settlements"]
    return D(next(li["amount"] for li in s["line_items"] if li["name"] == name))


def test_drilldown_sums_to_the_actual_expenditure_to_the_cent(settled):
    _, record, folder, _ = settled
    actual = _item(record, "actual_expenditure")
    lines = pq.read_table(folder / "drilldown_lines.parquet")
    members = pq.read_table(folder / "drilldown_members.parquet")
    assert sum(lines["amount"].to_pylist(), D(0)) == actual
    assert sum(members["counted_amount"].to_pylist(), D(0)) == actual
    # per member: claim lines minus the truncation row = counted amount
    per_member: dict[str, Decimal] = {}
    for m, a in zip(lines["member_id"].to_pylist(), lines["amount"].to_pylist(), strict=True):
        per_member[m] = per_member.get(m, D(0)) + a
    for r in members.to_pylist():
        assert per_member.get(r["member_id"], D(0)) == r["counted_amount"]
        assert r["amount"] - r["excess_removed"] == r["counted_amount"]
    assert lines.num_rows > 1000 and record["drilldown"]["lines_amount"] == str(actual)


def test_claims_figures_agree_with_the_runs_cost_trend(settled):
    """Independent path: the run's cost_trend (member_month_cost, medical allowed) of the
    partner-attributed scope gives the same member months and pre-truncation dollars."""
    _, record, _, run = settled
    [trend] = [
        r
        for r in pq.read_table(run / "cost_trend.parquet").to_pylist()
        if r["scope"] == "partner_attributed" and r["year"] == 2025
    ]
    d = record["details"]
    assert d["member_months"] == trend["member_months"]
    assert D(d["expenditure_before_truncation"]) == trend["allowed_amount"]
    # truncation at the 99th percentile (nearest rank): at most 1% of members lose dollars
    assert record["drilldown"]["truncated_members"] <= d["members"] // 100
    assert D(d["truncation_excess"]) == D(d["expenditure_before_truncation"]) - _item(
        record, "actual_expenditure"
    )


def test_settlement_is_kept_and_reproduces(settled):
    ws, record, folder, _ = settled
    assert {p.name for p in folder.iterdir()} >= {
        "settlement.json",
        "contract.yaml",
        "drilldown_members.parquet",
        "drilldown_members.csv",
        "drilldown_lines.parquet",
    }
    assert record["run"]["run_id"] == ws.latest_run().name
    r = _settle(ws, "--reproduce", record["settlement_id"])
    assert r.exit_code == 0, r.output
    assert "identical" in r.stdout


def test_a_changed_record_does_not_reproduce(settled, tmp_path):
    ws, record, folder, _ = settled
    path = folder / "settlement.json"
    original = path.read_text()
    try:
        changed = json.loads(original)
        items = changed["settlements"][0]["line_items"]
        li = next(li for li in items if li["name"] == "actual_expenditure")
        li["amount"] = str(D(li["amount"]) + D("0.01"))
        path.write_text(json.dumps(changed))
        r = _settle(ws, "--reproduce", record["settlement_id"], "--json")
        assert r.exit_code == 1
        out = json.loads(r.stdout)
        assert out["identical"] is False
        assert [d["item"] for d in out["differences"]] == ["all 2025: actual_expenditure"]
    finally:
        path.write_text(original)
    contract = folder / "contract.yaml"
    text = contract.read_text()
    try:
        contract.write_text(text.replace("sharing_rate: 0.50", "sharing_rate: 0.60"))
        r = _settle(ws, "--reproduce", record["settlement_id"])
        assert r.exit_code == 1 and "contract.yaml sha256" in r.stdout
    finally:
        contract.write_text(text)


def test_quality_gate_reads_the_runs_composite_score(synthetic_run):
    r = _settle(
        synthetic_run["workspace"], "-c", "seed:aco-metro-trend", "--year", "2025", "--json"
    )
    assert r.exit_code == 0, r.output
    record = json.loads(r.stdout)
    composite = [
        row
        for row in pq.read_table(synthetic_run["run"] / "quality_composite.parquet").to_pylist()
        if row["level"] == "total" and row["period"] == "2025"
    ]
    [row] = composite
    assert D(record["figures"][0]["quality_score"]) == D(str(row["score"])).quantize(D("0.01"))


def test_quality_gate_without_a_score_is_a_usage_error(synthetic_run, tmp_path):
    import shutil

    from payvider.engine.workspace import Workspace

    copy = tmp_path / "ws"
    shutil.copytree(synthetic_run["workspace"].root, copy)
    for run in (copy / "runs").iterdir():
        (run / "quality_composite.parquet").unlink(missing_ok=True)
    r = _settle(Workspace(copy), "-c", "seed:aco-metro-trend", "--year", "2025")
    assert r.exit_code == 2
    assert "--quality-score" in r.output


def test_settlement_report_is_self_contained_and_totals_match(settled, tmp_path):
    ws, record, _, _ = settled
    out = tmp_path / "settlement.html"
    r = _settle(
        ws,
        "-c",
        "seed:six-year-tcoc",
        "--year",
        "2025",
        "--quality-score",
        "75",
        "--report",
        str(out),
    )
    assert r.exit_code == 0, r.output
    page = out.read_text()
    assert "<svg" in page and "they match to the cent" in page
    assert "followup_7d" in page  # the outcome pool's scorecard
    assert "src=" not in page and "http" not in page.replace("http-equiv", "")


def test_summary_mode_with_a_workspace_is_kept_and_reproduces(synthetic_run, tmp_path):
    ws = synthetic_run["workspace"]
    p = tmp_path / "aco.csv"
    p.write_text(
        HEADER
        + "A1,2023,ENHANCED,74992,966116777,903712089,2.00,2.00,89.41,true,false,low,2019-07-01,,\n"
    )
    r = _settle(ws, "-c", "mssp:2023", "--summary", str(p), "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)[0]["earned_shared_savings_losses"] == 45867446
    kept = sorted((ws.root / "settlements").iterdir())
    sid = next(
        d.name for d in kept if json.loads((d / "settlement.json").read_text())["mode"] == "summary"
    )
    r = _settle(ws, "--reproduce", sid)
    assert r.exit_code == 0 and "identical" in r.stdout
