"""Claims completion against a triangle worked out by hand, on every engine; truth recovery.

The hand triangle (paid dollars; allowed is paid × 1.5 throughout), as of 2025-04-30:

    incurred   lag 0   lag 1   lag 2   lag 3      cumulative
    2025-01     100      84      61    24.50      100  184  245  269.50
    2025-02     200     100      60               200  300  360
    2025-03      40      20                        40   60
    2025-04      80                                80

Age-to-age factors, volume-weighted over all months (months_of_experience=12):
    f0 = (184 + 300 + 60) / (100 + 200 + 40) = 544 / 340 = 1.6
    f1 = (245 + 360) / (184 + 300)           = 605 / 484 = 1.25
    f2 = 269.50 / 245                                    = 1.1
Cumulative to ultimate: age 3: 1; age 2: 1.1; age 1: 1.25 × 1.1 = 1.375; age 0: 1.6 × 1.375 = 2.2.
Completion factors (1 / cumulative, six decimals): 1, 0.909091, 0.727273, 0.454545.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from payvider.marts.completion import (
    completed_costs,
    completion_factors,
    development_factors,
    lag_triangle,
)
from payvider.marts.final_claims import resolve_adjustments
from payvider.marts.member_months import member_months as build_member_months
from payvider.marts.member_years import member_years as build_member_years
from payvider.marts.truncation import truncate_high_cost

D = Decimal
PAYER = "acme health"
MONEY = pa.decimal128(18, 2)


def _d(s: str) -> dt.date:
    return dt.date.fromisoformat(s)


def _claims(rows: list[tuple]) -> pa.Table:
    """Rows: (member_id, claim_start_date, paid_date or None, paid, allowed)."""
    return pa.table(
        {
            "claim_id": [f"C{k}" for k in range(len(rows))],
            "claim_line_number": [1] * len(rows),
            "adjustment_type": pa.array([None] * len(rows), pa.string()),
            "adjusted_claim_id": pa.array([None] * len(rows), pa.string()),
            "member_id": [r[0] for r in rows],
            "payer": [PAYER] * len(rows),
            "claim_start_date": pa.array([_d(r[1]) for r in rows], pa.date32()),
            "claim_line_start_date": pa.array([_d(r[1]) for r in rows], pa.date32()),
            "paid_date": pa.array([_d(r[2]) if r[2] else None for r in rows], pa.date32()),
            "paid_amount": pa.array([D(r[3]) for r in rows], MONEY),
            "allowed_amount": pa.array([D(r[4]) for r in rows], MONEY),
        }
    )


# (member, service start, paid date, paid, allowed); allowed = 1.5 × paid
HAND_LINES = [
    # January: lag 0 is 60 paid in January plus 40 paid in December, before the month of service
    # (counted at lag 0); lag 1 = 84; lag 2 = 61; lag 3 = 24.50
    ("M1", "2025-01-05", "2025-01-20", "60.00", "90.00"),
    ("M2", "2025-01-28", "2024-12-30", "40.00", "60.00"),
    ("M1", "2025-01-10", "2025-02-14", "84.00", "126.00"),
    ("M3", "2025-01-15", "2025-03-01", "61.00", "91.50"),
    ("M4", "2025-01-31", "2025-04-30", "24.50", "36.75"),
    # February: 200, 100, 60 (lag 0 in two lines)
    ("M1", "2025-02-01", "2025-02-10", "150.00", "225.00"),
    ("M5", "2025-02-20", "2025-02-28", "50.00", "75.00"),
    ("M2", "2025-02-03", "2025-03-31", "100.00", "150.00"),
    ("M6", "2025-02-11", "2025-04-02", "60.00", "90.00"),
    # March: 40, 20
    ("M1", "2025-03-03", "2025-03-17", "40.00", "60.00"),
    ("M7", "2025-03-09", "2025-04-21", "20.00", "30.00"),
    # April: 80
    ("M8", "2025-04-08", "2025-04-29", "80.00", "120.00"),
    # not paid yet: a separate bucket, never in the development
    ("M3", "2025-02-14", None, "0.00", "70.00"),
    # paid after 2025-04-30: outside the triangle as of that date
    ("M7", "2025-03-20", "2025-05-12", "33.00", "49.50"),
]
AS_OF = dt.date(2025, 4, 30)


def _member_months(counts: dict[str, int], product_line: str = "commercial") -> pa.Table:
    rows = [(f"P{k}", _d(m)) for m, n in counts.items() for k in range(n)]
    return pa.table(
        {
            "member_id": [r[0] for r in rows],
            "payer": [PAYER] * len(rows),
            "month": pa.array([r[1] for r in rows], pa.date32()),
            "product_line": [product_line] * len(rows),
        }
    )


HAND_MM = {"2025-01-01": 5, "2025-02-01": 10, "2025-03-01": 5, "2025-04-01": 8}


def _rows(engine, expr) -> list[dict]:
    return engine.to_arrow(expr).to_pylist()


def _by_month(table: pa.Table) -> dict[str, dict]:
    return {r["incurred_month"].isoformat()[:7]: r for r in table.to_pylist()}


def test_lag_triangle_by_hand(duckdb_engine):
    engine = duckdb_engine
    claims = engine.from_arrow(_claims(HAND_LINES))
    tri = lag_triangle(claims)
    cells = {(r["incurred_month"].isoformat()[:7], r["lag_months"]): r for r in _rows(engine, tri)}
    paid = {k: (v["paid_amount"], v["cumulative_paid_amount"]) for k, v in cells.items()}
    assert paid == {
        ("2025-01", 0): (D("100.00"), D("100.00")),  # 60 + 40 (paid the month before: lag 0)
        ("2025-01", 1): (D("84.00"), D("184.00")),
        ("2025-01", 2): (D("61.00"), D("245.00")),
        ("2025-01", 3): (D("24.50"), D("269.50")),
        ("2025-02", 0): (D("200.00"), D("200.00")),  # 150 + 50
        ("2025-02", 1): (D("100.00"), D("300.00")),
        ("2025-02", 2): (D("60.00"), D("360.00")),
        ("2025-02", None): (D("0.00"), None),  # the unpaid bucket
        ("2025-03", 0): (D("40.00"), D("40.00")),
        ("2025-03", 1): (D("20.00"), D("60.00")),
        ("2025-03", 2): (D("33.00"), D("93.00")),  # paid 2025-05-12
        ("2025-04", 0): (D("80.00"), D("80.00")),
    }
    assert cells[("2025-01", 0)]["claim_lines"] == 2
    assert cells[("2025-01", 3)]["cumulative_allowed_amount"] == D("404.25")  # 269.50 × 1.5
    unpaid = cells[("2025-02", None)]
    assert (unpaid["claim_lines"], unpaid["allowed_amount"]) == (1, D("70.00"))
    assert unpaid["latest_paid_date"] is None
    assert {r["payer"] for r in cells.values()} == {PAYER}


def test_completion_factors_by_hand(duckdb_engine):
    engine = duckdb_engine
    tri = engine.to_arrow(lag_triangle(engine.from_arrow(_claims(HAND_LINES))))
    out = _by_month(completion_factors(tri, as_of=AS_OF))
    assert {m: r["age_months"] for m, r in out.items()} == {
        "2025-01": 3,
        "2025-02": 2,
        "2025-03": 1,
        "2025-04": 0,
    }
    assert {m: r["paid_completion_factor"] for m, r in out.items()} == {
        "2025-01": D("1.000000"),
        "2025-02": D("0.909091"),  # 1 / 1.1
        "2025-03": D("0.727273"),  # 1 / 1.375
        "2025-04": D("0.454545"),  # 1 / 2.2
    }
    # the age-to-age factor from each month's age to the next
    assert [out[m]["paid_development_factor"] for m in sorted(out)] == [
        D("1.000000"),
        D("1.100000"),
        D("1.250000"),
        D("1.600000"),
    ]
    # completed = reported / completion factor, to the cent:
    #   360 / 0.909091 = 395.99996 → 396.00; 60 / 0.727273 = 82.49997 → 82.50;
    #   80 / 0.454545 = 176.00018 → 176.00.  The payment of 2025-05-12 is after as_of: not reported.
    assert {
        m: (r["reported_paid"], r["completed_paid"], r["ibnr_paid"]) for m, r in out.items()
    } == {
        "2025-01": (D("269.50"), D("269.50"), D("0.00")),
        "2025-02": (D("360.00"), D("396.00"), D("36.00")),
        "2025-03": (D("60.00"), D("82.50"), D("22.50")),
        "2025-04": (D("80.00"), D("176.00"), D("96.00")),
    }
    # allowed develops like paid (× 1.5): 540 / 0.909091 = 593.99994; 90 / 0.727273 = 123.74995;
    # 120 / 0.454545 = 264.00026
    assert {m: (r["reported_allowed"], r["completed_allowed"]) for m, r in out.items()} == {
        "2025-01": (D("404.25"), D("404.25")),
        "2025-02": (D("540.00"), D("594.00")),
        "2025-03": (D("90.00"), D("123.75")),
        "2025-04": (D("120.00"), D("264.00")),
    }
    assert out["2025-02"]["unpaid_claim_lines"] == 1
    assert out["2025-02"]["unpaid_allowed_amount"] == D("70.00")
    assert out["2025-03"]["lines_paid_after_as_of"] == 1
    assert sum(r["unpaid_claim_lines"] for r in out.values()) == 1


def test_months_of_experience_limits_the_factors():
    tri = lag_triangle(_duck(_claims(HAND_LINES))).to_pyarrow()
    # two most recent months observed at each next age:
    #   f0 = (300 + 60) / (200 + 40) = 1.5; f1 = (245 + 360) / (184 + 300) = 1.25; f2 = 1.1
    pattern = development_factors(tri, as_of=AS_OF, months_of_experience=2).to_pylist()
    assert [(r["age_months"], r["paid_development_factor"]) for r in pattern] == [
        (0, D("1.500000")),
        (1, D("1.250000")),
        (2, D("1.100000")),
        (3, D("1.000000")),
    ]
    # cumulative 1.5 × 1.375 = 2.0625 → completion 0.484848; April 80 / 0.484848 = 165.00017
    assert pattern[0]["paid_cumulative_factor"] == D("2.062500")
    assert pattern[0]["paid_completion_factor"] == D("0.484848")
    assert [r["experience_months"] for r in pattern] == [2, 2, 1, 0]
    out = _by_month(completion_factors(tri, as_of=AS_OF, months_of_experience=2))
    assert out["2025-04"]["completed_paid"] == D("165.00")
    # one month of experience: f1 from February alone = 360 / 300 = 1.2
    one = development_factors(tri, as_of=AS_OF, months_of_experience=1).to_pylist()
    assert one[1]["paid_development_factor"] == D("1.200000")


def test_as_of_defaults_to_the_latest_paid_date():
    tri = lag_triangle(_duck(_claims(HAND_LINES))).to_pyarrow()
    out = completion_factors(tri)
    # latest payment 2025-05-12: nothing later was received, so May counts as observed
    assert set(out["as_of_date"].to_pylist()) == {dt.date(2025, 5, 12)}
    months = _by_month(out)
    assert months["2025-01"]["age_months"] == 4
    assert months["2025-03"]["reported_paid"] == D("93.00")  # 60 + the payment of May 12
    # a given as_of inside a month with later payments: that month is only partly observed and
    # is left out, so 2025-05-10 gives the same answer as 2025-04-30
    mid = completion_factors(tri, as_of=dt.date(2025, 5, 10))
    at_end = completion_factors(tri, as_of=AS_OF)
    assert mid.drop_columns(["as_of_date"]).equals(at_end.drop_columns(["as_of_date"]))


def test_completed_pmpm_by_hand(duckdb_engine):
    engine = duckdb_engine
    tri = lag_triangle(engine.from_arrow(_claims(HAND_LINES)))
    mm = engine.from_arrow(_member_months(HAND_MM))
    out = _by_month(engine.to_arrow(completed_costs(tri, mm, as_of=AS_OF)))
    # completed allowed / member months: 404.25 / 5 = 80.85; 594 / 10 = 59.40;
    # 123.75 / 5 = 24.75; 264 / 8 = 33.00
    assert {m: (r["member_months"], r["completed_allowed_pmpm"]) for m, r in out.items()} == {
        "2025-01": (5, D("80.85")),
        "2025-02": (10, D("59.40")),
        "2025-03": (5, D("24.75")),
        "2025-04": (8, D("33.00")),
    }
    assert out["2025-04"]["reported_allowed_pmpm"] == D("15.00")  # 120 / 8
    assert out["2025-02"]["completed_paid_pmpm"] == D("39.60")  # 396 / 10


def test_product_lines_develop_separately(engine):
    # medicaid members' claims are all paid in the month of service: factors 1, no IBNR
    medicaid = [
        ("Q1", "2025-01-09", "2025-01-30", "10.00", "12.00"),
        ("Q1", "2025-02-09", "2025-02-27", "20.00", "24.00"),
        ("Q2", "2025-03-09", "2025-03-30", "30.00", "36.00"),
        ("Q2", "2025-04-09", "2025-04-29", "40.00", "48.00"),
    ]
    claims = engine.from_arrow(_claims(HAND_LINES + medicaid))
    mm_rows = [(f"M{k}", m, "commercial") for k in range(1, 9) for m in HAND_MM] + [
        (q, m, "medicaid") for q in ("Q1", "Q2") for m in HAND_MM
    ]
    mm = engine.from_arrow(
        pa.table(
            {
                "member_id": [r[0] for r in mm_rows],
                "payer": [PAYER] * len(mm_rows),
                "month": pa.array([_d(r[1]) for r in mm_rows], pa.date32()),
                "product_line": [r[2] for r in mm_rows],
            }
        )
    )
    tri = lag_triangle(claims, mm, by_product_line=True)
    out = engine.to_arrow(completed_costs(tri, mm, as_of=AS_OF)).to_pylist()
    got = {
        (r["product_line"], r["incurred_month"].isoformat()[:7]): (
            r["paid_completion_factor"],
            r["completed_paid"],
            r["member_months"],
        )
        for r in out
    }
    assert got[("medicaid", "2025-04")] == (D("1.000000"), D("40.00"), 2)
    assert got[("commercial", "2025-04")] == (D("0.454545"), D("176.00"), 8)
    assert got[("commercial", "2025-02")] == (D("0.909091"), D("396.00"), 8)


def test_product_lines_looked_up_in_member_years(engine):
    # Q2 moves from commercial to medicaid in March (a member-year whose product line changes);
    # Q1 is not enrolled in February, so its February line has no product line
    lines = [
        ("Q1", "2025-01-09", "2025-01-30", "10.00", "12.00"),
        ("Q1", "2025-02-09", "2025-03-27", "20.00", "24.00"),
        ("Q2", "2025-02-09", "2025-02-28", "25.00", "30.00"),
        ("Q2", "2025-03-09", "2025-04-30", "30.00", "36.00"),
    ]
    claims = engine.from_arrow(_claims(HAND_LINES + lines))
    mm_rows = [(f"M{k}", m, "commercial") for k in range(1, 9) for m in HAND_MM]
    mm_rows += [("Q1", "2025-01-01", "medicaid"), ("Q1", "2025-03-01", "medicaid")]
    mm_rows += [("Q2", "2025-01-01", "commercial"), ("Q2", "2025-02-01", "commercial")]
    mm_rows += [("Q2", "2025-03-01", "medicaid"), ("Q2", "2025-04-01", "medicaid")]
    mm = engine.from_arrow(
        pa.table(
            {
                "member_id": [r[0] for r in mm_rows],
                "payer": [PAYER] * len(mm_rows),
                "month": pa.array([_d(r[1]) for r in mm_rows], pa.date32()),
                "product_line": [r[2] for r in mm_rows],
                "gender": ["female"] * len(mm_rows),
                "birth_date": pa.array([_d("1970-01-01")] * len(mm_rows), pa.date32()),
            }
        )
    )
    years = engine.from_arrow(engine.to_arrow(build_member_years(mm)))
    looked_up = _rows(engine, lag_triangle(claims, mm, by_product_line=True, member_years=years))
    joined = _rows(engine, lag_triangle(claims, mm, by_product_line=True))

    def cells(rows):
        return {(r["product_line"], r["incurred_month"], r["lag_months"]): r for r in rows}

    assert cells(looked_up) == cells(joined)
    got = cells(looked_up)
    feb, mar = _d("2025-02-01"), _d("2025-03-01")
    assert ("medicaid", feb, 0) not in got  # Q2's February line: still commercial
    assert got[("medicaid", mar, 1)]["paid_amount"] == D("30.00")  # Q2 in medicaid since March
    assert got[(None, feb, 1)]["paid_amount"] == D("20.00")  # Q1 not enrolled in February


def test_lag_triangle_needs_member_months_for_product_lines():
    with pytest.raises(ValueError, match="member_months"):
        lag_triangle(_duck(_claims(HAND_LINES)), by_product_line=True)


def test_adjustments_count_when_they_were_paid(duckdb_engine):
    engine = duckdb_engine
    # June 2025: A paid 60 in June, replaced by B (66) in August; C paid 10 in July, voided in
    # September (a void repeats the amounts it cancels). Final claims: B alone, 66.
    rows = [
        ("M1", "2025-06-03", "2025-06-20", "60.00", "90.00"),  # A
        ("M1", "2025-06-03", "2025-08-10", "66.00", "99.00"),  # B replaces A
        ("M2", "2025-06-15", "2025-07-05", "10.00", "15.00"),  # C
        ("M2", "2025-06-15", "2025-09-02", "10.00", "15.00"),  # V voids C
    ]
    raw = _claims(rows)
    raw = raw.set_column(
        raw.schema.get_field_index("adjustment_type"),
        "adjustment_type",
        pa.array(["original", "replacement", "original", "void"]),
    )
    raw = raw.set_column(
        raw.schema.get_field_index("adjusted_claim_id"),
        "adjusted_claim_id",
        pa.array([None, "C0", None, "C2"]),
    )
    claims = engine.from_arrow(raw)
    got = {
        r["lag_months"]: (
            r["paid_amount"],
            r["cumulative_paid_amount"],
            r["claim_lines"],
            r["reversed_lines"],
        )
        for r in _rows(engine, lag_triangle(claims))
    }
    # as paid: lag 0 +60 (A); lag 1 +10 (C); lag 2 −60 (A reversed) + 66 (B) = 6; lag 3 −10 (void)
    assert got == {
        0: (D("60.00"), D("60.00"), 1, 0),
        1: (D("10.00"), D("70.00"), 1, 0),
        2: (D("6.00"), D("76.00"), 1, 1),
        3: (D("-10.00"), D("66.00"), 0, 1),
    }
    # final claims put all 66 at the replacement's lag 2 and show nothing of C
    final = _rows(engine, lag_triangle(resolve_adjustments(claims)))
    assert [(r["lag_months"], r["paid_amount"]) for r in final] == [(2, D("66.00"))]


def test_line_start_date_as_incurred_date():
    claim = _claims([("M1", "2025-01-30", "2025-03-05", "10.00", "10.00")])
    claim = claim.set_column(
        claim.schema.get_field_index("claim_line_start_date"),
        "claim_line_start_date",
        pa.array([_d("2025-02-02")], pa.date32()),
    )
    t = _duck(claim)
    by_claim = lag_triangle(t).to_pyarrow().to_pylist()[0]
    by_line = lag_triangle(t, incurred_date="claim_line_start_date").to_pyarrow().to_pylist()[0]
    assert (by_claim["incurred_month"], by_claim["lag_months"]) == (dt.date(2025, 1, 1), 2)
    assert (by_line["incurred_month"], by_line["lag_months"]) == (dt.date(2025, 2, 1), 1)


# --------------------------------------------------------------------------------------------
# high-cost claimant truncation

TRUNC_LINES = [
    # 2024 member-year totals: A 1,000 + 500 = 1,500; B 80,000; C 250,000.10; D 20
    ("A", "2024-01-05", "2024-02-01", "800.00", "1000.00"),
    ("A", "2024-06-05", "2024-07-01", "400.00", "500.00"),
    ("B", "2024-03-05", "2024-04-01", "70000.00", "80000.00"),
    ("C", "2024-09-05", "2024-10-01", "200000.00", "250000.10"),
    ("D", "2024-12-31", "2025-01-15", "10.00", "20.00"),
    # 2025: A 300,000.01
    ("A", "2025-02-05", "2025-03-01", "250000.00", "300000.01"),
]


def test_truncation_at_a_fixed_cap(duckdb_engine):
    engine = duckdb_engine
    out = truncate_high_cost(engine.from_arrow(_claims(TRUNC_LINES)), cap="100000")
    got = {
        (r["member_id"], r["year"]): (
            r["allowed_amount"],
            r["truncated_allowed_amount"],
            r["excess_allowed_amount"],
            r["truncated"],
        )
        for r in _rows(engine, out)
    }
    assert got == {
        ("A", 2024): (D("1500.00"), D("1500.00"), D("0.00"), False),
        ("B", 2024): (D("80000.00"), D("80000.00"), D("0.00"), False),
        ("C", 2024): (D("250000.10"), D("100000.00"), D("150000.10"), True),
        ("D", 2024): (D("20.00"), D("20.00"), D("0.00"), False),
        ("A", 2025): (D("300000.01"), D("100000.00"), D("200000.01"), True),
    }


def test_truncation_at_a_percentile(engine):
    # 2024 totals sorted: 20, 1,500, 80,000, 250,000.10 (n = 4)
    # 75th percentile, nearest rank: k = ceil(0.75 × 4) = 3 → 80,000; C's excess 170,000.10
    # 2025: one member-year, k = ceil(0.75 × 1) = 1 → the cap is A's own total, no excess
    out = truncate_high_cost(_duck(_claims(TRUNC_LINES)), percentile=75).to_pyarrow()
    got = {(r["member_id"], r["year"]): r for r in out.to_pylist()}
    assert {k: r["truncation_point"] for k, r in got.items()} == {
        ("A", 2024): D("80000.00"),
        ("B", 2024): D("80000.00"),
        ("C", 2024): D("80000.00"),
        ("D", 2024): D("80000.00"),
        ("A", 2025): D("300000.01"),
    }
    assert got[("C", 2024)]["excess_allowed_amount"] == D("170000.10")
    assert sum(r["excess_allowed_amount"] for r in got.values()) == D("170000.10")
    # 60th percentile: k = ceil(0.6 × 4) = ceil(2.4) = 3 → still 80,000; 50th: k = 2 → 1,500
    p50 = truncate_high_cost(_duck(_claims(TRUNC_LINES)), percentile="50").to_pyarrow()
    c = [r for r in p50.to_pylist() if r["member_id"] == "C"][0]
    assert (c["truncation_point"], c["excess_allowed_amount"]) == (D("1500.00"), D("248500.10"))


def test_truncation_counts_enrolled_member_years_without_claims():
    # E and F were enrolled in 2024 without claims: totals 0, 0, 20, 1,500, 80,000, 250,000.10
    # 50th percentile: k = ceil(0.5 × 6) = 3 → 20
    rows = [("E", "2024-01-01"), ("E", "2024-02-01"), ("F", "2024-05-01"), ("A", "2024-01-01")]
    mm = pa.table(
        {
            "member_id": [r[0] for r in rows],
            "payer": [PAYER] * len(rows),
            "month": pa.array([_d(r[1]) for r in rows], pa.date32()),
            "product_line": ["commercial"] * len(rows),
            "gender": ["female"] * len(rows),
            "birth_date": pa.array([_d("1960-01-01")] * len(rows), pa.date32()),
        }
    )
    # the run passes its member_years table too: the same member-years, not grouped again
    for years in (None, build_member_years(_duck(mm))):
        out = truncate_high_cost(
            _duck(_claims(TRUNC_LINES)), percentile=50, member_months=_duck(mm), member_years=years
        )
        got = {(r["member_id"], r["year"]): r for r in out.to_pyarrow().to_pylist()}
        assert len(got) == 7  # six member-years of 2024, A in 2025
        assert got[("E", 2024)]["member_months"] == 2
        assert got[("F", 2024)]["member_months"] == 1
        assert got[("E", 2024)]["allowed_amount"] == D("0.00")
        assert got[("B", 2024)]["member_months"] == 0
        assert got[("A", 2024)]["member_months"] == 1
        assert got[("A", 2024)]["truncation_point"] == D("20.00")
        assert got[("A", 2024)]["excess_allowed_amount"] == D("1480.00")


def test_truncation_needs_exactly_one_cap():
    t = _duck(_claims(TRUNC_LINES))
    with pytest.raises(ValueError, match="exactly one"):
        truncate_high_cost(t)
    with pytest.raises(ValueError, match="exactly one"):
        truncate_high_cost(t, cap=1, percentile=99)
    with pytest.raises(ValueError, match="percentile"):
        truncate_high_cost(t, percentile=0)


# --------------------------------------------------------------------------------------------
# generated population: completed PMPM recovers the ultimate


def _duck(table: pa.Table):
    import ibis

    return ibis.memtable(table)


def _generated(root, as_of: dt.date, members: int = 3000):
    from payvider.synth import generate_population
    from payvider.synth.config import SynthConfig

    out = root / f"as_of_{as_of.isoformat()}_{members}"
    if not out.exists():
        generate_population(out, members=members, seed=5, config=SynthConfig(as_of_date=as_of))
    return out


@pytest.fixture(scope="module")
def population(tmp_path_factory):
    """Seed 5, 3,000 members: the book as the generator writes it by default (claims paid by
    2026-03-31) and two years later (2027-12-31), when every claim is paid: the ultimate."""
    root = tmp_path_factory.mktemp("completion")
    return {
        "default": _generated(root, dt.date(2026, 3, 31)),
        "ultimate": _generated(root, dt.date(2027, 12, 31)),
        "root": root,
    }


def _three_months(done: dict, truth: dict, months: list[dt.date]) -> tuple[Decimal, ...]:
    """Reported, completed and true allowed PMPM over three months (dollars / member months)."""
    mm = sum(done[m]["member_months"] for m in months)
    return tuple(
        sum(table[m][col] for m in months) / mm
        for table, col in (
            (done, "reported_allowed"),
            (done, "completed_allowed"),
            (truth, "reported_allowed"),
        )
    )


def test_completed_pmpm_recovers_the_ultimate(duckdb_engine, population):
    con = duckdb_engine
    raw = con.read_parquet(population["ultimate"] / "medical_claim.parquet")
    mm = build_member_months(con.read_parquet(population["ultimate"] / "eligibility.parquet"))

    def as_of(cut: dt.date):
        # the generator writes exactly the claim instances paid by its as-of date
        return raw.filter(raw.paid_date <= cut)

    default = con.read_parquet(population["default"] / "medical_claim.parquet")
    assert as_of(dt.date(2026, 3, 31)).count().execute() == default.count().execute()
    # two years on everything is paid: reported is the ultimate, and the triangle of payments
    # reconciles with the final claims to the cent
    truth = {r["incurred_month"]: r for r in completion_factors(lag_triangle(raw)).to_pylist()}
    final = resolve_adjustments(raw)
    totals = final.aggregate(a=final.allowed_amount.sum(), p=final.paid_amount.sum()).execute()
    assert sum(r["reported_allowed"] for r in truth.values()) == totals["a"][0]
    assert sum(r["reported_paid"] for r in truth.values()) == totals["p"][0]
    recorded = json.loads((population["default"] / "truth" / "truth.json").read_text())
    paid_later = D(str(recorded["effects"]["claims_completion"]["allowed_paid_after_as_of"]))
    assert paid_later > 0

    # 1. the generator's default book (three months of run-out): October–December 2025
    done = {
        r["incurred_month"]: r
        for r in completed_costs(lag_triangle(default), mm).to_pyarrow().to_pylist()
    }
    q4 = [dt.date(2025, 10, 1), dt.date(2025, 11, 1), dt.date(2025, 12, 1)]
    reported, completed, ultimate = _three_months(done, truth, q4)
    # figures: reported 458.59, completed 462.05, ultimate 460.70 (completed +0.3 %)
    assert abs(completed / ultimate - 1) < D("0.02")
    assert done[q4[-1]]["allowed_completion_factor"] < 1

    # 2. no run-out at all: the book as of 2025-09-30, July–September at ages 2, 1 and 0
    cut = dt.date(2025, 9, 30)
    done = {
        r["incurred_month"]: r
        for r in completed_costs(lag_triangle(as_of(cut)), mm, as_of=cut).to_pyarrow().to_pylist()
    }
    q3 = [dt.date(2025, 7, 1), dt.date(2025, 8, 1), dt.date(2025, 9, 1)]
    assert [done[m]["age_months"] for m in q3] == [2, 1, 0]
    reported, completed, ultimate = _three_months(done, truth, q3)
    # figures: reported 236.92 (35 % short), completed 361.02, ultimate 364.40 (completed −0.9 %)
    assert reported < ultimate * D("0.7")
    assert abs(completed / ultimate - 1) < D("0.05")


def test_unpaid_lines_in_generated_data_are_counted(duckdb_engine, population):
    # the generator pays every line; blank some paid dates and see them reported, not dropped
    claims = pq.read_table(population["default"] / "medical_claim.parquet")
    dates = claims["paid_date"].to_pylist()
    blank = pa.array([None if k % 100 == 0 else v for k, v in enumerate(dates)], pa.date32())
    claims = claims.set_column(claims.schema.get_field_index("paid_date"), "paid_date", blank)
    final = resolve_adjustments(duckdb_engine.from_arrow(claims))
    n_final = final.count().execute()
    unpaid = final.filter(final.paid_date.isnull()).count().execute()
    tri = lag_triangle(final).to_pyarrow()
    assert sum(tri["claim_lines"].to_pylist()) == n_final
    assert unpaid > 250
    out = completion_factors(tri)
    assert sum(out["unpaid_claim_lines"].to_pylist()) == unpaid
    assert sum(out["lines_paid_after_as_of"].to_pylist()) == 0


def test_triangle_without_any_paid_line_counts_every_line_unpaid():
    """No paid dates at all (an extract without them): factors are 1, every line is unpaid."""

    triangle = pa.table(
        {
            "payer": ["acme", "acme"],
            "incurred_month": [dt.date(2024, 2, 1), dt.date(2024, 3, 1)],
            "lag_months": pa.array([None, None], pa.int64()),
            "claim_lines": [1, 2],
            "reversed_lines": [0, 0],
            "allowed_amount": [Decimal("5.00"), Decimal("10.00")],
            "paid_amount": [Decimal("4.00"), Decimal("8.00")],
            "cumulative_allowed_amount": pa.array([None, None], pa.decimal128(18, 2)),
            "cumulative_paid_amount": pa.array([None, None], pa.decimal128(18, 2)),
            "latest_paid_date": pa.array([None, None], pa.date32()),
        }
    )
    rows = completion_factors(triangle).to_pylist()
    assert [
        (r["incurred_month"], r["unpaid_claim_lines"], r["unpaid_allowed_amount"]) for r in rows
    ] == [
        (dt.date(2024, 2, 1), 1, Decimal("5.00")),
        (dt.date(2024, 3, 1), 2, Decimal("10.00")),
    ]
    assert {r["allowed_completion_factor"] for r in rows} == {Decimal("1.000000")}
    assert rows[0]["as_of_date"] == dt.date(2024, 3, 31)
