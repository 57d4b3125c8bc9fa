"""Convert CMS's Shared Savings Program ACO results file (the PUF) to summary-mode rows.

CMS publishes, for every ACO and performance year, its benchmark and expenditure totals,
population, MSR, quality results and earned shared savings or losses (``EarnSaveLoss``). Turning
each row into the summary CSV columns lets ``mssp:<year>`` be checked against CMS's own results.
The PUF does not publish ACO participant revenue, so revenue-based loss caps cannot be applied.
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from payvider.contracts.summary import SUMMARY_COLUMNS

__all__ = ["TRACKS", "puf_rows", "to_summary_row", "write_summary_csv"]

TRACKS = {
    "A": "BASIC_A",
    "B": "BASIC_B",
    "C": "BASIC_C",
    "D": "BASIC_D",
    "E": "BASIC_E",
    "EN": "ENHANCED",
}


def _blank(text: str | None) -> bool:
    return text is None or text.strip() in ("", "-", ".")


def _pct(text: str) -> str:
    """'2.40%' -> '2.40' (percent, as the summary CSV wants)."""
    return text.strip().rstrip("%")


def _flag(text: str | None) -> str:
    return "" if _blank(text) else ("true" if text.strip() == "1" else "false")


def to_summary_row(row: dict[str, str], year: int) -> dict[str, str]:
    """One PUF row as summary CSV cells (strings, exactly as published)."""
    two_sided = row["Risk_Model"].strip() == "Two-Sided"
    start = dt.datetime.strptime(row["Current_Start_Date"].strip(), "%m/%d/%Y").date()
    disadj = row.get("DisAdj", "")
    out = {
        "id": row["ACO_ID"].strip(),
        "performance_year": str(year),
        "track": TRACKS[row["Current_Track"].strip()],
        "assigned_beneficiaries": row["N_AB"].strip(),
        "benchmark_expenditure": row["ABtotBnchmk"].strip(),
        "actual_expenditure": row["ABtotExp"].strip(),
        # one-sided ACOs' MSR comes from the population table; two-sided ACOs chose theirs
        # (published to two decimals, which is exact for the 0/0.5/1/1.5/2% choices)
        "minimum_savings_rate": _pct(row["MinSavPerc"]) if two_sided else "",
        "minimum_loss_rate": _pct(row["MinSavPerc"]) if two_sided else "",
        "quality_score": "" if _blank(row["QualScore"]) else _pct(row["QualScore"]),
        "met_quality_standard": _flag(row.get("Met_QPS")) or "false",
        "met_alternative_quality_standard": _flag(row.get("Met_AltQPS")) or "false",
        "revenue_category": row["Rev_Exp_Cat"].strip().split()[0].lower(),
        "agreement_start_date": start.isoformat(),
        "extreme_uncontrollable_adjustment": "" if _blank(disadj) else disadj.strip(),
        "participant_revenue": "",
    }
    return out


def puf_rows(path: Path | str) -> list[dict[str, str]]:
    """The PUF's rows as dictionaries (the file starts with a byte-order mark)."""
    with Path(path).open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def published(row: dict[str, str], column: str) -> Decimal | None:
    """A published figure as a Decimal (None when blank)."""
    text = row.get(column, "")
    return None if _blank(text) else Decimal(text.strip().rstrip("%"))


def write_summary_csv(puf: Path | str, year: int, out: Path | str) -> int:
    """Write the summary CSV for a PUF file; returns the number of rows written."""
    rows = [to_summary_row(r, year) for r in puf_rows(puf)]
    with Path(out).open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=SUMMARY_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def main(argv: list[str] | None = None) -> Any:
    """``python -m payvider.contracts.mssp_puf PUF.csv YEAR OUT.csv``."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3:
        print("usage: python -m payvider.contracts.mssp_puf PUF.csv YEAR OUT.csv", file=sys.stderr)
        return 2
    n = write_summary_csv(args[0], int(args[1]), args[2])
    print(f"{n} rows written to {args[2]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
