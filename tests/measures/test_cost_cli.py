"""`payvider cost` and `payvider quality` on the hand-made cost fixture (tests/fixtures/cost)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from payvider.cli import app

FIXTURE = Path(__file__).parents[1] / "fixtures" / "cost"
runner = CliRunner()


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cost-cli") / "ws"
    assert runner.invoke(app, ["ingest", "-w", str(path), str(FIXTURE)]).exit_code == 0
    assert runner.invoke(app, ["run", "-w", str(path)]).exit_code == 0
    return path


def test_cost_json_matches_the_hand_computed_trend(ws):
    res = runner.invoke(app, ["cost", "-w", str(ws), "--scope", "partner_attributed", "--json"])
    assert res.exit_code == 0, res.output
    rows = {r["year"]: r for r in json.loads(res.stdout)}
    assert Decimal(rows[2023]["allowed_amount"]) == Decimal("1200.00")
    assert Decimal(rows[2024]["allowed_amount"]) == Decimal("21370.00")
    assert (rows[2024]["member_months"], rows[2024]["market_pmpm"]) == (12, 110.0)


def test_cost_by_category_of_a_scope_file(ws, tmp_path):
    """`--by-category` for a scope from a file: B's Medicare Advantage months (SOURCE.txt)."""
    scopes = tmp_path / "scopes.yaml"
    scopes.write_text("scopes:\n  - name: ma\n    product_lines: [medicare_advantage]\n")
    args = ["cost", "-w", str(ws), "--scopes", str(scopes), "--scope", "ma", "--by-category"]
    res = runner.invoke(app, [*args, "--json"])
    assert res.exit_code == 0, res.output
    rows = {r["service_category"]: r for r in json.loads(res.stdout)}
    assert {r["year"] for r in rows.values()} == {2024}
    assert (rows["all"]["member_months"], Decimal(rows["all"]["allowed_amount"])) == (
        6,
        Decimal("7550.00"),
    )
    assert Decimal(rows["skilled_nursing"]["allowed_amount"]) == Decimal("4000.00")
    assert rows["skilled_nursing"]["member_months"] == 6
    assert rows["skilled_nursing"]["allowed_pmpm"] == pytest.approx(4000 / 6)
    res = runner.invoke(app, args)
    assert res.exit_code == 0 and "skilled_nursing" in res.stdout


def test_cost_table_and_bad_scope(ws):
    res = runner.invoke(app, ["cost", "-w", str(ws)])
    assert res.exit_code == 0 and "2024" in res.stdout
    res = runner.invoke(app, ["cost", "-w", str(ws), "--scope", "nowhere"])
    assert res.exit_code == 2 and "nowhere" in res.output


def test_quality_lists_measures_and_rejects_unknown_ones(ws):
    res = runner.invoke(app, ["quality", "-w", str(ws), "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert rows and all(r["level"] == "total" for r in rows)
    readmit = [r for r in rows if r["measure_id"] == "readmission_30d" and r["period"] == "2024"]
    # A's three acute index stays (05-04, 05-22, 08-15 discharges); only the first is followed by
    # an admission within 30 days (05-20, 16 days later)
    assert [(r["denominator"], r["exclusions"], r["numerator"]) for r in readmit] == [(3, 0, 1)]
    res = runner.invoke(app, ["quality", "-w", str(ws), "--measure", "nope"])
    assert res.exit_code == 2 and "readmission_30d" in res.output
