"""Tapering cohort outcomes on hand-built fills.

Program start 2024-04-01: baseline 2024-01-02 .. 2024-03-31 (90 days); data end 2025-12-31:
follow-up 2025-10-03 .. 2025-12-31 (90 days). Oxycodone/APAP 10 mg is 15 MME a tablet, so
a 30-day fill of 240 tablets is 120 MME a day; 85 % of 120 is 102 (204 tablets).
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from payvider.measures.quality.opioid_taper import (
    data_end,
    opioid_taper,
    taper_members,
    taper_summary,
    windows,
)

from .helpers import MM_SCHEMA, OXY_APAP_10, RX_SCHEMA, fill, months, table

T = dt.date(2024, 4, 1)
END = dt.date(2025, 12, 31)
BASE = ("2023-12-03", "2024-01-02", "2024-02-01", "2024-03-02")  # 30-day fills: 90 days covered
FOLLOW = ("2025-10-03", "2025-11-02", "2025-12-02")  # 90 days covered
PROVIDER = pa.schema([("npi", pa.string()), ("partner_network_flag", pa.bool_())])


def course(member, base_qty, follow_qty, npi="P1", base=BASE):
    out = [fill(member, OXY_APAP_10, d, base_qty, 30, npi) for d in base]
    if follow_qty:
        out += [fill(member, OXY_APAP_10, d, follow_qty, 30, npi) for d in FOLLOW]
    return out


FILLS = (
    course("A", 240, 240)  # maintained, program (P1 is a partner prescriber)
    + course("B", 240, 120, npi="P2")  # 60 MME: reduced, no program
    + course("C", 240, 204)  # exactly 85 %: reduced
    + course("D", 240, 207)  # 103.5 MME = 86.25 %: maintained
    + course("E", 240, 0)  # no follow-up supply: discontinued
    + course("F", 240, 120)  # a month without enrolment in 2025: not in the cohort
    + course("G", 179, 120)  # baseline 89.5 MME: not high dose
    + course("H", 240, 120, base=("2024-01-02", "2024-02-01"))[:1]  # 30 days only
    + [fill("H", OXY_APAP_10, "2024-02-01", 232, 29)]  # + 29 = 59 days: not long-term
    + course("J", 240, 120, base=("2023-10-04", "2023-11-03"))  # ends 2023-12-02: no baseline
)


def _mm():
    mm = []
    for m in "ABCDEGHJ":
        mm += months(m, "2023-01-01", "2025-12-31")
    mm += [r for r in months("F", "2023-01-01", "2025-12-31") if r["month"] != dt.date(2025, 6, 1)]
    return mm


@pytest.fixture(scope="module")
def result():
    from payvider.engine.backends import DuckDBEngine

    con = DuckDBEngine()
    rx = con.from_arrow(table(FILLS, RX_SCHEMA))
    mm = con.from_arrow(table(_mm(), MM_SCHEMA))
    prov = con.from_arrow(
        table(
            [
                {"npi": "P1", "partner_network_flag": True},
                {"npi": "P2", "partner_network_flag": False},
            ],
            PROVIDER,
        )
    )
    end = data_end(mm)
    members = con.to_arrow(taper_members(rx, mm, T, end, prov)).to_pylist()
    summary = con.to_arrow(
        opioid_taper({"final_pharmacy_claim": rx, "member_months": mm, "provider": prov}, T)
    ).to_pylist()
    empty = con.to_arrow(
        opioid_taper({"final_pharmacy_claim": rx, "member_months": mm, "provider": prov}, None)
    ).num_rows
    con.close()
    return end, members, summary, empty


def test_windows_and_data_end(result):
    end, *_ = result
    assert end == END
    assert windows(T, END) == {
        "program_start": T,
        "baseline_start": dt.date(2024, 1, 2),
        "baseline_end": dt.date(2024, 3, 31),
        "followup_start": dt.date(2025, 10, 3),
        "followup_end": END,
    }


def test_cohort_and_outcomes(result):
    _, members, _, _ = result
    got = {
        r["member_id"]: (r["outcome"], r["program"], r["baseline_mme"], r["followup_mme"])
        for r in members
    }
    assert got == {
        "A": ("maintained", True, "120.00", "120.00"),
        "B": ("reduced", False, "120.00", "60.00"),
        "C": ("reduced", True, "120.00", "102.00"),
        "D": ("maintained", True, "120.00", "103.50"),
        "E": ("discontinued", True, "120.00", None),
    }


def test_summary_by_program(result):
    _, _, summary, empty = result
    by = {r["group"]: r for r in summary}
    assert {g: (r["members"], r["reduced"], r["discontinued"]) for g, r in by.items()} == {
        "all": (5, 2, 1),
        "program": (4, 1, 1),
        "no_program": (1, 1, 0),
    }
    assert by["program"]["reduced_share"] == pytest.approx(0.25)
    assert by["all"]["reduced_or_discontinued_share"] == pytest.approx(0.6)
    assert all(r["small_cell"] for r in summary)
    assert empty == 0  # no program start configured: no rows


def test_same_on_both_engines(engine):
    rx = engine.from_arrow(table(FILLS, RX_SCHEMA))
    mm = engine.from_arrow(table(_mm(), MM_SCHEMA))
    members = taper_members(rx, mm, T, END)
    rows = sorted(engine.to_arrow(members).to_pylist(), key=lambda r: r["member_id"])
    assert [(r["member_id"], r["outcome"]) for r in rows] == [
        ("A", "maintained"),
        ("B", "reduced"),
        ("C", "reduced"),
        ("D", "maintained"),
        ("E", "discontinued"),
    ]
    s = engine.to_arrow(taper_summary(members, T, END)).to_pylist()
    assert {r["group"]: r["members"] for r in s} == {"all": 5, "program": 0, "no_program": 5}
