"""Hand-built inputs for the quality-measure tests: small Arrow tables with the run's columns."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

D = dt.date.fromisoformat
PAYER = "p"


def months(member: str, first: str, last: str, gender: str = "female", birth: str = "1960-06-15"):
    """Member-month rows of one member from the month of ``first`` to the month of ``last``."""
    a, b = D(first).replace(day=1), D(last).replace(day=1)
    out = []
    while a <= b:
        out.append(
            {
                "member_id": member,
                "payer": PAYER,
                "month": a,
                "gender": gender,
                "birth_date": D(birth),
            }
        )
        a = (a + dt.timedelta(days=32)).replace(day=1)
    return out


MM_SCHEMA = pa.schema(
    [
        ("member_id", pa.string()),
        ("payer", pa.string()),
        ("month", pa.date32()),
        ("gender", pa.string()),
        ("birth_date", pa.date32()),
    ]
)

STAY_SCHEMA = pa.schema(
    [
        ("encounter_id", pa.string()),
        ("member_id", pa.string()),
        ("payer", pa.string()),
        ("service_category", pa.string()),
        ("admission_date", pa.date32()),
        ("discharge_date", pa.date32()),
        ("drg_code", pa.string()),
        ("discharge_disposition_code", pa.string()),
        ("provider_npi", pa.string()),
        ("in_partner_system", pa.bool_()),
    ]
)


def stay(
    enc, member, adm, dis, disp="01", drg="193", npi="H1", cat="inpatient_acute", partner=True
):
    return {
        "encounter_id": enc,
        "member_id": member,
        "payer": PAYER,
        "service_category": cat,
        "admission_date": D(adm),
        "discharge_date": D(dis),
        "drg_code": drg,
        "discharge_disposition_code": disp,
        "provider_npi": npi,
        "in_partner_system": partner,
    }


def table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=schema)
