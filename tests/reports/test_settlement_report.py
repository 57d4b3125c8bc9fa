"""The settlement report's waterfall: its steps add up to the net payment exactly, for each
payment model (figures hand-computed in the comments)."""

from __future__ import annotations

from decimal import Decimal

from payvider.contracts.records import settlement_dict
from payvider.contracts.settlement import PerformanceYearFigures, settle
from payvider.contracts.terms import load_terms
from payvider.reports.settlement import waterfall_steps, write_settlement_report

D = Decimal


def _end(steps):
    """Walk the waterfall: a total resets the level, a step moves it; return the last level
    before the net bar and the net bar."""
    level = D(0)
    for _, amount, kind in steps[:-1]:
        level = amount if kind == "total" else level + amount
    return level, steps[-1][1]


def test_waterfall_of_shared_savings_ends_at_the_net():
    # benchmark 1,157,308; actual 1,100,000 → savings 57,308; rate 0.5 at score 80 → 28,654;
    # fee 24,000 → net 52,654.00
    f = PerformanceYearFigures(
        performance_year=2025,
        actual_expenditure=D("1100000"),
        baseline_expenditures=[D("1000000")],
        baseline_trend_factors=[D("1.1236")],
        risk_score_baseline=D(1),
        risk_score_performance=D("1.05"),
        member_months=D(12000),
        quality_score=D(80),
    )
    s = settlement_dict(settle(load_terms("seed:aco-metro-trend"), f))
    steps = waterfall_steps(s)
    assert [label for label, _, _ in steps][:3] == ["benchmark", "actual expenditure", "savings"]
    level, net = _end(steps)
    assert level == net == D("52654.00")


def test_waterfall_of_a_negative_margin_ends_at_the_net(tmp_path):
    # premium 1,000,000 − 950,000 − 120,000 = −70,000; half = −35,000
    f = PerformanceYearFigures(
        performance_year=2024,
        actual_expenditure=D("950000"),
        premium=D("1000000"),
        member_months=D(1000),
    )
    terms = load_terms("seed:jv-integrated-margin")
    result = settle(terms, f)
    level, net = _end(waterfall_steps(settlement_dict(result)))
    assert level == net == D("-35000.00")
    page = write_settlement_report(tmp_path / "s.html", settlements=[result], terms=terms)
    text = page.read_text()
    assert "<svg" in text and "-$35,000.00" in text
