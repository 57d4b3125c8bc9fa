"""Attributed rosters as CSV and as a FHIR R4 ``Group`` (Da Vinci Member Attribution List).

The Group follows the ATR ``atr-group`` profile (HL7 Da Vinci Member Attribution List, STU 2):
one ``member`` per attributed member with ``entity`` (the Patient, identified by the payer's
member id), ``period`` (the performance year), and the ATR extensions ``ext-attributedProvider``
(the clinician, by NPI) and ``ext-changeType`` (``new`` or ``nochange`` against the previous
period, ``changed`` when the organization changed).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.csv as pacsv

ATR = "http://hl7.org/fhir/us/davinci-atr/StructureDefinition"
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
TIN_SYSTEM = "urn:oid:2.16.840.1.113883.4.4"
MEMBER_SYSTEM = "urn:payvider:member-id"
ROSTER_COLUMNS = [
    "period",
    "member_id",
    "payer",
    "product_line",
    "rule",
    "step",
    "organization_id",
    "health_system",
    "partner_flag",
    "clinician_npi",
    "winning_share",
    "period_start",
    "period_end",
]


def attributed_roster(attribution: ir.Table, period: int | None = None) -> ir.Table:
    """Attributed members (optionally of one period) with the roster columns and change type."""
    a = attribution
    prev = a.filter(a.rule != "unattributed").select(
        period=a.period + 1, member_id=a.member_id, payer=a.payer, prev_org=a.organization_id
    )
    cur = a.filter(a.rule != "unattributed")
    j = cur.left_join(prev, ["period", "member_id", "payer"])
    change = j.prev_org.isnull().ifelse(
        "new", (j.prev_org == j.organization_id).ifelse("nochange", "changed")
    )
    out = j.select(*ROSTER_COLUMNS, change_type=change)
    if period is not None:
        out = out.filter(out.period == period)
    return out.order_by(["period", "member_id"])


def write_roster_csv(roster: pa.Table, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pacsv.write_csv(roster, path)
    return path


def roster_to_fhir_group(roster: pa.Table, group_id: str, name: str) -> dict:
    """The roster as an ATR Group resource (a plain dict ready for JSON)."""
    members = []
    for r in roster.to_pylist():
        ext = [{"url": f"{ATR}/ext-changeType", "valueCode": r["change_type"]}]
        if r["clinician_npi"]:
            ext.append(
                {
                    "url": f"{ATR}/ext-attributedProvider",
                    "valueReference": {
                        "identifier": {"system": NPI_SYSTEM, "value": r["clinician_npi"]},
                        "type": "Practitioner",
                    },
                }
            )
        members.append(
            {
                "extension": ext,
                "entity": {
                    "type": "Patient",
                    "identifier": {"system": MEMBER_SYSTEM, "value": r["member_id"]},
                },
                "period": {
                    "start": r["period_start"].isoformat(),
                    "end": r["period_end"].isoformat(),
                },
                "inactive": False,
            }
        )
    periods = sorted({r["period"] for r in roster.to_pylist()})
    return {
        "resourceType": "Group",
        "id": group_id,
        "meta": {
            "profile": [f"{ATR}/atr-group"],
            "lastUpdated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        },
        "extension": (
            [
                {
                    "url": f"{ATR}/ext-contractValidityPeriod",
                    "valuePeriod": {
                        "start": f"{periods[0]}-01-01",
                        "end": f"{periods[-1]}-12-31",
                    },
                }
            ]
            if periods
            else []
        ),
        "active": True,
        "type": "person",
        "actual": True,
        "name": name,
        "quantity": len(members),
        "member": members,
    }


def write_fhir_group(roster: pa.Table, path: Path, group_id: str, name: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(roster_to_fhir_group(roster, group_id, name), indent=1) + "\n")
    return path
