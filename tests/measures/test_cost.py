"""Cost marts against the hand-computed answers of tests/fixtures/cost/SOURCE.txt, on both engines.

The pipeline runs once per engine over the fixture; every test checks that engine's output against
the same hand-worked numbers, so DuckDB and Spark agree with each other and with the oracle.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from payvider.engine.runs import run_pipeline
from payvider.engine.workspace import Workspace
from payvider.ingest import load_batch

FIXTURE = Path(__file__).parents[1] / "fixtures" / "cost"
ENGINES = ["duckdb", pytest.param("spark", marks=pytest.mark.spark)]


@pytest.fixture(scope="module")
def workspace_with_fixture(tmp_path_factory) -> Workspace:
    ws = Workspace(tmp_path_factory.mktemp("cost") / "ws", create=True)
    load_batch(ws, FIXTURE)
    return ws


@pytest.fixture(scope="module")
def runs(workspace_with_fixture) -> dict[str, Path]:
    return {}


@pytest.fixture(params=ENGINES)
def out(request, runs, workspace_with_fixture):
    """A reader of the run's output tables for one engine (each engine runs once per module)."""
    name = request.param
    if name == "spark":
        pytest.importorskip("pyspark")
        request.getfixturevalue("spark_engine")  # one shared Spark session per test run
    if name not in runs:
        runs[name] = run_pipeline(workspace_with_fixture, name).path

    def read(table: str) -> list[dict]:
        return pq.read_table(runs[name] / f"{table}.parquet").to_pylist()

    return read


D = Decimal


def test_service_categories(out):
    cats = {
        (r["claim_id"], r["claim_line_number"]): r["service_category"]
        for r in out("claims_enriched")
    }
    assert cats == {
        ("AX1", 1): "office_pcp",
        ("AP0", 1): "office_pcp",
        ("AP1", 1): "office_pcp",
        ("AP2", 1): "office_specialist",
        ("AP3", 1): "telehealth",
        ("AI1", 1): "inpatient_acute",
        ("AI1", 2): "inpatient_acute",
        ("AI2", 1): "inpatient_acute",
        ("AI3", 1): "inpatient_acute",
        ("AI4", 1): "inpatient_acute",
        ("AO1", 1): "emergency_department",
        ("AO1", 2): "emergency_department",
        ("AO2", 1): "outpatient_imaging",
        ("AO2", 2): "outpatient_lab",
        ("AD1", 1): "dme",
        ("AM1", 1): "ambulance",
        ("BP1", 1): "office_pcp",
        ("BH1", 1): "home_health",
        ("BS1", 1): "skilled_nursing",
        ("BO1", 1): "outpatient_surgery",
        ("BO1", 2): "outpatient_surgery",
        ("RX1", 1): "pharmacy",
    }


def test_inpatient_stays(out):
    stays = sorted(
        (
            r["member_id"],
            str(r["admission_date"]),
            str(r["discharge_date"]),
            r["service_category"],
            r["length_of_stay"],
            r["claims"],
            r["allowed_amount"],
            r["is_readmission"],
        )
        for r in out("inpatient_stays")
    )
    assert stays == [
        ("A", "2024-05-01", "2024-05-04", "inpatient_acute", 3, 1, D("9000.00"), False),
        ("A", "2024-05-20", "2024-05-22", "inpatient_acute", 2, 1, D("5000.00"), True),
        ("A", "2024-08-01", "2024-08-15", "inpatient_acute", 14, 2, D("5000.00"), False),
        ("B", "2024-03-01", "2024-03-11", "skilled_nursing", 10, 1, D("4000.00"), False),
    ]


def test_every_dollar_reconciles(out):
    rec = {
        (r["status"], r["service_category_1"]): (r["lines"], r["allowed_amount"])
        for r in out("cost_reconciliation")
    }
    assert rec == {
        ("in_member_month", "professional"): (5, D("1710.00")),
        ("in_member_month", "ancillary"): (3, D("1320.00")),
        ("in_member_month", "inpatient"): (6, D("23000.00")),
        ("in_member_month", "outpatient"): (6, D("4090.00")),
        ("in_member_month", "pharmacy"): (1, D("30.00")),
        ("outside_enrollment", "professional"): (1, D("90.00")),
    }
    enriched = out("claims_enriched")
    assert (
        sum(r["allowed_amount"] for r in enriched)
        == D("30240.00")
        == sum(v[1] for v in rec.values())
    )


def test_pmpm_and_member_year_cost(out):
    cells = {
        (str(r["month"]), r["organization_id"], r["service_category"]): r for r in out("cost_pmpm")
    }
    may = cells[("2024-05-01", "410000001", "inpatient_acute")]
    assert (may["member_months"], may["allowed_amount"], may["allowed_pmpm"]) == (
        1,
        D("14000.00"),
        14000.0,
    )
    total_may = cells[("2024-05-01", "410000001", "all")]
    assert total_may["allowed_amount"] == D("14000.00")
    # a month with enrollment and no claims still has its denominator
    jan23 = cells[("2023-01-01", "410000001", "all")]
    assert (jan23["member_months"], jan23["allowed_amount"]) == (1, D("0.00"))
    totals = [r for r in out("cost_pmpm") if r["service_category"] == "all"]
    assert sum(r["member_months"] for r in totals) == 24 + 6
    assert sum(r["allowed_amount"] for r in totals) == D("30150.00")
    years = {(r["member_id"], r["year"]): r for r in out("member_year_cost")}
    a24 = years[("A", 2024)]
    assert (a24["member_months"], a24["allowed_amount"], a24["medical_allowed_amount"]) == (
        12,
        D("21400.00"),
        D("21370.00"),
    )
    assert (a24["inpatient_allowed_amount"], a24["pharmacy_allowed_amount"]) == (
        D("19000.00"),
        D("30.00"),
    )
    assert (years[("B", 2024)]["organization_id"], years[("B", 2024)]["allowed_amount"]) == (
        "420000002",
        D("7550.00"),
    )


def test_scope_pmpm(out):
    rows = out("scope_pmpm")
    cells = {(r["scope"], str(r["month"]), r["service_category"]): r for r in rows}
    # May 2024: A (commercial, partner-attributed) and B (Medicare Advantage, rival TIN) enrolled
    may = cells[("all", "2024-05-01", "all")]
    assert (may["member_months"], may["allowed_amount"], may["allowed_pmpm"]) == (
        2,
        D("17000.00"),
        8500.0,
    )
    partner = cells[("partner_attributed", "2024-05-01", "inpatient_acute")]
    assert (partner["member_months"], partner["allowed_amount"], partner["paid_amount"]) == (
        1,
        D("14000.00"),
        D("11900.00"),
    )
    # a category row carries the scope's member months, not the category's
    lab = cells[("partner_attributed", "2024-10-01", "outpatient_lab")]
    assert (lab["member_months"], lab["allowed_amount"]) == (1, D("40.00"))

    def year(scope: str, y: int) -> tuple[int, Decimal]:
        totals = [
            r
            for r in rows
            if r["scope"] == scope and r["service_category"] == "all" and r["month"].year == y
        ]
        return sum(r["member_months"] for r in totals), sum(r["allowed_amount"] for r in totals)

    # every dollar in a member month, pharmacy included, as cost_pmpm's totals: 24 + 6 months
    assert year("all", 2023) == (12, D("1200.00"))
    assert year("all", 2024) == (18, D("28950.00"))
    # A's year (member_year_cost: 21,400.00 with 30.00 of pharmacy); B is not partner-attributed
    assert year("partner_attributed", 2024) == (12, D("21400.00"))
    assert year("partner_attributed_commercial", 2024) == (12, D("21400.00"))
    assert not [r for r in rows if r["scope"] == "partner_attributed_medicare_advantage"]


def test_utilization(out):
    rows = {(r["year"], r["organization_id"]): r for r in out("utilization")}
    a = rows[(2024, "410000001")]
    assert a["member_months"] == 12
    assert (a["acute_admissions"], a["acute_bed_days"], a["readmissions"], a["ed_visits"]) == (
        3,
        19,
        1,
        1,
    )
    assert (a["pcp_visits"], a["specialist_visits"], a["telehealth_visits"]) == (1, 1, 1)
    assert a["acute_admissions_per_1000"] == pytest.approx(3000.0)
    assert a["telehealth_share"] == pytest.approx(1 / 3)
    assert a["average_length_of_stay"] == pytest.approx(19 / 3)
    b = rows[(2024, "420000002")]
    assert (b["member_months"], b["snf_admissions"], b["snf_days"], b["pcp_visits"]) == (
        6,
        1,
        10,
        1,
    )
    assert b["snf_admissions_per_1000"] == pytest.approx(2000.0)


def test_leakage(out):
    total = next(r for r in out("leakage") if r["year"] == 2024 and r["dimension"] == "total")
    assert (
        total["allowed_amount"],
        total["in_system_allowed"],
        total["out_of_system_allowed"],
    ) == (
        D("21370.00"),
        D("14910.00"),
        D("6460.00"),
    )
    assert total["in_system_share"] == pytest.approx(14910 / 21370)
    assert (total["visits"], total["in_system_visits"]) == (3, 2)
    by_cat = {
        r["value"]: r["in_system_share"]
        for r in out("leakage")
        if r["year"] == 2024 and r["dimension"] == "service_category"
    }
    assert by_cat["inpatient_acute"] == pytest.approx(14000 / 19000)
    assert by_cat["office_specialist"] == 0.0
    dest = [
        (r["rank"], r["destination"], r["allowed_amount"])
        for r in sorted(out("leakage_destinations"), key=lambda r: r["rank"])
        if r["year"] == 2024
    ]
    assert dest == [
        (1, "Rival Health", D("5340.00")),
        (2, "independent: 460000006", D("800.00")),
        (3, "independent: S1 Independent cardiologist", D("200.00")),
        (4, "independent: 450000005", D("120.00")),
    ]


def test_trend_against_market(out):
    """The run's trend: unadjusted figures by hand; risk-adjusted ones follow from its scores."""
    rows = {(r["scope"], r["year"]): r for r in out("cost_trend")}
    a23, a24 = rows[("all", 2023)], rows[("all", 2024)]
    assert (a23["member_months"], a23["allowed_amount"], a23["pmpm"], a23["market_pmpm"]) == (
        12,
        D("1200.00"),
        100.0,
        100.0,
    )
    assert (a24["member_months"], a24["allowed_amount"]) == (18, D("28920.00"))
    assert a24["pmpm"] == pytest.approx(28920 / 18)
    assert a24["market_pmpm"] == pytest.approx(110.0)
    assert a24["market_trend"] == pytest.approx(0.10)
    assert a24["unadjusted_trend"] == pytest.approx(28920 / 18 / 100 - 1)
    ra23 = 100 / a23["risk_score"]
    assert a24["risk_adjusted_pmpm"] == pytest.approx(28920 / 18 / a24["risk_score"])
    expected = ra23 * 110 / 100 * a24["risk_score"] * 18
    assert float(a24["expected_allowed_at_market_trend"]) == pytest.approx(expected, abs=0.01)
    assert a24["savings_vs_market"] == a24["expected_allowed_at_market_trend"] - D("28920.00")


def _scope_trend(out_tables, scope: str, risk=None) -> dict[int, dict]:
    from payvider.measures.trend import scope_trend
    from payvider.population.scopes import BUILTIN_SCOPES

    engine, t = out_tables
    expr = scope_trend(
        BUILTIN_SCOPES[scope],
        t["member_month_cost"],
        t["member_months"],
        t["attribution"],
        t["market_benchmark"],
        risk,
    )
    return {r["year"]: r for r in engine.to_arrow(expr).to_pylist()}


@pytest.fixture
def duckdb_tables(runs, workspace_with_fixture, duckdb_engine):
    from payvider.engine.runs import canonical_inputs

    if "duckdb" not in runs:
        runs["duckdb"] = run_pipeline(workspace_with_fixture, "duckdb").path
    tables = canonical_inputs(duckdb_engine, workspace_with_fixture)
    for name in ("member_month_cost", "member_months", "attribution", "cost_pmpm"):
        tables[name] = duckdb_engine.read_parquet(runs["duckdb"] / f"{name}.parquet")
    return duckdb_engine, tables


def test_trend_dollars_by_hand(duckdb_tables):
    """Without risk scores every member month counts at risk 1 (SOURCE.txt)."""
    rows = _scope_trend(duckdb_tables, "all")
    assert (rows[2024]["expected_allowed_at_market_trend"], rows[2024]["savings_vs_market"]) == (
        D("1980.00"),
        D("-26940.00"),
    )
    p = _scope_trend(duckdb_tables, "partner_attributed")[2024]
    assert (p["expected_allowed_at_market_trend"], p["savings_vs_market"]) == (
        D("1320.00"),
        D("-20050.00"),
    )
    assert p["cumulative_savings_vs_market"] == D("-20050.00")


def test_trend_risk_adjusted_by_hand(duckdb_tables):
    """Scores A 2023 1.0, A 2024 2.0, B 2024 1.5: 2024 risk (12 × 2.0 + 6 × 1.5) / 18 = 11/6;
    risk-adjusted PMPM 1,606.67 / (11/6) = 876.36; expected 100 × 1.1 × 11/6 × 18 = 3,630.00."""
    import ibis

    scores = ibis.memtable(
        {
            "member_id": ["A", "A", "B"],
            "payer": ["acme", "acme", "acme"],
            "year": [2023, 2024, 2024],
            "risk_score": [1.0, 2.0, 1.5],
        }
    )
    rows = _scope_trend(duckdb_tables, "all", scores)
    y = rows[2024]
    assert y["risk_score"] == pytest.approx(11 / 6)
    assert y["risk_adjusted_pmpm"] == pytest.approx(28920 / 18 / (11 / 6))
    assert y["trend"] == pytest.approx(28920 / 18 / (11 / 6) / 100 - 1)
    assert (y["expected_allowed_at_market_trend"], y["savings_vs_market"]) == (
        D("3630.00"),
        D("-25290.00"),
    )


def test_scope_pmpm_of_a_custom_scope_with_and_without_member_years(duckdb_tables):
    """A scope of the run's tables, counted by member-year, by member month and (without ZIP
    codes) from cost_pmpm's cells alike."""
    from payvider.marts.member_years import member_years
    from payvider.measures.cost import scope_pmpm
    from payvider.population.scopes import Scope

    engine, t = duckdb_tables
    scopes = [
        Scope(name="ma", product_lines=["medicare_advantage"]),
        Scope(name="spring", start="2024-03-01", end="2024-05-31"),
        Scope(name="nowhere", zip_codes=["999"]),
    ]
    years = engine.from_arrow(engine.to_arrow(member_years(t["member_months"])))
    by_year = scope_pmpm(
        t["member_month_cost"], t["member_months"], t["attribution"], years, scopes
    )
    by_month = scope_pmpm(
        t["member_month_cost"], t["member_months"], t["attribution"], None, scopes
    )

    def rows(expr):
        return sorted(
            tuple(r.values()) for r in engine.to_arrow(expr.order_by(expr.columns)).to_pylist()
        )

    from_cells = scope_pmpm(
        t["member_month_cost"],
        t["member_months"],
        t["attribution"],
        years,
        scopes,
        cost_pmpm=t["cost_pmpm"],
    )
    assert rows(by_year) == rows(by_month) == rows(from_cells)
    totals = {}
    for r in engine.to_arrow(by_year).to_pylist():
        if r["service_category"] == "all":
            mm, allowed = totals.get(r["scope"], (0, D(0)))
            totals[r["scope"]] = (mm + r["member_months"], allowed + r["allowed_amount"])
    # B: January to June 2024, 7,550.00 (member_year_cost); March to May: A and B, 3 months each
    assert totals == {
        "ma": (6, D("7550.00")),
        "spring": (6, D("4200.00") + D("460.00") + D("17000.00")),
    }
