"""Scores, tiers and a recommended partnership depth per provider organization.

Each metric of ``factors.organization_metrics`` becomes a percentile rank among the scored
organizations (those with at least ``MIN_LIVES`` attributed lives), oriented so that 1 is best:
higher lives, spend share, breadth, value-based share, quality and linkage are better; lower
risk-adjusted PMPM, utilization and trend ratios are better. A missing metric (no quality
measures, no earlier year) counts 0.5, the middle. ``percent_rank`` = (rank − 1) ÷ (n − 1), ties
share the lowest rank.

    size_score         = 100 × mean(rank lives, rank spend share, rank breadth)
    cost_score         = 100 × mean(rank RA PMPM ratio, rank utilization ratio, rank trend ratio)
    disposition_score  = 100 × mean(rank value-based share, rank quality, rank linkage)
    composite_score    = mean(size, cost, disposition)

Organizations with fewer lives are listed with their metrics, no scores, and depth
``not_scored``. Tier 1: composite ≥ 60; tier 2: ≥ 40; tier 3 below. Recommended depth (the seeds' path from
upside-only to shared risk to an integrated product): ``integrated_margin_or_joint_venture`` when
size, cost and disposition are all ≥ 60; ``two_sided`` when cost and disposition are ≥ 50;
``upside_only`` otherwise. Quadrant: cost score (x) against disposition score (y), split at 50.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from payvider.marts.arith import ratio
from payvider.segmentation.factors import organization_metrics

#: Organizations with fewer attributed lives are listed but not scored (small cells).
MIN_LIVES = 11

HIGHER_IS_BETTER = {
    "size": ("attributed_lives", "market_spend_share", "service_breadth"),
    "disposition": ("value_based_share", "quality_composite", "linkage_rate"),
}
LOWER_IS_BETTER = {"cost": ("risk_adjusted_pmpm_ratio", "utilization_ratio", "trend_ratio")}


def _rank(t: ir.Table, column: str, descending: bool) -> ir.FloatingValue:
    """Percentile rank of a metric among the table's rows, 1 = best; 0.5 when missing."""
    col = t[column]
    present = col.notnull()
    # nulls sort last and are overridden with 0.5 below
    key = ibis.desc(col) if descending else col
    w = ibis.window(order_by=[ibis.desc(present.cast("int8")), key])
    present_count = col.count().over(ibis.window())
    rank = ibis.rank().over(w)  # 0-based; ties share the lowest
    value = ibis.ifelse(present_count > 1, 1 - ratio(rank, present_count - 1), 1.0)
    return ibis.ifelse(present, value, 0.5)


def score_organizations(metrics: ir.Table) -> ir.Table:
    """Factor scores, composite, rank, tier, depth and quadrant of each scored organization."""
    m = metrics.filter(metrics.attributed_lives >= MIN_LIVES)
    ranks = {}
    for group in HIGHER_IS_BETTER.values():
        for c in group:
            ranks[f"_r_{c}"] = _rank(m, c, descending=True)
    for group in LOWER_IS_BETTER.values():
        for c in group:
            ranks[f"_r_{c}"] = _rank(m, c, descending=False)
    m = m.mutate(**ranks)

    def factor(cols: tuple[str, ...]) -> ir.FloatingValue:
        r = [m[f"_r_{c}"] for c in cols]
        return (r[0] + r[1] + r[2]) * 100 / 3

    m = m.mutate(
        size_score=factor(HIGHER_IS_BETTER["size"]),
        cost_score=factor(LOWER_IS_BETTER["cost"]),
        disposition_score=factor(HIGHER_IS_BETTER["disposition"]),
    )
    m = m.mutate(composite_score=(m.size_score + m.cost_score + m.disposition_score) / 3)
    tier = ibis.cases((m.composite_score >= 60, 1), (m.composite_score >= 40, 2), else_=3).cast(
        "int64"
    )
    depth = ibis.cases(
        (
            (m.size_score >= 60) & (m.cost_score >= 60) & (m.disposition_score >= 60),
            "integrated_margin_or_joint_venture",
        ),
        ((m.cost_score >= 50) & (m.disposition_score >= 50), "two_sided"),
        else_="upside_only",
    )
    quadrant = ibis.cases(
        ((m.cost_score >= 50) & (m.disposition_score >= 50), "efficient_and_value_ready"),
        (m.cost_score >= 50, "efficient_not_yet_value_ready"),
        (m.disposition_score >= 50, "value_ready_not_yet_efficient"),
        else_="develop",
    )
    m = m.mutate(tier=tier, recommended_depth=depth, quadrant=quadrant)
    m = m.mutate(
        rank=ibis.rank()
        .over(ibis.window(order_by=[ibis.desc(m.composite_score), m.organization_id]))
        .cast("int64")
        + 1
    )
    scored = m.drop(*[c for c in m.columns if c.startswith("_r_")])
    small = metrics.filter(metrics.attributed_lives < MIN_LIVES)
    blank = {
        c: ibis.null().cast(scored[c].type()) for c in scored.columns if c not in metrics.columns
    }
    blank["recommended_depth"] = ibis.literal("not_scored")
    blank["quadrant"] = ibis.literal("not_scored")
    small = small.mutate(**blank).select(*scored.columns)
    return scored.union(small, distinct=False)


def provider_segmentation(
    member_year_cost: ir.Table,
    claims_enriched: ir.Table,
    utilization: ir.Table,
    risk_score: ir.Table | None,
    quality_summary: ir.Table | None,
    crosswalk: ir.Table,
    provider: ir.Table | None = None,
) -> ir.Table:
    """The run's ``provider_segmentation`` table: metrics, scores, tier and depth per
    organization (with its health system's name when the roster has one)."""
    metrics = organization_metrics(
        member_year_cost, claims_enriched, utilization, risk_score, quality_summary, crosswalk
    )
    scored = score_organizations(metrics)
    if provider is not None:
        names = (
            provider.filter(provider.tin.notnull())
            .group_by(organization_id=provider.tin)
            .aggregate(health_system=provider.health_system.max())
        )
        scored = scored.left_join(names, "organization_id").select(*scored.columns, "health_system")
    else:
        scored = scored.mutate(health_system=ibis.null().cast("string"))
    return scored.order_by([scored.rank, ibis.desc(scored.attributed_lives), "organization_id"])
