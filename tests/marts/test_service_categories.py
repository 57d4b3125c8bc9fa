"""One claim per grouper rule (docs/cost.md), in rule order, with the category each must get."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

from payvider.marts.service_categories import CATEGORY_GROUP, enrich_medical_claims
from payvider.schema import TABLES

PCP, SPECIALIST = "1234567893", "1666666668"

#: (claim id, lines: list of field overrides, expected category of every line)
CASES: list[tuple[str, list[dict], str]] = [
    (
        "psych-rev",
        [{"bill_type_code": "111", "revenue_center_code": "0114"}],
        "inpatient_psychiatric",
    ),
    (
        "psych-drg",
        [{"bill_type_code": "111", "revenue_center_code": "0120", "drg_code": "885"}],
        "inpatient_psychiatric",
    ),
    ("rehab-rev", [{"bill_type_code": "111", "revenue_center_code": "0118"}], "inpatient_rehab"),
    (
        "rehab-drg",
        [{"bill_type_code": "111", "revenue_center_code": "0120", "drg_code": "945"}],
        "inpatient_rehab",
    ),
    (
        "acute",
        [{"bill_type_code": "111", "revenue_center_code": "0120", "drg_code": "291"}],
        "inpatient_acute",
    ),
    ("snf", [{"bill_type_code": "211", "revenue_center_code": "0191"}], "skilled_nursing"),
    ("swing", [{"bill_type_code": "181", "revenue_center_code": "0191"}], "skilled_nursing"),
    ("hospice", [{"bill_type_code": "811", "revenue_center_code": "0651"}], "hospice"),
    ("home-health", [{"bill_type_code": "321", "revenue_center_code": "0551"}], "home_health"),
    (
        "ed",
        [
            {"bill_type_code": "131", "revenue_center_code": "0450"},
            {"bill_type_code": "131", "revenue_center_code": "0320"},
        ],
        "emergency_department",
    ),
    (
        "obs",
        [
            {"bill_type_code": "131", "revenue_center_code": "0762"},
            {"bill_type_code": "131", "revenue_center_code": "0300"},
        ],
        "observation",
    ),
    (
        "obs-hcpcs",
        [{"bill_type_code": "131", "revenue_center_code": "0760", "hcpcs_code": "G0378"}],
        "observation",
    ),
    (
        "surgery",
        [
            {"bill_type_code": "131", "revenue_center_code": "0360"},
            {"bill_type_code": "131", "revenue_center_code": "0250"},
        ],
        "outpatient_surgery",
    ),
    ("asc", [{"bill_type_code": "831", "revenue_center_code": "0490"}], "outpatient_surgery"),
    ("dialysis", [{"bill_type_code": "721", "revenue_center_code": "0821"}], "dialysis"),
    ("imaging", [{"bill_type_code": "131", "revenue_center_code": "0351"}], "outpatient_imaging"),
    ("lab", [{"bill_type_code": "141", "revenue_center_code": "0301"}], "outpatient_lab"),
    ("therapy", [{"bill_type_code": "131", "revenue_center_code": "0420"}], "outpatient_therapy"),
    ("corf", [{"bill_type_code": "751", "revenue_center_code": "0510"}], "outpatient_therapy"),
    ("infusion", [{"bill_type_code": "131", "revenue_center_code": "0636"}], "infusion"),
    ("clinic", [{"bill_type_code": "131", "revenue_center_code": "0510"}], "outpatient_other"),
    (
        "ambulance",
        [{"claim_type": "professional", "place_of_service_code": "41", "hcpcs_code": "A0427"}],
        "ambulance",
    ),
    (
        "dme",
        [{"claim_type": "professional", "place_of_service_code": "12", "hcpcs_code": "E0601"}],
        "dme",
    ),
    (
        "tele-pos",
        [
            {
                "claim_type": "professional",
                "place_of_service_code": "10",
                "hcpcs_code": "99213",
                "rendering_npi": PCP,
            }
        ],
        "telehealth",
    ),
    (
        "tele-mod",
        [
            {
                "claim_type": "professional",
                "place_of_service_code": "11",
                "hcpcs_code": "99213",
                "hcpcs_modifier_2": "GT",
                "rendering_npi": PCP,
            }
        ],
        "telehealth",
    ),
    (
        "prof-ip",
        [{"claim_type": "professional", "place_of_service_code": "21", "hcpcs_code": "99223"}],
        "professional_inpatient",
    ),
    (
        "prof-ed",
        [{"claim_type": "professional", "place_of_service_code": "23", "hcpcs_code": "99284"}],
        "professional_emergency",
    ),
    (
        "prof-lab",
        [
            {
                "claim_type": "professional",
                "place_of_service_code": "11",
                "hcpcs_code": "80053",
                "rendering_npi": PCP,
            }
        ],
        "professional_lab",
    ),
    (
        "indep-lab",
        [{"claim_type": "professional", "place_of_service_code": "81", "hcpcs_code": "G0480"}],
        "professional_lab",
    ),
    (
        "prof-img",
        [{"claim_type": "professional", "place_of_service_code": "22", "hcpcs_code": "71046"}],
        "professional_imaging",
    ),
    (
        "prof-asc",
        [{"claim_type": "professional", "place_of_service_code": "24", "hcpcs_code": "29881"}],
        "professional_outpatient",
    ),
    (
        "pcp",
        [
            {
                "claim_type": "professional",
                "place_of_service_code": "11",
                "hcpcs_code": "99214",
                "rendering_npi": PCP,
            }
        ],
        "office_pcp",
    ),
    (
        "spec",
        [
            {
                "claim_type": "professional",
                "place_of_service_code": "11",
                "hcpcs_code": "99214",
                "rendering_npi": SPECIALIST,
            }
        ],
        "office_specialist",
    ),
    (
        "home-visit",
        [{"claim_type": "professional", "place_of_service_code": "12", "hcpcs_code": "99349"}],
        "professional_other",
    ),
]


def _claims() -> pa.Table:
    schema = TABLES["medical_claim"].ibis_schema().to_pyarrow()
    rows = []
    for claim_id, lines, _ in CASES:
        for n, overrides in enumerate(lines, start=1):
            row = {f.name: None for f in schema}
            row.update(
                claim_id=claim_id,
                claim_line_number=n,
                claim_type="institutional",
                member_id="M1",
                payer="acme",
                claim_start_date=dt.date(2024, 3, 1),
                allowed_amount=Decimal("10.00"),
                paid_amount=Decimal("8.00"),
            )
            row.update(overrides)
            rows.append(row)
    return pa.Table.from_pylist(rows, schema=schema)


def _providers() -> pa.Table:
    schema = TABLES["provider"].ibis_schema().to_pyarrow()
    rows = [
        {
            "npi": PCP,
            "entity_type": "individual",
            "provider_name": "PCP",
            "primary_care_flag": True,
        },
        {
            "npi": SPECIALIST,
            "entity_type": "individual",
            "provider_name": "Cardiologist",
            "primary_care_flag": False,
        },
    ]
    return pa.Table.from_pylist(
        [{f.name: r.get(f.name) for f in schema} for r in rows], schema=schema
    )


def test_every_rule_assigns_its_category(engine):
    claims = engine.from_arrow(_claims())
    providers = engine.from_arrow(_providers())
    rows = engine.to_arrow(enrich_medical_claims(claims, providers)).to_pylist()
    got = {(r["claim_id"], r["claim_line_number"]): r for r in rows}
    assert len(got) == sum(len(lines) for _, lines, _ in CASES)
    for claim_id, lines, expected in CASES:
        for n in range(1, len(lines) + 1):
            row = got[(claim_id, n)]
            assert row["service_category"] == expected, claim_id
            assert row["service_category_1"] == CATEGORY_GROUP[expected], claim_id


@pytest.mark.parametrize(
    ("hcpcs", "visit"),
    [
        ("99213", True),
        ("99499", True),
        ("G0439", True),
        ("99201", False),
        ("80053", False),
        (None, False),
    ],
)
def test_visit_codes(duckdb_engine, hcpcs, visit):
    import ibis

    from payvider.marts.service_categories import is_visit_code

    t = ibis.memtable({"h": [hcpcs]}, schema={"h": "string"})
    assert duckdb_engine.to_arrow(t.select(v=is_visit_code(t.h)))["v"][0].as_py() is visit
