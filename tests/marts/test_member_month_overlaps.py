"""Member months of spans that share a month, against answers worked out by hand, on every engine.

Only members whose spans may share a month are ranked month by month; these cases check that the
split finds exactly them and that a month two spans share is counted once, on the later span,
under both rules.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from payvider.marts.member_months import _overlapping_members, member_months
from payvider.synth.arrowio import arrow_schema

D = dt.date.fromisoformat
# the canonical eligibility declaration; columns a span leaves out are null
SCHEMA = arrow_schema("eligibility")


def _span(member, payer, plan, start, end):
    return {
        "member_id": member,
        "payer": payer,
        "plan": plan,
        "product_line": "commercial",
        "gender": "female",
        "birth_date": D("1970-01-01"),
        "zip_code": "55401",
        "enrollment_start_date": D(start),
        "enrollment_end_date": D(end),
    }


SPANS = [
    # A: two spans in a row, no month in common (alone)
    _span("A", "p", "A1", "2024-01-01", "2024-03-31"),
    _span("A", "p", "A2", "2024-04-01", "2024-06-30"),
    # B: no day in common, but January in common (ranked: on any day, January is B2's)
    _span("B", "p", "B1", "2024-01-01", "2024-01-15"),
    _span("B", "p", "B2", "2024-01-20", "2024-03-31"),
    # C: the same span twice (ranked: each month once)
    _span("C", "p", "C1", "2024-01-01", "2024-02-29"),
    _span("C", "p", "C1", "2024-01-01", "2024-02-29"),
    # D: overlapping spans at one payer, and a span at another payer over the same months
    _span("D", "p", "D1", "2024-01-01", "2024-06-30"),
    _span("D", "p", "D2", "2024-03-01", "2024-04-30"),
    _span("D", "q", "D3", "2024-01-01", "2024-06-30"),
    # E: a single span that starts mid-month (alone; on the 1st, February onwards)
    _span("E", "p", "E1", "2024-01-10", "2024-03-31"),
]


def _months(engine, rule):
    spans = engine.from_arrow(pa.Table.from_pylist(SPANS, SCHEMA))
    rows = engine.to_arrow(member_months(spans, rule)).to_pylist()
    return sorted((r["member_id"], r["payer"], r["month"].month, r["plan"]) for r in rows)


def test_only_members_with_spans_that_share_a_month_are_ranked(engine):
    spans = engine.from_arrow(pa.Table.from_pylist(SPANS, SCHEMA))
    found = engine.to_arrow(_overlapping_members(spans)).to_pylist()
    assert sorted((r["member_id"], r["payer"]) for r in found) == [
        ("B", "p"),
        ("C", "p"),
        ("D", "p"),
    ]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (
            "any_day",
            [
                ("A", "p", 1, "A1"),
                ("A", "p", 2, "A1"),
                ("A", "p", 3, "A1"),
                ("A", "p", 4, "A2"),
                ("A", "p", 5, "A2"),
                ("A", "p", 6, "A2"),
                ("B", "p", 1, "B2"),
                ("B", "p", 2, "B2"),
                ("B", "p", 3, "B2"),
                ("C", "p", 1, "C1"),
                ("C", "p", 2, "C1"),
                ("D", "p", 1, "D1"),
                ("D", "p", 2, "D1"),
                ("D", "p", 3, "D2"),
                ("D", "p", 4, "D2"),
                ("D", "p", 5, "D1"),
                ("D", "p", 6, "D1"),
                *[("D", "q", m, "D3") for m in range(1, 7)],
                ("E", "p", 1, "E1"),
                ("E", "p", 2, "E1"),
                ("E", "p", 3, "E1"),
            ],
        ),
        (
            "first_of_month",
            [
                ("A", "p", 1, "A1"),
                ("A", "p", 2, "A1"),
                ("A", "p", 3, "A1"),
                ("A", "p", 4, "A2"),
                ("A", "p", 5, "A2"),
                ("A", "p", 6, "A2"),
                # B2 starts on the 20th: January is B1's alone
                ("B", "p", 1, "B1"),
                ("B", "p", 2, "B2"),
                ("B", "p", 3, "B2"),
                ("C", "p", 1, "C1"),
                ("C", "p", 2, "C1"),
                ("D", "p", 1, "D1"),
                ("D", "p", 2, "D1"),
                ("D", "p", 3, "D2"),
                ("D", "p", 4, "D2"),
                ("D", "p", 5, "D1"),
                ("D", "p", 6, "D1"),
                *[("D", "q", m, "D3") for m in range(1, 7)],
                ("E", "p", 2, "E1"),
                ("E", "p", 3, "E1"),
            ],
        ),
    ],
)
def test_a_shared_month_counts_once_on_the_later_span(engine, rule, expected):
    assert _months(engine, rule) == expected
