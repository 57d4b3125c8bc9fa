"""`payvider worklist` on the session's synthetic run: every list present, rows consistent with
the run's other tables, CSV export and usage errors."""

from __future__ import annotations

import csv
import json

import pyarrow.parquet as pq
from typer.testing import CliRunner

from payvider.care.worklists import WORKLISTS
from payvider.cli import app

runner = CliRunner()


def _table(run, name):
    return pq.read_table(run / f"{name}.parquet").to_pylist()


def test_worklists_of_a_synthetic_run(synthetic_run, tmp_path):
    ws, run = synthetic_run["workspace"].root, synthetic_run["run"]
    res = runner.invoke(app, ["worklist", "-w", str(ws), "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    by_list: dict[str, list[dict]] = {}
    for r in rows:
        by_list.setdefault(r["worklist"], []).append(r)
    # high_mme_opioid needs the opioid high-dosage measure, which may have no members.
    expected = set(WORKLISTS) - {"high_mme_opioid"}
    assert expected <= set(by_list)
    for name, items in by_list.items():
        assert sorted(r["priority"] for r in items) == list(range(1, len(items) + 1)), name
        assert all(r["reason"] for r in items)

    # Steerable leakage: partner-attributed members only, alternatives are partner providers in
    # the member's 3-digit zip area.
    year = max(r["period"] for r in _table(run, "attribution"))
    partner = {
        r["member_id"]
        for r in _table(run, "attribution")
        if r["period"] == year and r["partner_flag"]
    }
    providers = {
        r["npi"]: r for r in pq.read_table(synthetic_run["data"] / "provider.parquet").to_pylist()
    }
    for r in by_list["steerable_leakage"]:
        assert r["member_id"] in partner
        assert providers[r["alternative_npi"]]["partner_network_flag"]

    # Discharges without follow-up: the 7-day measure's home discharges of the last 90 days whose
    # 7 days are over, including those the measure leaves out for being in its last 30 days.
    due = {
        r["event_id"]
        for r in _table(run, "quality_member")
        if r["measure_id"] == "followup_7d"
        and r["period"] == str(year)
        and not r["in_numerator"]
        and r["exclusion_reason"] in (None, "discharge_in_last_30_days")
        and f"{year}-10-02" < str(r["event_date"]) <= f"{year}-12-24"
    }
    assert len(due) == len(by_list["discharge_no_followup"]) > 0
    late = [r for r in by_list["discharge_no_followup"] if r["event_date"] > f"{year}-12-01"]
    assert late, "December discharges are on the list although the measure excludes them"

    out = tmp_path / "gaps.csv"
    res = runner.invoke(
        app, ["worklist", "-w", str(ws), "--list", "care_gap", "--out", str(out), "--limit", "3"]
    )
    assert res.exit_code == 0, res.output
    with out.open() as f:
        written = list(csv.DictReader(f))
    assert len(written) == len(by_list["care_gap"])
    assert {r["worklist"] for r in written} == {"care_gap"}

    res = runner.invoke(app, ["worklist", "-w", str(ws), "--list", "nope"])
    assert res.exit_code == 2 and "high_risk" in res.output
