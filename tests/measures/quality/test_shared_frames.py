"""The shared intermediates of quality_member give what the per-measure computations gave:
value-set tags pick the rows ``code_in`` picks, and the member-year frame gives the continuous
enrollment and the enrollment after a discharge that member months give."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from payvider.measures.quality.framework import (
    Period,
    code_in,
    continuous_enrollment,
    forget_enrollment,
    in_value_set,
    tag_value_sets,
    value_set_keys,
)
from payvider.measures.quality.readmission import enrolled_after

from .helpers import MM_SCHEMA, D, months, table

EV = pa.schema([("member_id", pa.string()), ("code", pa.string()), ("event_date", pa.date32())])
CODES = (
    "77067",  # mammography (exact)
    "z12.31",  # lower case with a dot: not a shipped code
    "C18.4",  # colorectal cancer (prefix C18)
    "c20",  # colorectal cancer, lower case
    "C7851",  # colorectal cancer (prefix C785) and malignant neoplasm (prefix C)
    "E11.9",  # diabetes (prefix)
    "I10",  # essential hypertension (prefix equal to the code)
    "G0439",  # annual wellness visit
    "Q5001",  # hospice
    "D57.3",  # sickle-cell trait: not sickle-cell disease
    "D57.1",
    "Z51.5",  # palliative care
    "99213",  # in no value set
    None,
)


def test_value_set_tags_pick_the_rows_code_in_picks(engine):
    ev = [
        {"member_id": f"M{i}", "code": c, "event_date": D("2024-01-01")}
        for i, c in enumerate(CODES)
    ]
    t = engine.from_arrow(table(ev, EV))
    tagged = tag_value_sets(t)
    names = sorted({k[0] for k in value_set_keys()})
    got = {(r["value_set"], r["member_id"]) for r in engine.to_arrow(tagged).to_pylist()}
    assert len(got) == engine.to_arrow(tagged.count().as_table()).column(0)[0].as_py()
    for name in names:
        want = engine.to_arrow(t.filter(code_in(t.code, name))).column("member_id").to_pylist()
        assert sorted(m for v, m in got if v == name) == sorted(want), name
        picked = engine.to_arrow(in_value_set(tagged, name)).column("member_id").to_pylist()
        assert sorted(picked) == sorted(want), name
    assert ("colorectal_cancer", "M4") in got and ("malignant_neoplasm", "M4") in got
    assert not any(m == "M9" for v, m in got if v == "sickle_cell_disease")


STAYS = pa.schema(
    [("member_id", pa.string()), ("payer", pa.string()), ("discharge_date", pa.date32())]
)


def test_member_year_frame_enrollment(engine):
    forget_enrollment()
    mm = months("A", "2024-01-01", "2024-12-31")  # the whole year
    mm += months("B", "2024-02-01", "2024-12-31")  # one month missing
    mm += months("C", "2024-01-01", "2024-11-30")  # not enrolled in the last month
    mm += [r for r in months("D", "2024-01-01", "2024-12-31") if r["month"].month not in (3, 4)]
    mm += months("E", "2023-11-01", "2024-01-31")  # across the year end
    mmt = engine.from_arrow(table(mm, MM_SCHEMA))
    p = Period.year(2024)
    ce = engine.to_arrow(continuous_enrollment(mmt, p.start, p.end)).to_pylist()
    assert sorted(r["member_id"] for r in ce) == ["A", "B"]
    # a window that is not a calendar year counts the month bits of its years in the window
    ce = continuous_enrollment(mmt, dt.date(2023, 11, 1), dt.date(2024, 1, 31), 0)
    assert engine.to_arrow(ce).column("member_id").to_pylist() == ["E"]
    # March 2024 to February 2025 (12 months, one gap allowed): A has March to December (10), B
    # the same, D misses March and April (8), C misses December (9), E has none
    ce = continuous_enrollment(mmt, dt.date(2024, 3, 1), dt.date(2025, 2, 28), 2, D("2024-10-15"))
    assert sorted(engine.to_arrow(ce).column("member_id").to_pylist()) == ["A", "B"]
    ce = continuous_enrollment(mmt, dt.date(2024, 3, 1), dt.date(2025, 2, 28), 3, D("2024-10-15"))
    assert sorted(engine.to_arrow(ce).column("member_id").to_pylist()) == ["A", "B", "C"]
    # the anchor month must be enrolled (C is not in December) and inside the window
    ce = continuous_enrollment(mmt, dt.date(2024, 3, 1), dt.date(2025, 2, 28), 4, D("2024-12-01"))
    assert sorted(engine.to_arrow(ce).column("member_id").to_pylist()) == ["A", "B", "D"]
    ce = continuous_enrollment(mmt, dt.date(2024, 3, 1), dt.date(2024, 9, 30), 0, D("2024-10-01"))
    assert engine.to_arrow(ce).num_rows == 0
    stays = [
        ("A", "2024-11-30"),  # December enrolled
        ("A", "2024-12-15"),  # January 2025 not
        ("D", "2024-02-10"),  # March missing
        ("D", "2024-05-10"),
        ("E", "2023-12-20"),  # January 2024 enrolled, across the year end
        ("X", "2024-05-10"),  # never enrolled
    ]
    s = engine.from_arrow(
        table([{"member_id": m, "payer": "p", "discharge_date": D(d)} for m, d in stays], STAYS)
    )
    out = engine.to_arrow(enrolled_after(s, mmt, "discharge_date")).to_pylist()
    got = {(r["member_id"], str(r["discharge_date"])): r["_enrolled_after"] for r in out}
    assert got == {
        ("A", "2024-11-30"): True,
        ("A", "2024-12-15"): False,
        ("D", "2024-02-10"): False,
        ("D", "2024-05-10"): True,
        ("E", "2023-12-20"): True,
        ("X", "2024-05-10"): False,
    }
    forget_enrollment()
