"""A month's enrollment, product line, ZIP code and attribution looked up in the member-years
(``month_attributes``) against answers worked out by hand and against joining the member months,
on every engine: member-years whose product line or ZIP code changes, gaps, months outside any
enrollment, two payers, members without attribution."""

from __future__ import annotations

import datetime as dt

import ibis
import pyarrow as pa
import pytest

from payvider.marts.member_years import member_years
from payvider.marts.month_lookup import (
    attributed_month_counts,
    attributed_year_months,
    month_attributes,
)
from payvider.measures.cost import attributed_member_months

D = dt.date.fromisoformat
MM_SCHEMA = pa.schema(
    [
        ("member_id", pa.string()),
        ("payer", pa.string()),
        ("month", pa.date32()),
        ("product_line", pa.string()),
        ("zip_code", pa.string()),
        ("gender", pa.string()),
        ("birth_date", pa.date32()),
    ]
)


def _mm(member, payer, month, line, zip_code):
    return {
        "member_id": member,
        "payer": payer,
        "month": D(month),
        "product_line": line,
        "zip_code": zip_code,
        "gender": "female",
        "birth_date": D("1958-03-01"),
    }


MEMBER_MONTHS = [
    # A: the same product line and ZIP code January to March 2024 (looked up in the year)
    _mm("A", "p", "2024-01-01", "commercial", "55401"),
    _mm("A", "p", "2024-02-01", "commercial", "55401"),
    _mm("A", "p", "2024-03-01", "commercial", "55401"),
    # B: turns 65 in March, Medicare Advantage from then on; moves in May; gap in April
    _mm("B", "p", "2024-01-01", "commercial", "55101"),
    _mm("B", "p", "2024-02-01", "commercial", "55101"),
    _mm("B", "p", "2024-03-01", "medicare_advantage", "55101"),
    _mm("B", "p", "2024-05-01", "medicare_advantage", "55102"),
    # B with a second payer in December, and in 2025 with the first (no attribution then)
    _mm("B", "q", "2024-12-01", "medicaid", "55102"),
    _mm("B", "p", "2025-01-01", "medicare_advantage", "55102"),
    # C: ZIP code unknown in one month of the year
    _mm("C", "p", "2024-06-01", "commercial", "55401"),
    _mm("C", "p", "2024-07-01", "commercial", None),
]

ATTRIBUTION = [
    # A to the partner system in 2024; B to another organization with payer p; B with payer q
    # was not attributed (rule 'unattributed'); C has no row
    ("A", "p", 2024, "visits", "ORG1", True),
    ("B", "p", 2024, "visits", "ORG2", False),
    ("B", "q", 2024, "unattributed", None, None),
]

ROWS = [
    # (member, payer, month) of cost rows, some outside enrollment
    ("A", "p", "2024-02-01"),
    ("A", "p", "2024-04-01"),  # after A's enrollment ended
    ("B", "p", "2024-02-01"),
    ("B", "p", "2024-03-01"),
    ("B", "p", "2024-04-01"),  # B's gap
    ("B", "p", "2024-05-01"),
    ("B", "q", "2024-12-01"),
    ("B", "q", "2024-11-01"),  # before B's enrollment with payer q
    ("B", "p", "2025-01-01"),
    ("C", "p", "2024-06-01"),
    ("C", "p", "2024-07-01"),
    ("D", "p", "2024-01-01"),  # never enrolled
]


def _tables(engine):
    mm = engine.from_arrow(pa.Table.from_pylist(MEMBER_MONTHS, MM_SCHEMA))
    attribution = engine.from_arrow(
        pa.table(
            {
                "member_id": [a[0] for a in ATTRIBUTION],
                "payer": [a[1] for a in ATTRIBUTION],
                "period": pa.array([a[2] for a in ATTRIBUTION], pa.int64()),
                "rule": [a[3] for a in ATTRIBUTION],
                "organization_id": pa.array([a[4] for a in ATTRIBUTION], pa.string()),
                "partner_flag": pa.array([a[5] for a in ATTRIBUTION], pa.bool_()),
            }
        )
    )
    rows = engine.from_arrow(
        pa.table(
            {
                "member_id": [r[0] for r in ROWS],
                "payer": [r[1] for r in ROWS],
                "month": pa.array([D(r[2]) for r in ROWS], pa.date32()),
                "amount": pa.array(list(range(len(ROWS))), pa.int64()),
            }
        )
    )
    years = engine.from_arrow(engine.to_arrow(member_years(mm)))
    return rows, mm, years, attribution


def _by_key(table: pa.Table) -> dict:
    return {(r["member_id"], r["payer"], r["month"]): r for r in table.to_pylist()}


def test_month_attributes_by_hand(engine):
    rows, mm, years, attribution = _tables(engine)
    got = _by_key(engine.to_arrow(month_attributes(rows, years, mm, attribution)))
    assert len(got) == len(ROWS)  # one row out for every row in

    def at(member, payer, month):
        r = got[(member, payer, D(month))]
        keep = ("enrolled", "product_line", "zip_code", "organization_id", "partner_flag")
        return tuple(r[k] for k in keep)

    assert at("A", "p", "2024-02-01") == (True, "commercial", "55401", "ORG1", True)
    assert at("A", "p", "2024-04-01") == (False, None, None, None, None)
    # B's member-year changes: each month keeps its own product line and ZIP code
    assert at("B", "p", "2024-02-01") == (True, "commercial", "55101", "ORG2", False)
    assert at("B", "p", "2024-03-01") == (True, "medicare_advantage", "55101", "ORG2", False)
    assert at("B", "p", "2024-04-01") == (False, None, None, None, None)
    assert at("B", "p", "2024-05-01") == (True, "medicare_advantage", "55102", "ORG2", False)
    # not attributed: counted as 'unattributed', outside the partner system
    assert at("B", "q", "2024-12-01") == (True, "medicaid", "55102", "unattributed", False)
    assert at("B", "q", "2024-11-01") == (False, None, None, None, None)
    assert at("B", "p", "2025-01-01") == (
        True,
        "medicare_advantage",
        "55102",
        "unattributed",
        False,
    )
    assert at("C", "p", "2024-06-01") == (True, "commercial", "55401", "unattributed", False)
    assert at("C", "p", "2024-07-01") == (True, "commercial", None, "unattributed", False)
    assert at("D", "p", "2024-01-01") == (False, None, None, None, None)
    assert [r["amount"] for r in sorted(got.values(), key=lambda r: r["amount"])] == list(
        range(len(ROWS))
    )


def test_month_attributes_equal_joining_the_member_months(engine):
    rows, mm, years, attribution = _tables(engine)
    looked_up = _by_key(engine.to_arrow(month_attributes(rows, years, mm, attribution)))
    joined = attributed_member_months(mm, attribution, ("product_line", "zip_code"))
    j = rows.left_join(joined.mutate(_in=True), ["member_id", "payer", "month"])
    j = j.select(
        *rows.columns,
        enrolled=j._in.fill_null(False),
        product_line=j.product_line,
        zip_code=j.zip_code,
        organization_id=j.organization_id,
        partner_flag=j.partner_flag,
    )
    assert looked_up == _by_key(engine.to_arrow(j))


def test_month_attributes_without_attribution_or_columns(engine):
    rows, mm, years, _ = _tables(engine)
    got = _by_key(engine.to_arrow(month_attributes(rows, years, mm, columns=("product_line",))))
    assert set(next(iter(got.values()))) == {*rows.columns, "enrolled", "product_line"}
    assert got[("B", "p", D("2024-03-01"))]["product_line"] == "medicare_advantage"
    bare = _by_key(engine.to_arrow(month_attributes(rows, years, mm, columns=())))
    assert {k for k, r in bare.items() if r["enrolled"]} == {
        k for k, r in got.items() if r["enrolled"]
    }
    assert sum(r["enrolled"] for r in bare.values()) == 8


def test_member_months_counted_by_year_equal_grouping_the_member_months(engine):
    _, mm, years, attribution = _tables(engine)
    keys = ["year", "product_line", "organization_id", "partner_flag"]
    got = engine.to_arrow(attributed_year_months(years, mm, attribution)).to_pylist()
    got = {tuple(r[k] for k in keys): r["member_months"] for r in got}
    # by hand: A's steady year; B's changing year month by month; B with payer q; C; B in 2025
    assert got == {
        (2024, "commercial", "ORG1", True): 3,
        (2024, "commercial", "ORG2", False): 2,
        (2024, "medicare_advantage", "ORG2", False): 2,
        (2024, "medicaid", "unattributed", False): 1,
        (2024, "commercial", "unattributed", False): 2,
        (2025, "medicare_advantage", "unattributed", False): 1,
    }
    joined = attributed_member_months(mm, attribution, ("product_line",))
    joined = joined.mutate(year=joined.month.year().cast("int64"))
    grouped = joined.group_by(keys).aggregate(member_months=joined.count())
    assert got == {
        tuple(r[k] for k in keys): r["member_months"] for r in engine.to_arrow(grouped).to_pylist()
    }


def test_trend_by_member_year_equals_trend_by_month(engine):
    """The cost trend of every built-in scope from member-years (B's changing year month by
    month) is the trend from the member months: members, months, risk, market and dollars."""
    from decimal import Decimal

    from payvider.measures.cost import with_member_month
    from payvider.measures.trend import cost_trend
    from payvider.population.scopes import BUILTIN_SCOPES

    rows, mm, years, attribution = _tables(engine)
    costs = rows.select(
        "member_id",
        "payer",
        "month",
        service_category_1=ibis.literal("professional"),
        service_category=ibis.literal("office_pcp"),
        in_partner_system=ibis.literal(True),
        lines=ibis.literal(1, "int64"),
        visit_lines=ibis.literal(1, "int64"),
        allowed_amount=(rows.amount * 100 + 5).cast("decimal(38, 2)"),
        paid_amount=(rows.amount * 80).cast("decimal(38, 2)"),
    )
    member_month_cost = engine.from_arrow(
        engine.to_arrow(with_member_month(costs, mm, attribution))
    )
    months = [D(f"{y}-{m:02d}-01") for y in (2024, 2025) for m in range(1, 13)]
    lines = ("commercial", "medicare_advantage", "medicaid")
    market = engine.from_arrow(
        pa.table(
            {
                "region": ["metro"] * (len(months) * len(lines)),
                "product_line": [p for p in lines for _ in months],
                "month": pa.array([m for _ in lines for m in months], pa.date32()),
                "pmpm": pa.array(
                    [Decimal(300 + 7 * i + 50 * j) for j in range(3) for i in range(len(months))],
                    pa.decimal128(18, 2),
                ),
                "average_risk_score": [1.0 + 0.01 * i for _ in lines for i in range(len(months))],
            }
        )
    )
    scores = engine.from_arrow(
        pa.table(
            {
                "member_id": ["A", "B", "B", "C"],
                "payer": ["p", "p", "q", "p"],
                "year": pa.array([2024, 2024, 2024, 2024], pa.int64()),
                "risk_score": [1.25, 0.875, 2.5, 1.125],
            }
        )
    )
    scopes = list(BUILTIN_SCOPES.values())

    def trend(member_years):
        expr = cost_trend(
            scopes, member_month_cost, mm, attribution, market, scores, None, member_years
        )
        return {(r["scope"], r["year"]): r for r in engine.to_arrow(expr).to_pylist()}

    by_year, by_month = trend(years), trend(None)
    assert by_year == by_month
    a = by_year[("all", 2024)]
    # A 3 months, B 4 (payer p) + 1 (payer q), C 2
    assert (a["members"], a["member_months"]) == (3, 10)
    risk = (3 * 1.25 + 4 * 0.875 + 1 * 2.5 + 2 * 1.125) / 10
    assert a["risk_score"] == pytest.approx(risk)
    p = by_year[("partner_attributed", 2024)]  # A only
    assert (p["members"], p["member_months"], p["risk_score"]) == (1, 3, 1.25)
    # the market of A's three commercial months: 300 + 7 × (0, 1, 2)
    assert p["market_pmpm"] == pytest.approx(307.0)


def test_member_months_counted_by_month_equal_grouping_the_member_months(engine):
    _, mm, years, attribution = _tables(engine)
    keys = ["month", "product_line", "organization_id", "partner_flag"]
    got = engine.to_arrow(attributed_month_counts(years, mm, attribution)).to_pylist()
    got = {tuple(r[k] for k in keys): r["member_months"] for r in got}
    assert got[(D("2024-02-01"), "commercial", "ORG1", True)] == 1  # A
    assert got[(D("2024-03-01"), "medicare_advantage", "ORG2", False)] == 1  # B after turning 65
    assert (D("2024-04-01"), "medicare_advantage", "ORG2", False) not in got  # B's gap
    assert sum(got.values()) == len(MEMBER_MONTHS)
    joined = attributed_member_months(mm, attribution, ("product_line",))
    grouped = joined.group_by(keys).aggregate(member_months=joined.count())
    assert got == {
        tuple(r[k] for k in keys): r["member_months"] for r in engine.to_arrow(grouped).to_pylist()
    }


def test_only_the_attributes_member_years_track_can_be_looked_up(duckdb_engine):
    rows, mm, years, attribution = _tables(duckdb_engine)
    with pytest.raises(ValueError, match="gender"):
        month_attributes(rows, years, mm, attribution, ("product_line", "gender"))
