"""payvider settle: summary mode on the command line (JSON, table, rejected input)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from payvider.cli import app

HEADER = (
    "id,performance_year,track,assigned_beneficiaries,benchmark_expenditure,actual_expenditure,"
    "minimum_savings_rate,minimum_loss_rate,quality_score,met_quality_standard,"
    "met_alternative_quality_standard,revenue_category,agreement_start_date,"
    "extreme_uncontrollable_adjustment,participant_revenue\n"
)


def test_settle_json_and_table(tmp_path):
    p = tmp_path / "aco.csv"
    # A1: ENHANCED, savings 62,404,688 x 75% x 0.98 = 45,867,445.68 -> 45,867,446 (CMS PY2022)
    # A2: BASIC_E, losses 1,000,000 (2% of 50,000,000 >= MLR 1%) x 30% = 300,000 owed
    p.write_text(
        HEADER
        + "A1,2023,ENHANCED,74992,966116777,903712089,2.00,2.00,89.41,true,false,low,2019-07-01,,\n"
        + "A2,2023,BASIC_E,20000,50000000,51000000,1.00,1.00,85,true,false,high,2022-01-01,,\n"
    )
    r = CliRunner().invoke(
        app, ["settle", "--contract", "mssp:2023", "--summary", str(p), "--json"]
    )
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert [x["earned_shared_savings_losses"] for x in rows] == [45867446, -300000]
    assert rows[0]["id"] == "A1" and rows[0]["final_sharing_rate"] == "0.75"
    assert rows[1]["direction"] == "provider_pays_payer"
    r = CliRunner().invoke(app, ["settle", "--contract", "mssp:2023", "--summary", str(p)])
    assert r.exit_code == 0 and "45,867,446" in r.stdout


def test_bad_row_names_file_row_and_field(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text(HEADER + "A1,2023,ENHANCED,100,1000,abc,2,2,80,maybe,false,low,2023-01-01,,\n")
    r = CliRunner().invoke(app, ["settle", "--contract", "mssp:2023", "--summary", str(p)])
    assert r.exit_code == 3
    assert "bad.csv" in r.output and "row 2" in r.output
    assert "actual_expenditure" in r.output and "met_quality_standard" in r.output


def test_unknown_track_and_bad_contract_are_rejected(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text(HEADER + "A1,2023,TRACK_9,6000,1000,900,,,80,true,false,low,2023-01-01,,\n")
    r = CliRunner().invoke(app, ["settle", "--contract", "mssp:2023", "--summary", str(p)])
    assert r.exit_code == 3 and "TRACK_9" in r.output
    r = CliRunner().invoke(
        app, ["settle", "--contract", str(tmp_path / "no.yaml"), "--summary", str(p)]
    )
    assert r.exit_code == 3 and "not found" in r.output
