"""Report sections after the quality page: composite score, SDOH needs and patient experience."""

from __future__ import annotations

from pathlib import Path

from payvider.engine.backends import DuckDBEngine
from payvider.reports.cost_section import _pct
from payvider.reports.html import _table

SUPPRESSED = "<11"


def _rows(engine: DuckDBEngine, path: Path, order: list[str]) -> list[dict]:
    if not path.exists():
        return []
    t = engine.read_parquet(path)
    return t.filter(t.level == "total").order_by(order).to_pyarrow().to_pylist()


def composite_section(engine: DuckDBEngine, run_dir: Path) -> str:
    """Composite quality score per period: the whole book and each organization."""
    path = run_dir / "quality_composite.parquet"
    if not path.exists():
        return ""
    t = engine.read_parquet(path)
    rows = t.order_by(["period", "level", "organization_id"]).to_pyarrow().to_pylist()
    rows.sort(key=lambda r: (r["period"], r["level"] != "total", str(r["organization_id"])))
    # Organizations too small for any measure to be scored have nothing to show.
    unscored = sum(1 for r in rows if r["level"] != "total" and not r["measures_scored"])
    rows = [r for r in rows if r["level"] == "total" or r["measures_scored"]]
    if not rows:
        return ""
    return (
        "<h2>Composite quality score</h2><p class='muted'>0–100: each measure earns points "
        "linearly from its floor to its target (inverse measures the other way), weighted; "
        "measures with fewer than the minimum eligible cases are not scored. Contracts use "
        "this score as their quality gate. Weights and targets in docs/quality.md."
        + (
            f" {unscored} organization-periods with no measure above the minimum are not shown."
            if unscored
            else ""
        )
        + "</p>"
        + _table(
            ["period", "organization", "score", "measures scored"],
            [
                [
                    str(r["period"]),
                    r["organization_id"] or "all members",
                    "" if r["score"] is None else str(r["score"]),
                    f"{r['measures_scored']} of {r['measures_configured']}",
                ]
                for r in rows
            ],
            numeric={2},
        )
    )


def sdoh_section(engine: DuckDBEngine, run_dir: Path) -> str:
    """Social needs found by domain and the referrals made for them, per period."""
    rows = _rows(engine, run_dir / "sdoh_summary.parquet", ["period", "domain"])
    if not rows:
        return ""

    def cell(r: dict, v):
        return SUPPRESSED if r["small_cell"] else v

    return (
        "<h2>Social needs (SDOH)</h2><p class='muted'>Screenings of linked members in the "
        "partner EHR: members screened, the share of screenings positive in each domain, "
        "members with the need and the share of positive screens referred; 'any' counts "
        "members with at least one need identified.</p>"
        + _table(
            [
                "period",
                "domain",
                "members screened",
                "positive rate",
                "members with need",
                "referred",
            ],
            [
                [
                    str(r["period"]),
                    r["domain"],
                    cell(r, r["screened_members"]),
                    cell(r, _pct(r["positive_rate"])),
                    cell(r, r["members_with_need"]),
                    cell(r, _pct(r["referral_rate"])),
                ]
                for r in rows
            ],
            numeric={2, 3, 4, 5},
        )
    )


def experience_section(engine: DuckDBEngine, run_dir: Path) -> str:
    """Survey items per year: respondents, mean score and top-box share."""
    rows = _rows(engine, run_dir / "experience_summary.parquet", ["period", "instrument", "item"])
    if not rows:
        return ""
    return (
        "<h2>Patient experience</h2><p class='muted'>Survey answers by item: mean on the item's "
        "scale and as 0–100, and the top-box share (the top answer; 9–10 on 0–10 ratings).</p>"
        + _table(
            ["period", "instrument", "item", "respondents", "mean", "mean (0–100)", "top box"],
            [
                [
                    str(r["period"]),
                    r["instrument"],
                    r["item"],
                    SUPPRESSED if r["small_cell"] else r["respondents"],
                    "" if r["small_cell"] or r["mean_score"] is None else f"{r['mean_score']:.2f}",
                    "" if r["small_cell"] or r["mean_pct"] is None else f"{r['mean_pct']:.1f}",
                    "" if r["small_cell"] else _pct(r["top_box_rate"]),
                ]
                for r in rows
            ],
            numeric={3, 4, 5, 6},
        )
    )


def social_sections(engine: DuckDBEngine, run_dir: Path) -> str:
    return (
        composite_section(engine, run_dir)
        + sdoh_section(engine, run_dir)
        + experience_section(engine, run_dir)
    )
