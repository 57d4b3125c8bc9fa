"""Member years from member months, against answers worked out by hand, on every engine."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from payvider.marts.member_years import member_years

D = dt.date.fromisoformat
SCHEMA = pa.schema(
    [
        ("member_id", pa.string()),
        ("payer", pa.string()),
        ("month", pa.date32()),
        ("product_line", pa.string()),
        ("gender", pa.string()),
        ("birth_date", pa.date32()),
    ]
)


def month(member, payer, day, line, birth="1960-06-15", gender="female"):
    return {
        "member_id": member,
        "payer": payer,
        "month": D(day),
        "product_line": line,
        "gender": gender,
        "birth_date": D(birth),
    }


def test_member_years_by_hand(engine):
    rows = [
        # A: Nov 2023 to Feb 2024, a gap in March and April, back in May; the product line
        # changes in February and back in May (the latest month's is not the largest name)
        month("A", "p", "2023-11-01", "commercial"),
        month("A", "p", "2023-12-01", "commercial"),
        month("A", "p", "2024-01-01", "commercial"),
        month("A", "p", "2024-02-01", "medicare_advantage"),
        month("A", "p", "2024-05-01", "commercial", birth="1960-06-16"),
        # B: one month, with two payers
        month("B", "p", "2024-12-01", "medicaid", gender="male"),
        month("B", "q", "2024-12-01", "commercial", gender="male"),
    ]
    out = engine.to_arrow(member_years(engine.from_arrow(pa.Table.from_pylist(rows, SCHEMA))))
    got = {(r["member_id"], r["payer"], r["year"]): r for r in out.to_pylist()}
    assert set(got) == {("A", "p", 2023), ("A", "p", 2024), ("B", "p", 2024), ("B", "q", 2024)}

    a23, a24 = got[("A", "p", 2023)], got[("A", "p", 2024)]
    assert a23["member_months"] == 2
    assert a23["month_mask"] == (1 << 10) + (1 << 11)  # November and December
    assert (a23["first_month"], a23["last_month"]) == (D("2023-11-01"), D("2023-12-01"))
    assert a23["product_line"] == "commercial"
    assert a24["member_months"] == 3
    assert a24["month_mask"] == 1 + 2 + 16  # January, February, May
    assert (a24["first_month"], a24["last_month"]) == (D("2024-01-01"), D("2024-05-01"))
    assert a24["product_line"] == "commercial"  # May's, not February's
    assert a24["birth_date"] == D("1960-06-16")  # the largest of the year's months

    b = got[("B", "q", 2024)]
    assert (b["member_months"], b["month_mask"], b["product_line"]) == (1, 1 << 11, "commercial")
    assert got[("B", "p", 2024)]["product_line"] == "medicaid"
    assert b["gender"] == "male"

    # product line and ZIP code (absent here: null in every month) the same all year?
    assert a23["attributes_constant"] and b["attributes_constant"]
    assert not a24["attributes_constant"]  # commercial, then Medicare Advantage, then commercial
    assert a24["zip_code"] is None


def test_member_years_say_whether_the_zip_code_changes(engine):
    rows = [
        {**month("C", "p", "2024-01-01", "commercial"), "zip_code": "55401"},
        {**month("C", "p", "2024-02-01", "commercial"), "zip_code": "55402"},  # moved
        {**month("D", "p", "2024-01-01", "commercial"), "zip_code": "55401"},
        {**month("D", "p", "2024-03-01", "commercial"), "zip_code": None},  # unknown in March
        {**month("E", "p", "2024-01-01", "commercial"), "zip_code": "55401"},
        {**month("E", "p", "2024-07-01", "commercial"), "zip_code": "55401"},
    ]
    schema = SCHEMA.append(pa.field("zip_code", pa.string()))
    out = engine.to_arrow(member_years(engine.from_arrow(pa.Table.from_pylist(rows, schema))))
    got = {r["member_id"]: r for r in out.to_pylist()}
    assert (got["C"]["zip_code"], got["C"]["attributes_constant"]) == ("55402", False)
    assert (got["D"]["zip_code"], got["D"]["attributes_constant"]) == (None, False)
    assert (got["E"]["zip_code"], got["E"]["attributes_constant"]) == ("55401", True)
