"""Summary mode: settle rows of aggregate figures (one entity and year per row) from a CSV.

This lets a user check a payer's or CMS's statement without claims: each row carries the
benchmark, expenditure, population and quality figures, and the contract supplies the rules.
Percent columns (``minimum_savings_rate``, ``minimum_loss_rate``) are written in percent.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from payvider.contracts.settlement import PerformanceYearFigures, Settlement, settle
from payvider.contracts.terms import ContractTerms
from payvider.ingest.errors import InputRejected

__all__ = ["SUMMARY_COLUMNS", "read_summary", "settle_summary", "summary_record"]

SUMMARY_COLUMNS = [
    "id",
    "performance_year",
    "track",
    "assigned_beneficiaries",
    "benchmark_expenditure",
    "actual_expenditure",
    "minimum_savings_rate",
    "minimum_loss_rate",
    "quality_score",
    "met_quality_standard",
    "met_alternative_quality_standard",
    "revenue_category",
    "agreement_start_date",
    "extreme_uncontrollable_adjustment",
    "participant_revenue",
]
REQUIRED = ["id", "performance_year", "actual_expenditure"]
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}


def _decimal(text: str) -> Decimal:
    value = Decimal(text.replace(",", "").replace("$", ""))
    if not value.is_finite():
        raise InvalidOperation
    return value


def _parse_row(raw: dict[str, str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Typed figures for one row, and the (field, problem) pairs that failed."""
    out: dict[str, Any] = {}
    bad: list[tuple[str, str]] = []
    for name in SUMMARY_COLUMNS:
        text = (raw.get(name) or "").strip()
        if not text:
            if name in REQUIRED:
                bad.append((name, "is required"))
            continue
        try:
            if name in ("id", "track"):
                out[name] = text.upper() if name == "track" else text
            elif name in ("performance_year", "assigned_beneficiaries"):
                out[name] = int(text.replace(",", ""))
            elif name in ("met_quality_standard", "met_alternative_quality_standard"):
                low = text.lower()
                if low not in _TRUE | _FALSE:
                    raise ValueError("must be true or false")
                out[name] = low in _TRUE
            elif name == "revenue_category":
                low = text.lower().removesuffix(" revenue")
                if low not in ("low", "high"):
                    raise ValueError("must be low or high")
                out[name] = low
            elif name == "agreement_start_date":
                out[name] = dt.date.fromisoformat(text)
            elif name in ("minimum_savings_rate", "minimum_loss_rate"):
                out[name] = _decimal(text.rstrip("%")) / 100
            else:
                out[name] = _decimal(text)
        except (ValueError, InvalidOperation) as exc:
            msg = str(exc) if isinstance(exc, ValueError) and "must" in str(exc) else "not valid"
            bad.append((name, f"{msg} ({text!r})"))
    return out, bad


def read_summary(path: Path | str) -> list[PerformanceYearFigures]:
    """Rows of a summary CSV as figures; every bad cell is reported with its row and field."""
    path = Path(path)
    if not path.is_file():
        raise InputRejected(str(path), "file not found")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputRejected(str(path), "not UTF-8 text") from None
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise InputRejected(str(path), f"missing required column(s): {', '.join(missing)}")
    figures: list[PerformanceYearFigures] = []
    problems: list[str] = []
    for line, raw in enumerate(reader, start=2):  # line 1 is the header
        values, bad = _parse_row(raw)
        if not bad:
            try:
                figures.append(PerformanceYearFigures(**values))
            except ValueError as exc:
                errors = getattr(exc, "errors", lambda: [])()
                bad = [(str(e["loc"][0]) if e["loc"] else "row", e["msg"]) for e in errors] or [
                    ("row", str(exc))
                ]
        problems.extend(f"row {line}, field {f}: {p}" for f, p in bad)
    if problems:
        shown = "; ".join(problems[:20])
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        raise InputRejected(str(path), shown + more)
    if not figures:
        raise InputRejected(str(path), "no rows")
    return figures


def summary_record(s: Settlement) -> dict[str, Any]:
    """The JSON object for one row: id, every line item and the whole-dollar net."""
    out = s.as_dict()
    out["earned_shared_savings_losses"] = int(s.net_amount.quantize(Decimal(1), ROUND_HALF_UP))
    return out


def settle_summary(
    terms: ContractTerms, figures: Iterable[PerformanceYearFigures], source: str = "summary"
) -> list[Settlement]:
    """Settle every row; a row the contract cannot settle is rejected naming its id."""
    results = []
    for f in figures:
        try:
            results.append(settle(terms, f))
        except ValueError as exc:
            raise InputRejected(source, f"id {f.id}: {exc}") from None
    return results
