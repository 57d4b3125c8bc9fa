"""Leakage: how much of the care of the partner system's attributed members the system delivers.

For members attributed to the partner health system in a year, every medical claim line of that
year (pharmacy excluded: retail fills are not care the system can keep) is in the system when the
organization that billed it (billing NPI, else facility, else rendering) is in the partner network
per the roster. ``leakage`` gives the in-system share of allowed dollars and of visits, in total,
by service category and by specialty; ``leakage_destinations`` ranks where the rest goes.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from payvider.marts.arith import count_sum, money_sum, ratio
from payvider.marts.month_lookup import can_look_up_months, month_attributes
from payvider.measures.cost import MONTH_KEY, attributed_member_months

TOP_DESTINATIONS = 25


def partner_member_lines(
    claims_enriched: ir.Table,
    member_months: ir.Table,
    attribution: ir.Table,
    member_years: ir.Table | None = None,
) -> ir.Table:
    """Medical lines of enrolled months of members attributed to the partner system (with
    ``member_years``, the months are looked up there)."""
    if can_look_up_months(member_years):
        c = claims_enriched.filter(claims_enriched.service_category_1 != "pharmacy")
        j = month_attributes(c, member_years, member_months, attribution, (), "service_month")
        return j.filter(j.enrolled & j.partner_flag).select(*c.columns)
    mm = attributed_member_months(member_months, attribution, ())
    mm = mm.filter(mm.partner_flag).select(*MONTH_KEY)
    c = claims_enriched.filter(claims_enriched.service_category_1 != "pharmacy")
    return c.inner_join(
        mm, [c.member_id == mm.member_id, c.payer == mm.payer, c.service_month == mm.month]
    )


def _shares(t: ir.Table, dimension: str, value: ir.StringValue) -> ir.Table:
    zero = ibis.literal(0).cast(t.allowed_amount.type())
    inside = t.in_partner_system
    g = t.group_by(year=t.year, value=value).aggregate(
        members=t.member_id.nunique().cast("int64"),
        allowed_amount=money_sum(t.allowed_amount),
        in_system_allowed=money_sum(ibis.ifelse(inside, t.allowed_amount, zero)),
        visit_lines=count_sum(t.is_visit.cast("int64")),
        in_system_visit_lines=count_sum((t.is_visit & inside).cast("int64")),
    )
    return g.select(
        "year",
        dimension=ibis.literal(dimension),
        value=g.value,
        members=g.members,
        allowed_amount=g.allowed_amount,
        in_system_allowed=g.in_system_allowed,
        out_of_system_allowed=(g.allowed_amount - g.in_system_allowed).cast("decimal(38, 2)"),
        in_system_share=ratio(g.in_system_allowed, g.allowed_amount),
        visits=g.visit_lines.cast("int64"),
        in_system_visits=g.in_system_visit_lines.cast("int64"),
        in_system_visit_share=ratio(g.in_system_visit_lines, g.visit_lines),
    )


def leakage(
    claims_enriched: ir.Table,
    member_months: ir.Table,
    attribution: ir.Table,
    member_years: ir.Table | None = None,
) -> ir.Table:
    """In-system shares by year: total, by service category and by specialty."""
    t = partner_member_lines(claims_enriched, member_months, attribution, member_years)
    parts = [
        _shares(t, "total", ibis.literal("all")),
        _shares(t, "service_category", t.service_category),
        _shares(t, "specialty", t.specialty.fill_null("unknown")),
    ]
    return ibis.union(*parts, distinct=False)


def leakage_destinations(
    claims_enriched: ir.Table,
    member_months: ir.Table,
    attribution: ir.Table,
    top: int = TOP_DESTINATIONS,
    member_years: ir.Table | None = None,
) -> ir.Table:
    """Top out-of-system destinations by allowed dollars per year: health system, else the
    billing organization (TIN) of independents."""
    t = partner_member_lines(claims_enriched, member_months, attribution, member_years)
    t = t.filter(~t.in_partner_system)
    destination = t.health_system.fill_null(
        ibis.literal("independent: ").concat(
            t.provider_name.fill_null(t.provider_tin.fill_null("?"))
        )
    )
    g = t.group_by(year=t.year, destination=destination).aggregate(
        allowed_amount=money_sum(t.allowed_amount),
        members=t.member_id.nunique().cast("int64"),
        lines=t.count().cast("int64"),
    )
    total = g.allowed_amount.sum().over(ibis.window(group_by=g.year))
    rank = ibis.row_number().over(
        ibis.window(group_by=g.year, order_by=[g.allowed_amount.desc(), g.destination])
    )
    g = g.mutate(
        rank=(rank + 1).cast("int64"),
        share_of_leakage=ratio(g.allowed_amount, total),
    )
    return g.filter(g.rank <= top).order_by(["year", "rank"])
