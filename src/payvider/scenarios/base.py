"""The base of a scenario: the settled population in the run's years, as Ibis expressions.

A projection starts from the run's last complete year (every month of the year has member
months). The population is the members of ``member_year_cost`` in the chosen scope; each member
carries a bootstrap stratum (product line × risk tertile of the year's CMS-HCC score), so that
Monte Carlo resamples a book with the same product and risk mix.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from payvider.marts.arith import count_sum, money_sum

EXPENDITURE_COLUMNS = {
    "medical_allowed": "medical_allowed_amount",
    "allowed": "allowed_amount",
    "paid": "paid_amount",
}


def complete_years(member_months: ir.Table) -> ir.Table:
    """Years whose twelve months all have member months (one row per year)."""
    mm = member_months
    months = mm.select(year=mm.month.year().cast("int64"), month=mm.month).distinct()
    per = months.group_by("year").aggregate(months=months.count().cast("int64"))
    return per.filter(per.months == 12).select("year")


def in_population(member_year_cost: ir.Table, population: str) -> ir.BooleanValue:
    """Row filter of a population name: partner_attributed, all, or organization:<id>."""
    t = member_year_cost
    if population == "all":
        return ibis.literal(True)
    if population == "partner_attributed":
        return t.partner_flag.fill_null(False)
    if population.startswith("organization:"):
        return t.organization_id == population.removeprefix("organization:")
    raise ValueError(f"unknown population {population!r}")


def population_members(
    member_year_cost: ir.Table,
    risk_score: ir.Table | None,
    year: int,
    population: str,
    expenditure: str = "medical_allowed",
    risk_model: str = "V28",
) -> ir.Table:
    """One row per member × payer of ``population`` in ``year``: member months, expenditure,
    risk score and bootstrap stratum (``product_line/risk band``, band 1-3 by tertile, or
    ``unscored``)."""
    t = member_year_cost
    t = t.filter((t.year == year) & in_population(t, population))
    t = t.select(
        "member_id",
        "payer",
        "product_line",
        "member_months",
        expenditure=t[EXPENDITURE_COLUMNS[expenditure]],
    )
    if risk_score is not None:
        r = risk_score.filter((risk_score.year == year) & (risk_score.model == risk_model))
        r = r.select("member_id", "payer", _risk=r.risk_score)
        t = t.left_join(r, ["member_id", "payer"]).select(*t.columns, "_risk")
    else:
        t = t.mutate(_risk=ibis.null().cast("float64"))
    scored = t.filter(t._risk.notnull())
    w = ibis.window(group_by=scored.product_line, order_by=[scored._risk, scored.member_id])
    scored = scored.mutate(_band=(ibis.ntile(3).over(w) + 1).cast("string"))
    unscored = t.filter(t._risk.isnull()).mutate(_band=ibis.literal("unscored"))
    both = scored.union(unscored.select(*scored.columns), distinct=False)
    return both.select(
        "member_id",
        "payer",
        "product_line",
        "member_months",
        "expenditure",
        risk_score=both._risk,
        stratum=both.product_line.fill_null("unknown") + "/" + both._band,
    )


def population_by_year(
    member_year_cost: ir.Table, population: str, expenditure: str = "medical_allowed"
) -> ir.Table:
    """Members, member months and expenditure of the population per year and product line,
    with the whole book's members beside them (for the attribution share)."""
    t = member_year_cost
    col = t[EXPENDITURE_COLUMNS[expenditure]]
    inside = in_population(t, population)
    zero = ibis.literal(0).cast(col.type())
    return t.group_by(["year", "product_line"]).aggregate(
        members=count_sum(ibis.ifelse(inside, 1, 0)),
        member_months=count_sum(ibis.ifelse(inside, t.member_months, 0)),
        expenditure=money_sum(ibis.ifelse(inside, col, zero)),
        book_members=t.count().cast("int64"),
    )


def market_by_year(market_benchmark: ir.Table) -> ir.Table:
    """Market PMPM per year and product line: the mean over regions and months."""
    b = market_benchmark
    g = b.group_by(year=b.month.year().cast("int64"), product_line=b.product_line).aggregate(
        _pmpm=money_sum(b.pmpm), _n=b.count().cast("int64")
    )
    return g.select("year", "product_line", market_pmpm=(g._pmpm / g._n).cast("decimal(18, 6)"))
