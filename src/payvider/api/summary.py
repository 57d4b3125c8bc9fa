"""The overview figures (members, attributed share, PMPM against the market, savings, quality)
as one user may see them; the ``/api/summary`` endpoint and the dashboard's overview page."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from payvider.api.access import aggregate_rows, suppresses, visible_count
from payvider.api.settlements import load_settlement, settlement_ids, settlement_path
from payvider.api.store import RunStore
from payvider.api.users import User

TREND_SCOPES = ("partner_attributed", "all")


def _latest_month(store: RunStore, run_id: str) -> dict[str, Any]:
    if not store.has_table(run_id, "membership"):
        return {}
    m = store.table(run_id, "membership")
    last = m.filter(m.month == m.month.max())
    row = (
        last.aggregate(
            month=last.month.max(),
            members=last.members.sum(),
            attributed=last.attributed_members.sum(),
            partner=last.partner_attributed_members.sum(),
        )
        .to_pyarrow()
        .to_pylist()
    )
    return row[0] if row else {}


def overview(store: RunStore, user: User, run_id: str) -> dict[str, Any]:
    """Headline figures of run ``run_id``; small counts are withheld from suppressed roles."""
    settled = tuple(
        (s, settlement_path(store.workspace.root, s).stat().st_mtime_ns)  # type: ignore[union-attr]
        for s in settlement_ids(store.workspace.root)
    )
    return store.cached(
        ("overview", run_id, suppresses(user), settled), lambda: _overview(store, user, run_id)
    )


def _overview(store: RunStore, user: User, run_id: str) -> dict[str, Any]:
    latest = _latest_month(store, run_id)
    members = latest.get("members")
    shown = visible_count(members, user)
    trend: list[dict[str, Any]] = []
    if store.has_table(run_id, "cost_trend"):
        trend = [
            r
            for r in aggregate_rows(store, user, "cost_trend", run_id)
            if r["scope"] in TREND_SCOPES
        ]
    savings: dict[str, Any] | None = None
    settled = [
        load_settlement(settlement_path(store.workspace.root, s))
        for s in settlement_ids(store.workspace.root)
    ]  # type: ignore[arg-type]
    if settled:
        savings = {
            "source": "settlements",
            "amount": str(
                sum((Decimal(str(s.get("net_amount", "0"))) for s in settled), Decimal(0))
            ),
            "settlements": len(settled),
        }
    else:
        partner = sorted(
            (r for r in trend if r["scope"] == "partner_attributed" and not r.get("suppressed")),
            key=lambda r: r["year"],
        )
        if partner and partner[-1]["cumulative_savings_vs_market"] is not None:
            savings = {
                "source": "cost_trend",
                "amount": str(partner[-1]["cumulative_savings_vs_market"]),
                "through_year": partner[-1]["year"],
            }
    composite = None
    if store.has_table(run_id, "quality_composite"):
        rows = store.table(run_id, "quality_composite").to_pyarrow().to_pylist()
        composite = rows[-1] if rows else None
    return {
        "run_id": run_id,
        "month": latest.get("month"),
        "members": shown,
        "attributed_share": (latest["attributed"] / members) if shown else None,
        "partner_attributed_share": (latest["partner"] / members) if shown else None,
        "pmpm_trend": trend,
        "savings_to_date": savings,
        "quality_composite": composite,
        "small_cell_suppression": suppresses(user),
    }
