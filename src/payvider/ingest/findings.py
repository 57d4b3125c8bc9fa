"""Data-quality findings: problems worth knowing that do not make a row unusable.

A finding never removes a row. It is counted and shown in the load report so that, for example,
"paid exceeds allowed on 96 lines" is seen before anyone relies on those amounts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import ibis.expr.types as ir


@dataclass
class Finding:
    table: str
    check: str
    rows: int
    detail: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class FindingCheck:
    table: str
    check: str
    detail: str
    predicate: Callable[[ir.Table], ir.BooleanValue]


def _gt(a: str, b: str) -> Callable[[ir.Table], ir.BooleanValue]:
    return lambda t: t[a] > t[b]


def _missing(col: str) -> Callable[[ir.Table], ir.BooleanValue]:
    return lambda t: t[col].isnull()


CHECKS: tuple[FindingCheck, ...] = (
    FindingCheck(
        "medical_claim",
        "paid_exceeds_allowed",
        "paid_amount is greater than allowed_amount",
        _gt("paid_amount", "allowed_amount"),
    ),
    FindingCheck(
        "medical_claim",
        "allowed_missing",
        "allowed_amount is missing; cost measures need it (paid_amount is kept as received)",
        _missing("allowed_amount"),
    ),
    FindingCheck(
        "medical_claim", "paid_missing", "paid_amount is missing", _missing("paid_amount")
    ),
    FindingCheck(
        "medical_claim",
        "paid_date_missing",
        "paid_date is missing; claims completion cannot place these lines in a lag triangle",
        _missing("paid_date"),
    ),
    FindingCheck(
        "medical_claim",
        "institutional_without_bill_type",
        "institutional line without bill_type_code",
        lambda t: (t.claim_type == "institutional") & t.bill_type_code.isnull(),
    ),
    FindingCheck(
        "medical_claim",
        "professional_without_place_of_service",
        "professional line without place_of_service_code",
        lambda t: (t.claim_type == "professional") & t.place_of_service_code.isnull(),
    ),
    FindingCheck(
        "medical_claim",
        "negative_allowed_on_original",
        "negative allowed_amount on a line that is not a void",
        lambda t: (t.allowed_amount < 0) & (t.adjustment_type.fill_null("original") != "void"),
    ),
    FindingCheck(
        "pharmacy_claim",
        "paid_exceeds_allowed",
        "paid_amount is greater than allowed_amount",
        _gt("paid_amount", "allowed_amount"),
    ),
    FindingCheck(
        "pharmacy_claim",
        "days_supply_missing",
        "days_supply is missing; opioid MME and adherence measures need it",
        _missing("days_supply"),
    ),
    FindingCheck(
        "pharmacy_claim",
        "prescriber_missing",
        "prescribing_provider_npi is missing",
        _missing("prescribing_provider_npi"),
    ),
    FindingCheck(
        "eligibility",
        "enrolled_after_death",
        "enrollment continues after death_date",
        lambda t: t.death_date < t.enrollment_end_date,
    ),
    FindingCheck(
        "lab_result",
        "result_not_numeric",
        "result is text, not a number (e.g. free-text survey answers stored as lab results)",
        lambda t: t.result.notnull() & t.result.try_cast("float64").isnull(),
    ),
    FindingCheck(
        "lab_result", "units_missing", "source_units is missing", _missing("source_units")
    ),
)


def run_checks(tables: dict[str, ir.Table]) -> list[Finding]:
    """Count each check's rows over the loaded tables; report the non-zero ones."""
    found: list[Finding] = []
    for check in CHECKS:
        table = tables.get(check.table)
        if table is None:
            continue
        rows = int(table.filter(check.predicate(table)).count().execute())
        if rows:
            found.append(Finding(check.table, check.check, rows, check.detail))
    return found
