"""The scenarios page of the HTML report: the example term sheets projected from the run's last
complete year with default assumptions, and compared on the same Monte Carlo draws."""

from __future__ import annotations

import html
from decimal import Decimal

from payvider.engine.workspace import Workspace, WorkspaceError
from payvider.reports.charts import scatter_svg
from payvider.reports.cost_section import _dollars, _pct
from payvider.reports.html import _table

#: Term sheets the report compares (shipped examples: docs/scenarios.md).
REPORT_CONTRACTS = ("example:upside-only", "example:two-sided", "example:integrated-margin")
REPORT_DRAWS = 1000


def scenarios_section(workspace: Workspace, run_id: str | None) -> str:
    """Projection and term-sheet comparison; a one-line note when the run cannot support them."""
    from payvider.scenarios.assumptions import ScenarioAssumptions
    from payvider.scenarios.compare import TermSheet, compare_term_sheets
    from payvider.scenarios.inputs import load_contract, load_scenario_inputs
    from payvider.scenarios.projection import project

    a = ScenarioAssumptions()
    try:
        base, sample = load_scenario_inputs(workspace, run_id, a)
        terms, _ = load_contract("example:two-sided")
        projected = project(terms, base, a, 3)
        sheets = [TermSheet(c, *load_contract(c)) for c in REPORT_CONTRACTS]
        rows = compare_term_sheets(sheets, base, sample, a, 1, REPORT_DRAWS, seed=1)
    except (WorkspaceError, ValueError) as exc:
        return f"<h2>Scenarios</h2><p class='muted'>No scenario: {html.escape(str(exc))}</p>"
    d = projected[0].drivers
    intro = (
        f"<h2>Scenarios</h2><p class='muted'>Base year {base.base_year}: {base.members:,} "
        f"partner-attributed members, PMPM ${float(base.pmpm):,.2f}; assumed cost trend "
        f"{_pct(d.cost_trend)} (observed), benchmark trend {_pct(d.benchmark_trend)} (market). "
        "Each projected year is settled by the contract engine; assumptions and formulas in "
        "docs/scenarios.md.</p>"
    )
    projection = _table(
        ["year", "members", "benchmark", "actual", "net (example:two-sided)", "direction"],
        [
            [
                str(p.drivers.year),
                p.drivers.members,
                _dollars(Decimal(p.as_dict()["benchmark_expenditure"] or 0)),
                _dollars(p.figures.actual_expenditure),
                _dollars(p.settlement.net_amount),
                p.settlement.direction.replace("_", " "),
            ]
            for p in projected
        ],
        numeric={1, 2, 3, 4},
    )
    comparison = _table(
        [
            "term sheet",
            "payer cost",
            "payer 5th–95th",
            "P(payer over budget)",
            "provider gain",
            "provider 5th–95th",
            "P(provider loss)",
            "P(clear MSR)",
        ],
        [
            [
                r["contract"],
                _dollars(Decimal(r["expected_payer_cost"])),
                f"{_dollars(Decimal(r['payer_cost_p05']))} – {_dollars(Decimal(r['payer_cost_p95']))}",
                _pct(r["probability_payer_over_budget"]),
                _dollars(Decimal(r["expected_provider_gain"])),
                f"{_dollars(Decimal(r['provider_gain_p05']))} – "
                f"{_dollars(Decimal(r['provider_gain_p95']))}",
                _pct(r["probability_provider_loss"]),
                _pct(r["probability_clear_msr"]),
            ]
            for r in rows
        ],
        numeric={1, 3, 4, 6, 7},
    )
    chart = scatter_svg(
        [
            {
                "x": float(r["expected_payer_cost"]),
                "y": float(r["expected_provider_gain"]),
                "y_low": float(r["provider_gain_p05"]),
                "y_high": float(r["provider_gain_p95"]),
                "label": r["contract"].removeprefix("example:"),
            }
            for r in rows
        ],
        "expected payer cost ($)",
        "expected provider gain ($)",
        f"Term sheets, {rows[0]['year']}: trade-off (bars: provider 5th–95th percentile)",
    )
    return (
        intro
        + projection
        + f"<p class='muted'>Term sheets on the same {REPORT_DRAWS:,} bootstrap draws (seed 1) "
        "of the base year's members, resampled within product line × risk tertile.</p>"
        + comparison
        + chart
    )
