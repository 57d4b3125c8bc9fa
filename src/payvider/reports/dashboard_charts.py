"""The dashboard's Plotly charts in the HTML report, so the file carries the same pictures the
partnership's people look at on `payvider serve`.

The figures are built by the dashboard's own chart functions from the run's tables (all rows: the
report is written by someone with the whole workspace). Plotly's JavaScript is inlined once from
the installed ``plotly`` package, so the report stays one file that opens without a network.
"""

from __future__ import annotations

import html
import json
from decimal import Decimal
from typing import Any

from payvider.engine.workspace import Workspace


def _figures(workspace: Workspace, run_id: str) -> list[tuple[str, dict]]:
    from payvider.api.access import aggregate_rows
    from payvider.api.settlements import load_settlement, settlement_ids, settlement_path, waterfall
    from payvider.api.store import NotFound, RunStore
    from payvider.api.summary import overview
    from payvider.api.users import User
    from payvider.web import charts
    from payvider.web.pages import _CATEGORIES

    user = User("report", "jv_admin")
    store = RunStore(workspace)
    out: list[tuple[str, dict]] = []

    def add(title: str, build: Any) -> None:
        try:
            out.append((title, build()))
        except (NotFound, KeyError, ValueError):
            pass  # a table this run does not have: no chart

    def rows(name: str) -> list[dict]:
        return aggregate_rows(store, user, name, run_id)

    try:
        add("PMPM against the market", lambda: charts.pmpm_vs_market(rows("cost_trend")))
        add("Membership", lambda: charts.membership_lines(rows("membership")))
        add("Partner share", lambda: charts.partner_share(rows("membership")))
        add(
            "Service categories",
            lambda: charts.category_bars(rows("cost_summary"), _CATEGORIES),
        )
        add("Leakage", lambda: charts.leakage_share(rows("leakage")))
        add(
            "Leakage destinations",
            lambda: charts.leakage_destinations(rows("leakage_destinations")),
        )
        add("Quality measures", lambda: charts.measure_rates(rows("quality_summary")))
        add("Attribution", lambda: charts.attribution_bars(rows("attribution_rules")))
        ids = settlement_ids(workspace.root)
        if ids:
            s = load_settlement(settlement_path(workspace.root, ids[-1]))  # type: ignore[arg-type]
            net = None if s.get("net_amount") is None else Decimal(str(s["net_amount"]))
            add("Settlement", lambda: charts.waterfall(waterfall(s), net))
        # The overview's headline figures are computed here too, so a failing summary shows.
        overview(store, user, run_id)
    finally:
        store.close()
    return out


def dashboard_charts_section(workspace: Workspace, run_id: str) -> str:
    """The charts as one section: a div per figure and one inline copy of plotly.js."""
    from payvider.web.pages import PLOTLY_JS

    figures = _figures(workspace, run_id)
    if not figures:
        return ""
    divs = "".join(
        f'<div class="pv-chart" id="pv-chart-{i}" data-chart="{html.escape(title)}"></div>'
        for i, (title, _) in enumerate(figures)
    )
    data = json.dumps({f"pv-chart-{i}": fig for i, (_, fig) in enumerate(figures)})
    data = data.replace("</", "<\\/")
    script = PLOTLY_JS.read_text(encoding="utf-8").replace("</script", "<\\/script")
    return (
        "<h2>Charts</h2><p class='muted'>The dashboard's charts (<code>payvider serve</code>) for "
        "this run, drawn by Plotly from data inside this file.</p>"
        + divs
        + f"<script>{script}</script>"
        + "<script>(function(){var f="
        + data
        + ";for(var id in f){Plotly.newPlot(id,f[id].data,f[id].layout,"
        + "{displaylogo:false,responsive:true});}})();</script>"
    )
