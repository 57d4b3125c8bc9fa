"""Settlements stored in the workspace: ``W/settlements/<id>/settlement.json``.

``payvider settle --workspace`` keeps each settlement as a record: ``settlement_id``, the
``contract`` (name, file, SHA-256), the ``run`` it was computed from, the ``figures`` and one
entry per entity under ``settlements`` (``id``, ``performance_year``, ``net_amount`` exact as
text, ``direction`` and ``line_items``: ``name``, ``amount``, ``formula``, ``counts``). The API
shows the first entity's line items (claims mode settles one entity) and lists all entities. A
single flat settlement (line items at the top level) is read too. ``drilldown_members.parquet``
next to it is the member-level drill-down: every dollar back to members.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
DRILLDOWN = "drilldown_members.parquet"
_FLAT_KEYS = {"id", "performance_year", "track", "net_amount", "direction", "contract"}


def settlements_dir(root: Path) -> Path:
    return Path(root) / "settlements"


def settlement_ids(root: Path) -> list[str]:
    base = settlements_dir(root)
    if not base.exists():
        return []
    return sorted(d.name for d in base.iterdir() if (d / "settlement.json").exists())


def settlement_path(root: Path, settlement_id: str) -> Path | None:
    """The settlement's folder, or None if there is no such settlement (ids are checked, so a
    request cannot name a path outside the settlements folder)."""
    if not _ID.match(settlement_id) or settlement_id in (".", ".."):
        return None
    path = settlements_dir(root) / settlement_id
    return path if (path / "settlement.json").exists() else None


def _decimal(v: Any) -> Decimal | None:
    try:
        return Decimal(str(v))
    except (InvalidOperation, ValueError):
        return None


def line_items(data: dict) -> list[dict]:
    """The settlement's line items as ``name``, ``amount`` (text), ``formula``, ``counts``."""
    if isinstance(data.get("line_items"), list):
        return [
            {
                "name": li.get("name"),
                "amount": str(li.get("amount")),
                "formula": li.get("formula", ""),
                "unit": li.get("unit", "USD"),
                "counts": bool(li.get("counts", False)),
            }
            for li in data["line_items"]
        ]
    return [
        {"name": k, "amount": str(v), "formula": "", "unit": "USD", "counts": False}
        for k, v in data.items()
        if k not in _FLAT_KEYS and isinstance(v, str | int) and _decimal(v) is not None
    ]


def _from_record(record: dict) -> dict:
    """A kept settlement record as one settlement: its first entity, with the record's context."""
    entities = record.get("settlements") or [{}]
    first = dict(entities[0])
    contract = record.get("contract")
    return {
        **first,
        "id": record.get("settlement_id"),
        "entity": first.get("id"),
        "contract": contract.get("name") if isinstance(contract, dict) else contract,
        "mode": record.get("mode"),
        "run_id": (record.get("run") or {}).get("run_id"),
        "created_at": record.get("created_at"),
        "entities": [
            {k: e.get(k) for k in ("id", "performance_year", "net_amount", "direction")}
            for e in entities
        ],
    }


def load_settlement(path: Path) -> dict:
    data = json.loads((path / "settlement.json").read_text())
    if "settlements" in data:
        data = _from_record(data)
    data["id"] = data.get("id") or path.name
    data["line_items"] = line_items(data)
    data["has_drilldown"] = (path / DRILLDOWN).exists()
    return data


def summary(data: dict) -> dict:
    return {
        "id": data.get("id"),
        "contract": data.get("contract"),
        "performance_year": data.get("performance_year"),
        "track": data.get("track"),
        "net_amount": None if data.get("net_amount") is None else str(data["net_amount"]),
        "direction": data.get("direction"),
        "has_drilldown": data.get("has_drilldown", False),
    }


def waterfall(data: dict) -> list[tuple[str, Decimal]]:
    """The lines that add up to the net, in order (all USD lines when none is marked)."""
    items = [li for li in data["line_items"] if li.get("unit", "USD") == "USD"]
    counted = [li for li in items if li["counts"]] or items
    return [(li["name"], Decimal(li["amount"])) for li in counted if _decimal(li["amount"])]
