"""The quality page of the HTML report: each measure's rate with its 95% interval, by period."""

from __future__ import annotations

from pathlib import Path

from payvider.engine.backends import DuckDBEngine
from payvider.reports.cost_section import _pct
from payvider.reports.html import _table


def _value(v, unit: str | None) -> str:
    """A proportion as a percentage; a utilization rate per 1,000 member-years as a number."""
    if v is not None and unit and unit != "proportion":
        return f"{float(v):,.1f} /1,000"
    return _pct(v)


def _taper(engine: DuckDBEngine, run_dir: Path) -> str:
    path = run_dir / "opioid_taper.parquet"
    if not path.exists():
        return ""
    rows = engine.read_parquet(path).to_pyarrow().to_pylist()
    if not rows:
        return ""
    order = {"program": 0, "no_program": 1, "all": 2}
    rows.sort(key=lambda r: order.get(r["group"], 3))
    w = rows[0]
    return (
        "<h3>Opioid tapering</h3><p class='muted'>Patients on long-term opioids at 90 MME or "
        f"more in the 90 days before the program start ({w['program_start']}): the dose in "
        f"the last 90 days of data ({w['followup_start']} to {w['followup_end']}) against "
        "baseline. Program: the main baseline prescriber is in the partner system. Groups "
        "under 11 patients are suppressed.</p>"
        + _table(
            ["group", "patients", "reduced", "95% interval", "discontinued", "95% interval"],
            [
                [r["group"].replace("_", " "), r["members"], "suppressed", "", "", ""]
                if r["small_cell"]
                else [
                    r["group"].replace("_", " "),
                    r["members"],
                    _pct(r["reduced_share"]),
                    f"{_pct(r['reduced_ci_lower'])} – {_pct(r['reduced_ci_upper'])}",
                    _pct(r["discontinued_share"]),
                    f"{_pct(r['discontinued_ci_lower'])} – {_pct(r['discontinued_ci_upper'])}",
                ]
                for r in rows
            ],
            numeric={1, 2, 4},
        )
    )


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
        "(readmissions, HbA1c poor control, opioid high dosage and concurrent benzodiazepines, "
        "ED visits: lower is better; readmissions with the observed-to-expected ratio); the "
        "interval is Wilson's 95% (ED visits per 1,000 member-years: Poisson); care gaps are "
        "members in the denominator without the numerator (inverse measures: with it). "
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
                    _value(r["rate"], r.get("unit")),
                    f"{_value(r['ci_lower'], r.get('unit'))} – "
                    f"{_value(r['ci_upper'], r.get('unit'))}",
                    "" if r.get("oe_ratio") is None else f"{float(r['oe_ratio']):.2f}",
                    r["care_gaps"],
                ]
                for r in rows
            ],
            numeric={2, 3, 4, 5, 7, 8},
        )
        + _taper(engine, run_dir)
    )
