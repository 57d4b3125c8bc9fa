"""Follow-up, screening and hybrid measures on hand-built inputs: boundaries worked out by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa

from payvider.measures.quality.followup import followup_rows
from payvider.measures.quality.framework import Period
from payvider.measures.quality.hybrid import hybrid_rows
from payvider.measures.quality.screening import screening_rows

from .helpers import MM_SCHEMA, STAY_SCHEMA, D, months, stay, table

P = Period.year(2024)
EV = pa.schema([("member_id", pa.string()), ("code", pa.string()), ("event_date", pa.date32())])
OBS = pa.schema(
    [
        ("member_id", pa.string()),
        ("code", pa.string()),
        ("observation_date", pa.date32()),
        ("value", pa.decimal128(18, 4)),
    ]
)
VIS = pa.schema([("member_id", pa.string()), ("visit_date", pa.date32())])


def _mm(members, **kw):
    rows = []
    for m in members:
        rows += months(m, "2023-01-01", "2025-06-30", **kw)
    return rows


def test_followup_day_7_vs_day_8(duckdb_engine):
    con = duckdb_engine
    stays = [
        stay("A1", "A", "2024-03-01", "2024-03-05"),
        stay("B1", "B", "2024-03-01", "2024-03-05"),
    ]
    stays.append(stay("C1", "C", "2024-03-01", "2024-03-05", disp="03"))  # to a SNF: not home
    visits = [
        {"member_id": "A", "visit_date": D("2024-03-12")},  # day 7
        {"member_id": "B", "visit_date": D("2024-03-13")},  # day 8
        {"member_id": "B", "visit_date": D("2024-03-05")},  # discharge day does not count
    ]
    rows = con.to_arrow(
        followup_rows(
            con.from_arrow(table(stays, STAY_SCHEMA)),
            con.from_arrow(table(_mm("ABC"), MM_SCHEMA)),
            con.from_arrow(table(visits, VIS)),
            [P],
        )
    ).to_pylist()
    got = {(r["measure_id"], r["event_id"]): r["in_numerator"] for r in rows}
    assert got == {
        ("followup_7d", "A1"): True,
        ("followup_30d", "A1"): True,
        ("followup_7d", "B1"): False,
        ("followup_30d", "B1"): True,
    }


def test_screening_lookback_edges_and_mastectomy(duckdb_engine):
    con = duckdb_engine
    mm = _mm("ABCD", gender="female", birth="1960-06-15")  # 64 at the end of 2024
    mm += months("E", "2024-01-01", "2024-09-30", gender="female")  # enrolment ends in September
    ev = [
        {"member_id": "A", "code": "77067", "event_date": D("2022-10-01")},  # first look-back day
        {"member_id": "B", "code": "77067", "event_date": D("2022-09-30")},  # one day too early
        {"member_id": "C", "code": "0HTV0ZZ", "event_date": D("2015-05-01")},  # mastectomy
        {"member_id": "D", "code": "45378", "event_date": D("2015-01-01")},  # colonoscopy 9 y back
        {"member_id": "A", "code": "82274", "event_date": D("2023-12-31")},  # FIT last year
    ]
    rows = con.to_arrow(
        screening_rows(con.from_arrow(table(ev, EV)), con.from_arrow(table(mm, MM_SCHEMA)), [P])
    ).to_pylist()
    got = {(r["measure_id"][:6], r["member_id"]): (r["excluded"], r["in_numerator"]) for r in rows}
    assert got == {
        ("breast", "A"): (False, True),
        ("breast", "B"): (False, False),
        ("breast", "C"): (True, False),
        ("breast", "D"): (False, False),
        ("colore", "A"): (False, False),
        ("colore", "B"): (False, False),
        ("colore", "C"): (False, False),
        ("colore", "D"): (False, True),
    }


def test_hba1c_and_blood_pressure_boundaries(duckdb_engine):
    con = duckdb_engine
    mm = _mm("ABCDEF")
    ev = [{"member_id": m, "code": "E119", "event_date": D("2024-02-01")} for m in "ABC"]
    ev += [{"member_id": m, "code": "I10", "event_date": D("2024-02-01")} for m in "DEF"]

    def o(m, code, day, v):
        return {"member_id": m, "code": code, "observation_date": D(day), "value": Decimal(v)}

    obs = [
        o("A", "4548-4", "2024-06-01", "9.0"),  # exactly 9.0: not poor control
        o("B", "4548-4", "2024-03-01", "7.0"),
        o("B", "4548-4", "2024-06-01", "9.1"),  # the most recent decides: poor
        # C: no test in 2024 (one in 2023) -> poor control
        o("C", "4548-4", "2023-12-01", "6.0"),
        o("D", "8480-6", "2024-05-01", "139"),
        o("D", "8462-4", "2024-05-01", "89"),
        o("E", "8480-6", "2024-05-01", "140"),
        o("E", "8462-4", "2024-05-01", "90"),
        # F: two readings on the last day: the lowest of each counts (130/95 and 150/85 -> 130/85)
        o("F", "8480-6", "2024-07-01", "130"),
        o("F", "8462-4", "2024-07-01", "95"),
        o("F", "8480-6", "2024-07-01", "150"),
        o("F", "8462-4", "2024-07-01", "85"),
    ]
    rows = con.to_arrow(
        hybrid_rows(
            con.from_arrow(table(ev, EV)),
            con.from_arrow(table(obs, OBS)),
            con.from_arrow(table(mm, MM_SCHEMA)),
            [P],
        )
    ).to_pylist()
    got = {(r["measure_id"][:5], r["member_id"]): r["in_numerator"] for r in rows}
    assert got == {
        ("hba1c", "A"): False,
        ("hba1c", "B"): True,
        ("hba1c", "C"): True,
        ("blood", "D"): True,
        ("blood", "E"): False,
        ("blood", "F"): True,
    }
    assert {r["detail"] for r in rows if r["member_id"] == "C"} == {"no HbA1c test"}
    assert dt.date(2024, 12, 31) == rows[0]["event_date"]
