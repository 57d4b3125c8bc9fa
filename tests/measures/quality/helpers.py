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


RX_SCHEMA = pa.schema(
    [
        ("claim_id", pa.string()),
        ("member_id", pa.string()),
        ("payer", pa.string()),
        ("ndc_code", pa.string()),
        ("quantity", pa.decimal128(18, 4)),
        ("days_supply", pa.int64()),
        ("dispensing_date", pa.date32()),
        ("prescribing_provider_npi", pa.string()),
    ]
)
#: NDCs of the shipped list: strength x MME factor per unit in the comment.
OXY_APAP_10 = "00228298311"  # oxycodone 10 mg x 1.5 = 15 MME per tablet
OXY_IR_5 = "00228287611"  # 7.5 MME per tablet
MORPHINE_ER_60 = "00172216460"  # 60 MME per tablet
ALPRAZOLAM = "00009005501"


def fill(member, ndc, day, qty, ds, npi="P1"):
    """One final pharmacy fill."""
    from decimal import Decimal

    fill.n = getattr(fill, "n", 0) + 1
    return {
        "claim_id": f"R{fill.n}",
        "member_id": member,
        "payer": PAYER,
        "ndc_code": ndc,
        "quantity": Decimal(str(qty)),
        "days_supply": ds,
        "dispensing_date": D(day),
        "prescribing_provider_npi": npi,
    }
