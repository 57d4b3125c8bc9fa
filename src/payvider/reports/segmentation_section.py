"""The provider segmentation page of the HTML report: scores, tiers, depth and a quadrant chart."""

from __future__ import annotations

from pathlib import Path

from payvider.engine.backends import DuckDBEngine
from payvider.reports.charts import scatter_svg
from payvider.reports.html import _table

_TIER_COLORS = {1: "#059669", 2: "#d97706", 3: "#b42318"}


def segmentation_section(engine: DuckDBEngine, run_dir: Path) -> str:
    """Every organization of the run's ``provider_segmentation``; empty when there is none."""
    path = run_dir / "provider_segmentation.parquet"
    if not path.exists():
        return ""
    rows = engine.read_parquet(path).to_pyarrow().to_pylist()
    if not rows:
        return ""
    scored = [r for r in rows if r["tier"] is not None]
    small = len(rows) - len(scored)

    def num(v, digits=0):
        return "" if v is None else f"{float(v):.{digits}f}"

    table = _table(
        [
            "rank",
            "organization",
            "health system",
            "lives",
            "size & brand",
            "cost management",
            "value disposition",
            "composite",
            "tier",
            "recommended depth",
        ],
        [
            [
                r["rank"],
                r["organization_id"],
                r["health_system"] or "",
                r["attributed_lives"],
                num(r["size_score"]),
                num(r["cost_score"]),
                num(r["disposition_score"]),
                num(r["composite_score"]),
                r["tier"],
                r["recommended_depth"].replace("_", " "),
            ]
            for r in scored
        ],
        numeric={0, 3, 4, 5, 6, 7, 8},
    )
    chart = scatter_svg(
        [
            {
                "x": r["cost_score"],
                "y": r["disposition_score"],
                "size": r["attributed_lives"],
                "label": r["health_system"] or r["organization_id"],
                "color": _TIER_COLORS.get(r["tier"], "#627d98"),
            }
            for r in scored
        ],
        "cost-management score",
        "value-based disposition score",
        "Provider quadrant (bubble: attributed lives; colour: tier)",
        quadrants=(50, 50),
    )
    return (
        f"<h2>Provider segmentation</h2><p class='muted'>Organizations of {rows[0]['year']} scored "
        "0–100 on size and brand, cost-management capability and disposition toward value-based "
        "reimbursement (percentile ranks among organizations with 11 or more lives); tier 1 at a "
        "composite of 60, tier 2 at 40. Formulas in docs/segmentation.md.</p>"
        + chart
        + table
        + (
            f"<p class='muted'>{small} organization(s) with fewer than 11 attributed lives are "
            "not scored and not shown (small cells).</p>"
            if small
            else ""
        )
    )
