"""The quality page of the HTML report: each measure's rate with its 95% interval, by period."""

from __future__ import annotations

from pathlib import Path

from payvider.engine.backends import DuckDBEngine
from payvider.reports.cost_section import _pct
from payvider.reports.html import _table


def quality_section(engine: DuckDBEngine, run_dir: Path) -> str:
    """Totals of every measure of the run; empty when the run has none."""
    path = run_dir / "quality_summary.parquet"
    if not path.exists():
        return ""
    q = engine.read_parquet(path)
    rows = q.filter(q.level == "total").order_by(["measure_id", "period"]).to_pyarrow().to_pylist()
    if not rows:
        return ""
    return (
        "<h2>Quality</h2><p class='muted'>Denominator, exclusions and numerator of each measure "
        "(readmissions: lower is better, with the observed-to-expected ratio); the interval is "
        "Wilson's 95%; care gaps are members in the denominator without the numerator. "
        "Definitions in docs/quality.md.</p>"
        + _table(
            [
                "measure",
                "period",
                "denominator",
                "exclusions",
                "numerator",
                "rate",
                "95% interval",
                "O/E",
                "care gaps",
            ],
            [
                [
                    r["measure_id"],
                    str(r["period"]),
                    r["denominator"],
                    r["exclusions"],
                    r["numerator"],
                    _pct(r["rate"]),
                    f"{_pct(r['ci_lower'])} – {_pct(r['ci_upper'])}",
                    "" if r.get("oe_ratio") is None else f"{float(r['oe_ratio']):.2f}",
                    r["care_gaps"],
                ]
                for r in rows
            ],
            numeric={2, 3, 4, 5, 7, 8},
        )
    )
