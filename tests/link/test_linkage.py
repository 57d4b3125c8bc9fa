"""Member ↔ patient linkage: hand-made cases inside a generated population, and accuracy
against the generator's planted links."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import ibis
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from payvider.link import CROSSWALK_SCHEMA, LinkSettings, link
from payvider.link.linkage import one_to_one

D = dt.date


def _member(mid, first, last, sex, birth, zip_, address, phone):
    return {
        "member_id": mid,
        "first_name": first,
        "last_name": last,
        "gender": sex,
        "birth_date": birth,
        "zip_code": zip_,
        "address": address,
        "phone": phone,
        "enrollment_start_date": D(2024, 1, 1),
        "enrollment_end_date": D(2025, 12, 31),
        "payer": "prairie health plan",
        "plan": "hand-made",
        "product_line": "commercial",
    }


def _patient(pid, first, last, sex, birth, zip_, address, phone):
    return {
        "patient_id": pid,
        "first_name": first,
        "last_name": last,
        "sex": sex,
        "birth_date": birth,
        "zip_code": zip_,
        "address": address,
        "phone": phone,
    }


ADDR = "4411 Wexford Ridge Rd"
HAND_MEMBERS = [
    # exact on every key
    _member(
        "H01", "Quentin", "Zabriskie", "male", D(1971, 3, 4), "55401", "12 Elm St", "612-555-0101"
    ),
    # nickname and a typo in the surname
    _member(
        "H02",
        "William",
        "Farnsworthy",
        "male",
        D(1966, 7, 21),
        "55104",
        "88 Oak Ave",
        "651-555-0102",
    ),
    # twins: same birth date, surname, address and phone; only Alma is a patient (with a typo)
    _member("H03", "Alma", "Quarterman", "female", D(1990, 11, 2), "55305", ADDR, "952-555-0103"),
    _member("H04", "Edith", "Quarterman", "female", D(1990, 11, 2), "55305", ADDR, "952-555-0103"),
    # a member who is nobody's patient
    _member(
        "H05", "Zebulon", "Ostrowski", "male", D(1958, 1, 30), "55447", "5 Birch Ln", "763-555-0105"
    ),
    # the same person enrolled twice (typo in the first name): one patient, two candidates
    _member(
        "H06",
        "Katherine",
        "Villanueva",
        "female",
        D(1983, 5, 17),
        "55414",
        "70 Pine Ct",
        "612-555-0106",
    ),
    _member("H07", "Kathrine", "Villanueva", "female", D(1983, 5, 17), "55414", "70 Pine Ct", None),
]
HAND_PATIENTS = [
    _patient(
        "HP01",
        "QUENTIN",
        "Zabriskie ",
        "male",
        D(1971, 3, 4),
        "55401-2231",
        "12 Elm St",
        "(612) 555-0101",
    ),
    _patient(
        "HP02", "Bill", "Farnswrthy", "male", D(1966, 7, 21), "55104", "88 Oak Ave", "651-555-0102"
    ),
    _patient(
        "HP03", "Alma", "Quartermann", "female", D(1990, 11, 2), "55305", ADDR, "952-555-0103"
    ),
    _patient(
        "HP06",
        "Katharine",
        "Villanueva",
        "female",
        D(1983, 5, 17),
        "55414",
        "70 Pine Ct",
        "612-555-0106",
    ),
]


@pytest.fixture(scope="module")
def population(tmp_path_factory) -> Path:
    from payvider.synth import generate_population

    out = tmp_path_factory.mktemp("link") / "data"
    generate_population(out, members=4000, seed=11)
    return out


def _with_hand_made(path: Path, rows: list[dict]) -> pa.Table:
    base = pq.read_table(path)
    extra = pa.Table.from_pylist(
        [{c: r.get(c) for c in base.schema.names} for r in rows], schema=base.schema
    )
    return pa.concat_tables([base, extra])


@pytest.fixture(scope="module")
def linked(population: Path):
    con = ibis.duckdb.connect()
    elig = con.create_table(
        "eligibility", _with_hand_made(population / "eligibility.parquet", HAND_MEMBERS)
    )
    pat = con.create_table(
        "patient", _with_hand_made(population / "patient.parquet", HAND_PATIENTS)
    )
    result = link(elig, pat, LinkSettings())
    cw = result.crosswalk.to_pyarrow()
    rq = result.review_queue.to_pyarrow()
    yield result, cw, rq
    con.disconnect()


def _pairs(cw: pa.Table) -> dict[str, tuple[str, str]]:
    return {
        m: (p, meth)
        for m, p, meth in zip(
            cw["member_id"].to_pylist(),
            cw["patient_id"].to_pylist(),
            cw["match_method"].to_pylist(),
            strict=True,
        )
    }


def test_crosswalk_shape_and_one_to_one(linked):
    result, cw, _ = linked
    assert cw.schema.names == list(CROSSWALK_SCHEMA.names)
    assert len(set(cw["member_id"].to_pylist())) == cw.num_rows
    assert len(set(cw["patient_id"].to_pylist())) == cw.num_rows
    c = result.counts
    assert c["deterministic"] + c["probabilistic"] == cw.num_rows
    assert c["unmatched_members"] == c["members"] - cw.num_rows
    assert set(cw["match_method"].to_pylist()) == {"deterministic", "probabilistic"}


def test_exact_match_is_deterministic(linked):
    pairs = _pairs(linked[1])
    assert pairs["H01"] == ("HP01", "deterministic")


def test_nickname_and_typo_match_probabilistically(linked):
    _, cw, _ = linked
    pairs = _pairs(cw)
    assert pairs["H02"] == ("HP02", "probabilistic")
    row = cw.filter(pa.compute.equal(cw["member_id"], "H02")).to_pylist()[0]
    assert row["match_probability"] >= LinkSettings().upper


def test_twins_are_not_merged(linked):
    _, cw, rq = linked
    pairs = _pairs(cw)
    assert pairs["H03"] == ("HP03", "probabilistic")
    assert "H04" not in pairs
    # nor is the other twin offered for review once her sister holds the patient
    assert "H04" not in rq["member_id"].to_pylist()


def test_member_without_patient_is_unmatched(linked):
    assert "H05" not in _pairs(linked[1])


def test_duplicate_enrollment_links_the_patient_once(linked):
    pairs = _pairs(linked[1])
    linked_to_hp06 = [m for m, (p, _) in pairs.items() if p == "HP06"]
    assert linked_to_hp06 == ["H06"]  # the closer spelling with the matching phone wins
    assert "H07" not in pairs


def test_one_to_one_is_greedy_best_first():
    con = ibis.duckdb.connect()
    pairs = con.create_table(
        "pairs",
        pa.table(
            {
                "member_id": ["m1", "m1", "m2", "m2", "m3"],
                "patient_id": ["p1", "p2", "p1", "p2", "p1"],
                "match_probability": [0.99] * 5,
                "match_weight": [10.0, 9.0, 9.5, 1.0, 9.5],
            }
        ),
    )
    names = iter(f"t{i}" for i in range(1000))
    out = one_to_one(pairs, lambda e: con.create_table(next(names), e, temp=True))
    got = out.select("member_id", "patient_id").to_pyarrow().to_pylist()
    assert sorted((r["member_id"], r["patient_id"]) for r in got) == [("m1", "p1"), ("m2", "p2")]


def test_precision_and_recall_against_planted_links(linked, population: Path):
    _, cw, _ = linked
    truth = pq.read_table(population / "truth" / "true_links.parquet")
    true_pairs = set(
        zip(truth["member_id"].to_pylist(), truth["patient_id"].to_pylist(), strict=True)
    )
    found = {
        (m, p)
        for m, p in zip(cw["member_id"].to_pylist(), cw["patient_id"].to_pylist(), strict=True)
        if not m.startswith("H")
    }
    tp = len(found & true_pairs)
    precision, recall = tp / len(found), tp / len(true_pairs)
    assert precision >= 0.99, precision
    assert recall >= 0.97, recall


def test_review_queue_holds_pairs_between_thresholds(linked):
    _, cw, rq = linked
    s = LinkSettings()
    probs = rq["match_probability"].to_pylist()
    assert all(p >= s.lower for p in probs)
    assert not set(rq["member_id"].to_pylist()) & set(cw["member_id"].to_pylist())
    for f in ("first_name", "birth_date", "zip"):
        assert f"member_{f}" in rq.schema.names and f"patient_{f}" in rq.schema.names


def test_same_inputs_same_crosswalk(population: Path):
    con = ibis.duckdb.connect()
    elig = con.read_parquet(population / "eligibility.parquet")
    pat = con.read_parquet(population / "patient.parquet")
    a = link(elig, pat).crosswalk.order_by(["member_id"]).to_pyarrow()
    b = link(elig, pat).crosswalk.order_by(["member_id"]).to_pyarrow()
    assert a.equals(b)
