"""Hand-worked settlements for each payment model and boundary (arithmetic in the comments)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from payvider.contracts import (
    ContractError,
    PerformanceYearFigures,
    load_terms,
    parse_terms,
    settle,
)


def terms(payment: dict, **extra) -> object:
    doc = {"name": "t", "performance_years": [2024, 2025, 2026, 2027, 2028], "payment": payment}
    doc.update(extra)
    return parse_terms(doc)


UPSIDE = {
    "model": "shared_savings",
    "sharing_rate": "0.50",
    "minimum_savings_rate": {"fixed": "0.02"},
    "savings_cap_pct_of_benchmark": "0.10",
}
TWO_SIDED = {
    **UPSIDE,
    "model": "two_sided",
    "loss_sharing_rate": "0.40",
    "loss_cap_pct_of_benchmark": "0.05",
}


def fig(**kw) -> PerformanceYearFigures:
    kw.setdefault("performance_year", 2024)
    return PerformanceYearFigures(**kw)


def test_savings_exactly_at_the_msr_are_shared_from_the_first_dollar():
    # benchmark 1,000,000; actual 980,000 -> savings 20,000 = 2.0% = MSR -> shared
    # 20,000 x 50% = 10,000 (cap 10% x 1,000,000 = 100,000 not binding)
    s = settle(
        terms(UPSIDE), fig(benchmark_expenditure=D(1_000_000), actual_expenditure=D(980_000))
    )
    assert s.net_amount == D("10000.00")
    assert s.direction == "payer_pays_provider"
    assert s.item("savings_rate").amount == D("0.02")


def test_one_dollar_under_the_msr_shares_nothing():
    # savings 19,999 = 1.9999% < 2% -> nothing shared
    s = settle(
        terms(UPSIDE), fig(benchmark_expenditure=D(1_000_000), actual_expenditure=D(980_001))
    )
    assert s.net_amount == 0
    assert s.direction == "none"


def test_above_threshold_sharing_shares_only_savings_beyond_the_msr():
    # savings 50,000; MSR 2% x 1,000,000 = 20,000; shared (50,000 - 20,000) x 50% = 15,000
    t = terms({**UPSIDE, "sharing_basis": "above_threshold"})
    s = settle(t, fig(benchmark_expenditure=D(1_000_000), actual_expenditure=D(950_000)))
    assert s.net_amount == D("15000.00")


def test_savings_cap_binds():
    # savings 300,000 (30%) x 50% = 150,000 > cap 10% x 1,000,000 = 100,000 -> 100,000
    s = settle(
        terms(UPSIDE), fig(benchmark_expenditure=D(1_000_000), actual_expenditure=D(700_000))
    )
    assert s.item("shared_savings_before_cap").amount == D("150000.00")
    assert s.net_amount == D("100000.00")


def test_quality_gate_failing_shares_nothing():
    # savings 50,000 beyond the MSR but the quality standard was missed -> rate 0 -> 0
    t = terms(UPSIDE, quality={"gate": True, "min_score": "70"})
    f = dict(benchmark_expenditure=D(1_000_000), actual_expenditure=D(950_000))
    assert settle(t, fig(**f, quality_score=D(69))).net_amount == 0
    # at score 70 the gate opens: 50,000 x 50% = 25,000
    assert settle(t, fig(**f, quality_score=D(70))).net_amount == D("25000.00")


def test_quality_sliding_scale_interpolates_the_sharing_rate():
    # multiplier 0.5 at score 50, 1.0 at 90 -> at 70: 0.75; 50,000 x 50% x 0.75 = 18,750
    scale = [{"score": "50", "multiplier": "0.5"}, {"score": "90", "multiplier": "1"}]
    t = terms(UPSIDE, quality={"sliding_scale": scale})
    s = settle(
        t,
        fig(benchmark_expenditure=D(1_000_000), actual_expenditure=D(950_000), quality_score=D(70)),
    )
    assert s.net_amount == D("18750.00")


def test_losses_under_the_mlr_owe_nothing():
    # losses 19,999 = 1.9999% < MLR 2% (symmetrical with the MSR) -> nothing owed
    s = settle(
        terms(TWO_SIDED), fig(benchmark_expenditure=D(1_000_000), actual_expenditure=D(1_019_999))
    )
    assert s.net_amount == 0


def test_losses_at_the_mlr_are_shared_and_the_loss_cap_binds():
    # losses 20,000 (2%) x 40% = 8,000 owed
    t = terms(TWO_SIDED)
    s = settle(t, fig(benchmark_expenditure=D(1_000_000), actual_expenditure=D(1_020_000)))
    assert s.net_amount == D("-8000.00")
    assert s.direction == "provider_pays_payer"
    # losses 200,000 x 40% = 80,000 > cap 5% x 1,000,000 = 50,000 -> owes 50,000
    s = settle(t, fig(benchmark_expenditure=D(1_000_000), actual_expenditure=D(1_200_000)))
    assert s.net_amount == D("-50000.00")


def test_revenue_loss_cap_and_extreme_circumstances_relief():
    # losses 100,000 x 40% = 40,000; caps: 5% x 1,000,000 = 50,000 and 4% x 500,000 = 20,000
    # -> owes 20,000; extreme and uncontrollable relief 5,000 -> owes 15,000
    t = terms(
        {**TWO_SIDED, "loss_cap_pct_of_revenue": "0.04"}, extreme_uncontrollable_reduces_losses=True
    )
    s = settle(
        t,
        fig(
            benchmark_expenditure=D(1_000_000),
            actual_expenditure=D(1_100_000),
            participant_revenue=D(500_000),
            extreme_uncontrollable_adjustment=D(-5_000),
        ),
    )
    assert s.item("loss_recoupment_limit").amount == D("20000.00")
    assert s.net_amount == D("-15000.00")


def test_integrated_margin_negative_is_shared_as_a_loss():
    # premium 1,000,000 - medical 950,000 - admin 80,000 = -30,000; provider share 50% = -15,000
    t = terms({"model": "integrated_margin", "provider_share": "0.5"})
    f = fig(premium=D(1_000_000), actual_expenditure=D(950_000), administrative_cost=D(80_000))
    s = settle(t, f)
    assert s.item("margin").amount == D(-30_000)
    assert s.net_amount == D("-15000.00")
    # a floor of -10,000 limits the provider's share of the loss
    t = terms({"model": "integrated_margin", "provider_share": "0.5", "floor": "-10000"})
    assert settle(t, f).net_amount == D("-10000.00")


def test_glide_path_year_three():
    # baseline PMPM 500, trend 3%/yr, cut 6% in year 3 (2026):
    # 500 x 1.03^3 x 0.94 = 500 x 1.092727 x 0.94 = 513.58169 PMPM; x 12,000 mm = 6,162,980.28
    # actual 6,000,000 -> savings 162,980.28 (2.64%) >= MSR 2% -> x 50% = 81,490.14
    t = terms(
        UPSIDE,
        benchmark={
            "method": "glide_path",
            "baseline_pmpm": "500",
            "annual_trend": "0.03",
            "reduction_by_year": {1: "0.02", 2: "0.04", 3: "0.06", 4: "0.08", 5: "0.10"},
        },
    )
    s = settle(
        t, fig(performance_year=2026, member_months=D(12_000), actual_expenditure=D(6_000_000))
    )
    assert s.item("benchmark_pmpm").amount == D("513.58169")
    assert s.item("benchmark_expenditure").amount == D("6162980.28000")
    assert s.net_amount == D("81490.14")


def test_capitation_pays_pmpm_by_cell_whatever_the_cost():
    # commercial/adult 400 x 1,000 mm + commercial/child 150 x 500 mm = 475,000
    t = terms(
        {
            "model": "capitation",
            "rates": [
                {"product_line": "commercial", "age_band": "adult", "pmpm": "400"},
                {"product_line": "commercial", "age_band": "child", "pmpm": "150"},
            ],
        }
    )
    f = fig(
        actual_expenditure=D(500_000),
        member_months_by_cell={"commercial/adult": D(1000), "commercial/child": D(500)},
    )
    s = settle(t, f)
    assert s.net_amount == D("475000.00")
    assert s.item("provider_margin").amount == D(-25_000)


def test_fees_and_outcome_payments_add_to_the_net():
    # no savings; care management 3 PMPM x 1,000 = 3,000;
    # outcome pool 10 PMPM x 1,000 = 10,000, measures weighted 2 (met) and 1 (missed) -> 6,666.67
    t = terms(
        UPSIDE,
        care_management_fee_pmpm="3",
        outcome_pool={
            "pmpm": "10",
            "measures": [
                {"name": "hba1c_control", "target": "0.7", "weight": "2"},
                {
                    "name": "readmissions",
                    "target": "0.12",
                    "weight": "1",
                    "higher_is_better": False,
                },
            ],
        },
    )
    f = fig(
        benchmark_expenditure=D(1_000_000),
        actual_expenditure=D(1_000_000),
        member_months=D(1000),
        measure_rates={"hba1c_control": D("0.72"), "readmissions": D("0.15")},
    )
    s = settle(t, f)
    assert s.net_amount == D("9666.67")
    assert sum(li.amount for li in s.line_items if li.counts) == s.net_amount


def test_mssp_enhanced_loss_rate_from_quality_and_low_revenue_half_rate_2024():
    t = load_terms("mssp:2024")
    # ENHANCED losses 3,000,000 (3% of 100,000,000, MLR 2%); quality 70%:
    # loss rate 1 - 0.75 x 0.70 = 0.475; owed 1,425,000 (cap 15% not binding)
    f = fig(
        track="ENHANCED",
        benchmark_expenditure=D(100_000_000),
        actual_expenditure=D(103_000_000),
        assigned_beneficiaries=10_000,
        minimum_savings_rate=D("0.02"),
        quality_score=D(70),
    )
    assert settle(t, f).net_amount == D(-1_425_000)
    # BASIC A, low revenue, 2024 agreement, 10,000 beneficiaries (MSR 3.0%), savings 1% = 1,000,000
    # below the MSR: 1,000,000 x 40% x 0.5 = 200,000, less 2% sequestration = 196,000
    f = fig(
        track="BASIC_A",
        benchmark_expenditure=D(100_000_000),
        actual_expenditure=D(99_000_000),
        assigned_beneficiaries=10_000,
        revenue_category="low",
        agreement_start_date="2024-01-01",
    )
    assert settle(t, f).net_amount == D(196_000)
    # the same ACO in 2023 rules (no below-MSR sharing) earns nothing
    assert (
        settle(load_terms("mssp:2023"), f.model_copy(update={"performance_year": 2023})).net_amount
        == 0
    )


def test_mssp_alternative_quality_standard_scales_the_rate_from_2023():
    # BASIC E, savings 5,000,000 (5% >= MSR 2%), quality 60%, alternative standard only:
    # 50% x 0.60 = 30% -> 1,500,000 less 2% = 1,470,000; in 2022 the same ACO earns nothing
    f = fig(
        performance_year=2023,
        track="BASIC_E",
        benchmark_expenditure=D(100_000_000),
        actual_expenditure=D(95_000_000),
        minimum_savings_rate=D("0.02"),
        quality_score=D(60),
        met_quality_standard=False,
        met_alternative_quality_standard=True,
    )
    assert settle(load_terms("mssp:2023"), f).net_amount == D(1_470_000)
    f22 = f.model_copy(update={"performance_year": 2022})
    assert settle(load_terms("mssp:2022"), f22).net_amount == 0


# --- money is exact -----------------------------------------------------------------------


def test_decimal_end_to_end_point_one_plus_point_two():
    # benchmark 0.3 exactly, actual 0.1 + 0.2 = 0.3 exactly in Decimal (0.30000000000000004 in
    # binary floats): no savings, no losses, net exactly zero with four places
    t = terms(TWO_SIDED, rounding={"places": 4})
    s = settle(t, fig(benchmark_expenditure=D("0.3"), actual_expenditure=D("0.1") + D("0.2")))
    assert s.item("savings").amount == D(0)
    assert s.net_amount == D("0.0000")
    # 0.1 + 0.2 of savings per 1.0 shared at 50% -> exactly 0.15
    s = settle(
        terms(
            {**UPSIDE, "savings_cap_pct_of_benchmark": None, "minimum_savings_rate": {"fixed": 0}},
            rounding={"places": 2},
        ),
        fig(benchmark_expenditure=D("1.0"), actual_expenditure=D("1.0") - D("0.1") - D("0.2")),
    )
    assert s.net_amount == D("0.15")
    assert s.item("shared_savings").amount == D("0.150")  # exact, no rounding line needed
    assert all(isinstance(li.amount, D) for li in s.line_items)


def test_floats_are_rejected_at_the_door():
    with pytest.raises(ValueError, match="binary float"):
        fig(benchmark_expenditure=0.3, actual_expenditure=D(1))
    with pytest.raises(ContractError, match="binary float"):
        terms({**UPSIDE, "sharing_rate": 0.5})


def test_yaml_numbers_are_exact_decimals(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text(
        "name: x\nperformance_years: [2024]\npayment:\n  model: shared_savings\n"
        "  sharing_rate: 0.1\n  minimum_savings_rate: {fixed: 0.02}\n"
    )
    t = load_terms(p)
    assert t.payment.sharing_rate == D("0.1")
    assert type(t.payment.sharing_rate) is D


def test_bad_terms_name_the_field(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text(
        "name: x\nperformance_years: [2024]\npayment:\n  model: shared_savings\n  sharing_rate: 1.5\n"
    )
    with pytest.raises(ContractError) as err:
        load_terms(p)
    msg = str(err.value)
    assert str(p) in msg and "payment.shared_savings.sharing_rate" in msg
    assert "minimum_savings_rate" in msg  # the missing field is named too
    with pytest.raises(ContractError, match="no such template"):
        load_terms("mssp:1999")
