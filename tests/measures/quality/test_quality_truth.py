"""On a generated population: the planted readmission reduction is recovered.

The generator records realized index discharges and 30-day readmissions by discharging hospital
(partner system or not) and by discharge before/after the program start. The measure runs over
one period spanning the generated window, so only the last 30 days are cut off, as in the truth.
Differences in definition (the truth also counts psychiatric stays, and next-day readmissions at
another hospital, which the measure treats as transfers; the measure requires enrolment 30 days
after discharge) make the counts close but not equal.
"""

from __future__ import annotations

import datetime as dt
import json

import pyarrow.parquet as pq
import pytest

from payvider.engine.backends import DuckDBEngine
from payvider.measures.quality.framework import Period
from payvider.measures.quality.readmission import readmission_rows

#: Tolerances: index discharges within 8%, each rate within 3.5 points, the relative reduction
#: within 0.15 of the realized one (about 100 index stays per cell at 4,000 members).
COUNT_TOL = 0.08
RATE_TOL = 0.035
REDUCTION_TOL = 0.15


@pytest.fixture(scope="module")
def measured(synthetic_run):
    run, data = synthetic_run["run"], synthetic_run["data"]
    truth = json.loads((data / "truth" / "truth.json").read_text())["effects"]["readmission"]
    eng = DuckDBEngine()
    stays = eng.read_parquet(run / "inpatient_stays.parquet")
    mm = eng.read_parquet(run / "member_months.parquet")
    whole = Period("window", dt.date(2023, 1, 1), dt.date(2025, 12, 31))
    rows = eng.to_arrow(readmission_rows(stays, mm, [whole])).to_pylist()
    partner = {
        r["encounter_id"]: r["in_partner_system"]
        for r in pq.read_table(run / "inpatient_stays.parquet").to_pylist()
    }
    start = dt.date.fromisoformat(truth["program_start"])
    got: dict[str, list[int]] = {}
    for r in rows:
        if r["excluded"] and r["exclusion_reason"] != "not_enrolled_after_discharge":
            continue
        key = f"{'partner' if partner[r['event_id']] else 'other'}_"
        key += "post" if r["event_date"] >= start else "pre"
        n = got.setdefault(key, [0, 0])
        n[0] += 1
        n[1] += int(r["in_numerator"])
    eng.close()
    return truth, got


def test_planted_readmission_reduction_is_recovered(measured):
    truth, got = measured
    realized = truth["realized"]
    report = {}
    for key, t in realized.items():
        n, x = got[key]
        report[key] = (t["index_discharges"], n, t["rate"], round(x / n, 4))
        assert abs(n - t["index_discharges"]) <= COUNT_TOL * t["index_discharges"], report
        assert abs(x / n - t["rate"]) <= RATE_TOL, report
    pre, post = got["partner_pre"], got["partner_post"]
    measured_reduction = 1 - (post[1] / post[0]) / (pre[1] / pre[0])
    true_reduction = 1 - realized["partner_post"]["rate"] / realized["partner_pre"]["rate"]
    print("readmission truth vs measured:", report, true_reduction, measured_reduction)
    assert abs(measured_reduction - true_reduction) <= REDUCTION_TOL
    assert measured_reduction > 0.1
