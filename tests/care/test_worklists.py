"""Worklists on hand-built tables: each list holds exactly the members the fixture puts there."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import ibis
import pytest

from payvider.care.worklists import COLUMNS, WorklistSettings, care_worklist
from payvider.measures.quality.stages import SPECS

D = dt.date
YEAR = 2025
AS_OF = D(2025, 12, 31)
PAYER = "plan"


def _attribution(members: dict[str, tuple[str, bool]]) -> ibis.Table:
    return ibis.memtable(
        [
            {
                "period": YEAR,
                "member_id": m,
                "payer": PAYER,
                "organization_id": org,
                "health_system": "North Star Health" if partner else None,
                "partner_flag": partner,
                "clinician_npi": "1000000001",
            }
            for m, (org, partner) in members.items()
        ],
        schema={
            "period": "int64",
            "member_id": "string",
            "payer": "string",
            "organization_id": "string",
            "health_system": "string",
            "partner_flag": "boolean",
            "clinician_npi": "string",
        },
    )


def _lists(engine, tables: dict, **settings) -> dict[str, list[dict]]:
    """The worklists of ``tables`` computed on ``engine`` (each test runs on DuckDB and Spark)."""
    tables = {k: engine.from_arrow(v.to_pyarrow()) for k, v in tables.items()}
    expr = care_worklist(tables, YEAR, AS_OF, WorklistSettings(**settings), SPECS, risk_model="V28")
    assert set(expr.columns) == set(COLUMNS)
    rows = engine.to_arrow(expr).to_pylist()
    out: dict[str, list[dict]] = {}
    for r in sorted(rows, key=lambda r: (r["worklist"], r["priority"])):
        out.setdefault(r["worklist"], []).append(r)
    return out


def _members(rows: list[dict]) -> list[str]:
    return [r["member_id"] for r in rows]


ALL = {f"M{k:02d}": ("ORG1", True) for k in range(1, 21)}


def test_high_and_rising_risk(engine):
    # 2025: member k scores k/10 (M20 = 2.0). 90th percentile: cumulative share above 0.9 is
    # M19 (19/20 = 0.95) and M20 (1.0); M18 sits exactly at 0.9 and is not above it.
    rows = [
        {"member_id": f"M{k:02d}", "year": 2025, "model": "V28", "risk_score": k / 10}
        for k in range(1, 21)
    ]
    # 2024: M05 0.0 -> 0.5 (rise exactly 0.5: on the list), M10 0.49 -> 1.0 (0.51: on),
    # M07 0.25 -> 0.7 (0.45: off); M06 0.2 -> 0.6 (0.4: off).
    before = {"M05": 0.0, "M10": 0.49, "M07": 0.25, "M06": 0.2}
    rows += [
        {"member_id": m, "year": 2024, "model": "V28", "risk_score": v} for m, v in before.items()
    ]
    # Another model's scores do not count.
    rows += [{"member_id": "M01", "year": 2025, "model": "V24", "risk_score": 9.0}]
    rows += [{"member_id": "M01", "year": 2024, "model": "V24", "risk_score": 0.0}]
    risk = ibis.memtable(
        [{**r, "payer": PAYER, "hcc_count": 2} for r in rows],
        schema={
            "member_id": "string",
            "year": "int64",
            "model": "string",
            "risk_score": "float64",
            "payer": "string",
            "hcc_count": "int64",
        },
    )
    lists = _lists(
        engine, {"attribution": _attribution(ALL), "risk_score": risk}, high_risk_percentile=90
    )
    assert set(lists) == {"high_risk", "rising_risk"}
    assert _members(lists["high_risk"]) == ["M20", "M19"]
    assert lists["high_risk"][0]["reason"] == (
        "risk score 2.00 (V28, top 10% of members in 2025), 2 HCCs"
    )
    assert _members(lists["rising_risk"]) == ["M10", "M05"]
    assert (
        lists["rising_risk"][1]["reason"] == "risk score rose from 0.00 to 0.50 (V28, 2024 to 2025)"
    )
    assert lists["rising_risk"][0]["organization_id"] == "ORG1"


GAP_SCHEMA = {
    "measure_id": "string",
    "period": "string",
    "member_id": "string",
    "payer": "string",
    "event_id": "string",
    "event_date": "date",
    "detail": "string",
    "organization_id": "string",
    "clinician_npi": "string",
}


def _gap(measure, member, event_date, period="2025", event_id=None, detail=None):
    return {
        "measure_id": measure,
        "period": period,
        "member_id": member,
        "payer": PAYER,
        "event_id": event_id,
        "event_date": event_date,
        "detail": detail,
        "organization_id": "ORG1",
        "clinician_npi": None,
    }


QM_SCHEMA = {
    "measure_id": "string",
    "period": "string",
    "member_id": "string",
    "payer": "string",
    "event_id": "string",
    "event_date": "date",
    "in_denominator": "boolean",
    "excluded": "boolean",
    "exclusion_reason": "string",
    "in_numerator": "boolean",
    "detail": "string",
}


def _fu(member, discharge, numerator=False, reason=None, measure="followup_7d"):
    return {
        "measure_id": measure,
        "period": "2025",
        "member_id": member,
        "payer": PAYER,
        "event_id": "S" + member[1:],
        "event_date": discharge,
        "in_denominator": True,
        "excluded": reason is not None,
        "exclusion_reason": reason,
        "in_numerator": numerator,
        "detail": None,
    }


def test_discharges_without_followup_and_care_gaps(engine):
    last30 = "discharge_in_last_30_days"
    qm = ibis.memtable(
        [
            # Lookback: after 2025-10-02 (90 days before 2025-12-31) and on or before
            # 2025-12-24 (the 7 days have passed).
            _fu("M01", D(2025, 10, 2)),  # 90 days before: off
            _fu("M02", D(2025, 10, 3)),  # 89 days before: on
            _fu("M03", D(2025, 12, 24), reason=last30),  # excluded by the measure, due: on
            _fu("M04", D(2025, 12, 25), reason=last30),  # 7 days not over: off
            _fu("M05", D(2025, 11, 1), numerator=True),  # visit within 7 days: off
            _fu("M06", D(2025, 11, 1), reason="not_enrolled_after_discharge"),  # off
            _fu("M07", D(2025, 11, 1), measure="followup_30d"),  # other measure: off
        ],
        schema=QM_SCHEMA,
    )
    gaps = ibis.memtable(
        [
            _gap("breast_cancer_screening", "M05", D(2025, 12, 31)),
            _gap("colorectal_cancer_screening", "M05", D(2025, 12, 31)),
            _gap("colorectal_cancer_screening", "M06", D(2025, 12, 31), detail="no FIT"),
            _gap("colorectal_cancer_screening", "M07", D(2024, 12, 31), period="2024"),  # off
            _gap("followup_7d", "M08", D(2025, 11, 1), event_id="S08"),  # own list: off
            _gap("readmission_30d", "M08", D(2025, 6, 1), event_id="S8"),  # outcome: off
        ],
        schema=GAP_SCHEMA,
    )
    stays = ibis.memtable(
        [
            {
                "encounter_id": "S02",
                "provider_npi": "2000000002",
                "health_system": None,
                "admission_date": D(2025, 9, 30),
            },
            {
                "encounter_id": "S03",
                "provider_npi": "2000000003",
                "health_system": "Lakeview",
                "admission_date": D(2025, 12, 20),
            },
        ],
        schema={
            "encounter_id": "string",
            "provider_npi": "string",
            "health_system": "string",
            "admission_date": "date",
        },
    )
    provider = ibis.memtable(
        [{"npi": "2000000002", "provider_name": "Maplewood Hospital", "practice_zip_code": None}],
        schema={"npi": "string", "provider_name": "string", "practice_zip_code": "string"},
    )
    lists = _lists(
        engine,
        {
            "attribution": _attribution(ALL),
            "quality_care_gaps": gaps,
            "quality_member": qm,
            "inpatient_stays": stays,
            "provider": provider,
        },
    )
    assert _members(lists["discharge_no_followup"]) == ["M03", "M02"]
    assert lists["discharge_no_followup"][1]["reason"] == (
        "discharged 2025-10-03 from Maplewood Hospital (admitted 2025-09-30), "
        "no visit within 7 days"
    )
    # M05 has two open gaps and comes first.
    assert [(r["member_id"], r["measure_id"]) for r in lists["care_gap"]] == [
        ("M05", "breast_cancer_screening"),
        ("M05", "colorectal_cancer_screening"),
        ("M06", "colorectal_cancer_screening"),
    ]
    assert lists["care_gap"][2]["reason"].endswith("(2025); no FIT")


def test_sdoh_positive_without_referral(engine):
    def s(sid, patient, day, domain, positive, referral):
        return {
            "screening_id": sid,
            "patient_id": patient,
            "screening_date": day,
            "domain": domain,
            "positive_flag": positive,
            "referral_flag": referral,
        }

    screening = ibis.memtable(
        [
            s("A", "P1", D(2025, 3, 1), "food", True, False),  # unmet: on
            s("B", "P2", D(2025, 3, 1), "food", True, True),  # referred: off
            s("C", "P3", D(2025, 4, 1), "housing", True, None),  # no referral recorded: on
            s("D", "P4", D(2024, 4, 1), "housing", True, False),  # last year: off
            s("E", "P5", D(2025, 4, 1), "housing", True, False),  # patient not linked: off
            s("F", "P6", D(2025, 4, 1), "housing", False, False),  # negative: off
            s("G", "P7", D(2025, 5, 1), "food", True, True),
            s("G", "P7", D(2025, 5, 1), "utilities", True, False),
            s("G", "P7", D(2025, 5, 1), "financial", True, False),
        ],
        schema={
            "screening_id": "string",
            "patient_id": "string",
            "screening_date": "date",
            "domain": "string",
            "positive_flag": "boolean",
            "referral_flag": "boolean",
        },
    )
    xw = ibis.memtable(
        {
            "member_id": ["M01", "M02", "M03", "M04", "M07"],
            "patient_id": ["P1", "P2", "P3", "P4", "P7"],
        }
    )
    lists = _lists(
        engine,
        {
            "attribution": _attribution(ALL),
            "sdoh_screening": screening,
            "member_patient_crosswalk": xw,
        },
    )
    rows = lists["sdoh_no_referral"]
    assert _members(rows) == ["M07", "M03", "M01"]  # latest screen first
    assert rows[0]["reason"] == (
        "positive social-needs screen on 2025-05-01 without referral: utilities, financial"
    )
    assert rows[0]["payer"] == PAYER


def test_high_mme_opioid_members_in_the_numerator(engine):
    def q(member, numerator, excluded=False, period="2025"):
        return {
            "measure_id": "opioid_high_dosage",
            "period": period,
            "member_id": member,
            "payer": PAYER,
            "event_date": D(2025, 12, 31),
            "in_denominator": True,
            "excluded": excluded,
            "in_numerator": numerator,
            "detail": None,
        }

    qm = ibis.memtable(
        [
            q("M01", True),
            q("M02", False),
            q("M03", True, excluded=True),
            q("M04", True, period="2024"),
        ],
        schema={
            "measure_id": "string",
            "period": "string",
            "member_id": "string",
            "payer": "string",
            "event_date": "date",
            "in_denominator": "boolean",
            "excluded": "boolean",
            "in_numerator": "boolean",
            "detail": "string",
        },
    )
    lists = _lists(engine, {"attribution": _attribution(ALL), "quality_member": qm})
    assert _members(lists["high_mme_opioid"]) == ["M01"]


def test_steerable_leakage_needs_a_nearby_in_system_alternative(engine):
    members = {
        "M01": ("ORG1", True),  # partner, zip 55401: on
        "M02": ("ORG9", False),  # not partner-attributed: off
        "M03": ("ORG1", True),  # partner, zip 56001, no partner surgery there: off
        "M04": ("ORG1", True),  # partner, only $100 out of system: off
    }

    def line(member, category, amount, in_system, npi, system, specialty=None, year=YEAR):
        return {
            "member_id": member,
            "payer": PAYER,
            "year": year,
            "service_date": D(year, 6, 1),
            "service_category": category,
            "specialty": specialty,
            "rendering_npi": npi,
            "provider_npi": npi,
            "provider_name": system + " clinic",
            "health_system": system,
            "in_partner_system": in_system,
            "allowed_amount": Decimal(amount),
        }

    claims = ibis.memtable(
        [
            line("M09", "outpatient_surgery", "50.00", True, "3000000001", "North Star Health"),
            line("M01", "outpatient_surgery", "200.00", False, "4000000001", "Lakeview"),
            line("M01", "outpatient_surgery", "100.10", False, "4000000002", "St. Anselm"),
            line("M01", "emergency_department", "900.00", False, "4000000001", "Lakeview"),
            line("M02", "outpatient_surgery", "900.00", False, "4000000001", "Lakeview"),
            line("M03", "outpatient_surgery", "900.00", False, "4000000001", "Lakeview"),
            line("M04", "outpatient_surgery", "100.00", False, "4000000001", "Lakeview"),
            line("M01", "outpatient_surgery", "900.00", False, "4000000001", "Lakeview", year=2024),
        ],
        schema={
            "member_id": "string",
            "payer": "string",
            "year": "int64",
            "service_date": "date",
            "service_category": "string",
            "specialty": "string",
            "rendering_npi": "string",
            "provider_npi": "string",
            "provider_name": "string",
            "health_system": "string",
            "in_partner_system": "boolean",
            "allowed_amount": "decimal(18, 2)",
        },
    )
    provider = ibis.memtable(
        [
            {
                "npi": "3000000001",
                "provider_name": "North Star Surgery Center",
                "practice_zip_code": "55402",
            },
            {"npi": "4000000001", "provider_name": "Lakeview", "practice_zip_code": "55403"},
        ]
    )
    eligibility = ibis.memtable(
        [
            {
                "member_id": "M01",
                "payer": PAYER,
                "zip_code": "56009",
                "enrollment_end_date": D(2024, 12, 31),
            },
            {
                "member_id": "M01",
                "payer": PAYER,
                "zip_code": "55401",
                "enrollment_end_date": D(2025, 12, 31),
            },
            {
                "member_id": "M02",
                "payer": PAYER,
                "zip_code": "55401",
                "enrollment_end_date": D(2025, 12, 31),
            },
            {
                "member_id": "M03",
                "payer": PAYER,
                "zip_code": "56001",
                "enrollment_end_date": D(2025, 12, 31),
            },
            {
                "member_id": "M04",
                "payer": PAYER,
                "zip_code": "55401",
                "enrollment_end_date": D(2025, 12, 31),
            },
        ]
    )
    lists = _lists(
        engine,
        {
            "attribution": _attribution(members),
            "claims_enriched": claims,
            "provider": provider,
            "eligibility": eligibility,
        },
    )
    [row] = lists["steerable_leakage"]
    assert row["member_id"] == "M01"
    assert row["amount"] == Decimal("300.10")
    assert row["alternative_npi"] == "3000000001"
    assert row["reason"] == (
        "$300.10 out of system for outpatient surgery in 2025 (2 lines, mostly Lakeview); "
        "in system nearby: North Star Surgery Center (NPI 3000000001)"
    )


def test_no_inputs_give_an_empty_table(engine):
    lists = _lists(engine, {"attribution": _attribution(ALL)})
    assert lists == {}


@pytest.mark.parametrize("bad", [{"high_risk_percentile": 100}, {"discharge_lookback_days": 0}])
def test_settings_are_validated(bad):
    with pytest.raises(ValueError):
        WorklistSettings(**bad)
