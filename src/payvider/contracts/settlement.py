"""The settlement engine: a pure function from contract terms and one year's figures to money.

``settle(terms, figures)`` returns ordered line items (name, exact Decimal amount, formula) and a
net amount with its direction. Every amount is a Decimal from input to output; the net is rounded
once, as the terms state, and a ``rounding`` line makes the counted lines sum to it exactly.
Floats are refused at the door (``PerformanceYearFigures`` rejects them), so a binary float can
never leak into a settlement.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field

from payvider.contracts.terms import (
    Capitation,
    ContractTerms,
    GlidePathBenchmark,
    HistoricalBenchmark,
    IntegratedMargin,
    MarketBenchmark,
    SharedSavings,
    StatedBenchmark,
    TwoSided,
    _Model,
)

__all__ = ["LineItem", "PerformanceYearFigures", "Settlement", "settle"]

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)


class PerformanceYearFigures(_Model):
    """One entity's figures for one performance year (all money in dollars, rates as fractions).

    Only what the contract's methods need must be given: summary mode supplies the benchmark and
    actual expenditure directly; a glide path or market benchmark is computed from member months.
    """

    performance_year: int
    id: str | None = None
    track: str | None = None
    benchmark_expenditure: Decimal | None = None
    actual_expenditure: Decimal
    assigned_beneficiaries: int = Field(default=0, ge=0)
    member_months: Decimal | None = None
    minimum_savings_rate: Decimal | None = None
    minimum_loss_rate: Decimal | None = None
    quality_score: Decimal | None = Field(default=None, ge=0, le=100)
    met_quality_standard: bool = True
    met_alternative_quality_standard: bool = False
    revenue_category: Literal["low", "high"] | None = None
    agreement_start_date: dt.date | None = None
    extreme_uncontrollable_adjustment: Decimal = ZERO
    participant_revenue: Decimal | None = None
    baseline_expenditures: list[Decimal] | None = None
    #: Per baseline year, the market's PMPM growth to the performance year (``trend_source:
    #: market``), e.g. 1.1236 for two years of 6%.
    baseline_trend_factors: list[Decimal] | None = None
    #: The population's PMPM in a glide path's ``baseline_year`` (when the terms do not state it).
    baseline_pmpm: Decimal | None = None
    market_pmpm: Decimal | None = None
    risk_score_baseline: Decimal | None = None
    risk_score_performance: Decimal | None = None
    premium: Decimal | None = None
    administrative_cost: Decimal | None = None
    member_months_by_cell: dict[str, Decimal] = {}
    measure_rates: dict[str, Decimal] = {}


Unit = Literal["USD", "rate", "count"]


@dataclass(frozen=True)
class LineItem:
    """One step of the settlement. ``counts`` lines sum to the net; others explain it."""

    name: str
    amount: Decimal
    formula: str
    unit: Unit = "USD"
    counts: bool = False


@dataclass(frozen=True)
class Settlement:
    id: str | None
    performance_year: int
    track: str | None
    line_items: list[LineItem] = field(default_factory=list)
    net_amount: Decimal = ZERO

    @property
    def direction(self) -> str:
        """Who pays: positive nets are paid by the payer to the provider."""
        if self.net_amount > 0:
            return "payer_pays_provider"
        if self.net_amount < 0:
            return "provider_pays_payer"
        return "none"

    def item(self, name: str) -> LineItem:
        for li in self.line_items:
            if li.name == name:
                return li
        raise KeyError(name)

    def as_dict(self) -> dict[str, Any]:
        """Flat mapping: id, each line item's amount (exact, as text), the net and direction."""
        out: dict[str, Any] = {"id": self.id, "performance_year": self.performance_year}
        if self.track is not None:
            out["track"] = self.track
        for li in self.line_items:
            out[li.name] = str(li.amount)
        out["net_amount"] = str(self.net_amount)
        out["direction"] = self.direction
        return out


class _Lines:
    def __init__(self) -> None:
        self.items: list[LineItem] = []

    def add(
        self, name: str, amount: Decimal, formula: str, unit: Unit = "USD", counts: bool = False
    ) -> Decimal:
        if not isinstance(amount, Decimal):  # the engine itself must never produce a float
            raise TypeError(f"line {name} is {type(amount).__name__}, not Decimal")
        self.items.append(LineItem(name, amount, formula, unit, counts))
        return amount


def _need(value: Any, what: str) -> Any:
    if value is None:
        raise ValueError(f"the contract needs {what} for this performance year")
    return value


def _year_index(terms: ContractTerms, year: int) -> int:
    if year not in terms.performance_years:
        raise ValueError(
            f"performance year {year} is not in the contract {terms.performance_years}"
        )
    return year - min(terms.performance_years) + 1


def _benchmark(terms: ContractTerms, f: PerformanceYearFigures, lines: _Lines) -> Decimal:
    if f.benchmark_expenditure is not None:
        return lines.add(
            "benchmark_expenditure", f.benchmark_expenditure, "stated for the year (input)"
        )
    method = terms.benchmark
    if isinstance(method, StatedBenchmark):
        amount = _need(method.amounts.get(f.performance_year), "a stated benchmark amount")
        return lines.add("benchmark_expenditure", amount, "stated in the contract")
    if isinstance(method, HistoricalBenchmark):
        base = _need(f.baseline_expenditures, "baseline_expenditures")
        if len(base) != len(method.weights):
            raise ValueError("baseline_expenditures must have one figure per baseline year")
        if method.trend_source == "market":
            factors = _need(f.baseline_trend_factors, "baseline_trend_factors (market trend)")
            if len(factors) != len(base):
                raise ValueError("baseline_trend_factors must have one factor per baseline year")
            formula = "Σ weight × baseline year expenditure × market PMPM growth to the PY"
        else:
            factors = [
                (ONE + method.annual_trend) ** (f.performance_year - year)
                for year in method.baseline_years
            ]
            formula = "Σ weight × baseline year expenditure × (1 + trend)^(PY − baseline year)"
        total = ZERO
        for year, weight, amount, factor in zip(
            method.baseline_years, method.weights, base, factors, strict=True
        ):
            lines.add(f"baseline_{year}_expenditure", amount, "input", "USD")
            lines.add(f"baseline_{year}_trend_factor", factor, f"trend from {year}", "rate")
            total += weight * amount * factor
        amount = total
    elif isinstance(method, MarketBenchmark):
        mm = _need(f.member_months, "member_months")
        pmpm = _need(f.market_pmpm, "market_pmpm")
        amount = pmpm * mm * (ONE + method.adjustment)
        formula = f"market PMPM {pmpm} × member months {mm} × (1 + {method.adjustment})"
    else:
        assert isinstance(method, GlidePathBenchmark)
        mm = _need(f.member_months, "member_months")
        idx = _year_index(terms, f.performance_year)
        cut = method.reduction_by_year.get(idx, ZERO)
        base_pmpm = method.baseline_pmpm
        if base_pmpm is None:
            base_pmpm = _need(f.baseline_pmpm, f"baseline_pmpm (the {method.baseline_year} PMPM)")
            lines.add("baseline_pmpm", base_pmpm, f"population PMPM in {method.baseline_year}")
        pmpm = base_pmpm * (ONE + method.annual_trend) ** idx * (ONE - cut)
        lines.add("benchmark_pmpm", pmpm, f"baseline PMPM × (1 + trend)^{idx} × (1 − {cut})")
        amount = pmpm * mm
        formula = f"benchmark PMPM × member months {mm} (glide-path year {idx})"
    ra = terms.risk_adjustment
    if ra is not None and ra.enabled and f.risk_score_baseline and f.risk_score_performance:
        ratio = f.risk_score_performance / f.risk_score_baseline
        if ra.growth_cap is not None:
            ratio = min(ratio, ONE + ra.growth_cap)
        lines.add("risk_ratio", ratio, "performance / baseline risk score, growth capped", "rate")
        amount *= ratio
        formula += " × risk ratio"
    return lines.add("benchmark_expenditure", amount, formula)


def _quality_multiplier(terms: ContractTerms, f: PerformanceYearFigures) -> tuple[Decimal, str]:
    """The factor on the sharing rate that quality earns, and why."""
    q = terms.quality
    if q is None or not q.gate:
        return ONE, "no quality gate"
    met = f.met_quality_standard
    if q.min_score is not None:
        met = met and f.quality_score is not None and f.quality_score >= q.min_score
    if met:
        if q.sliding_scale:
            score = _need(f.quality_score, "quality_score")
            return _interpolate(q.sliding_scale, score), f"sliding scale at quality {score}"
        return ONE, "quality standard met"
    if q.alternative_standard_scales_by_score and f.met_alternative_quality_standard:
        score = _need(f.quality_score, "quality_score")
        return score / HUNDRED, f"alternative standard met: × quality score {score}%"
    return ZERO, "quality standard not met"


def _interpolate(points, score: Decimal) -> Decimal:
    pts = sorted(points, key=lambda p: p.score)
    if score <= pts[0].score:
        return pts[0].multiplier
    for lo, hi in zip(pts, pts[1:], strict=False):
        if score <= hi.score:
            return lo.multiplier + (hi.multiplier - lo.multiplier) * (score - lo.score) / (
                hi.score - lo.score
            )
    return pts[-1].multiplier


def _quality_met_any(f: PerformanceYearFigures) -> bool:
    return f.met_quality_standard or f.met_alternative_quality_standard


def _settle_sharing(
    terms: ContractTerms, model: SharedSavings | TwoSided, f: PerformanceYearFigures, L: _Lines
) -> None:
    bench = _benchmark(terms, f, L)
    actual = L.add("actual_expenditure", f.actual_expenditure, "input")
    savings = L.add("savings", bench - actual, "benchmark − actual (negative = losses)")
    if bench <= 0:
        raise ValueError("benchmark expenditure must be positive")
    rate = L.add("savings_rate", savings / bench, "savings / benchmark", "rate")
    n = f.assigned_beneficiaries
    if f.minimum_savings_rate is not None:
        msr = L.add("minimum_savings_rate", f.minimum_savings_rate, "input", "rate")
    else:
        msr = model.minimum_savings_rate.for_population(n)
        L.add("minimum_savings_rate", msr, f"from the terms for {n} beneficiaries", "rate")
    two = isinstance(model, TwoSided)
    mlr = ZERO
    if two:
        if f.minimum_loss_rate is not None:
            mlr = L.add("minimum_loss_rate", f.minimum_loss_rate, "input", "rate")
        elif model.minimum_loss_rate is not None:
            mlr = model.minimum_loss_rate.for_population(n)
            L.add("minimum_loss_rate", mlr, f"from the terms for {n} beneficiaries", "rate")
        else:
            mlr = L.add("minimum_loss_rate", msr, "symmetrical with the MSR", "rate")

    multiplier, why = _quality_multiplier(terms, f)
    final_rate = L.add(
        "final_sharing_rate",
        model.sharing_rate * multiplier,
        f"{model.sharing_rate} × {why}",
        "rate",
    )

    if savings > 0 and rate >= msr:
        generated = savings if model.sharing_basis == "first_dollar" else savings - msr * bench
        basis = "first dollar" if model.sharing_basis == "first_dollar" else "above the MSR"
        L.add("generated_savings_losses", generated, f"savings ≥ MSR: shared from the {basis}")
        _share_savings(model, bench, generated, final_rate, "", L)
    elif savings > 0 and _below_msr_applies(model, f):
        below = model.below_msr_sharing
        assert below is not None
        L.add("generated_savings_losses", ZERO, "savings below the MSR")
        factor_rate = L.add(
            "below_msr_sharing_rate",
            final_rate * below.rate_factor,
            f"final sharing rate × {below.rate_factor} (savings below the MSR)",
            "rate",
        )
        _share_savings(model, bench, savings, factor_rate, " (below MSR)", L)
    elif two and savings < 0 and -rate >= mlr:
        assert isinstance(model, TwoSided)
        losses = -savings if model.sharing_basis == "first_dollar" else -savings - mlr * bench
        L.add("generated_savings_losses", -losses, "losses ≥ MLR: owed from the first dollar")
        _share_losses(model, f, bench, losses, L, terms.extreme_uncontrollable_reduces_losses)
    else:
        reason = "within the MSR/MLR corridor" if two else "below the MSR or no savings"
        L.add("generated_savings_losses", ZERO, reason)


def _below_msr_applies(model: SharedSavings | TwoSided, f: PerformanceYearFigures) -> bool:
    rule = model.below_msr_sharing
    if rule is None or not _quality_met_any(f):
        return False
    if rule.revenue_category is not None and f.revenue_category != rule.revenue_category:
        return False
    if f.assigned_beneficiaries < rule.min_beneficiaries:
        return False
    if rule.agreement_start_on_or_after is not None:
        start = f.agreement_start_date
        if start is None or start < rule.agreement_start_on_or_after:
            return False
    return True


def _share_savings(
    model: SharedSavings | TwoSided,
    bench: Decimal,
    generated: Decimal,
    rate: Decimal,
    note: str,
    L: _Lines,
) -> None:
    shared = L.add("shared_savings_before_cap", generated * rate, f"generated × {rate}{note}")
    if model.savings_cap_pct_of_benchmark is not None:
        cap = L.add(
            "performance_payment_limit",
            bench * model.savings_cap_pct_of_benchmark,
            f"{model.savings_cap_pct_of_benchmark} × benchmark",
        )
        shared = min(shared, cap)
    L.add("shared_savings", shared, "shared savings after the cap", counts=True)
    if model.payment_reduction:
        L.add(
            "payment_reduction",
            -shared * model.payment_reduction,
            f"−{model.payment_reduction} × shared savings (e.g. sequestration)",
            counts=True,
        )


def _share_losses(
    model: TwoSided,
    f: PerformanceYearFigures,
    bench: Decimal,
    losses: Decimal,
    L: _Lines,
    euc_applies: bool,
) -> None:
    if model.loss_sharing_rate is not None:
        loss_rate = model.loss_sharing_rate
        why = "fixed"
    else:
        rule = model.loss_sharing_rate_from_quality
        assert rule is not None
        if _quality_met_any(f):
            score = _need(f.quality_score, "quality_score")
            raw = ONE - rule.one_minus_times * score / HUNDRED
            loss_rate = min(max(raw, rule.min), rule.max)
            why = f"1 − {rule.one_minus_times} × quality {score}%, within [{rule.min}, {rule.max}]"
        else:
            loss_rate, why = rule.if_quality_failed, "quality standard not met"
    L.add("final_loss_rate", loss_rate, why, "rate")
    owed = L.add("shared_losses_before_cap", losses * loss_rate, f"losses × {loss_rate}")
    caps = []
    if model.loss_cap_pct_of_benchmark is not None:
        caps.append(bench * model.loss_cap_pct_of_benchmark)
    if model.loss_cap_pct_of_revenue is not None and f.participant_revenue is not None:
        rev_cap = f.participant_revenue * model.loss_cap_pct_of_revenue
        L.add("loss_cap_revenue", rev_cap, f"{model.loss_cap_pct_of_revenue} × participant revenue")
        caps.append(rev_cap)
    if caps:
        cap = L.add("loss_recoupment_limit", min(caps), "the lowest applicable loss cap")
        owed = min(owed, cap)
    L.add("shared_losses", -owed, "shared losses after the cap", counts=True)
    euc = abs(f.extreme_uncontrollable_adjustment) if euc_applies else ZERO
    if euc:
        relief = min(euc, owed)
        L.add(
            "extreme_uncontrollable_adjustment",
            relief,
            "losses reduced for extreme and uncontrollable circumstances (not below zero)",
            counts=True,
        )


def _settle_capitation(
    terms: ContractTerms, model: Capitation, f: PerformanceYearFigures, L: _Lines
) -> None:
    total = ZERO
    for r in model.rates:
        key = f"{r.product_line}/{r.age_band}"
        mm = f.member_months_by_cell.get(key, ZERO)
        total += r.pmpm * mm
    L.add(
        "capitation_payment",
        total,
        "Σ PMPM × member months by product line and age band",
        counts=True,
    )
    actual = L.add("actual_expenditure", f.actual_expenditure, "input")
    L.add("provider_margin", total - actual, "capitation − actual cost (kept by the provider)")


def _settle_margin(
    terms: ContractTerms, model: IntegratedMargin, f: PerformanceYearFigures, L: _Lines
) -> None:
    premium = L.add("premium", _need(f.premium, "premium"), "input")
    medical = L.add("actual_expenditure", f.actual_expenditure, "medical cost (input)")
    if f.administrative_cost is not None:
        admin = L.add("administrative_cost", f.administrative_cost, "input")
    elif model.administrative_cost_pmpm is not None:
        mm = _need(f.member_months, "member_months")
        admin = L.add(
            "administrative_cost",
            model.administrative_cost_pmpm * mm,
            f"{model.administrative_cost_pmpm} PMPM × {mm} member months",
        )
    elif model.administrative_cost_pct_of_premium is not None:
        admin = L.add(
            "administrative_cost",
            model.administrative_cost_pct_of_premium * premium,
            f"{model.administrative_cost_pct_of_premium} × premium",
        )
    else:
        admin = L.add(
            "administrative_cost", _need(f.administrative_cost, "administrative_cost"), "input"
        )
    margin = L.add("margin", premium - medical - admin, "premium − medical − administrative")
    share = L.add(
        "provider_share_before_limits",
        margin * model.provider_share,
        f"margin × {model.provider_share}",
    )
    if model.floor is not None:
        share = max(share, model.floor)
    if model.ceiling is not None:
        share = min(share, model.ceiling)
    L.add("provider_margin_share", share, "within the floor and ceiling", counts=True)


def settle(terms: ContractTerms, figures: PerformanceYearFigures) -> Settlement:
    """Settle one performance year. Pure: the same terms and figures give the same settlement."""
    if not isinstance(figures, PerformanceYearFigures):
        raise TypeError("figures must be PerformanceYearFigures")
    model = terms.payment_for(figures.track)
    L = _Lines()
    if isinstance(model, SharedSavings | TwoSided):
        _settle_sharing(terms, model, figures, L)
    elif isinstance(model, Capitation):
        _settle_capitation(terms, model, figures, L)
    else:
        _settle_margin(terms, model, figures, L)

    mm = figures.member_months
    if terms.care_management_fee_pmpm is not None:
        mm = _need(mm, "member_months")
        L.add(
            "care_management_fees",
            terms.care_management_fee_pmpm * mm,
            f"{terms.care_management_fee_pmpm} PMPM × {mm} member months",
            counts=True,
        )
    if terms.outcome_pool is not None:
        pool = terms.outcome_pool
        mm = _need(mm, "member_months")
        total_weight = sum((m.weight for m in pool.measures), ZERO)
        earned_weight = ZERO
        for m in pool.measures:
            rate = figures.measure_rates.get(m.name)
            hit = rate is not None and (
                rate >= m.target if m.higher_is_better else rate <= m.target
            )
            if hit:
                earned_weight += m.weight
        L.add("outcome_pool", pool.pmpm * mm, f"{pool.pmpm} PMPM × {mm} member months")
        L.add(
            "outcome_payments",
            pool.pmpm * mm * earned_weight / total_weight if total_weight else ZERO,
            f"pool × weight of measures meeting target ({earned_weight} of {total_weight})",
            counts=True,
        )

    exact = sum((li.amount for li in L.items if li.counts), ZERO)
    net = terms.rounding.apply(exact)
    if net != exact:
        L.add(
            "rounding",
            net - exact,
            f"net rounded to {terms.rounding.places} places ({terms.rounding.mode})",
            counts=True,
        )
    return Settlement(figures.id, figures.performance_year, figures.track, L.items, net)
