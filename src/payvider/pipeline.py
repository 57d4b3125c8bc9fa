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

from payvider.marts.final_claims import resolve_adjustments
from payvider.marts.member_months import MemberMonthRule, member_months


class RunParameters(BaseModel):
    """Settings of a run; recorded in its manifest so the run can be reproduced."""

    model_config = ConfigDict(extra="forbid")

    member_month_rule: MemberMonthRule = "any_day"
    as_of: dt.date | None = None


@dataclass(frozen=True)
class Stage:
    name: str
    inputs: tuple[str, ...]
    description: str
    build: Callable[[dict[str, ir.Table], RunParameters], ir.Table]


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
)


def stage_names() -> list[str]:
    return [s.name for s in STAGES]
