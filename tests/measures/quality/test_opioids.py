"""Opioid high dosage and concurrent benzodiazepines on hand-built fills (arithmetic in comments).

Period 2024. Oxycodone/APAP 10 mg: 10 mg x factor 1.5 = 15 MME a tablet, so 180 tablets over
30 days are 90 MME a day.
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from payvider.measures.quality.framework import Period
from payvider.measures.quality.opioids import (
    ReferenceError_,
    ndc_reference,
    opioid_rows,
    parse_ndc_reference,
)
from payvider.reference import read_csv

from .helpers import (
    ALPRAZOLAM,
    MM_SCHEMA,
    MORPHINE_ER_60,
    OXY_APAP_10,
    OXY_IR_5,
    RX_SCHEMA,
    D,
    fill,
    months,
    table,
)

P = Period.year(2024)
EV = pa.schema(
    [
        ("member_id", pa.string()),
        ("code", pa.string()),
        ("event_date", pa.date32()),
        ("code_type", pa.string()),
    ]
)

FILLS = [
    # A: 2 x 180 tablets = 5,400 MME; Jan 1 .. Feb 29 = 60 days -> exactly 90.00: high
    fill("A", OXY_APAP_10, "2024-01-01", 180, 30),
    fill("A", OXY_APAP_10, "2024-01-31", 180, 30),
    # B: 180 + 179 tablets = 5,385 MME / 60 days = 89.75: not high
    fill("B", OXY_APAP_10, "2024-01-01", 180, 30),
    fill("B", OXY_APAP_10, "2024-01-31", 179, 30),
    # C: a gap; Jan 1 .. Mar 30 = 90 days of treatment, 5,400 / 90 = 60.00
    fill("C", OXY_APAP_10, "2024-01-01", 180, 30),
    fill("C", OXY_APAP_10, "2024-03-01", 180, 30),
    # D: two products on one date: one fill date only -> not in the denominator
    fill("D", OXY_IR_5, "2024-01-01", 120, 30),
    fill("D", MORPHINE_ER_60, "2024-01-01", 60, 30),
    # E: overlapping products add: 120 x 7.5 + 60 x 60 = 4,500 MME over Jan 1 .. Jan 31
    # (31 days) = 145.16
    fill("E", OXY_IR_5, "2024-01-01", 120, 30),
    fill("E", MORPHINE_ER_60, "2024-01-02", 60, 30),
    # F: 7 + 7 days = 14 covered -> not in the denominator; G: 7 + 8 = 15 -> in it
    fill("F", OXY_APAP_10, "2024-01-01", 42, 7),
    fill("F", OXY_APAP_10, "2024-01-08", 42, 7),
    fill("G", OXY_APAP_10, "2024-01-01", 42, 7),
    fill("G", OXY_APAP_10, "2024-01-09", 48, 8),
    # H: supply cut at the period end: Nov 15 (2,700 MME) + Dec 15 (17 of 30 days in 2024:
    # 2,700 x 17 / 30 = 1,530) = 4,230 MME over Nov 15 .. Dec 31 = 47 days = 90.00: high
    fill("H", OXY_APAP_10, "2024-11-15", 180, 30),
    fill("H", OXY_APAP_10, "2024-12-15", 180, 30),
    # I: as A, but two months without enrolment -> not continuously enrolled, no row
    fill("I", OXY_APAP_10, "2024-01-01", 180, 30),
    fill("I", OXY_APAP_10, "2024-01-31", 180, 30),
    # J: as A, one month without enrolment (allowed) -> high
    fill("J", OXY_APAP_10, "2024-01-01", 180, 30),
    fill("J", OXY_APAP_10, "2024-01-31", 180, 30),
    # K: as A with a cancer diagnosis in 2024 -> excluded; Q: as A with HCPCS C9113 (a
    # procedure code that only looks like ICD-10 C91.13) -> not excluded
    fill("K", OXY_APAP_10, "2024-01-01", 180, 30),
    fill("K", OXY_APAP_10, "2024-01-31", 180, 30),
    fill("Q", OXY_APAP_10, "2024-01-01", 180, 30),
    fill("Q", OXY_APAP_10, "2024-01-31", 180, 30),
    # L: opioids Jan 1 .. Feb 29; benzodiazepines Feb 1 .. Mar 10: overlap Feb 1 .. 29 = 29 days
    fill("L", OXY_APAP_10, "2024-01-01", 120, 30),
    fill("L", OXY_APAP_10, "2024-01-31", 120, 30),
    fill("L", ALPRAZOLAM, "2024-02-01", 30, 30),
    fill("L", ALPRAZOLAM, "2024-02-10", 30, 30),
    # M: as L with the second opioid fill for 31 days: overlap Feb 1 .. Mar 1 = 30 -> concurrent
    fill("M", OXY_APAP_10, "2024-01-01", 120, 30),
    fill("M", OXY_APAP_10, "2024-01-31", 124, 31),
    fill("M", ALPRAZOLAM, "2024-02-01", 30, 30),
    fill("M", ALPRAZOLAM, "2024-02-10", 30, 30),
    # N: 60 days of overlap but a single benzodiazepine fill -> not concurrent
    fill("N", OXY_APAP_10, "2024-01-01", 120, 30),
    fill("N", OXY_APAP_10, "2024-01-31", 120, 30),
    fill("N", ALPRAZOLAM, "2024-01-01", 60, 60),
    # Y: 17 at the period start -> no row; Z: a fill without days supply is not measured
    fill("Y", OXY_APAP_10, "2024-01-01", 180, 30),
    fill("Y", OXY_APAP_10, "2024-01-31", 180, 30),
    fill("Z", OXY_APAP_10, "2024-01-01", 180, 30),
    fill("Z", OXY_APAP_10, "2024-01-31", 180, 0),
]


def _members():
    mm = []
    for m in "ABCDEFGHKLMNQZ":
        mm += months(m, "2023-01-01", "2025-06-30")
    mm += [
        r
        for r in months("I", "2023-01-01", "2025-06-30")
        if r["month"].month not in (4, 5) or r["month"].year != 2024
    ]
    mm += [r for r in months("J", "2023-01-01", "2025-06-30") if r["month"] != D("2024-04-01")]
    mm += months("Y", "2023-01-01", "2025-06-30", birth="2006-06-01")
    return mm


@pytest.fixture(scope="module")
def rows():
    from payvider.engine.backends import DuckDBEngine

    con = DuckDBEngine()
    ev = [
        {
            "member_id": "K",
            "code": "C50911",
            "event_date": D("2024-03-01"),
            "code_type": "diagnosis",
        },
        {
            "member_id": "Q",
            "code": "C9113",
            "event_date": D("2024-03-01"),
            "code_type": "procedure",
        },
    ]
    out = con.to_arrow(
        opioid_rows(
            con.from_arrow(table(FILLS, RX_SCHEMA)),
            con.from_arrow(table(_members(), MM_SCHEMA)),
            [P],
            con.from_arrow(table(ev, EV)),
        )
    ).to_pylist()
    con.close()
    return {(r["measure_id"], r["member_id"]): r for r in out}


def test_high_dosage_boundaries(rows):
    got = {
        m: (r["excluded"], r["in_numerator"], r["detail"])
        for (mid, m), r in rows.items()
        if mid == "opioid_high_dosage"
    }
    assert got == {
        "A": (False, True, "average MME 90.00 over 60 days"),
        "B": (False, False, "average MME 89.75 over 60 days"),
        "C": (False, False, "average MME 60.00 over 90 days"),
        "E": (False, True, "average MME 145.16 over 31 days"),
        # G: 42 + 48 tablets = 1,350 MME over Jan 1 .. Jan 16 (16 days, 15 covered) = 84.37
        "G": (False, False, "average MME 84.37 over 16 days"),
        "H": (False, True, "average MME 90.00 over 47 days"),
        "J": (False, True, "average MME 90.00 over 60 days"),
        "K": (True, True, "average MME 90.00 over 60 days"),
        "L": (False, False, "average MME 60.00 over 60 days"),
        "M": (False, False, "average MME 60.00 over 61 days"),
        "N": (False, False, "average MME 60.00 over 60 days"),
        "Q": (False, True, "average MME 90.00 over 60 days"),
    }
    assert rows[("opioid_high_dosage", "K")]["exclusion_reason"] == "malignant_neoplasm"


def test_concurrent_benzodiazepine_overlap(rows):
    got = {
        m: (r["in_numerator"], r["detail"])
        for (mid, m), r in rows.items()
        if mid == "opioid_benzodiazepine_concurrent" and m in "LMN"
    }
    assert got == {
        "L": (False, "overlap 29 days"),
        "M": (True, "overlap 30 days"),
        "N": (False, "overlap 60 days"),
    }


def test_reference_rows_are_validated():
    assert {r["drug_class"] for r in ndc_reference()} == {"opioid", "benzodiazepine"}
    oxy = next(r for r in ndc_reference() if r["ndc"] == OXY_APAP_10)
    assert (oxy["strength_milli"], oxy["factor_milli"]) == (10_000, 1_500)
    factors = read_csv("mme_conversion_factors.csv")
    bad = [dict(read_csv("opioid_benzodiazepine_ndc.csv")[0], mme_conversion_factor="1.0")]
    with pytest.raises(ReferenceError_, match=r"x.csv row 2, field mme_conversion_factor"):
        parse_ndc_reference(tuple(bad), factors, "x.csv")
    bad = [dict(read_csv("opioid_benzodiazepine_ndc.csv")[0], ndc="123")]
    with pytest.raises(ReferenceError_, match=r"row 2, field ndc"):
        parse_ndc_reference(tuple(bad), factors, "x.csv")


def test_rows_and_summary_identical_on_both_engines(engine, rows):
    from payvider.measures.quality.framework import summarize
    from payvider.measures.quality.opioids import SPECS

    out = opioid_rows(
        engine.from_arrow(table(FILLS, RX_SCHEMA)),
        engine.from_arrow(table(_members(), MM_SCHEMA)),
        [P],
    )
    got = {(r["measure_id"], r["member_id"]): r for r in engine.to_arrow(out).to_pylist()}
    assert {k: (r["in_numerator"], r["detail"]) for k, r in got.items()} == {
        k: (r["in_numerator"], r["detail"]) for k, r in rows.items()
    }
    s = engine.to_arrow(summarize(out, SPECS)).to_pylist()
    total = {r["measure_id"]: r for r in s if r["level"] == "total"}
    # no evidence passed: K is not excluded; high: A, E, H, J, K, Q; concurrent: M
    assert total["opioid_high_dosage"]["eligible"] == 12
    assert total["opioid_high_dosage"]["numerator"] == 6
    assert total["opioid_benzodiazepine_concurrent"]["numerator"] == 1
