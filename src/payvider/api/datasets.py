"""The registry of datasets the API and dashboard expose: one entry per dataset, not one endpoint.

A dataset reads one table of a run (optionally reshaped by ``build``) and declares what it is:
member-level (rows name members: role-scoped and audited) or aggregate (cells with a member
count: small-cell suppressed for roles without full member-level access), which query filters map
to which columns, and the default order. Exposing a new run table is one more entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import ibis
import ibis.expr.types as ir

#: How a ``period`` filter applies to a column: an integer year, a text period, or a month date.
PeriodKind = Literal["year", "text", "month"]


@dataclass(frozen=True)
class Dataset:
    name: str
    table: str
    description: str
    member_level: bool
    order_by: tuple[str, ...]
    #: Period column and how ``period=`` compares with it.
    period: tuple[str, PeriodKind] | None = None
    #: Other filters: query parameter → column (equality).
    filters: dict[str, str] = field(default_factory=dict)
    #: Aggregates: the column holding the cell's member count, the columns naming a cell, and
    #: the sets of columns whose cells add up to a published total.
    count_column: str | None = None
    dimensions: tuple[str, ...] = ()
    margins: tuple[tuple[str, ...], ...] = ()
    build: Callable[[ir.Table], ir.Table] | None = None

    def filter_names(self) -> list[str]:
        return (["period"] if self.period else []) + sorted(self.filters)

    def describe(self) -> dict:
        return {
            "name": self.name,
            "description": self.description,
            "level": "member" if self.member_level else "aggregate",
            "source_table": self.table,
            "filters": self.filter_names(),
            "count_column": self.count_column,
            "order_by": list(self.order_by),
        }


def _attribution_summary(a: ir.Table) -> ir.Table:
    return a.group_by(
        ["period", "product_line", "rule", "organization_id", "health_system", "partner_flag"]
    ).aggregate(members=a.member_id.nunique())


def _attribution_rules(a: ir.Table) -> ir.Table:
    from payvider.marts.membership import attribution_summary

    return attribution_summary(a)


_CATEGORIES = ("inpatient", "outpatient", "professional", "ancillary", "pharmacy")


def _cost_summary(c: ir.Table) -> ir.Table:
    """Members, member months, allowed dollars and PMPM (total and by service category) per
    year, product line and partner attribution, from the member-year table."""
    partner = c.partner_flag.fill_null(False)
    g = c.mutate(partner_flag=partner).group_by(["year", "product_line", "partner_flag"])
    agg = g.aggregate(
        members=c.member_id.nunique(),
        member_months=c.member_months.sum(),
        allowed_amount=c.allowed_amount.sum(),
        paid_amount=c.paid_amount.sum(),
        **{f"{k}_allowed_amount": c[f"{k}_allowed_amount"].sum() for k in _CATEGORIES},
    )
    mm = agg.member_months.cast("float64")
    return agg.mutate(
        allowed_pmpm=(agg.allowed_amount.cast("float64") / mm).round(2),
        paid_pmpm=(agg.paid_amount.cast("float64") / mm).round(2),
        **{
            f"{k}_pmpm": (agg[f"{k}_allowed_amount"].cast("float64") / mm).round(2)
            for k in _CATEGORIES
        },
    )


def _quality_summary(q: ir.Table) -> ir.Table:
    # Clinician cells add up within their organization; organization cells within the total.
    return q.mutate(
        margin_group=ibis.ifelse(q.level == "clinician", q.organization_id, ibis.null("string"))
    )


_MEMBER_FILTERS = {
    "organization": "organization_id",
    "product_line": "product_line",
    "payer": "payer",
    "member_id": "member_id",
}

DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset(
            "membership",
            "membership",
            "Members, member months and attribution by month and product line.",
            member_level=False,
            order_by=("month", "product_line"),
            period=("month", "month"),
            filters={"product_line": "product_line"},
            count_column="members",
            dimensions=("month", "product_line"),
            margins=(("month",),),
        ),
        Dataset(
            "attribution_summary",
            "attribution",
            "Members by performance year, product line, attribution rule and organization.",
            member_level=False,
            order_by=("period", "product_line", "rule", "organization_id"),
            period=("period", "year"),
            filters={
                "product_line": "product_line",
                "organization": "organization_id",
                "rule": "rule",
            },
            count_column="members",
            dimensions=(
                "period",
                "product_line",
                "rule",
                "organization_id",
                "health_system",
                "partner_flag",
            ),
            margins=(("period", "product_line"), ("period", "organization_id")),
            build=_attribution_summary,
        ),
        Dataset(
            "attribution_rules",
            "attribution",
            "Members by performance year and deciding rule, and how many went to the partner.",
            member_level=False,
            order_by=("period", "rule"),
            period=("period", "year"),
            count_column="members",
            dimensions=("period", "rule"),
            margins=(("period",),),
            build=_attribution_rules,
        ),
        Dataset(
            "attribution_churn",
            "attribution_churn",
            "Members by change in attribution from the previous period.",
            member_level=False,
            order_by=("period", "status", "partner_before", "partner_after"),
            period=("period", "year"),
            count_column="members",
            dimensions=("period", "status", "partner_before", "partner_after"),
            margins=(("period",),),
        ),
        Dataset(
            "attribution",
            "attribution",
            "Each eligible member's attribution per performance year, with the deciding rule.",
            member_level=True,
            order_by=("period", "member_id", "payer"),
            period=("period", "year"),
            filters={**_MEMBER_FILTERS, "rule": "rule"},
        ),
        Dataset(
            "cost_pmpm",
            "cost_pmpm",
            "Allowed and paid PMPM by month, product line, organization and service category.",
            member_level=False,
            order_by=("month", "product_line", "organization_id", "service_category"),
            period=("month", "month"),
            filters={
                "product_line": "product_line",
                "organization": "organization_id",
                "service_category": "service_category_1",
            },
            # One month's member months are its members.
            count_column="member_months",
            dimensions=(
                "month",
                "product_line",
                "organization_id",
                "partner_flag",
                "service_category_1",
                "service_category",
            ),
            margins=(
                ("month", "product_line", "service_category"),
                ("month", "organization_id", "service_category"),
            ),
        ),
        Dataset(
            "scope_pmpm",
            "scope_pmpm",
            "Allowed and paid PMPM by built-in scope, month and service category.",
            member_level=False,
            order_by=("scope", "month", "service_category_1", "service_category"),
            period=("month", "month"),
            filters={"scope": "scope", "service_category": "service_category_1"},
            # One month's member months are its members; scopes overlap, so no cells add up.
            count_column="member_months",
            dimensions=("scope", "month", "service_category_1", "service_category"),
        ),
        Dataset(
            "cost_trend",
            "cost_trend",
            "Risk-adjusted PMPM trend of each built-in scope against the market, and its dollars.",
            member_level=False,
            order_by=("scope", "year"),
            period=("year", "year"),
            filters={"scope": "scope"},
            count_column="members",
            dimensions=("scope", "year"),
        ),
        Dataset(
            "cost_summary",
            "member_year_cost",
            "Members, allowed dollars and PMPM (total and by service category) by year, product "
            "line and partner attribution.",
            member_level=False,
            order_by=("year", "product_line", "partner_flag"),
            period=("year", "year"),
            filters={"product_line": "product_line", "partner": "partner_flag"},
            count_column="members",
            dimensions=("year", "product_line", "partner_flag"),
            margins=(("year", "product_line"), ("year", "partner_flag")),
            build=_cost_summary,
        ),
        Dataset(
            "member_year_cost",
            "member_year_cost",
            "Member months, allowed and paid per member and year.",
            member_level=True,
            order_by=("year", "member_id", "payer"),
            period=("year", "year"),
            filters=dict(_MEMBER_FILTERS),
        ),
        Dataset(
            "leakage",
            "leakage",
            "Share of partner-attributed members' care kept inside the partner system.",
            member_level=False,
            order_by=("year", "dimension", "value"),
            period=("year", "year"),
            filters={"dimension": "dimension"},
            count_column="members",
            dimensions=("year", "dimension", "value"),
            margins=(("year", "dimension"),),
        ),
        Dataset(
            "leakage_destinations",
            "leakage_destinations",
            "Top out-of-system destinations of partner-attributed members' spend.",
            member_level=False,
            order_by=("year", "rank"),
            period=("year", "year"),
            count_column="members",
            dimensions=("year", "destination", "rank"),
            margins=(("year",),),
        ),
        Dataset(
            "quality_summary",
            "quality_summary",
            "Each quality measure's denominator, numerator, rate and interval by level.",
            member_level=False,
            order_by=("measure_id", "period", "level", "organization_id", "clinician_npi"),
            period=("period", "text"),
            filters={
                "measure": "measure_id",
                "level": "level",
                "organization": "organization_id",
            },
            count_column="members",
            dimensions=(
                "measure_id",
                "period",
                "period_start",
                "period_end",
                "level",
                "organization_id",
                "clinician_npi",
                "margin_group",
            ),
            margins=(("measure_id", "period", "level", "margin_group"),),
            build=_quality_summary,
        ),
        Dataset(
            "quality_composite",
            "quality_composite",
            "Composite quality score (0-100) per period, in total and by organization.",
            member_level=False,
            order_by=("period", "level", "organization_id"),
            period=("period", "text"),
            filters={"level": "level", "organization": "organization_id"},
        ),
        Dataset(
            "sdoh_summary",
            "sdoh_summary",
            "Social-needs screening: rate, positive rate by domain, referral rate, members with "
            "needs, by period and organization.",
            member_level=False,
            order_by=("period", "level", "organization_id", "domain"),
            period=("period", "text"),
            filters={"level": "level", "organization": "organization_id", "domain": "domain"},
            count_column="screened_members",
            dimensions=("period", "level", "organization_id", "domain"),
        ),
        Dataset(
            "experience_summary",
            "experience_summary",
            "Patient-experience survey mean and top-box share by item and organization.",
            member_level=False,
            order_by=("period", "level", "organization_id", "instrument", "item"),
            period=("period", "text"),
            filters={"level": "level", "organization": "organization_id", "item": "item"},
            count_column="respondents",
            dimensions=("period", "level", "organization_id", "instrument", "item"),
        ),
        Dataset(
            "opioid_taper",
            "opioid_taper",
            "Opioid tapering outcomes of long-term high-dose patients, program vs not.",
            member_level=False,
            order_by=("group",),
            count_column="members",
            dimensions=("group",),
        ),
        Dataset(
            "provider_segmentation",
            "provider_segmentation",
            "Provider organizations scored on size, cost management and value-based disposition, "
            "with tier and recommended partnership depth.",
            member_level=False,
            order_by=("rank", "organization_id"),
            period=("year", "year"),
            filters={"organization": "organization_id", "tier": "tier"},
            count_column="attributed_lives",
            dimensions=("organization_id", "year"),
        ),
        Dataset(
            "care_worklist",
            "care_worklist",
            "Care-management worklists: members to call and why, in priority order.",
            member_level=True,
            order_by=("worklist", "priority", "member_id"),
            period=("year", "year"),
            filters={
                "worklist": "worklist",
                "organization": "organization_id",
                "payer": "payer",
                "member_id": "member_id",
            },
        ),
        Dataset(
            "quality_care_gaps",
            "quality_care_gaps",
            "Open care gaps: members in a measure's denominator without the numerator event.",
            member_level=True,
            order_by=("measure_id", "period", "member_id", "event_id"),
            period=("period", "text"),
            filters={
                "measure": "measure_id",
                "organization": "organization_id",
                "payer": "payer",
                "member_id": "member_id",
            },
        ),
    )
}
