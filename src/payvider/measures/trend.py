"""Cost trend against the market, and what the difference is worth in dollars.

For each population scope and year: medical allowed PMPM (pharmacy excluded, as the market
benchmark is medical), the scope's average risk score, and the risk-adjusted PMPM (PMPM ÷ risk).
The market side is ``market_benchmark`` weighted to the scope's own product-line mix month by
month, so a scope that shifts toward Medicare Advantage is not mistaken for one whose costs grow.

Trend is the year-over-year change of risk-adjusted PMPM; ``trend_difference_points`` is the
scope's trend minus the market's, in percentage points. The dollars: had the scope's risk-adjusted
PMPM grown from the first year at the market's trend, its cost in year Y would have been
``expected_allowed = ra_pmpm(first) × market_ra(Y) / market_ra(first) × risk(Y) × member_months(Y)``;
``savings_vs_market = expected_allowed − allowed`` and ``cumulative_savings_vs_market`` adds the years
up ("6 points below the metro trend = $40M over ten years").
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from payvider.engine.backends import materialize
from payvider.marts.arith import count_sum, money_sum, ratio
from payvider.marts.month_lookup import (
    attributed_member_years,
    can_look_up_months,
    changing_member_months,
    spread_over_months,
)
from payvider.measures.cost import (
    MEMBER_MONTH_ATTRIBUTES,
    MONTH_KEY,
    attributed_member_months,
    costs_with_member_months,
)
from payvider.population.scopes import Scope, in_scope

#: Exact type for risk scores and market figures while they are summed over member months.
RISK = "decimal(18, 6)"
#: Their sums over member months (and a member-year's months).
RISK_SUM = "decimal(38, 6)"


def market_by_month(market_benchmark: ir.Table, region: str | None = None) -> ir.Table:
    """Market PMPM and risk per month × product line (mean over regions when none is named)."""
    b = market_benchmark
    if region is not None:
        b = b.filter(b.region == region)
    g = b.group_by(["month", "product_line"]).aggregate(
        _pmpm=money_sum(b.pmpm),
        _risk=b.average_risk_score.cast(RISK).sum(),
        _n=b.count().cast("int64"),
    )
    return g.select(
        "month",
        "product_line",
        market_pmpm=(g._pmpm / g._n).cast(RISK),
        market_risk=(g._risk / g._n).cast(RISK),
    )


def trend_member_months(
    member_months: ir.Table,
    attribution: ir.Table,
    market_benchmark: ir.Table,
    risk_scores: ir.Table | None = None,
    region: str | None = None,
) -> ir.Table:
    """Member months with what a trend adds up over them: the member's risk score of the year
    (``_risk``; 1 without scores) and the market PMPM and risk of the month's product line."""
    mm = attributed_member_months(member_months, attribution, ("product_line", "zip_code"))
    # view(): a relation boundary, so the computed year can be a join key (Ibis join chains
    # accept only plain columns in their predicates).
    mm = mm.select(*MONTH_KEY, *MEMBER_MONTH_ATTRIBUTES, year=mm.month.year().cast("int64")).view()
    if risk_scores is not None:
        r = risk_scores.select(
            "member_id", "payer", "year", _risk=risk_scores.risk_score.cast(RISK)
        )
        mm = (
            mm.left_join(r, [mm.member_id == r.member_id, mm.payer == r.payer, mm.year == r.year])
            .select(*[mm[c] for c in mm.columns], r._risk)
            .view()
        )
    else:  # no scores: every member month counts at risk 1
        mm = mm.mutate(_risk=ibis.literal(1).cast(RISK))
    market = market_by_month(market_benchmark, region)
    j = mm.left_join(market, [mm.month == market.month, mm.product_line == market.product_line])
    return j.select(*[mm[c] for c in mm.columns], market.market_pmpm, market.market_risk)


def weighted_months(months: ir.Table) -> ir.Table:
    """Rows of :func:`trend_member_months` as the weighted rows a trend adds up: each counts one
    month (``_months``) and carries its risk and market figures as sums."""
    return months.select(
        "member_id",
        "year",
        "month",
        *MEMBER_MONTH_ATTRIBUTES,
        _months=ibis.literal(1).cast("int64"),
        _risk_sum=months._risk.cast(RISK_SUM),
        _risk_months=ibis.ifelse(months._risk.notnull(), 1, 0).cast("int64"),
        _market_pmpm_sum=months.market_pmpm.cast(RISK_SUM),
        _market_risk_sum=months.market_risk.cast(RISK_SUM),
        _market_months=ibis.ifelse(months.market_pmpm.notnull(), 1, 0).cast("int64"),
    )


def trend_member_years(
    member_years: ir.Table,
    member_months: ir.Table,
    attribution: ir.Table,
    market_benchmark: ir.Table,
    risk_scores: ir.Table | None = None,
    region: str | None = None,
) -> ir.Table:
    """The weighted rows of :func:`weighted_months`, a member-year at a time where its product
    line and ZIP code never change (``attributes_constant``): the year's months, its risk score
    times its months, and the market figures of its enrolled months added up. The sums are those
    of the months (exact decimals), from a tenth of the rows; member-years whose attributes
    change keep a row per month. Scopes that end or start within a year need the months.
    """
    ya = attributed_member_years(member_years, attribution)
    ya = ya.filter(ya.attributes_constant)
    ya = ya.select(
        "member_id",
        "payer",
        "year",
        "member_months",
        "month_mask",
        *MEMBER_MONTH_ATTRIBUTES,
    )
    if risk_scores is not None:
        r = risk_scores.select(
            "member_id", "payer", "year", _risk=risk_scores.risk_score.cast(RISK)
        )
        ya = ya.left_join(r, ["member_id", "payer", "year"])
    else:
        ya = ya.mutate(_risk=ibis.literal(1).cast(RISK))
    # the market over each distinct year, product line and set of enrolled months (few)
    cm = spread_over_months(ya.select("year", "product_line", "month_mask").distinct())
    market = market_by_month(market_benchmark, region)
    cmk = cm.left_join(market, ["month", "product_line"])
    sums = cmk.group_by(["year", "product_line", "month_mask"]).aggregate(
        _market_pmpm_sum=cmk.market_pmpm.sum(),
        _market_risk_sum=cmk.market_risk.sum(),
        _market_months=count_sum(ibis.ifelse(cmk.market_pmpm.notnull(), 1, 0)),
    )
    j = ya.left_join(sums, ["year", "product_line", "month_mask"])
    n = j.member_months.cast("int64")
    years = j.select(
        "member_id",
        "year",
        month=ibis.null().cast("date"),
        product_line=j.product_line,
        zip_code=j.zip_code,
        organization_id=j.organization_id,
        partner_flag=j.partner_flag,
        _months=n,
        _risk_sum=(j._risk * n).cast(RISK_SUM),
        _risk_months=ibis.ifelse(j._risk.notnull(), n, 0).cast("int64"),
        _market_pmpm_sum=j._market_pmpm_sum.cast(RISK_SUM),
        _market_risk_sum=j._market_risk_sum.cast(RISK_SUM),
        _market_months=j._market_months.fill_null(0).cast("int64"),
    )
    mm = changing_member_months(member_years, member_months)
    months = weighted_months(
        trend_member_months(mm, attribution, market_benchmark, risk_scores, region)
    )
    return years.union(months.select(*years.columns), distinct=False)


def scope_trend(
    scope: Scope,
    member_month_cost: ir.Table,
    member_months: ir.Table,
    attribution: ir.Table,
    market_benchmark: ir.Table,
    risk_scores: ir.Table | None = None,
    region: str | None = None,
    months: ir.Table | None = None,
) -> ir.Table:
    """One row per year of ``scope``: PMPM, risk, market, trend and dollars versus the market.

    ``risk_scores`` has one row per member × payer × year (one model) with ``risk_score``; without
    it every member month counts at risk 1 and the adjusted figures equal the unadjusted ones.
    ``months`` is :func:`weighted_months` of :func:`trend_member_months` (or
    :func:`trend_member_years`) when already computed (several scopes share it).
    Member months and dollars are added up on their own and meet per year: the dollars of a scope
    are those of its enrolled member months, which ``member_month_cost`` rows carry.
    """
    if months is None:
        months = weighted_months(
            trend_member_months(member_months, attribution, market_benchmark, risk_scores, region)
        )
    j = in_scope(months, scope)
    m = j.group_by("year").aggregate(
        members=j.member_id.nunique().cast("int64"),
        member_months=count_sum(j._months),
        risk_sum=j._risk_sum.sum(),
        risk_months=count_sum(j._risk_months),
        market_pmpm_sum=j._market_pmpm_sum.sum(),
        market_risk_sum=j._market_risk_sum.sum(),
        market_months=count_sum(j._market_months),
    )
    c = costs_with_member_months(member_month_cost, member_months, attribution)
    c = in_scope(c.filter(c.enrolled & (c.service_category_1 != "pharmacy")), scope)
    spend = c.group_by("year").aggregate(
        allowed=money_sum(c.allowed_amount), paid=money_sum(c.paid_amount)
    )
    y = m.left_join(spend, "year")
    zero = ibis.literal(0).cast(spend.allowed.type())
    y = y.select(
        *[y[col] for col in m.columns],
        allowed_amount=y.allowed.fill_null(zero),
        paid_amount=y.paid.fill_null(zero),
    )
    y = y.mutate(
        scope=ibis.literal(scope.name),
        pmpm=ratio(y.allowed_amount, y.member_months),
        paid_pmpm=ratio(y.paid_amount, y.member_months),
        risk_score=ibis.ifelse(y.risk_months > 0, ratio(y.risk_sum, y.risk_months), 1.0),
        market_pmpm=ratio(y.market_pmpm_sum, y.market_months),
        market_risk_score=ratio(y.market_risk_sum, y.market_months),
    )
    y = y.mutate(
        risk_adjusted_pmpm=ratio(y.pmpm, y.risk_score),
        market_risk_adjusted_pmpm=ratio(y.market_pmpm, y.market_risk_score.fill_null(1.0)),
    )
    w = ibis.window(order_by=y.year)
    whole = ibis.window(order_by=y.year, preceding=None, following=None)
    y = y.mutate(
        unadjusted_trend=ratio(y.pmpm, y.pmpm.lag().over(w)) - 1,
        trend=ratio(y.risk_adjusted_pmpm, y.risk_adjusted_pmpm.lag().over(w)) - 1,
        market_trend=ratio(y.market_risk_adjusted_pmpm, y.market_risk_adjusted_pmpm.lag().over(w))
        - 1,
        _base_ra=y.risk_adjusted_pmpm.first().over(whole),
        _base_market_ra=y.market_risk_adjusted_pmpm.first().over(whole),
    )
    expected = (
        y._base_ra
        * y.market_risk_adjusted_pmpm
        / y._base_market_ra
        * y.risk_score
        * y.member_months
    ).cast("decimal(38, 2)")
    y = y.mutate(
        trend_difference_points=(y.trend - y.market_trend) * 100,
        expected_allowed_at_market_trend=expected,
        savings_vs_market=(expected - y.allowed_amount).cast("decimal(38, 2)"),
    )
    y = y.mutate(
        cumulative_savings_vs_market=y.savings_vs_market.sum()
        .over(ibis.cumulative_window(order_by=y.year))
        .cast("decimal(38, 2)")
    )
    return y.select(
        "scope",
        "year",
        "members",
        "member_months",
        "allowed_amount",
        "pmpm",
        "paid_amount",
        "paid_pmpm",
        "risk_score",
        "risk_adjusted_pmpm",
        "market_pmpm",
        "market_risk_score",
        "market_risk_adjusted_pmpm",
        "unadjusted_trend",
        "trend",
        "market_trend",
        "trend_difference_points",
        "expected_allowed_at_market_trend",
        "savings_vs_market",
        "cumulative_savings_vs_market",
    )


def cost_trend(
    scopes: list[Scope],
    member_month_cost: ir.Table,
    member_months: ir.Table,
    attribution: ir.Table,
    market_benchmark: ir.Table,
    risk_scores: ir.Table | None = None,
    region: str | None = None,
    member_years: ir.Table | None = None,
) -> ir.Table:
    """:func:`scope_trend` for several scopes, stacked (their member months computed once, by
    member-year with ``member_years`` when no scope starts or ends within a year)."""
    whole_years = not any(s.start or s.end for s in scopes)
    if whole_years and can_look_up_months(member_years):
        months = trend_member_years(
            member_years, member_months, attribution, market_benchmark, risk_scores, region
        )
    else:
        months = weighted_months(
            trend_member_months(member_months, attribution, market_benchmark, risk_scores, region)
        )
    if len(scopes) > 1:
        months = materialize(months)
    parts = [
        scope_trend(
            s,
            member_month_cost,
            member_months,
            attribution,
            market_benchmark,
            risk_scores,
            region,
            months=months,
        )
        for s in scopes
    ]
    return ibis.union(*parts, distinct=False).order_by(["scope", "year"])
