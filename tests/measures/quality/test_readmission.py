"""30-day readmission on hand-built stays: each exclusion and boundary, worked out by hand."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from payvider.measures.quality.framework import Period, summarize
from payvider.measures.quality.readmission import SPEC, readmission_rows

from .helpers import MM_SCHEMA, STAY_SCHEMA, months, stay, table

P2024 = Period.year(2024)

STAYS = [
    # A: discharged 03-01, readmitted on day 30 (03-31): readmission; the second stay is an index too
    stay("A1", "A", "2024-02-26", "2024-03-01"),
    stay("A2", "A", "2024-03-31", "2024-04-03"),
    # B: readmitted on day 31: not a readmission
    stay("B1", "B", "2024-02-26", "2024-03-01"),
    stay("B2", "B", "2024-04-01", "2024-04-03"),
    # C: transfer H1 -> H2 next day is one chain (index = C2), then readmitted 05-20
    stay("C1", "C", "2024-05-01", "2024-05-03", disp="02", npi="H1"),
    stay("C2", "C", "2024-05-04", "2024-05-08", npi="H2"),
    stay("C3", "C", "2024-05-20", "2024-05-22"),
    # D: died in hospital
    stay("D1", "D", "2024-03-01", "2024-03-05", disp="20"),
    # E: left against medical advice, back 10 days later
    stay("E1", "E", "2024-03-01", "2024-03-05", disp="07"),
    stay("E2", "E", "2024-03-15", "2024-03-18"),
    # F: first readmission planned (chemotherapy DRG 847): index not readmitted
    stay("F1", "F", "2024-05-28", "2024-06-01"),
    stay("F2", "F", "2024-06-10", "2024-06-11", drg="847"),
    # G: discharged 12-15 (last 30 days) excluded; 12-01 (= end - 30 days) still an index
    stay("G1", "G", "2024-11-28", "2024-12-01"),
    stay("G2", "G", "2024-12-12", "2024-12-15"),
    # H: enrolment ends in July, discharged 07-20: no enrolment 30 days later
    stay("H1", "H", "2024-07-17", "2024-07-20"),
    # I: delivery (DRG 807) excluded; J: transferred out with no following admission
    stay("I1", "I", "2024-04-01", "2024-04-03", drg="807"),
    stay("J1", "J", "2024-04-01", "2024-04-03", disp="02"),
    # K: psychiatric stays are not acute index stays
    stay("K1", "K", "2024-04-01", "2024-04-03", cat="inpatient_psychiatric"),
]


def _mm():
    rows = []
    for m in "ABCDEFGIJK":
        rows += months(m, "2023-01-01", "2025-06-30")
    rows += months("H", "2023-01-01", "2024-07-31")
    return table(rows, MM_SCHEMA)


def _rows(con) -> dict[str, dict]:
    stays = con.from_arrow(table(STAYS, STAY_SCHEMA))
    mm = con.from_arrow(_mm())
    out = con.to_arrow(readmission_rows(stays, mm, [P2024])).to_pylist()
    return {r["event_id"]: r for r in out}


@pytest.fixture
def rows(duckdb_engine):
    return _rows(duckdb_engine)


def test_index_stays_exclusions_and_numerator(rows):
    got = {k: (r["excluded"], r["exclusion_reason"], r["in_numerator"]) for k, r in rows.items()}
    assert got == {
        "A1": (False, None, True),  # day 30
        "A2": (False, None, False),
        "B1": (False, None, False),  # day 31
        "B2": (False, None, False),
        "C2": (False, None, True),  # chain C1+C2, index discharge 05-08, back 05-20
        "C3": (False, None, False),
        "D1": (True, "died", False),
        "E1": (True, "against_medical_advice", True),
        "E2": (False, None, False),
        "F1": (False, None, False),  # planned readmission does not count
        "F2": (False, None, False),
        "G1": (False, None, True),  # 12-01 is the last index day; G2 starts 11 days later
        "G2": (True, "discharge_in_last_30_days", False),
        "H1": (True, "not_enrolled_after_discharge", False),
        "I1": (True, "pregnancy_perinatal", False),
        "J1": (True, "transferred_out", False),
    }
    assert rows["F1"]["detail"] == "planned readmission F2"
    assert rows["C2"]["event_date"] == dt.date(2024, 5, 8)


def test_summary_counts_rate_and_expected(duckdb_engine):
    stays = duckdb_engine.from_arrow(table(STAYS, STAY_SCHEMA))
    mm = duckdb_engine.from_arrow(_mm())
    s = duckdb_engine.to_arrow(summarize(readmission_rows(stays, mm, [P2024]), (SPEC,)))
    total = [r for r in s.to_pylist() if r["level"] == "total"]
    assert len(total) == 1
    t = total[0]
    # 16 index chains, 6 excluded, 10 eligible, 3 readmitted (A1, C2, G1)
    assert (t["denominator"], t["exclusions"], t["eligible"], t["numerator"]) == (16, 6, 10, 3)
    assert t["rate"] == pytest.approx(0.3)
    # Wilson 95% for 3/10: centre 4.9207/13.8415 = 0.35551, half 0.14160 * sqrt(3.0604) = 0.24771
    assert t["ci_lower"] == pytest.approx(0.1078, abs=5e-5)
    assert t["ci_upper"] == pytest.approx(0.6032, abs=5e-5)
    # one stratum (all women, same age band, no HCCs): expected = observed, O/E = 1
    assert t["expected_rate"] == pytest.approx(0.3)
    assert t["oe_ratio"] == pytest.approx(1.0)
    assert t["care_gaps"] == 0


def test_expected_by_stratum_with_shrinkage(duckdb_engine):
    # two strata: men (M1..M4, one readmitted) and women (W, from the table above)
    extra = [stay(f"M{i}", f"M{i}", "2024-02-01", "2024-02-03") for i in range(1, 5)]
    extra.append(stay("M1b", "M1", "2024-02-20", "2024-02-22"))
    mm = _mm().to_pylist()
    for i in range(1, 5):
        mm += months(f"M{i}", "2023-01-01", "2025-06-30", gender="male")
    con = duckdb_engine
    rows = con.to_arrow(
        readmission_rows(
            con.from_arrow(table(STAYS + extra, STAY_SCHEMA)),
            con.from_arrow(pa.Table.from_pylist(mm, schema=MM_SCHEMA)),
            [P2024],
        )
    ).to_pylist()
    by = {r["event_id"]: r for r in rows}
    # overall: 15 eligible, 4 readmitted; men: 5 stays, 1 readmitted; women: 10 stays, 3
    overall = 4 / 15
    assert by["M2"]["expected"] == pytest.approx((1 + 10 * overall) / (5 + 10), abs=1e-9)
    assert by["A1"]["expected"] == pytest.approx((3 + 10 * overall) / (10 + 10), abs=1e-9)
    assert by["D1"]["expected"] is None


def test_rows_and_summary_identical_on_both_engines(engine, duckdb_engine):
    """The same fixture on DuckDB and on the ``engine`` under test gives identical tables."""

    def run(con):
        rows = readmission_rows(
            con.from_arrow(table(STAYS, STAY_SCHEMA)), con.from_arrow(_mm()), [P2024]
        )
        keys = ["measure_id", "level", "organization_id"]
        s = con.to_arrow(summarize(rows, (SPEC,)).order_by(keys)).to_pylist()
        r = con.to_arrow(rows.order_by("event_id")).to_pylist()
        return r, s

    assert run(engine) == run(duckdb_engine)
