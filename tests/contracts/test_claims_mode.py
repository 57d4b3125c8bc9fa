"""Claims mode on a hand-made run: population, member months, allowed or paid, truncation, risk,
baseline / market / glide-path benchmarks, and a drill-down that sums to the cent.

SOURCE of the fixture (payer ``p``; PY 2024, baseline 2023):

- member A: enrolled 2023-01..2024-12 (12 + 12 months), partner-attributed both years,
  premium $400.00 PMPM; risk V28 1.0 (2023), 1.2 (2024).
- member B: enrolled 2023-01..2024-06 (12 + 6 months), partner-attributed both years,
  premium $600.00 PMPM; risk 1.0 (2023), 0.9 (2024).
- member C: enrolled all of 2024, attributed to another organization (out of the population).
- 2024 lines: A $1,000.10 allowed / $800.05 paid (professional, March), A $0.20 / $0.10 (pharmacy,
  April); B $50,000.00 / $40,000.00 (inpatient, February), B $0.10 (August: B is not enrolled,
  so not counted); C $300.00 (May: not in the population).
- 2023 lines: A $6,000.00 (June), B $12,000.00 (March).
- market (one region, commercial): $500.00 PMPM every month of 2023, $530.00 in 2024.

Hand arithmetic: 2024 member months = 12 + 6 = 18; allowed with pharmacy before truncation =
1,000.10 + 0.20 + 50,000.00 = 51,000.30. Truncation at $20,000: B's 50,000.00 → 20,000.00, excess
30,000.00; actual = 1,000.30 + 20,000.00 = 21,000.30. Baseline 2023: 18,000.00 over 24 member
months = $750.00 PMPM → on 18 PY member months $13,500.00.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

from payvider.contracts.claims import ClaimsModeError, claims_figures
from payvider.contracts.settlement import settle
from payvider.contracts.terms import parse_terms

D = Decimal
MONEY = pa.decimal128(18, 2)


def _months(member, year, first, last, premium):
    return [
        {
            "member_id": member,
            "payer": "p",
            "month": dt.date(year, m, 1),
            "product_line": "commercial",
            "zip_code": "55401",
            "birth_date": dt.date(1970, 5, 17),
            "premium_pmpm": D(premium),
        }
        for m in range(first, last + 1)
    ]


def _attr(member, year, partner):
    return {
        "period": year,
        "member_id": member,
        "payer": "p",
        "organization_id": "PARTNER" if partner else "OTHER",
        "partner_flag": partner,
        "rule": "step1_primary_care",
    }


def _line(claim, member, day, category_1, allowed, paid):
    return {
        "claim_id": claim,
        "claim_line_number": 1,
        "claim_type": "pharmacy" if category_1 == "pharmacy" else "professional",
        "member_id": member,
        "payer": "p",
        "service_date": day,
        "service_month": day.replace(day=1),
        "service_category_1": category_1,
        "service_category": category_1,
        "provider_npi": "1",
        "health_system": "Partner",
        "in_partner_system": True,
        "allowed_amount": D(allowed),
        "paid_amount": D(paid),
    }


def _tables(engine):
    """The fixture's run tables on ``engine``."""
    mm = (
        _months("A", 2023, 1, 12, "400.00")
        + _months("A", 2024, 1, 12, "400.00")
        + _months("B", 2023, 1, 12, "600.00")
        + _months("B", 2024, 1, 6, "600.00")
        + _months("C", 2024, 1, 12, "500.00")
    )
    mm_schema = pa.schema(
        [
            ("member_id", pa.string()),
            ("payer", pa.string()),
            ("month", pa.date32()),
            ("product_line", pa.string()),
            ("zip_code", pa.string()),
            ("birth_date", pa.date32()),
            ("premium_pmpm", MONEY),
        ]
    )
    attribution = [
        _attr("A", 2023, True),
        _attr("B", 2023, True),
        _attr("A", 2024, True),
        _attr("B", 2024, True),
        _attr("C", 2024, False),
    ]
    lines = [
        _line("c1", "A", dt.date(2024, 3, 5), "professional", "1000.10", "800.05"),
        _line("c2", "A", dt.date(2024, 4, 9), "pharmacy", "0.20", "0.10"),
        _line("c3", "B", dt.date(2024, 2, 1), "inpatient", "50000.00", "40000.00"),
        _line("c4", "B", dt.date(2024, 8, 1), "professional", "0.10", "0.10"),
        _line("c5", "C", dt.date(2024, 5, 1), "professional", "300.00", "250.00"),
        _line("c6", "A", dt.date(2023, 6, 1), "professional", "6000.00", "5000.00"),
        _line("c7", "B", dt.date(2023, 3, 1), "inpatient", "12000.00", "10000.00"),
    ]
    line_schema = pa.schema(
        [
            ("claim_id", pa.string()),
            ("claim_line_number", pa.int64()),
            ("claim_type", pa.string()),
            ("member_id", pa.string()),
            ("payer", pa.string()),
            ("service_date", pa.date32()),
            ("service_month", pa.date32()),
            ("service_category_1", pa.string()),
            ("service_category", pa.string()),
            ("provider_npi", pa.string()),
            ("health_system", pa.string()),
            ("in_partner_system", pa.bool_()),
            ("allowed_amount", MONEY),
            ("paid_amount", MONEY),
        ]
    )
    risk = [
        {"member_id": m, "payer": "p", "year": y, "model": "V28", "risk_score": s}
        for m, y, s in [("A", 2023, 1.0), ("B", 2023, 1.0), ("A", 2024, 1.2), ("B", 2024, 0.9)]
    ]
    market = [
        {
            "region": "metro",
            "product_line": "commercial",
            "month": dt.date(y, m, 1),
            "pmpm": D(p),
            "average_risk_score": D("1.0000"),
        }
        for y, p in ((2023, "500.00"), (2024, "530.00"))
        for m in range(1, 13)
    ]
    market_schema = pa.schema(
        [
            ("region", pa.string()),
            ("product_line", pa.string()),
            ("month", pa.date32()),
            ("pmpm", MONEY),
            ("average_risk_score", pa.decimal128(18, 4)),
        ]
    )
    return {
        "member_months": engine.from_arrow(pa.Table.from_pylist(mm, mm_schema)),
        "attribution": engine.from_arrow(pa.Table.from_pylist(attribution)),
        "claims_enriched": engine.from_arrow(pa.Table.from_pylist(lines, line_schema)),
        "risk_score": engine.from_arrow(pa.Table.from_pylist(risk)),
        "market_benchmark": engine.from_arrow(pa.Table.from_pylist(market, market_schema)),
    }


@pytest.fixture
def run_tables(duckdb_engine):
    return _tables(duckdb_engine)


BASE = {
    "name": "hand",
    "performance_years": [2024],
    "truncation": {"method": "amount", "value": "20000"},
    "payment": {
        "model": "shared_savings",
        "sharing_rate": "0.5",
        "minimum_savings_rate": {"fixed": "0.02"},
    },
}


def _terms(**changes):
    data = {**BASE, **changes}
    return parse_terms(data)


def _drill(engine, cf):
    lines = engine.to_arrow(cf.lines).to_pylist()
    members = {r["member_id"]: r for r in engine.to_arrow(cf.members).to_pylist()}
    return lines, members


def test_glide_path_allowed_with_pharmacy_and_truncation(engine):
    """On each engine against the same hand-computed answer."""
    run_tables = _tables(engine)
    # benchmark PMPM 1,500 × (1 − 0.02) = 1,470 × 18 member months = 26,460.00;
    # savings 26,460.00 − 21,000.30 = 5,459.70 (20.6% ≥ 2% MSR) × 50% = 2,729.85
    terms = _terms(
        benchmark={
            "method": "glide_path",
            "baseline_pmpm": "1500",
            "reduction_by_year": {1: "0.02"},
        }
    )
    cf = claims_figures(terms, engine, run_tables, 2024)
    f = cf.figures
    assert (f.member_months, f.assigned_beneficiaries) == (D(18), 2)
    assert f.actual_expenditure == D("21000.30")
    s = settle(terms, f)
    assert s.item("benchmark_expenditure").amount == D("26460.00")
    assert s.net_amount == D("2729.85")

    lines, members = _drill(engine, cf)
    assert sum(r["amount"] for r in lines) == D("21000.30")  # to the cent
    assert {r["claim_id"] for r in lines if r["entry"] == "claim_line"} == {"c1", "c2", "c3"}
    [trunc] = [r for r in lines if r["entry"] == "high_cost_truncation"]
    assert (trunc["member_id"], trunc["amount"]) == ("B", D("-30000.00"))
    assert members["B"]["amount"] == D("50000.00")
    assert members["B"]["excess_removed"] == D("30000.00")
    assert members["B"]["counted_amount"] == D("20000.00")
    assert members["A"]["counted_amount"] == D("1000.30")
    assert (members["A"]["member_months"], members["B"]["member_months"]) == (12, 6)
    assert "C" not in members


def test_paid_basis_without_pharmacy(duckdb_engine, run_tables):
    # A: 800.05 (pharmacy 0.10 left out); B: 40,000.00 paid capped at 20,000.00 → 20,800.05
    terms = _terms(
        benchmark={"method": "stated", "amounts": {2024: "30000"}},
        expenditure={"basis": "paid", "include_pharmacy": False},
    )
    cf = claims_figures(terms, duckdb_engine, run_tables, 2024)
    assert cf.figures.actual_expenditure == D("20800.05")
    lines, _ = _drill(duckdb_engine, cf)
    assert sum(r["amount"] for r in lines) == D("20800.05")


def test_historical_benchmark_at_market_trend_with_capped_risk(duckdb_engine, run_tables):
    # baseline 13,500.00 × market growth 530/500 = 1.06 → 14,310.00; risk 2024 =
    # (12 × 1.2 + 6 × 0.9) / 18 = 1.1 over 1.0, capped at 1.03 → 14,739.30
    terms = _terms(
        benchmark={
            "method": "historical",
            "baseline_years": [2023],
            "weights": ["1"],
            "trend_source": "market",
        },
        risk_adjustment={"growth_cap": "0.03"},
    )
    cf = claims_figures(terms, duckdb_engine, run_tables, 2024)
    assert cf.figures.baseline_expenditures == [D("13500.00")]
    assert cf.figures.baseline_trend_factors == [D("1.06")]
    assert cf.figures.risk_score_performance == D("1.1")
    assert cf.figures.risk_score_baseline == D("1")
    s = settle(terms, cf.figures)
    assert s.item("risk_ratio").amount == D("1.03")
    assert s.item("benchmark_expenditure").amount == D("14739.30")
    assert s.item("savings").amount == D("-6261.00")
    assert s.net_amount == 0  # upside only: losses owe nothing


def test_percentile_truncation_nearest_rank(duckdb_engine, run_tables):
    # two member-years (1,000.30 and 50,000.00); p = 0.5 → k = ⌈0.5 × 2⌉ = 1 → cap 1,000.30;
    # B's excess 48,999.70; actual 2 × 1,000.30 = 2,000.60
    terms = _terms(
        benchmark={"method": "stated", "amounts": {2024: "30000"}},
        truncation={"method": "percentile", "value": "0.5"},
    )
    cf = claims_figures(terms, duckdb_engine, run_tables, 2024)
    assert cf.details["truncation_point"] == "1000.30"
    assert cf.figures.actual_expenditure == D("2000.60")
    _, members = _drill(duckdb_engine, cf)
    assert members["B"]["excess_removed"] == D("48999.70")


def test_market_benchmark_level(duckdb_engine, run_tables):
    # market 530.00 PMPM × 18 member months = 9,540.00
    terms = _terms(benchmark={"method": "market"})
    cf = claims_figures(terms, duckdb_engine, run_tables, 2024)
    assert settle(terms, cf.figures).item("benchmark_expenditure").amount == D("9540.00")


def test_integrated_margin_from_premium_and_floor(duckdb_engine, run_tables):
    # premium 12 × 400 + 6 × 600 = 8,400.00; admin 20 PMPM × 18 = 360.00;
    # margin 8,400.00 − 21,000.30 − 360.00 = −12,960.30; half = −6,480.15; floor −5,000
    terms = _terms(
        payment={
            "model": "integrated_margin",
            "provider_share": "0.5",
            "administrative_cost_pmpm": "20",
            "floor": "-5000",
        }
    )
    cf = claims_figures(terms, duckdb_engine, run_tables, 2024)
    s = settle(terms, cf.figures)
    assert s.item("premium").amount == D("8400.00")
    assert s.item("margin").amount == D("-12960.30")
    assert s.item("provider_share_before_limits").amount == D("-6480.15")
    assert s.net_amount == D("-5000")


def test_population_by_organization_and_entity(duckdb_engine, run_tables):
    # --entity OTHER with the population open to any attribution: only C, 12 months, 300.00
    terms = _terms(
        benchmark={"method": "stated", "amounts": {2024: "1000"}},
        population={"attributed_to_partner": None},
    )
    cf = claims_figures(terms, duckdb_engine, run_tables, 2024, entity="OTHER")
    assert (cf.figures.member_months, cf.figures.actual_expenditure) == (D(12), D("300.00"))


def test_quality_gate_needs_a_score(duckdb_engine, run_tables):
    terms = _terms(
        benchmark={"method": "stated", "amounts": {2024: "30000"}},
        quality={"gate": True, "min_score": "50"},
    )
    with pytest.raises(ClaimsModeError, match="--quality-score"):
        claims_figures(terms, duckdb_engine, run_tables, 2024)
    # savings 30,000.00 − 21,000.30 = 8,999.70 × 0.5 = 4,499.85 when the score passes the gate
    cf = claims_figures(terms, duckdb_engine, run_tables, 2024, quality_score=D("50"))
    assert settle(terms, cf.figures).net_amount == D("4499.85")
    cf = claims_figures(terms, duckdb_engine, run_tables, 2024, quality_score=D("49.99"))
    assert settle(terms, cf.figures).net_amount == 0


def test_quality_score_read_from_the_runs_composite(duckdb_engine, run_tables):
    composite = pa.Table.from_pylist(
        [
            {
                "period_start": dt.date(2024, 1, 1),
                "period_end": dt.date(2024, 12, 31),
                "level": "total",
                "organization_id": None,
                "score": 72.5,
            }
        ],
        pa.schema(
            [
                ("period_start", pa.date32()),
                ("period_end", pa.date32()),
                ("level", pa.string()),
                ("organization_id", pa.string()),
                ("score", pa.float64()),
            ]
        ),
    )
    tables = {**run_tables, "quality_composite": duckdb_engine.from_arrow(composite)}
    terms = _terms(
        benchmark={"method": "stated", "amounts": {2024: "30000"}},
        quality={"gate": True, "min_score": "50"},
    )
    cf = claims_figures(terms, duckdb_engine, tables, 2024)
    assert cf.figures.quality_score == D("72.50")
    assert cf.details["quality_score_source"] == "run's quality_composite"


def test_year_outside_the_contract_is_a_usage_error(duckdb_engine, run_tables):
    terms = _terms(benchmark={"method": "stated", "amounts": {2024: "1"}})
    with pytest.raises(ClaimsModeError, match="not a performance year"):
        claims_figures(terms, duckdb_engine, run_tables, 2023)
