"""Final claims and member months against hand-computed answers, on every engine.

Expected values come from the fixture's SOURCE.txt (worked out by hand), never from another engine,
so DuckDB and Spark are each checked against the same oracle and therefore agree with each other.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from payvider.engine.runs import canonical_inputs
from payvider.ingest import load_batch
from payvider.marts.final_claims import resolve_adjustments
from payvider.marts.member_months import member_months


@pytest.fixture
def loaded(workspace, canonical_dir):
    load_batch(workspace, canonical_dir)
    return workspace


def _rows(engine, expr) -> list[dict]:
    return engine.to_arrow(expr).to_pylist()


def test_final_claims(engine, loaded):
    tables = canonical_inputs(engine, loaded)
    final = resolve_adjustments(tables["medical_claim"])
    rows = sorted(
        (r["claim_id"], r["claim_line_number"], r["allowed_amount"], r["paid_amount"])
        for r in _rows(engine, final)
    )
    assert rows == [
        ("C1", 1, Decimal("100.00"), Decimal("80.00")),
        ("C1", 2, Decimal("50.00"), Decimal("40.00")),
        ("C2R", 1, Decimal("180.00"), Decimal("135.00")),
        ("C5", 1, Decimal("40.00"), Decimal("32.00")),
    ]
    totals = _rows(
        engine,
        final.aggregate(allowed=final.allowed_amount.sum(), paid=final.paid_amount.sum()),
    )[0]
    assert totals == {"allowed": Decimal("370.00"), "paid": Decimal("287.00")}


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("any_day", {"M1": 12, "M2": 10, "M3": 1, "M4": 12}),
        ("first_of_month", {"M1": 12, "M2": 9, "M3": 1, "M4": 12}),
    ],
)
def test_member_months(engine, loaded, rule, expected):
    tables = canonical_inputs(engine, loaded)
    mm = member_months(tables["eligibility"], rule)
    counts = mm.group_by("member_id").aggregate(n=mm.count())
    assert {r["member_id"]: r["n"] for r in _rows(engine, counts)} == expected


def test_overlapping_spans_count_once_on_the_later_span(engine, loaded):
    tables = canonical_inputs(engine, loaded)
    mm = member_months(tables["eligibility"])
    m4 = mm.filter(mm.member_id == "M4").order_by("month")
    plans = [(r["month"].month, r["plan"], r["premium_pmpm"]) for r in _rows(engine, m4)]
    assert plans[:3] == [
        (1, "A", Decimal("500.00")),
        (2, "A", Decimal("500.00")),
        (3, "A", Decimal("500.00")),
    ]
    assert plans[3:6] == [
        (4, "B", Decimal("520.00")),
        (5, "B", Decimal("520.00")),
        (6, "B", Decimal("520.00")),
    ]
    premium = _rows(engine, mm.aggregate(total=mm.premium_pmpm.sum()))[0]["total"]
    # M1 12×1100 + M2 6×550 + 4×560 + M3 400 + M4 3×500 + 9×520
    assert premium == Decimal("13200.00") + Decimal("3300.00") + Decimal("2240.00") + Decimal(
        "400.00"
    ) + Decimal("1500.00") + Decimal("4680.00")
