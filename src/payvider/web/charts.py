"""Plotly figures of the dashboard, built from rows the user may see (suppressed cells are
null and leave gaps, never zeros). Each function returns a figure as a JSON-ready dict."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

_LAYOUT = {
    "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
    "height": 340,
    "template": "plotly_white",
    "legend": {"orientation": "h", "y": -0.2},
}
Rows = list[dict[str, Any]]


def _fig(fig: go.Figure, title: str, **layout: Any) -> dict:
    fig.update_layout(title={"text": title, "x": 0}, **{**_LAYOUT, **layout})
    return json.loads(pio.to_json(fig, validate=False))


def _num(v: Any) -> float | None:
    return None if v is None else float(v)


def pmpm_vs_market(trend: Rows) -> dict:
    """Risk-adjusted PMPM of the partner-attributed members and all members against the
    market's, by year."""
    fig = go.Figure()
    by_scope: dict[str, Rows] = defaultdict(list)
    for r in sorted(trend, key=lambda r: r["year"]):
        by_scope[r["scope"]].append(r)
    for scope, rows in sorted(by_scope.items()):
        fig.add_scatter(
            x=[str(r["year"]) for r in rows],
            y=[_num(r["risk_adjusted_pmpm"]) for r in rows],
            mode="lines+markers",
            name=f"{scope.replace('_', ' ')} (risk-adjusted)",
        )
    market = by_scope.get("all") or next(iter(by_scope.values()), [])
    fig.add_scatter(
        x=[str(r["year"]) for r in market],
        y=[_num(r["market_risk_adjusted_pmpm"]) for r in market],
        mode="lines+markers",
        name="market benchmark (risk-adjusted)",
        line={"dash": "dash"},
    )
    return _fig(fig, "PMPM against the market benchmark", yaxis_title="$ PMPM")


def membership_lines(rows: Rows) -> dict:
    fig = go.Figure()
    by_line: dict[str, Rows] = defaultdict(list)
    for r in rows:
        by_line[r["product_line"] or "unknown"].append(r)
    for line, rs in sorted(by_line.items()):
        fig.add_scatter(
            x=[r["month"].isoformat() for r in rs],
            y=[r["members"] for r in rs],
            mode="lines",
            name=line,
        )
    return _fig(fig, "Enrolled members by month and product line", yaxis_title="members")


def partner_share(rows: Rows) -> dict:
    """Share of members attributed to the partner system, by month (from visible cells)."""
    months: dict[Any, list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        if r.get("suppressed"):
            continue
        months[r["month"]][0] += r["members"]
        months[r["month"]][1] += r["partner_attributed_members"]
    xs = sorted(months)
    fig = go.Figure(
        go.Scatter(
            x=[m.isoformat() for m in xs],
            y=[100 * months[m][1] / months[m][0] if months[m][0] else None for m in xs],
            mode="lines",
            name="partner share",
        )
    )
    return _fig(
        fig,
        "Members attributed to the partner system",
        yaxis={"title": {"text": "% of members"}, "rangemode": "tozero"},
    )


def category_bars(rows: Rows, categories: tuple[str, ...]) -> dict:
    """Allowed PMPM by service category, one bar group per year (partner vs. others)."""
    fig = go.Figure()
    groups: dict[tuple, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for r in rows:
        if r.get("suppressed"):
            continue
        key = (r["year"], "partner" if r["partner_flag"] else "other")
        groups[key]["member_months"] += Decimal(r["member_months"])
        for c in categories:
            groups[key][c] += r[f"{c}_allowed_amount"]
    for year, who in sorted(groups):
        g = groups[(year, who)]
        fig.add_bar(
            x=list(categories),
            y=[
                float(g[c] / g["member_months"]) if g["member_months"] else None for c in categories
            ],
            name=f"{year} {who}",
        )
    return _fig(
        fig, "Allowed PMPM by service category", barmode="group", yaxis_title="$ PMPM allowed"
    )


def leakage_share(rows: Rows) -> dict:
    total = sorted((r for r in rows if r["dimension"] == "total"), key=lambda r: r["year"])
    fig = go.Figure()
    fig.add_scatter(
        x=[str(r["year"]) for r in total],
        y=[None if r["in_system_share"] is None else 100 * r["in_system_share"] for r in total],
        mode="lines+markers",
        name="spend kept in system",
    )
    fig.add_scatter(
        x=[str(r["year"]) for r in total],
        y=[
            None if r["in_system_visit_share"] is None else 100 * r["in_system_visit_share"]
            for r in total
        ],
        mode="lines+markers",
        name="visits kept in system",
    )
    return _fig(fig, "Care kept inside the partner system", yaxis_title="%")


def leakage_destinations(rows: Rows) -> dict:
    if not rows:
        return _fig(go.Figure(), "Where leaked spend goes")
    year = max(r["year"] for r in rows)
    top = sorted((r for r in rows if r["year"] == year), key=lambda r: r["rank"])[:10]
    fig = go.Figure(
        go.Bar(
            x=[_num(r["allowed_amount"]) for r in top][::-1],
            y=[r["destination"] for r in top][::-1],
            orientation="h",
            name=str(year),
        )
    )
    return _fig(fig, f"Where leaked spend goes ({year}, allowed $)", margin={"l": 220, "t": 50})


def measure_rates(rows: Rows) -> dict:
    """Each proportion measure's rate with its 95% interval (population level, newest period);
    rates per 1,000 are on another scale and stay in the tables."""
    totals = [
        r
        for r in rows
        if r["level"] == "total"
        and r["rate"] is not None
        and r.get("unit", "proportion") == "proportion"
    ]
    latest: dict[str, dict] = {}
    for r in sorted(totals, key=lambda r: r["period"]):
        latest[r["measure_id"]] = r
    ms = sorted(latest)
    fig = go.Figure(
        go.Scatter(
            x=[100 * latest[m]["rate"] for m in ms],
            y=ms,
            mode="markers",
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [100 * (latest[m]["ci_upper"] - latest[m]["rate"]) for m in ms],
                "arrayminus": [100 * (latest[m]["rate"] - latest[m]["ci_lower"]) for m in ms],
            },
            name="rate (95% interval)",
        )
    )
    period = max((latest[m]["period"] for m in ms), default="")
    return _fig(
        fig,
        f"Measure rates with 95% intervals (period {period})",
        xaxis_title="%",
        margin={"l": 220, "t": 50},
        height=max(340, 60 + 26 * len(ms)),
    )


def waterfall(items: list[tuple[str, Decimal]], net: Decimal | None) -> dict:
    """The settlement's line items stepping to the net."""
    names = [n.replace("_", " ") for n, _ in items]
    values = [float(v) for _, v in items]
    measures = ["relative"] * len(items)
    if net is not None:
        names.append("net")
        values.append(float(net))
        measures.append("total")
    fig = go.Figure(go.Waterfall(x=names, y=values, measure=measures, name="settlement"))
    return _fig(fig, "Settlement waterfall ($)", yaxis_title="$")


def attribution_bars(rows: Rows) -> dict:
    fig = go.Figure()
    by_rule: dict[str, Rows] = defaultdict(list)
    for r in rows:
        by_rule[r["rule"]].append(r)
    for rule, rs in sorted(by_rule.items()):
        rs.sort(key=lambda r: r["period"])
        fig.add_bar(x=[str(r["period"]) for r in rs], y=[r["members"] for r in rs], name=rule)
    return _fig(fig, "Members by attribution rule", barmode="stack", yaxis_title="members")
