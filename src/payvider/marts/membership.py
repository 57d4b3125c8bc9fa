"""Membership over time: members, member months and attribution by month and product line, and
how attribution changed between periods ("how many members are getting their care from us")."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir


def membership_by_month(member_months: ir.Table, attribution: ir.Table) -> ir.Table:
    """Grain: month × product line. Attribution of a month is that of its performance year."""
    mm = member_months.mutate(period=member_months.month.year().cast("int64"))
    a = attribution.select(
        "period", "member_id", "payer", "rule", "partner_flag", a_org="organization_id"
    )
    j = mm.left_join(a, ["period", "member_id", "payer"])
    attributed = j.rule.notnull() & (j.rule != "unattributed")
    partner = attributed & j.partner_flag.fill_null(False)
    out = j.group_by(["month", "product_line"]).aggregate(
        members=j.member_id.nunique(),
        member_months=j.count(),
        attributed_members=ibis.ifelse(attributed, j.member_id, None).nunique(),
        partner_attributed_members=ibis.ifelse(partner, j.member_id, None).nunique(),
    )
    return out.mutate(
        partner_attributed_share=(
            out.partner_attributed_members.cast("float64") / out.members.cast("float64")
        ).round(6)
    ).order_by(["month", "product_line"])


def attribution_churn(attribution: ir.Table) -> ir.Table:
    """Members by how their attribution changed from the previous period to this one.

    ``status``: stayed (same organization), switched (another organization), newly_attributed,
    no_longer_attributed. ``partner_before`` / ``partner_after`` tell moves into and out of the
    partner system.
    """
    a = attribution.filter(attribution.rule != "unattributed").select(
        "period", "member_id", "payer", "organization_id", "partner_flag"
    )
    cur = a.select(
        period=a.period,
        member_id=a.member_id,
        payer=a.payer,
        org_after=a.organization_id,
        partner_after=a.partner_flag,
    )
    prev = a.select(
        period=a.period + 1,
        member_id=a.member_id,
        payer=a.payer,
        org_before=a.organization_id,
        partner_before=a.partner_flag,
    )
    periods = attribution.select("period").distinct()
    prev = prev.semi_join(periods, "period")
    first_period = periods.aggregate(p0=periods.period.min())
    cur = cur.cross_join(first_period).filter(lambda t: t.period > t.p0).drop("p0")
    j = cur.outer_join(prev, ["period", "member_id", "payer"])
    period = j.period.fill_null(j.period_right)
    status = ibis.cases(
        (j.org_before.isnull(), "newly_attributed"),
        (j.org_after.isnull(), "no_longer_attributed"),
        (j.org_before == j.org_after, "stayed"),
        else_="switched",
    )
    rows = j.select(
        period=period,
        status=status,
        partner_before=j.partner_before.fill_null(False),
        partner_after=j.partner_after.fill_null(False),
    )
    return (
        rows.group_by(["period", "status", "partner_before", "partner_after"])
        .aggregate(members=rows.count())
        .order_by(["period", "status", "partner_before", "partner_after"])
    )


def attribution_summary(attribution: ir.Table) -> ir.Table:
    """Members by period and deciding rule, with their share of the period's eligible members
    and how many went to the partner system."""
    a = attribution
    by_rule = a.group_by(["period", "rule"]).aggregate(
        members=a.count(),
        partner_members=a.partner_flag.fill_null(False).cast("int64").sum(),
    )
    totals = a.group_by("period").aggregate(eligible=a.count())
    j = by_rule.inner_join(totals, "period")
    return j.select(
        "period",
        "rule",
        "members",
        "partner_members",
        share=(j.members.cast("float64") / j.eligible.cast("float64")).round(4),
    ).order_by(["period", "rule"])
