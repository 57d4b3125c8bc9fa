"""Scenario projection: the base year carried forward N years under stated assumptions, each
projected year settled by the contract engine in exact decimals.

For projection year k (1 = the year after the base year), with g the membership growth, s_k the
attribution share (base share unless stated), c the cost trend, p_k the program savings and b
the benchmark trend::

    size_k      = (1 + g)^k × s_k / s_0
    members_k   = round(members_0 × size_k)                  (assigned beneficiaries, MSR table)
    months_k    = member_months_0 × size_k
    actual_k    = expenditure_0 × (1 + c)^k × (1 − p_k) × size_k
    benchmark_k = PMPM_0 × (1 + b)^k × months_k              (stated benchmarks without an amount)
    market_k    = market PMPM_0 × (1 + b)^k                  (market benchmarks)
    premium_k   = PMPM_0 ÷ MLR × (1 + b)^k × months_k        (integrated margin)

Contract year: projection year k settles under the contract's k-th performance year, or its last
one when the contract states fewer years (annual rules such as ``mssp:2024`` repeat).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from payvider.contracts.settlement import PerformanceYearFigures, Settlement, settle
from payvider.contracts.terms import (
    ContractTerms,
    HistoricalBenchmark,
    MarketBenchmark,
    StatedBenchmark,
)
from payvider.scenarios.assumptions import ScenarioAssumptions

__all__ = ["ProjectedYear", "ScenarioBase", "YearDrivers", "drivers", "figures", "project"]

ONE = Decimal(1)


@dataclass(frozen=True)
class ScenarioBase:
    """The settled population in the base year (exact), and what the run says around it."""

    base_year: int
    members: int
    member_months: Decimal
    expenditure: Decimal
    book_members: int
    member_months_by_product_line: dict[str, Decimal] = field(default_factory=dict)
    pmpm_by_year: dict[int, Decimal] = field(default_factory=dict)
    market_pmpm: Decimal | None = None
    market_trend: Decimal | None = None
    observed_trend: Decimal | None = None
    measure_rates: dict[str, Decimal] = field(default_factory=dict)
    population: str = "partner_attributed"

    @property
    def pmpm(self) -> Decimal:
        return self.expenditure / self.member_months

    @property
    def attribution_share(self) -> Decimal:
        return Decimal(self.members) / Decimal(self.book_members)


@dataclass(frozen=True)
class YearDrivers:
    """The deterministic multipliers of one projection year (shared by every Monte Carlo draw)."""

    k: int
    year: int
    contract_year: int
    size: Decimal  # population size relative to the base year
    cost_factor: Decimal  # (1 + c)^k × (1 − p_k)
    benchmark_factor: Decimal  # (1 + b)^k
    members: int
    quality_score: Decimal
    cost_trend: Decimal
    benchmark_trend: Decimal


@dataclass(frozen=True)
class ProjectedYear:
    drivers: YearDrivers
    figures: PerformanceYearFigures
    settlement: Settlement

    def as_dict(self) -> dict:
        d, f, s = self.drivers, self.figures, self.settlement
        bench = next((li.amount for li in s.line_items if li.name == "benchmark_expenditure"), None)
        return {
            "year": d.year,
            "contract_year": d.contract_year,
            "members": d.members,
            "member_months": str(f.member_months),
            "actual_expenditure": str(f.actual_expenditure),
            "benchmark_expenditure": None if bench is None else str(bench),
            "quality_score": str(d.quality_score),
            "net_amount": str(s.net_amount),
            "direction": s.direction,
            "line_items": {li.name: str(li.amount) for li in s.line_items},
        }


def _trend(stated: Decimal | None, observed: Decimal | None, what: str) -> Decimal:
    if stated is not None:
        return stated
    if observed is None:
        raise ValueError(f"no {what} in the assumptions and none observed in the run")
    return observed


def drivers(
    terms: ContractTerms, base: ScenarioBase, a: ScenarioAssumptions, k: int
) -> YearDrivers:
    """Multipliers of projection year ``k`` (1-based), exact."""
    if k < 1:
        raise ValueError("projection years start at 1")
    c = _trend(a.cost_trend, base.observed_trend, "cost_trend")
    b = _trend(a.benchmark_trend, base.market_trend, "benchmark_trend")
    share = a.attribution_share if a.attribution_share is not None else base.attribution_share
    size = (ONE + a.membership_growth) ** k * share / base.attribution_share
    members = int((Decimal(base.members) * size).to_integral_value(ROUND_HALF_UP))
    years = terms.performance_years
    return YearDrivers(
        k=k,
        year=base.base_year + k,
        contract_year=years[min(k, len(years)) - 1],
        size=size,
        cost_factor=(ONE + c) ** k * (ONE - a.savings_in(k)),
        benchmark_factor=(ONE + b) ** k,
        members=members,
        quality_score=a.quality_in(k),
        cost_trend=c,
        benchmark_trend=b,
    )


def figures(
    terms: ContractTerms,
    base: ScenarioBase,
    a: ScenarioAssumptions,
    d: YearDrivers,
    expenditure: Decimal | None = None,
    member_months: Decimal | None = None,
) -> PerformanceYearFigures:
    """The engine's figures for a projected year.

    ``expenditure`` and ``member_months`` are base-year totals of the population (default: the
    base's own); Monte Carlo passes each draw's totals here, so a draw is settled exactly like the
    projection.
    """
    spend = base.expenditure if expenditure is None else expenditure
    months0 = base.member_months if member_months is None else member_months
    months = months0 * d.size
    actual = spend * d.cost_factor * d.size
    kw: dict = {}
    method = terms.benchmark
    if isinstance(method, StatedBenchmark) and d.contract_year not in method.amounts:
        # multiply before dividing, so the benchmark is exact whenever it can be
        kw["benchmark_expenditure"] = (
            base.expenditure * d.benchmark_factor * months / base.member_months
        )
    elif isinstance(method, MarketBenchmark):
        if base.market_pmpm is None:
            raise ValueError("the contract's market benchmark needs the run's market_benchmark")
        kw["market_pmpm"] = base.market_pmpm * d.benchmark_factor
    elif isinstance(method, HistoricalBenchmark):
        missing = [y for y in method.baseline_years if y not in base.pmpm_by_year]
        if missing:
            raise ValueError(f"the run has no figures for baseline year(s) {missing}")
        kw["baseline_expenditures"] = [base.pmpm_by_year[y] * months for y in method.baseline_years]
    payment = terms.payment_for(a.track if terms.tracks else None)
    if getattr(payment, "model", None) == "integrated_margin":
        premium = (
            base.expenditure
            * d.benchmark_factor
            * months
            / (base.member_months * a.medical_loss_ratio)
        )
        kw["premium"] = premium
        kw["administrative_cost"] = premium * a.administrative_cost_ratio
    total_pl = sum(base.member_months_by_product_line.values(), Decimal(0))
    if total_pl:
        kw["member_months_by_cell"] = {
            f"{pl}/all": months * mm / total_pl
            for pl, mm in base.member_months_by_product_line.items()
        }
    if a.participant_revenue_ratio is not None:
        kw["participant_revenue"] = actual * a.participant_revenue_ratio
    return PerformanceYearFigures(
        performance_year=d.contract_year,
        id=f"{base.population} {d.year}",
        track=a.track if terms.tracks else None,
        actual_expenditure=actual,
        assigned_beneficiaries=d.members,
        member_months=months,
        quality_score=d.quality_score,
        met_quality_standard=a.met_quality_standard,
        measure_rates=a.measure_rates or base.measure_rates,
        **kw,
    )


def project(
    terms: ContractTerms, base: ScenarioBase, a: ScenarioAssumptions, years: int
) -> list[ProjectedYear]:
    """Project ``years`` years after the base year and settle each with the engine."""
    if years < 1:
        raise ValueError("years must be at least 1")
    if terms.tracks and a.track not in terms.tracks:
        raise ValueError(
            f"contract {terms.name} has tracks {', '.join(terms.tracks)}: choose one (track)"
        )
    out = []
    for k in range(1, years + 1):
        d = drivers(terms, base, a, k)
        f = figures(terms, base, a, d)
        out.append(ProjectedYear(d, f, settle(terms, f)))
    return out
