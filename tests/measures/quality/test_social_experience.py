"""SDOH, experience and engagement measures on hand-built inputs, with the answers worked by hand."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
import pytest

from payvider.measures.quality.engagement import engagement_rows, telehealth_days
from payvider.measures.quality.experience import experience_summary
from payvider.measures.quality.framework import Period, summarize
from payvider.measures.quality.sdoh import SPECS as SDOH_SPECS
from payvider.measures.quality.sdoh import sdoh_rows, sdoh_summary
from payvider.schema.tables import get_table

from .helpers import MM_SCHEMA, PAYER, D, months, table

P = Period.year(2024)
CORE = ("food", "housing", "transportation", "utilities", "interpersonal_safety")
XW = pa.schema([("member_id", pa.string()), ("patient_id", pa.string())])
ATT = pa.schema(
    [
        ("period", pa.int64()),
        ("member_id", pa.string()),
        ("payer", pa.string()),
        ("product_line", pa.string()),
        ("rule", pa.string()),
        ("organization_id", pa.string()),
        ("clinician_npi", pa.string()),
    ]
)
CE = pa.schema(
    [
        ("member_id", pa.string()),
        ("service_date", pa.date32()),
        ("service_category", pa.string()),
    ]
)
EV = pa.schema([("member_id", pa.string()), ("code", pa.string()), ("event_date", pa.date32())])


def canon(name: str, rows: list[dict]) -> pa.Table:
    """Rows of a canonical table (missing columns null)."""
    schema = get_table(name).ibis_schema().to_pyarrow()
    return pa.Table.from_pylist([{f: r.get(f) for f in schema.names} for r in rows], schema=schema)


def screen(sid, patient, day, domains, positive=(), referred=()):
    return [
        {
            "screening_id": sid,
            "patient_id": patient,
            "screening_date": D(day),
            "instrument": "AHC HRSN",
            "domain": d,
            "positive_flag": d in positive,
            "referral_flag": d in referred,
        }
        for d in domains
    ]


def visit(eid, patient, day, kind="office visit"):
    return {
        "encounter_id": eid,
        "patient_id": patient,
        "encounter_type": kind,
        "encounter_start_date": D(day),
    }


def attributed(member, org="ORG1", line="medicare_advantage", rule="step1_primary_care"):
    return {
        "period": 2024,
        "member_id": member,
        "payer": PAYER,
        "product_line": line,
        "rule": rule,
        "organization_id": None if rule == "unattributed" else org,
        "clinician_npi": None,
    }


@pytest.fixture
def sdoh_inputs(engine):
    con = engine
    mm = []
    for m in "ABCEF":
        mm += months(m, "2024-01-01", "2024-12-31", birth="1970-01-01")
    mm += months("D", "2024-01-01", "2024-12-31", birth="2014-01-01")  # 10 years old
    xw = [{"member_id": m, "patient_id": f"P{m}"} for m in "ABCDEF"]  # PG is not linked
    enc = [
        visit("e1", "PA", "2024-02-01"),
        visit("e2", "PB", "2024-02-01", "wellness"),
        visit("e3", "PC", "2023-11-01"),  # C: seen only in 2023
        visit("e4", "PD", "2024-02-01"),
        visit("e5", "PE", "2024-02-01", "telehealth"),  # E: no office or wellness visit
        visit("e6", "PF", "2024-02-01"),
        visit("e7", "PG", "2024-02-01"),
    ]
    scr = (
        # A: all five core domains on one screening; food referred, housing not
        screen("S1", "PA", "2024-03-01", CORE, positive=("food", "housing"), referred=("food",))
        # B: four core domains in 2024, interpersonal safety only on a 2023 screening
        + screen("S2", "PB", "2024-03-01", CORE[:4], positive=("utilities",), referred=())
        + screen("S0", "PB", "2023-05-01", CORE[4:])
        # C: screened but not seen in 2024: a positive screen counts for the referral measure
        + screen("S3", "PC", "2024-04-01", CORE, positive=("food",), referred=("food",))
        + screen("S4", "PD", "2024-04-01", CORE)  # a child
        + screen("S5", "PG", "2024-04-01", CORE, positive=("food",))  # not linked
        # F: seen, not screened
    )
    return {
        "sdoh": con.from_arrow(canon("sdoh_screening", scr)),
        "encounter": con.from_arrow(canon("encounter", enc)),
        "xw": con.from_arrow(table(xw, XW)),
        "mm": con.from_arrow(table(mm, MM_SCHEMA)),
        "att": con.from_arrow(table([attributed(m) for m in "ABCF"], ATT)),
    }


def test_sdoh_screening_and_referral_rows(engine, sdoh_inputs):
    t = sdoh_inputs
    expr = sdoh_rows(t["sdoh"], t["encounter"], t["xw"], t["mm"], [P], t["att"])
    rows = engine.to_arrow(expr).to_pylist()
    screening = {r["member_id"]: r["in_numerator"] for r in rows if r["measure_id"][5] == "s"}
    # denominator: adults with a 2024 office or wellness visit: A, B, F (not C, child D, E)
    assert screening == {"A": True, "B": False, "F": False}
    referral = {r["event_id"]: r["in_numerator"] for r in rows if r["measure_id"][5] == "r"}
    assert referral == {
        "S1:food": True,
        "S1:housing": False,
        "S2:utilities": False,
        "S3:food": True,
    }
    detail = {r["member_id"]: r["detail"] for r in rows if r["measure_id"] == "sdoh_screening"}
    assert detail["B"] == "4 of 5 core domains, first on 2024-03-01"
    assert detail["F"] == "not screened"
    org = {r["member_id"]: r["organization_id"] for r in rows}
    assert org["A"] == "ORG1"

    s = engine.to_arrow(summarize(expr, SDOH_SPECS))
    total = {r["measure_id"]: r for r in s.to_pylist() if r["level"] == "total"}
    # screening 1 of 3; referral 2 of 4 positive needs, 2 care gaps (S1 housing, S2 utilities)
    assert (total["sdoh_screening"]["numerator"], total["sdoh_screening"]["eligible"]) == (1, 3)
    assert total["sdoh_referral"]["rate"] == 0.5
    assert total["sdoh_referral"]["care_gaps"] == 2


def test_sdoh_summary_by_domain(engine, sdoh_inputs):
    t = sdoh_inputs
    out = engine.to_arrow(sdoh_summary(t["sdoh"], t["xw"], t["mm"], [P], t["att"]))
    got = {(r["level"], r["organization_id"], r["domain"]): r for r in out.to_pylist()}
    food = got[("total", "all", "food")]
    # 2024 screenings of linked enrolled members: S1 (A), S2 (B), S3 (C), S4 (D), all answering
    # food (S0 is 2023, S5 not linked): 4 screenings, 4 members; positive on S1 and S3, both
    # referred
    assert food["enrolled_members"] == 6
    assert (food["screenings"], food["screened_members"]) == (4, 4)
    assert (food["positive_screenings"], food["members_with_need"], food["referrals"]) == (2, 2, 2)
    assert food["positive_rate"] == 0.5
    assert food["referral_rate"] == 1.0
    assert food["small_cell"] is True
    anyd = got[("total", "all", "any")]
    # any need: S1 (food, housing), S2 (utilities), S3 (food): 3 of 4 screenings, 3 members;
    # referred for at least one: S1 and S3
    assert (anyd["screenings"], anyd["positive_screenings"], anyd["members_with_need"]) == (4, 3, 3)
    assert anyd["screening_rate"] == round(4 / 6, 6)  # A, B, C, D screened of 6 enrolled
    assert anyd["referrals"] == 2
    # by organization: D (not attributed) is 'unattributed'
    assert got[("organization", "unattributed", "food")]["screenings"] == 1
    assert got[("organization", "ORG1", "food")]["positive_screenings"] == 2


def test_sdoh_summary_periods_that_are_not_calendar_years(engine, sdoh_inputs):
    """A quarter among the periods: every period is then filtered on its own dates; the
    calendar year gives the same rows as when it is computed alone (one pass by year)."""
    t = sdoh_inputs
    q1 = Period("2024-Q1", D("2024-01-01"), D("2024-03-31"))
    periods = [P, q1, Period.year(2023)]

    def rows(ps):
        out = engine.to_arrow(sdoh_summary(t["sdoh"], t["xw"], t["mm"], ps, t["att"]))
        return {
            (r["period"], r["level"], r["organization_id"], r["domain"]): r for r in out.to_pylist()
        }

    both, alone = rows(periods), rows([P])
    assert {k: v for k, v in both.items() if k[0] == "2024"} == alone
    # no member months in 2023: S0 belongs to no enrolled member
    assert not [k for k in both if k[0] == "2023"]
    # Q1: S1 (A) and S2 (B) of the six enrolled; food positive and referred on S1 only
    food, anyd = both[("2024-Q1", "total", "all", "food")], both[("2024-Q1", "total", "all", "any")]
    assert (food["enrolled_members"], food["screenings"], food["screened_members"]) == (6, 2, 2)
    assert (food["positive_screenings"], food["members_with_need"], food["referrals"]) == (1, 1, 1)
    assert (anyd["positive_screenings"], anyd["members_with_need"], anyd["referrals"]) == (2, 2, 1)


def test_sdoh_summary_screening_of_a_patient_linked_to_two_members(engine, sdoh_inputs):
    """Patient PA is also member H (another organization): S1 counts for both members and both
    organizations, and once among the total's screenings."""
    t = dict(sdoh_inputs)
    con = engine
    xw = [{"member_id": m, "patient_id": f"P{m}"} for m in "ABCDEF"]
    xw.append({"member_id": "H", "patient_id": "PA"})
    mm = []
    for m in "ABCEFH":
        mm += months(m, "2024-01-01", "2024-12-31", birth="1970-01-01")
    mm += months("D", "2024-01-01", "2024-12-31", birth="2014-01-01")
    att = [attributed(m) for m in "ABCF"] + [attributed("H", "ORG2")]
    out = engine.to_arrow(
        sdoh_summary(
            t["sdoh"],
            con.from_arrow(table(xw, XW)),
            con.from_arrow(table(mm, MM_SCHEMA)),
            [P],
            con.from_arrow(table(att, ATT)),
        )
    )
    got = {(r["level"], r["organization_id"], r["domain"]): r for r in out.to_pylist()}
    food = got[("total", "all", "food")]
    assert food["enrolled_members"] == 7
    assert (food["screenings"], food["screened_members"]) == (4, 5)
    assert (food["positive_screenings"], food["members_with_need"]) == (3, 3)
    org2 = got[("organization", "ORG2", "food")]
    assert (org2["enrolled_members"], org2["screenings"], org2["screened_members"]) == (1, 1, 1)


def test_experience_mean_and_top_box(engine):
    con = engine

    def ans(rid, patient, item, score, top, day="2024-05-01"):
        return {
            "response_id": rid,
            "patient_id": patient,
            "survey_date": D(day),
            "instrument": "CG-CAHPS",
            "item": item,
            "score": Decimal(score),
            "max_score": None if top is None else Decimal(top),
        }

    survey = [
        ans("R1", "PA", "provider_rating", "10", "10"),  # top box (9-10)
        ans("R2", "PB", "provider_rating", "9", "10"),  # top box
        ans("R3", "PC", "provider_rating", "8", "10"),  # not
        ans("R1", "PA", "showed_respect", "4", "4"),  # top box ("Always")
        ans("R2", "PB", "showed_respect", "3", "4"),
        ans("R3", "PC", "showed_respect", "2", None),  # unknown scale: no top box, no pct
        ans("R4", "PZ", "showed_respect", "4", "4", "2025-02-01"),  # unlinked, next year
    ]
    xw = [{"member_id": m, "patient_id": f"P{m}"} for m in "ABC"]
    att = [attributed("A", "ORG1"), attributed("B", "ORG2")]  # C not attributed
    out = con.to_arrow(
        experience_summary(
            con.from_arrow(canon("survey_response", survey)),
            con.from_arrow(table(xw, XW)),
            con.from_arrow(table(att, ATT)),
        )
    ).to_pylist()
    got = {(r["period"], r["level"], r["organization_id"], r["item"]): r for r in out}
    rating = got[("2024", "total", "all", "provider_rating")]
    # mean (10 + 9 + 8) / 3 = 9; top box 2 of 3; pct (100 + 90 + 80) / 3 = 90
    assert (rating["mean_score"], rating["top_box"], rating["top_box_answers"]) == (9.0, 2, 3)
    assert rating["top_box_rate"] == round(2 / 3, 6)
    assert rating["mean_pct"] == 90.0
    respect = got[("2024", "total", "all", "showed_respect")]
    # mean (4 + 3 + 2) / 3 = 3; top box 1 of 2 known scales; pct (100 + 75) / 2 = 87.5
    assert (respect["mean_score"], respect["top_box"], respect["top_box_answers"]) == (3.0, 1, 2)
    assert respect["mean_pct"] == 87.5
    assert got[("2024", "organization", "ORG2", "showed_respect")]["mean_score"] == 3.0
    assert got[("2024", "organization", "unattributed", "showed_respect")]["answers"] == 1
    assert got[("2025", "organization", "unattributed", "showed_respect")]["top_box"] == 1
    assert rating["small_cell"] is True


def test_telehealth_and_annual_wellness_visit(engine):
    con = engine
    att = [
        attributed("A"),
        attributed("B"),
        attributed("C", line="commercial"),
        attributed("D", rule="unattributed"),
    ]
    claims = [
        {"member_id": "A", "service_date": D("2024-06-01"), "service_category": "telehealth"},
        {"member_id": "B", "service_date": D("2023-12-31"), "service_category": "telehealth"},
        {"member_id": "C", "service_date": D("2024-06-01"), "service_category": "office_pcp"},
        {"member_id": "D", "service_date": D("2024-06-01"), "service_category": "telehealth"},
    ]
    enc = [visit("e1", "PC", "2024-01-01", "Telehealth")]  # C: an EHR telehealth encounter
    xw = [{"member_id": "C", "patient_id": "PC"}]
    ev = [
        {"member_id": "A", "code": "G0439", "event_date": D("2024-12-31")},
        {"member_id": "B", "code": "G0438", "event_date": D("2025-01-01")},  # next year
        {"member_id": "C", "code": "G0439", "event_date": D("2024-03-01")},  # commercial
    ]
    tele = telehealth_days(
        con.from_arrow(table(claims, CE)),
        con.from_arrow(canon("encounter", enc)),
        con.from_arrow(table(xw, XW)),
    )
    rows = con.to_arrow(
        engagement_rows(con.from_arrow(table(att, ATT)), tele, con.from_arrow(table(ev, EV)), [P])
    ).to_pylist()
    got = {(r["measure_id"], r["member_id"]): r["in_numerator"] for r in rows}
    # denominators: attributed A, B, C (D unattributed); AWV: Medicare A and B only
    assert got == {
        ("telehealth_use", "A"): True,
        ("telehealth_use", "B"): False,
        ("telehealth_use", "C"): True,
        ("annual_wellness_visit", "A"): True,
        ("annual_wellness_visit", "B"): False,
    }
