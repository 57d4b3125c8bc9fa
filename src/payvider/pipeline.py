"""The stages of ``payvider run``: which output tables are built, from what, by which function.

Each stage is a pure function from Ibis tables (canonical inputs or earlier stages' outputs) to one
Ibis table. The run executor (``payvider.engine.runs``) reads inputs, executes each stage on the
chosen engine and writes its output as ``<stage name>.parquet``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import ibis.expr.types as ir
from pydantic import BaseModel, ConfigDict

from payvider.marts.attribution import attribute_members
from payvider.marts.attribution_rules import AttributionRules
from payvider.marts.final_claims import resolve_adjustments
from payvider.marts.member_months import MemberMonthRule, member_months
from payvider.marts.membership import attribution_churn, membership_by_month


class RunParameters(BaseModel):
    """Settings of a run; recorded in its manifest so the run can be reproduced."""

    model_config = ConfigDict(extra="forbid")

    member_month_rule: MemberMonthRule = "any_day"
    as_of: dt.date | None = None
    attribution: AttributionRules = AttributionRules()


@dataclass(frozen=True)
class Stage:
    name: str
    inputs: tuple[str, ...]
    description: str
    build: Callable[[dict[str, ir.Table], RunParameters], ir.Table]


def claim_years(claims: ir.Table) -> list[int]:
    """Calendar years with claims (executes a one-row aggregate)."""
    years = claims.select(year=claims.claim_start_date.year()).distinct().to_pyarrow()
    return sorted(int(y) for y in years["year"].to_pylist() if y is not None)


def _attribution(t: dict[str, ir.Table], p: RunParameters) -> ir.Table:
    return attribute_members(
        t["final_medical_claim"],
        t["eligibility"],
        t["member_months"],
        t["provider"],
        p.attribution.periods or claim_years(t["final_medical_claim"]),
        p.attribution,
    )


STAGES: tuple[Stage, ...] = (
    Stage(
        "final_medical_claim",
        ("medical_claim",),
        "Medical claim lines with replacements and voids resolved.",
        lambda t, p: resolve_adjustments(t["medical_claim"]),
    ),
    Stage(
        "final_pharmacy_claim",
        ("pharmacy_claim",),
        "Pharmacy claim lines with replacements and reversals resolved.",
        lambda t, p: resolve_adjustments(t["pharmacy_claim"]),
    ),
    Stage(
        "member_months",
        ("eligibility",),
        "One row per member, payer and month of enrollment.",
        lambda t, p: member_months(t["eligibility"], p.member_month_rule),
    ),
    Stage(
        "attribution",
        ("final_medical_claim", "eligibility", "member_months", "provider"),
        "Attribution of each eligible member per performance year, with the rule that decided it.",
        _attribution,
    ),
    Stage(
        "membership",
        ("member_months", "attribution"),
        "Members, member months and attribution by month and product line.",
        lambda t, p: membership_by_month(t["member_months"], t["attribution"]),
    ),
    Stage(
        "attribution_churn",
        ("attribution",),
        "Members by change in attribution from the previous period.",
        lambda t, p: attribution_churn(t["attribution"]),
    ),
)


def stage_names() -> list[str]:
    return [s.name for s in STAGES]
