"""Term-sheet comparison: several contracts settled on the same Monte Carlo draws.

Every contract sees the same bootstrap populations (same seed, common random numbers), so the
differences between term sheets are the terms', not sampling noise. Per draw and contract:

- provider gain: the settlement's net (shared savings, shared losses, margin share, fees); under
  capitation, the capitation payment minus the cost of care it replaces;
- payer cost: what the payer spends on the population's care: claims (actual expenditure) plus
  the net; under capitation, the capitation payment;
- payer budget: the year's benchmark; for contracts without one (integrated margin,
  capitation), premium minus administrative cost, or the projected actual expenditure.

Risk for each party: 5th and 95th percentiles, and the probability of a loss (provider gain
below zero; payer cost above its budget). Means are of exact engine settlements.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from payvider.contracts.settlement import Settlement
from payvider.contracts.terms import Capitation, ContractTerms
from payvider.scenarios.assumptions import ScenarioAssumptions
from payvider.scenarios.inputs import MemberSample
from payvider.scenarios.montecarlo import YearDistribution, percentile, simulate
from payvider.scenarios.projection import ScenarioBase

__all__ = ["TermSheet", "compare_term_sheets"]

CENT = Decimal("0.01")


@dataclass(frozen=True)
class TermSheet:
    label: str
    terms: ContractTerms
    track: str | None = None


def _line(s: Settlement, name: str) -> Decimal | None:
    return next((li.amount for li in s.line_items if li.name == name), None)


def _party_figures(
    terms: ContractTerms, track: str | None, dist: YearDistribution
) -> tuple[list[Decimal], list[Decimal], list[Decimal]]:
    """Per draw: provider gain, payer cost and payer budget."""
    capitation = isinstance(terms.payment_for(track), Capitation)
    gains, costs, budgets = [], [], []
    for actual, s in zip(dist.actual, dist.settlements, strict=True):
        net = s.net_amount
        gains.append(net - actual if capitation else net)
        costs.append(net if capitation else actual + net)
        bench = _line(s, "benchmark_expenditure")
        if bench is None:
            premium = _line(s, "premium")
            admin = _line(s, "administrative_cost") or Decimal(0)
            bench = premium - admin if premium is not None else actual
        budgets.append(bench)
    return gains, costs, budgets


def _mean(values: list[Decimal]) -> Decimal:
    return (sum(values, Decimal(0)) / len(values)).quantize(CENT, ROUND_HALF_UP)


def compare_term_sheets(
    sheets: list[TermSheet],
    base: ScenarioBase,
    sample: MemberSample,
    a: ScenarioAssumptions,
    year: int = 1,
    draws: int = 2000,
    seed: int = 1,
) -> list[dict]:
    """One row per term sheet for projection year ``year``: expected payer cost and provider
    gain, each party's 5th/95th percentiles and probability of loss, and the MSR clearance."""
    rows = []
    for sheet in sheets:
        assumptions = a.model_copy(update={"track": sheet.track})
        dist = simulate(sheet.terms, base, sample, assumptions, year, draws, seed)[-1]
        gains, costs, budgets = _party_figures(sheet.terms, sheet.track, dist)
        n = len(gains)
        summary = dist.summary()
        sg, sc = sorted(gains), sorted(costs)
        rows.append(
            {
                "contract": sheet.label,
                "name": sheet.terms.name,
                "track": sheet.track,
                "year": dist.drivers.year,
                "draws": n,
                "expected_payer_cost": str(_mean(costs)),
                "payer_cost_p05": str(percentile(sc, 5).quantize(CENT, ROUND_HALF_UP)),
                "payer_cost_p95": str(percentile(sc, 95).quantize(CENT, ROUND_HALF_UP)),
                "probability_payer_over_budget": sum(
                    1 for c, b in zip(costs, budgets, strict=True) if c > b
                )
                / n,
                "expected_provider_gain": str(_mean(gains)),
                "provider_gain_p05": str(percentile(sg, 5).quantize(CENT, ROUND_HALF_UP)),
                "provider_gain_p95": str(percentile(sg, 95).quantize(CENT, ROUND_HALF_UP)),
                "probability_provider_loss": sum(1 for g in gains if g < 0) / n,
                "probability_clear_msr": summary["probability_clear_msr"],
                "expected_actual_expenditure": summary["expected_actual_expenditure"],
            }
        )
    return rows
