"""A hand-made run for the API tests: 40 members in two organizations and two payers.

- ORG_A (the partner, North Star Health): M01-M30, plan one, commercial.
- ORG_B: M31-M36 (plan one, medicaid) and M37-M40 (plan two, commercial).
- membership, 2024-01: commercial 34, medicaid 6, medicare_advantage 25 (total 65);
  2024-02: commercial 40, medicaid 12, medicare_advantage 30 (total 82).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ORG_A, ORG_B = "410000001", "420000002"
ROLES = {
    "admin": ("jv_admin", None, None),
    "payer": ("payer_analyst", None, "plan one"),
    "provider": ("provider_analyst", ORG_A, None),
    "viewer": ("viewer", None, None),
}


def member(i: int) -> dict:
    mid = f"M{i:02d}"
    if i <= 30:
        return {"member_id": mid, "payer": "plan one", "product_line": "commercial", "org": ORG_A}
    if i <= 36:
        return {"member_id": mid, "payer": "plan one", "product_line": "medicaid", "org": ORG_B}
    return {"member_id": mid, "payer": "plan two", "product_line": "commercial", "org": ORG_B}


MEMBERS = [member(i) for i in range(1, 41)]


def _attribution() -> pa.Table:
    rows = []
    for m in MEMBERS:
        partner = m["org"] == ORG_A
        rows.append(
            {
                "period": 2024,
                "period_start": dt.date(2024, 1, 1),
                "period_end": dt.date(2024, 12, 31),
                "member_id": m["member_id"],
                "payer": m["payer"],
                "product_line": m["product_line"],
                "rule": "step1_primary_care",
                "step": 1,
                "organization_id": m["org"],
                "health_system": "North Star Health" if partner else None,
                "partner_flag": partner,
                "clinician_npi": "1000000001" if partner else "1000000002",
                "winning_share": 1.0,
            }
        )
    return pa.Table.from_pylist(rows)


def _membership() -> pa.Table:
    cells = [
        (dt.date(2024, 1, 1), "commercial", 34, 20),
        (dt.date(2024, 1, 1), "medicaid", 6, 0),
        (dt.date(2024, 1, 1), "medicare_advantage", 25, 5),
        (dt.date(2024, 2, 1), "commercial", 40, 30),
        (dt.date(2024, 2, 1), "medicaid", 12, 0),
        (dt.date(2024, 2, 1), "medicare_advantage", 30, 0),
    ]
    return pa.Table.from_pylist(
        [
            {
                "month": month,
                "product_line": line,
                "members": n,
                "member_months": n,
                "attributed_members": n,
                "partner_attributed_members": p,
                "partner_attributed_share": p / n,
            }
            for month, line, n, p in cells
        ]
    )


def _care_gaps() -> pa.Table:
    rows = [
        {
            "measure_id": "breast_cancer_screening",
            "period": "2024",
            "member_id": m["member_id"],
            "payer": m["payer"],
            "event_id": m["member_id"],
            "event_date": dt.date(2024, 12, 31),
            "detail": None,
            "organization_id": m["org"],
            "clinician_npi": None,
        }
        for m in MEMBERS
        if m["member_id"] in ("M01", "M02", "M31", "M37")
    ]
    return pa.Table.from_pylist(rows)


def _worklist() -> pa.Table:
    on_list = {"M01": "high_risk", "M31": "care_gap", "M37": "sdoh_no_referral"}
    return pa.Table.from_pylist(
        [
            {
                "worklist": on_list[m["member_id"]],
                "year": 2024,
                "member_id": m["member_id"],
                "payer": m["payer"],
                "organization_id": m["org"],
                "priority": 1,
                "reason": "why " + m["member_id"],
            }
            for m in MEMBERS
            if m["member_id"] in on_list
        ]
    )


def _quality_member() -> pa.Table:
    """Breast cancer screening 2024: every member in the denominator, M03-M30 and M31-M33
    screened (numerator), no exclusions: total 40 / 31; ORG_A 30 / 28; ORG_B 10 / 3."""
    numerator = {f"M{i:02d}" for i in (*range(3, 31), 31, 32, 33)}
    return pa.Table.from_pylist(
        [
            {
                "measure_id": "breast_cancer_screening",
                "period": "2024",
                "member_id": m["member_id"],
                "payer": m["payer"],
                "in_denominator": True,
                "excluded": False,
                "in_numerator": m["member_id"] in numerator,
                "organization_id": m["org"],
            }
            for m in MEMBERS
        ]
    )


def _quality_summary() -> pa.Table:
    def row(level, org, den, num):
        return {
            "measure_id": "breast_cancer_screening",
            "period": "2024",
            "period_start": dt.date(2024, 1, 1),
            "period_end": dt.date(2024, 12, 31),
            "level": level,
            "organization_id": org,
            "clinician_npi": None,
            "members": den,
            "eligible": den,
            "denominator": den,
            "exclusions": 0,
            "numerator": num,
            "rate": num / den,
        }

    return pa.Table.from_pylist(
        [
            row("total", None, 40, 31),
            row("organization", ORG_A, 30, 28),
            row("organization", ORG_B, 10, 3),
        ]
    )


def _drilldown() -> pa.Table:
    money = pa.decimal128(18, 2)
    return pa.table(
        {
            "member_id": [m["member_id"] for m in MEMBERS],
            "payer": [m["payer"] for m in MEMBERS],
            "organization_id": [m["org"] for m in MEMBERS],
            "allowed_amount": pa.array([Decimal("100.00")] * len(MEMBERS), money),
        }
    )


def make_workspace(root: Path) -> tuple[Path, dict[str, str]]:
    from payvider.api.users import UserStore
    from payvider.engine.workspace import Workspace

    ws = Workspace(root, create=True)
    run = ws.runs_dir / "20240301T000000000Z-abc123"
    run.mkdir(parents=True)
    pq.write_table(_attribution(), run / "attribution.parquet")
    pq.write_table(_membership(), run / "membership.parquet")
    pq.write_table(_care_gaps(), run / "quality_care_gaps.parquet")
    pq.write_table(_worklist(), run / "care_worklist.parquet")
    pq.write_table(_quality_member(), run / "quality_member.parquet")
    pq.write_table(_quality_summary(), run / "quality_summary.parquet")
    (run / "manifest.json").write_text(json.dumps({"run_id": run.name, "outputs": {}}))
    s = root / "settlements" / "acme-2024"
    s.mkdir(parents=True)
    # As `payvider settle --workspace` keeps a settlement: a record with one entity.
    (s / "settlement.json").write_text(
        json.dumps(
            {
                "settlement_id": "acme-2024",
                "mode": "claims",
                "contract": {"name": "seed:aco-metro-trend", "sha256": "0" * 64},
                "run": {"run_id": run.name},
                "settlements": [
                    {
                        "id": "all",
                        "performance_year": 2024,
                        "net_amount": "1500.00",
                        "direction": "payer_pays_provider",
                        "line_items": [
                            {"name": "gross_savings", "amount": "3000.00", "counts": True},
                            {"name": "shared_rate", "amount": "0.50", "unit": "rate"},
                            {"name": "payer_share", "amount": "-1500.00", "counts": True},
                        ],
                    }
                ],
            }
        )
    )
    pq.write_table(_drilldown(), s / "drilldown_members.parquet")
    store = UserStore(root)
    tokens = {}
    for name, (role, org, payer) in ROLES.items():
        tokens[name] = store.add(name, role, org, payer)[1]
    return root, tokens


@pytest.fixture
def api_ws(tmp_path: Path):
    return make_workspace(tmp_path / "ws")


@pytest.fixture
def client(api_ws):
    from fastapi.testclient import TestClient

    from payvider.api.app import create_app

    root, tokens = api_ws
    c = TestClient(create_app(root), raise_server_exceptions=False)
    c.tokens = tokens  # type: ignore[attr-defined]
    c.root = root  # type: ignore[attr-defined]
    return c


def auth(client, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.tokens[who]}"}
