"""The seed-partnership templates, each settled on hand-computed worked examples (the arithmetic
is written next to every assertion)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from payvider.contracts.settlement import PerformanceYearFigures, settle
from payvider.contracts.terms import load_terms, template_names

D = Decimal


def test_seed_templates_ship_and_load_by_name():
    names = template_names()
    for name in ("seed:six-year-tcoc", "seed:jv-integrated-margin", "seed:aco-metro-trend"):
        assert name in names
        assert load_terms(name).name == name


# --- seed:six-year-tcoc: glide path, two-sided, outcome pool --------------------------------


def six(year: int, actual: str, **kw) -> PerformanceYearFigures:
    # a population of 1,000 member months whose 2023 (baseline year) PMPM was $500.00
    base = {
        "performance_year": year,
        "actual_expenditure": D(actual),
        "member_months": D(1000),
        "baseline_pmpm": D(500),
        "quality_score": D(80),
    }
    return PerformanceYearFigures(**{**base, **kw})


@pytest.mark.parametrize(
    ("year", "pmpm"),
    [
        # 500 × 1.05^k × (1 − cut): the glide path −2% a year to −10% in year five, held in six
        (2024, "514.50"),  # 500 × 1.05 × 0.98
        (2025, "529.2"),  # 500 × 1.1025 × 0.96
        (2026, "544.08375"),  # 500 × 1.157625 = 578.8125 × 0.94
        (2027, "559.132875"),  # 500 × 1.21550625 = 607.753125 × 0.92
        (2028, "574.326703125"),  # 500 × 1.2762815625 × 0.90
        (2029, "603.04303828125"),  # 500 × 1.340095640625 × 0.90 (held at −10%)
    ],
)
def test_six_year_glide_path_years(year, pmpm):
    s = settle(load_terms("seed:six-year-tcoc"), six(year, "1"))
    assert s.item("benchmark_pmpm").amount == D(pmpm)
    assert s.item("benchmark_expenditure").amount == D(pmpm) * 1000


def test_six_year_savings_shared_plus_outcome_payments():
    # year 1: benchmark 514,500; actual 500,000 → savings 14,500 (2.8% ≥ 1% MSR) × 50% = 7,250
    # (cap 10% = 51,450 not binding). Outcome pool 25 × 1,000 = 25,000; weights met:
    # followup_7d 0.55 ≥ 0.50 (2), readmission 0.10 ≤ 0.12 (2), HbA1c poor 0.45 > 0.40 (0),
    # blood pressure 0.45 = target (1), breast 0.59 < 0.60 (0), colorectal 0.50 (1) → 6 of 8
    # → 18,750. Net 7,250 + 18,750 = 26,000.00.
    rates = {
        "followup_7d": D("0.55"),
        "readmission_30d": D("0.10"),
        "hba1c_poor_control": D("0.45"),
        "blood_pressure_control": D("0.45"),
        "breast_cancer_screening": D("0.59"),
        "colorectal_cancer_screening": D("0.50"),
    }
    s = settle(load_terms("seed:six-year-tcoc"), six(2024, "500000", measure_rates=rates))
    assert s.item("shared_savings").amount == D("7250.00")
    assert s.item("outcome_payments").amount == D("18750")
    assert s.net_amount == D("26000.00")


def test_six_year_quality_gate_failing_keeps_outcome_payments_only():
    # score 39.99 < 40: no savings shared; the outcome pool (only followup met: 2 of 8 → 6,250)
    s = settle(
        load_terms("seed:six-year-tcoc"),
        six(2024, "500000", quality_score=D("39.99"), measure_rates={"followup_7d": D("0.5")}),
    )
    assert s.item("final_sharing_rate").amount == 0
    assert s.item("generated_savings_losses").amount == D("14500.00")
    assert s.item("shared_savings").amount == 0
    assert s.net_amount == D("6250.00")


def test_six_year_losses_shared_and_loss_cap_binding():
    terms = load_terms("seed:six-year-tcoc")
    # year 5: benchmark 574,326.703125; actual 620,000 → losses 45,673.296875 (8% ≥ 1% MLR)
    # × 50% = 22,836.6484375, under the cap 5% × benchmark = 28,716.33515625 → −22,836.65
    s = settle(terms, six(2028, "620000"))
    assert s.item("shared_losses").amount == D("-22836.6484375")
    assert s.net_amount == D("-22836.65")
    # year 6: benchmark 603,043.03828125; actual 700,000 → losses 96,956.96171875 × 50% =
    # 48,478.480859375 > cap 30,152.1519140625 → the cap binds: −30,152.15
    s = settle(terms, six(2029, "700000"))
    assert s.item("loss_recoupment_limit").amount == D("30152.1519140625")
    assert s.net_amount == D("-30152.15")


def test_six_year_losses_under_the_mlr_owe_nothing():
    # year 1 benchmark 514,500; 1% MLR = 5,145; actual 519,644.99 → losses 5,144.99 < MLR
    s = settle(load_terms("seed:six-year-tcoc"), six(2024, "519644.99"))
    assert s.item("generated_savings_losses").amount == 0
    assert s.net_amount == 0


# --- seed:jv-integrated-margin --------------------------------------------------------------


def jv(actual: str) -> PerformanceYearFigures:
    return PerformanceYearFigures(
        performance_year=2024,
        actual_expenditure=D(actual),
        premium=D("1000000"),
        member_months=D(1000),
    )


def test_jv_margin_positive_and_negative():
    terms = load_terms("seed:jv-integrated-margin")
    # premium 1,000,000 − paid 800,000 − admin 12% × 1,000,000 = 120,000 → 80,000 × 50% = 40,000
    s = settle(terms, jv("800000"))
    assert s.item("administrative_cost").amount == D("120000")
    assert s.item("margin").amount == D("80000")
    assert s.net_amount == D("40000.00")
    # 1,000,000 − 950,000 − 120,000 = −70,000 → the provider bears half: −35,000
    s = settle(terms, jv("950000"))
    assert s.item("margin").amount == D("-70000")
    assert s.net_amount == D("-35000.00")
    assert s.direction == "provider_pays_payer"


# --- seed:aco-metro-trend -------------------------------------------------------------------


def aco(actual: str, score: str = "80") -> PerformanceYearFigures:
    # baseline 1,000,000 (baseline PMPM on the PY member months), market growth 1.1236
    # (two years of 6%), risk 1.05 over 1.00 capped at +3% → benchmark
    # 1,000,000 × 1.1236 × 1.03 = 1,157,308; 12,000 member months
    return PerformanceYearFigures(
        performance_year=2025,
        actual_expenditure=D(actual),
        baseline_expenditures=[D("1000000")],
        baseline_trend_factors=[D("1.1236")],
        risk_score_baseline=D("1.00"),
        risk_score_performance=D("1.05"),
        member_months=D(12000),
        quality_score=D(score),
    )


def test_aco_benchmark_savings_exactly_at_the_msr():
    # MSR 2% × 1,157,308 = 23,146.16; actual 1,134,161.84 → savings exactly at the MSR:
    # shared from the first dollar at 50% = 11,573.08, plus fees 2 × 12,000 = 24,000
    s = settle(load_terms("seed:aco-metro-trend"), aco("1134161.84"))
    assert s.item("benchmark_expenditure").amount == D("1157308.0000")
    assert s.item("savings_rate").amount == D("0.02")
    assert s.item("shared_savings").amount == D("11573.08")
    assert s.net_amount == D("35573.08")


def test_aco_one_cent_under_the_msr_shares_nothing():
    s = settle(load_terms("seed:aco-metro-trend"), aco("1134161.85"))
    assert s.item("generated_savings_losses").amount == 0
    assert s.net_amount == D("24000.00")  # the care-management fee only


def test_aco_sliding_scale_cap_and_gate():
    terms = load_terms("seed:aco-metro-trend")
    # score 55: multiplier 0.8 + 0.2 × (55 − 30) / 50 = 0.9 → rate 0.45;
    # actual 1,100,000 → savings 57,308 × 0.45 = 25,788.60 + 24,000 = 49,788.60
    s = settle(terms, aco("1100000", "55"))
    assert s.item("final_sharing_rate").amount == D("0.45")
    assert s.net_amount == D("49788.60")
    # actual 900,000 → savings 257,308 × 0.5 = 128,654 > cap 10% = 115,730.80 → cap binds
    s = settle(terms, aco("900000"))
    assert s.item("performance_payment_limit").amount == D("115730.8000")
    assert s.net_amount == D("139730.80")
    # score 29.99 < 30: the gate fails, only the fee is paid
    s = settle(terms, aco("900000", "29.99"))
    assert s.net_amount == D("24000.00")
