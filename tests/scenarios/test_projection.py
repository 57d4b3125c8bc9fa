"""Scenario projection checked by hand on small cases (the arithmetic is written beside each)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from payvider.ingest.errors import InputRejected
from payvider.scenarios.assumptions import ScenarioAssumptions, load_assumptions
from payvider.scenarios.inputs import load_contract
from payvider.scenarios.projection import ScenarioBase, project

D = Decimal


def _base(**kw) -> ScenarioBase:
    # 1,000 members, 12,000 member months, $6,000,000: PMPM $500; book of 4,000 (share 0.25)
    values = dict(
        base_year=2025,
        members=1000,
        member_months=D(12000),
        expenditure=D(6_000_000),
        book_members=4000,
        member_months_by_product_line={"commercial": D(12000)},
        pmpm_by_year={2024: D(480), 2025: D(500)},
        market_pmpm=D(600),
        market_trend=D("0.05"),
        observed_trend=D("0.04"),
    )
    values.update(kw)
    return ScenarioBase(**values)


def _assume(**kw) -> ScenarioAssumptions:
    return ScenarioAssumptions.model_validate(kw)


def test_upside_projection_by_hand():
    terms, _ = load_contract("example:upside-only")  # 50%, MSR 2%, first dollar, cap 10%
    a = _assume(
        cost_trend=D("0.03"),
        benchmark_trend=D("0.05"),
        program_savings=D("0.02"),
        membership_growth=D("0.10"),
        attribution_share=D("0.30"),
    )
    y1, y2 = project(terms, _base(), a, 2)
    # year 1: size = 1.10 × 0.30 / 0.25 = 1.32; members 1,320; months 15,840
    # actual = 6,000,000 × 1.03 × 0.98 × 1.32 = 7,994,448
    # benchmark = 500 × 1.05 × 15,840 = 8,316,000; savings 321,552 (3.87% ≥ 2%)
    # shared = 0.5 × 321,552 = 160,776 (cap 831,600 not reached)
    assert (y1.drivers.year, y1.drivers.contract_year, y1.drivers.members) == (2026, 1, 1320)
    assert y1.figures.member_months == D(15840)
    assert y1.figures.actual_expenditure == D(7_994_448)
    assert y1.settlement.item("benchmark_expenditure").amount == D(8_316_000)
    assert y1.settlement.net_amount == D("160776.00")
    # year 2: size = 1.21 × 1.2 = 1.452; months 17,424; members 1,452
    # actual = 6,000,000 × 1.0609 × 0.98 × 1.452 = 9,057,709.584
    # benchmark = 500 × 1.1025 × 17,424 = 9,604,980; savings 547,270.416 × 0.5 = 273,635.208
    assert y2.drivers.members == 1452
    assert y2.figures.actual_expenditure == D("9057709.584")
    assert y2.settlement.net_amount == D("273635.21")


def test_two_sided_losses_by_hand():
    terms, _ = load_contract("example:two-sided")  # 60% / 40%, corridor 1%, loss cap 5%
    a = _assume(cost_trend=D("0.08"), benchmark_trend=D("0.02"))
    [y1] = project(terms, _base(), a, 1)
    # actual 6,480,000; benchmark 510 × 12,000 = 6,120,000; losses 360,000 (5.9% ≥ 1%)
    # owed 0.4 × 360,000 = 144,000 (cap 0.05 × 6,120,000 = 306,000 not reached)
    assert y1.settlement.net_amount == D("-144000.00")
    assert y1.settlement.direction == "provider_pays_payer"


def test_quality_trajectory_gates_savings():
    terms, _ = load_contract("example:upside-only")  # quality min score 60
    a = _assume(
        cost_trend=D(0), benchmark_trend=D("0.05"), quality_score=D(50), quality_score_change=D(5)
    )
    y1, y2, y3 = project(terms, _base(), a, 3)
    # scores 50, 55, 60: only year 3 meets the gate
    assert [y.drivers.quality_score for y in (y1, y2, y3)] == [D(50), D(55), D(60)]
    assert y1.settlement.net_amount == y2.settlement.net_amount == D(0)
    # year 3: benchmark 500 × 1.157625 × 12,000 = 6,945,750; savings 945,750 × 0.5 = 472,875
    # capped at 10% of the benchmark = 694,575 → 472,875
    assert y3.settlement.net_amount == D("472875.00")


def test_integrated_margin_by_hand():
    terms, _ = load_contract("example:integrated-margin")  # 50%, floor/ceiling ±2,000,000
    a = _assume(cost_trend=D("0.03"), benchmark_trend=D("0.05"), medical_loss_ratio=D("0.8"))
    [y1] = project(terms, _base(), a, 1)
    # premium = 500 / 0.8 × 1.05 × 12,000 = 7,875,000; admin 10% = 787,500
    # margin = 7,875,000 − 6,180,000 − 787,500 = 907,500; half = 453,750
    assert y1.figures.premium == D(7_875_000)
    assert y1.settlement.net_amount == D("453750.00")


def test_blank_trends_come_from_the_run():
    terms, _ = load_contract("example:upside-only")
    [y1] = project(terms, _base(), _assume(), 1)
    # observed trend 4%, market 5%: actual 6,240,000, benchmark 6,300,000, savings 0.95% < 2%
    assert (y1.drivers.cost_trend, y1.drivers.benchmark_trend) == (D("0.04"), D("0.05"))
    assert y1.figures.actual_expenditure == D(6_240_000)
    assert y1.settlement.net_amount == D(0)


def test_program_savings_by_year_and_contract_years_repeat():
    terms, _ = load_contract("mssp:2024#ENHANCED")
    a = _assume(
        cost_trend=D(0), benchmark_trend=D(0), program_savings={1: D("0.05")}, track="ENHANCED"
    )
    base = _base(members=6000, book_members=24000)
    y1, y2 = project(terms, base, a, 2)
    assert y1.drivers.contract_year == y2.drivers.contract_year == 2024
    # year 1: 5% savings on a flat benchmark of 6,000,000: 300,000 ≥ MSR 3.6% (6,000 members)
    # ENHANCED 75% = 225,000, less 2% sequestration = 220,500; year 2 has no program savings
    assert y1.settlement.net_amount == D(220500)
    assert y2.settlement.net_amount == D(0)


def test_tracks_must_be_chosen():
    terms, _ = load_contract("mssp:2024")
    with pytest.raises(ValueError, match="tracks"):
        project(terms, _base(members=6000), _assume(cost_trend=D(0), benchmark_trend=D(0)), 1)


def test_bad_assumptions_name_file_and_field(tmp_path):
    p = tmp_path / "a.yaml"
    p.write_text("cost_trend: abc\nmembership_growth: 0.1\n")
    with pytest.raises(InputRejected, match=r"a.yaml: cost_trend"):
        load_assumptions(p)
    p.write_text("program_savings: 1.5\n")
    with pytest.raises(InputRejected, match="program_savings"):
        load_assumptions(p)
    assert load_assumptions(None) == ScenarioAssumptions()
    p.write_text("cost_trend: 0.1\n")
    assert load_assumptions(p).cost_trend == D("0.1")  # read exactly, not as a float


def test_unknown_example_and_track_are_rejected():
    with pytest.raises(InputRejected, match="no such example"):
        load_contract("example:nope")
    with pytest.raises(InputRejected, match="no track"):
        load_contract("mssp:2024#GOLD")
