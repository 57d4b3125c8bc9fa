"""ED visits per 1,000, hospice and advanced-illness/frailty exclusions, planned readmissions by
principal diagnosis through the stage's wiring: hand-built inputs, answers worked out by hand."""

from __future__ import annotations

import pyarrow as pa
import pytest

from payvider.measures.quality.ed_visits import ED_VISITS, ed_rows
from payvider.measures.quality.exclusions import apply_shared_exclusions
from payvider.measures.quality.framework import Period, summarize
from payvider.measures.quality.readmission import readmission_rows
from payvider.measures.quality.screening import screening_rows
from payvider.measures.quality.stages import _principal_dx

from .helpers import MM_SCHEMA, PAYER, STAY_SCHEMA, D, months, stay, table

P = Period.year(2024)
CE = pa.schema(
    [
        ("claim_id", pa.string()),
        ("member_id", pa.string()),
        ("payer", pa.string()),
        ("service_category", pa.string()),
        ("service_date", pa.date32()),
        ("provider_npi", pa.string()),
        ("health_system", pa.string()),
        ("in_partner_system", pa.bool_()),
        ("allowed_amount", pa.decimal128(18, 2)),
        ("paid_amount", pa.decimal128(18, 2)),
    ]
)
EV = pa.schema(
    [
        ("member_id", pa.string()),
        ("code", pa.string()),
        ("event_date", pa.date32()),
        ("code_type", pa.string()),
    ]
)


def ce(claim, member, cat, day, npi="H1"):
    return {
        "claim_id": claim,
        "member_id": member,
        "payer": PAYER,
        "service_category": cat,
        "service_date": D(day),
        "provider_npi": npi,
        "health_system": "partner",
        "in_partner_system": True,
        "allowed_amount": None,
        "paid_amount": None,
    }


def test_ed_visits_per_1000_with_hospice_exclusion(duckdb_engine):
    con = duckdb_engine
    mm = months("A", "2024-01-01", "2024-12-31") + months("B", "2024-07-01", "2024-12-31")
    mm += months("C", "2024-01-01", "2024-12-31")
    claims = [
        ce("1", "A", "emergency_department", "2024-02-01"),
        ce("2", "A", "emergency_department", "2024-02-01"),  # same day: one visit
        ce("3", "A", "emergency_department", "2024-09-15"),
        ce("4", "A", "office_pcp", "2024-03-01"),
        ce("5", "A", "emergency_department", "2023-12-31"),  # before the period
        ce("6", "C", "emergency_department", "2024-05-01"),
        ce("7", "C", "hospice", "2024-11-01"),  # C in hospice: excluded
    ]
    c = con.from_arrow(table(claims, CE))
    rows = ed_rows(c, con.from_arrow(table(mm, MM_SCHEMA)), [P])
    rows = apply_shared_exclusions(rows, c, None, con.from_arrow(table(mm, MM_SCHEMA)), [P])
    got = {
        r["member_id"]: (r["events"], r["exposure_months"], r["excluded"], r["exclusion_reason"])
        for r in con.to_arrow(rows).to_pylist()
    }
    assert got == {
        "A": (2, 12, False, None),
        "B": (0, 6, False, None),
        "C": (1, 12, True, "hospice"),
    }
    s = con.to_arrow(summarize(rows, (ED_VISITS,))).to_pylist()
    t = next(r for r in s if r["level"] == "total")
    # 2 visits over 18 member months: 2 x 12,000 / 18 = 1,333.33 per 1,000 member-years
    assert (t["eligible"], t["numerator"], t["member_months"]) == (2, 2, 18)
    assert t["unit"] == "per 1,000 member-years"
    assert t["rate"] == pytest.approx(1333.333, abs=1e-3)
    # Byar: 2(1 - 1/18 - 1.96/(3 sqrt 2))^3 = 0.22465; 3(1 - 1/27 + 1.96/(3 sqrt 3))^3 = 7.2208
    # (exact Poisson 0.2422 - 7.2247); per 1,000 member-years: x 12,000 / 18
    assert t["ci_lower"] == pytest.approx(0.22465 * 12000 / 18, rel=1e-3)
    assert t["ci_upper"] == pytest.approx(7.2208 * 12000 / 18, rel=1e-3)
    assert t["care_gaps"] == 0


def test_hospice_and_advanced_illness_frailty_exclude_screening(duckdb_engine):
    con = duckdb_engine
    women = "FGHJKL"
    mm = []
    for m in women:
        birth = "1959-06-01" if m == "H" else "1954-03-01"  # H is 65 at the end of 2024
        mm += months(m, "2023-01-01", "2024-12-31", gender="female", birth=birth)

    def e(m, code, day, kind="diagnosis"):
        return {"member_id": m, "code": code, "event_date": D(day), "code_type": kind}

    ev = []
    for m in "FGHL":
        ev.append(e(m, "R54", "2024-05-01"))  # frailty (age-related physical debility)
    ev.append(e("L", "E0130", "2024-05-01", "procedure"))  # and a walker
    for m in "FHL":  # advanced illness (Alzheimer's) on two dates, last year and this year
        ev += [e(m, "G309", "2023-06-01"), e(m, "G309", "2024-02-01")]
    ev.append(e("G", "G309", "2024-02-01"))  # G: one date only -> not excluded
    ev.append(e("K", "Q5001", "2023-11-01", "procedure"))  # K: hospice last year only
    claims = [ce("1", "J", "hospice", "2024-06-01")]  # J: hospice claim this year
    evt = con.from_arrow(table(ev, EV))
    mmt = con.from_arrow(table(mm, MM_SCHEMA))
    rows = screening_rows(evt, mmt, [P])
    rows = apply_shared_exclusions(rows, con.from_arrow(table(claims, CE)), evt, mmt, [P])
    got = {
        (r["measure_id"][:6], r["member_id"]): r["exclusion_reason"]
        for r in con.to_arrow(rows).to_pylist()
    }
    for measure in ("breast", "colore"):
        assert {m: got[(measure, m)] for m in women} == {
            "F": "advanced_illness_frailty",
            "G": None,
            "H": None,
            "J": "hospice",
            "K": None,
            "L": "advanced_illness_frailty",
        }


FM = pa.schema(
    [
        ("claim_id", pa.string()),
        ("claim_type", pa.string()),
        ("admission_date", pa.date32()),
        ("discharge_date", pa.date32()),
        ("claim_start_date", pa.date32()),
        ("claim_end_date", pa.date32()),
        ("drg_code", pa.string()),
        ("discharge_disposition_code", pa.string()),
    ]
)
DX = pa.schema(
    [("claim_id", pa.string()), ("diagnosis_code", pa.string()), ("diagnosis_sequence", pa.int64())]
)


def test_planned_readmission_by_principal_diagnosis_is_wired(duckdb_engine):
    """A readmission whose principal diagnosis is maintenance chemotherapy (Z51.11) is planned;
    the same code as a secondary diagnosis is not. DRG 193 (pneumonia) is never planned."""
    con = duckdb_engine
    stays, claims, fm, dx, mm = [], [], [], [], []
    for m, code, seq in (("A", "Z5111", 1), ("B", "J189", 1), ("C", "Z5111", 2)):
        for k, (adm, dis) in enumerate(
            (("2024-03-01", "2024-03-05"), ("2024-03-20", "2024-03-22"))
        ):
            cid = f"{m}{k}"
            stays.append(stay(cid, m, adm, dis))
            claims.append(ce(cid, m, "inpatient_acute", adm))
            fm.append(
                {
                    "claim_id": cid,
                    "claim_type": "institutional",
                    "admission_date": D(adm),
                    "discharge_date": D(dis),
                    "claim_start_date": D(adm),
                    "claim_end_date": D(dis),
                    "drg_code": "193",
                    "discharge_disposition_code": "01",
                }
            )
            dx.append(
                {
                    "claim_id": cid,
                    "diagnosis_code": "J189" if k == 0 else code,
                    "diagnosis_sequence": 1 if k == 0 else seq,
                }
            )
            if k == 1 and seq == 2:
                dx.append({"claim_id": cid, "diagnosis_code": "J189", "diagnosis_sequence": 1})
        mm += months(m, "2024-01-01", "2024-12-31")
    tables = {
        "inpatient_stays": con.from_arrow(table(stays, STAY_SCHEMA)),
        "claims_enriched": con.from_arrow(table(claims, CE)),
        "final_medical_claim": con.from_arrow(table(fm, FM)),
        "medical_claim_diagnosis": con.from_arrow(table(dx, DX)),
    }
    pdx = _principal_dx(tables)
    rows = readmission_rows(
        tables["inpatient_stays"], con.from_arrow(table(mm, MM_SCHEMA)), [P], principal_dx=pdx
    )
    got = {
        r["event_id"]: (r["in_numerator"], r["detail"])
        for r in con.to_arrow(rows).to_pylist()
        if r["event_id"].endswith("0")
    }
    assert got == {
        "A0": (False, "planned readmission A1"),
        "B0": (True, "readmitted B1"),
        "C0": (True, "readmitted C1"),
    }
