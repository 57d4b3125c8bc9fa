"""payvider scenario / montecarlo / compare on a generated population: figures recomputed from
the run's tables, planted market trend recovered, reproducible draws, exit codes."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal

import duckdb
from typer.testing import CliRunner

from payvider.cli import app

runner = CliRunner()


def _partner_spend(run, year: int) -> Decimal:
    con = duckdb.connect()
    [(spend,)] = con.execute(
        f"select sum(medical_allowed_amount) from '{run}/member_year_cost.parquet' "
        f"where year = {year} and partner_flag"
    ).fetchall()
    return Decimal(spend)


def test_scenario_settles_the_partner_population_by_hand(synthetic_run, tmp_path):
    ws = str(synthetic_run["workspace"].root)
    a = tmp_path / "a.yaml"
    a.write_text("cost_trend: 0.02\nbenchmark_trend: 0.05\n")
    res = runner.invoke(
        app,
        ["scenario", "-w", ws, "-c", "example:two-sided", "--years", "2", "--assumptions", str(a)],
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        app,
        ["scenario", "-w", ws, "-c", "example:two-sided", "--assumptions", str(a), "--json"],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    spend = _partner_spend(synthetic_run["run"], out["base_year"])
    assert out["base_year"] == 2025  # the generator's last complete year
    y1 = out["years"][0]
    # no growth: actual = E × 1.02, benchmark = E × 1.05; savings 0.03 E (2.9% ≥ 1%), × 0.6
    assert Decimal(y1["actual_expenditure"]) == spend * Decimal("1.02")
    assert Decimal(y1["benchmark_expenditure"]) == spend * Decimal("1.05")
    expected = (spend * Decimal("0.018")).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert Decimal(y1["net_amount"]) == expected


def test_default_trends_recover_the_planted_market_and_partner_trends(synthetic_run):
    truth = json.loads((synthetic_run["data"] / "truth" / "truth.json").read_text())
    planted = truth["effects"]["cost_trend"]
    ws = str(synthetic_run["workspace"].root)
    res = runner.invoke(app, ["scenario", "-w", ws, "-c", "example:upside-only", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    # market benchmark grows at the planted 6% a year (its months carry noise): within a point
    assert abs(float(out["benchmark_trend"]) - planted["market_annual_trend"]) < 0.01
    # the partner's own PMPM trend is planted at 0%; realised growth has member-level noise
    assert abs(float(out["cost_trend"]) - planted["partner_annual_trend"]) < 0.04


def test_montecarlo_is_reproducible_and_brackets_the_projection(synthetic_run):
    ws = str(synthetic_run["workspace"].root)
    args = ["montecarlo", "-w", ws, "-c", "example:two-sided", "--draws", "400", "--seed", "3"]
    first = runner.invoke(app, [*args, "--json"])
    second = runner.invoke(app, [*args, "--json"])
    assert first.exit_code == 0, first.output
    assert first.stdout == second.stdout
    [year] = json.loads(first.stdout)["years"]
    assert Decimal(year["net_p05"]) <= Decimal(year["projected_net"]) <= Decimal(year["net_p95"])
    assert 0 <= year["probability_clear_msr"] <= 1
    other = runner.invoke(
        app,
        [
            "montecarlo",
            "-w",
            ws,
            "-c",
            "example:two-sided",
            "--draws",
            "400",
            "--seed",
            "4",
            "--json",
        ],
    )
    assert json.loads(other.stdout)["years"][0]["expected_net"] != year["expected_net"]
    assert runner.invoke(app, args).exit_code == 0


def test_compare_lines_up_term_sheets_on_the_same_draws(synthetic_run):
    ws = str(synthetic_run["workspace"].root)
    res = runner.invoke(
        app,
        [
            "compare",
            "-w",
            ws,
            "-c",
            "example:upside-only",
            "-c",
            "example:two-sided",
            "--draws",
            "300",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    up, two = json.loads(res.stdout)
    # same draws: the same claims under both term sheets
    assert up["expected_actual_expenditure"] == two["expected_actual_expenditure"]
    # upside-only can never cost the provider; payer cost = claims + what it pays the provider
    assert up["probability_provider_loss"] == 0
    assert Decimal(up["provider_gain_p05"]) >= 0
    for r in (up, two):
        # each mean is rounded to the cent on its own: they add up within a cent
        gap = (
            Decimal(r["expected_payer_cost"])
            - Decimal(r["expected_actual_expenditure"])
            - Decimal(r["expected_provider_gain"])
        )
        assert abs(gap) <= Decimal("0.01")


def test_scenario_errors_exit_codes(synthetic_run, tmp_path):
    ws = str(synthetic_run["workspace"].root)
    res = runner.invoke(app, ["scenario", "-w", ws, "-c", str(tmp_path / "none.yaml")])
    assert res.exit_code == 3 and "contract file not found" in res.stderr
    res = runner.invoke(app, ["scenario", "-w", ws, "-c", "mssp:2024"])
    assert res.exit_code == 2 and "tracks" in res.stderr
    res = runner.invoke(app, ["compare", "-w", ws, "-c", "example:two-sided"])
    assert res.exit_code == 2 and "at least two" in res.stderr


def test_report_has_the_segmentation_and_scenario_pages(synthetic_run, tmp_path):
    from payvider.reports.html import write_report

    page = write_report(synthetic_run["workspace"], tmp_path / "r.html").read_text()
    assert "<h2>Provider segmentation</h2>" in page and "Provider quadrant" in page
    assert "<h2>Scenarios</h2>" in page and "trade-off" in page
    for name in ("example:upside-only", "example:two-sided", "example:integrated-margin"):
        assert name in page
    assert "North Star Health" in page  # the partner system, top of the segmentation
