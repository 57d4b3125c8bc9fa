"""Total cost of care: PMPM by month, product line, attributed organization and service category;
member-year costs (the base of settlements); and the reconciliation that accounts for every dollar.

The denominator of every PMPM is member months; a claim line counts in the member month of its
service date (member, payer, month). Lines with no member month (service outside enrollment) are
not in any PMPM and are reported in ``cost_reconciliation`` with their dollars, never dropped
silently. Attribution of a month is that of its performance year; members with no attribution
count under ``organization_id = 'unattributed'``.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from payvider.marts.arith import count_sum, money_sum, ratio
from payvider.marts.month_lookup import (
    attributed_member_years,
    attributed_month_counts,
    attributed_to,
    can_look_up_months,
    month_attributes,
)
from payvider.population.scopes import BUILTIN_SCOPES, Scope, in_scope, scope_member_months

ALL = "all"
MONTH_KEY = ("member_id", "payer", "month")


def attributed_member_months(
    member_months: ir.Table, attribution: ir.Table, columns: tuple[str, ...] | None = None
) -> ir.Table:
    """Member months with the member's attribution in that year (``unattributed`` when none).

    ``columns``: only these columns of ``member_months`` (besides member, payer and month) go
    through the join, which is far cheaper on 24 million member months than carrying all of them.
    """
    if columns is not None:
        member_months = member_months.select(
            *MONTH_KEY, *[c for c in columns if c not in MONTH_KEY]
        )
    mm = scope_member_months(member_months, attribution, BUILTIN_SCOPES[ALL])
    keep = [c for c in member_months.columns if c in mm.columns]
    return mm.select(*keep, **attributed_to(mm))


#: What ``member_month_cost`` carries of its member month (null outside enrollment).
MEMBER_MONTH_ATTRIBUTES = ("product_line", "zip_code", "organization_id", "partner_flag")


def member_month_costs(
    claims_enriched: ir.Table,
    member_months: ir.Table | None = None,
    attribution: ir.Table | None = None,
    member_years: ir.Table | None = None,
) -> ir.Table:
    """Allowed and paid per member × payer × month × service category × in/out of the partner
    system: the run's ``member_month_cost`` table, which PMPM, member-year cost, reconciliation and
    trend read instead of the claim lines (on the generated book, 23 million rows for 40 million
    lines).

    With ``member_months`` and ``attribution``, each row also carries its member month: whether the
    member was ``enrolled`` then, and the month's product line, ZIP code and attribution (as
    :func:`attributed_member_months` gives them). The join is made here once, so the tables built
    on costs aggregate this one without joining 23 million rows to 24 million member months again.
    With ``member_years`` the months are looked up in the member-years (:func:`month_attributes`).
    """
    c = claims_enriched
    # A third of the months at a time (and lines without a month on their own): every group
    # falls in one part, and the hash table of 23 million groups is a third of its size at
    # about the same speed (peak memory 5.3 → 3.4 GB for the aggregate at 1,000,000 members).
    month = c.service_month.month()
    parts = [c.filter(month % MONTH_PARTS == i) for i in range(MONTH_PARTS)]
    parts.append(c.filter(c.service_month.isnull()))
    costs = ibis.union(*[_line_costs(part) for part in parts], distinct=False)
    if member_months is None or attribution is None:
        return costs
    return with_member_month(costs, member_months, attribution, member_years)


#: Parts of the year ``member_month_costs`` aggregates one at a time (months m with m % 3 = i).
MONTH_PARTS = 3


def _line_costs(c: ir.Table) -> ir.Table:
    return c.group_by(
        member_id=c.member_id,
        payer=c.payer,
        month=c.service_month,
        service_category_1=c.service_category_1,
        service_category=c.service_category,
        in_partner_system=c.in_partner_system,
    ).aggregate(
        lines=c.count().cast("int64"),
        visit_lines=c.is_visit.cast("int64").sum().cast("int64"),
        allowed_amount=money_sum(c.allowed_amount),
        paid_amount=money_sum(c.paid_amount),
    )


def with_member_month(
    costs: ir.Table,
    member_months: ir.Table,
    attribution: ir.Table,
    member_years: ir.Table | None = None,
) -> ir.Table:
    """Cost rows (keyed by member, payer, month) with ``year``, ``enrolled`` and
    :data:`MEMBER_MONTH_ATTRIBUTES` of their member month. Member months are unique per key, so
    the join never multiplies a row."""
    if can_look_up_months(member_years):
        j = month_attributes(costs, member_years, member_months, attribution)
        return j.select(
            *costs.columns,
            year=j.month.year().cast("int64"),
            enrolled=j.enrolled,
            **{a: j[a] for a in MEMBER_MONTH_ATTRIBUTES},
        )
    mm = attributed_member_months(member_months, attribution, ("product_line", "zip_code"))
    mm = mm.select(*MONTH_KEY, *MEMBER_MONTH_ATTRIBUTES, _enrolled=ibis.literal(True))
    j = costs.left_join(mm, list(MONTH_KEY))
    return j.select(
        *costs.columns,
        year=j.month.year().cast("int64"),
        enrolled=j._enrolled.fill_null(False),
        **{a: j[a] for a in MEMBER_MONTH_ATTRIBUTES},
    )


def costs_with_member_months(
    member_month_cost: ir.Table, member_months: ir.Table, attribution: ir.Table
) -> ir.Table:
    """``member_month_cost`` with its member months' attributes (joined when a table made without
    them is given, e.g. by an earlier run)."""
    if "enrolled" in member_month_cost.columns:
        return member_month_cost
    return with_member_month(member_month_cost, member_months, attribution)


def cost_pmpm(
    member_month_cost: ir.Table,
    member_months: ir.Table,
    attribution: ir.Table,
    member_years: ir.Table | None = None,
) -> ir.Table:
    """PMPM by month × product line × attributed organization × service category.

    Each cell also has a row with ``service_category = 'all'`` (total cost of care), so cells with
    member months but no claims still appear. ``member_months`` is the cell's denominator, the same
    on every category row of the cell (counted in ``member_years`` when given).
    """
    cell = ["month", "product_line", "organization_id", "partner_flag"]
    if can_look_up_months(member_years):
        denominators = attributed_month_counts(member_years, member_months, attribution)
        denominators = denominators.select(*cell, "member_months")
    else:
        mm = attributed_member_months(member_months, attribution, ("product_line",))
        denominators = mm.group_by(cell).aggregate(member_months=mm.count().cast("int64"))
    costs = costs_with_member_months(member_month_cost, member_months, attribution)
    return pmpm_by_category(denominators, costs.filter(costs.enrolled), cell)


def pmpm_by_category(denominators: ir.Table, costs: ir.Table, cell: list[str]) -> ir.Table:
    """Allowed and paid PMPM of each ``cell`` by service category, plus its total.

    ``denominators``: member months per cell; ``costs``: cost rows of enrolled months with the
    cell's columns. Each cell gets a ``service_category = 'all'`` row adding up its categories
    (exact decimals), so cells with member months but no claims still appear.
    """
    by_category = costs.group_by([*cell, "service_category_1", "service_category"]).aggregate(
        allowed_amount=money_sum(costs.allowed_amount), paid_amount=money_sum(costs.paid_amount)
    )
    totals = by_category.group_by(cell).aggregate(
        service_category_1=ibis.literal(ALL),
        service_category=ibis.literal(ALL),
        allowed_amount=money_sum(by_category.allowed_amount),
        paid_amount=money_sum(by_category.paid_amount),
    )
    amounts = by_category.union(totals.select(*by_category.columns), distinct=False)
    zero = ibis.literal(0).cast(amounts.allowed_amount.type())
    out = denominators.left_join(amounts, cell)
    out = out.select(
        *[out[c] for c in cell],
        service_category_1=out.service_category_1.fill_null(ALL),
        service_category=out.service_category.fill_null(ALL),
        member_months=out.member_months,
        allowed_amount=out.allowed_amount.fill_null(zero),
        paid_amount=out.paid_amount.fill_null(zero),
    )
    return out.mutate(
        allowed_pmpm=ratio(out.allowed_amount, out.member_months),
        paid_pmpm=ratio(out.paid_amount, out.member_months),
    )


def scope_pmpm(
    member_month_cost: ir.Table,
    member_months: ir.Table,
    attribution: ir.Table,
    member_years: ir.Table | None = None,
    scopes: list[Scope] | None = None,
    cost_pmpm: ir.Table | None = None,
) -> ir.Table:
    """PMPM by scope × month × service category (the built-in scopes unless ``scopes``).

    A scope selects member months by product line, ZIP code, attribution and dates
    (:mod:`payvider.population.scopes`). Each scope and month has a ``service_category = 'all'``
    row (total cost of care, pharmacy included, as in ``cost_pmpm``); ``member_months`` is the
    scope's count that month, the same on every category row.

    ``cost_pmpm`` (the run's table), when given, serves the scopes that do not select by ZIP
    code: its cells (month × product line × attributed organization) add up to them exactly, so
    only ZIP-code scopes read the member-month costs.
    """
    scopes = list(BUILTIN_SCOPES.values()) if scopes is None else scopes
    by_zip = [s for s in scopes if s.zip_codes or cost_pmpm is None]
    parts = {s.name: _scope_pmpm_from_cells(cost_pmpm, s) for s in scopes if s not in by_zip}
    if by_zip:
        cells, costs = _scope_cells(member_month_cost, member_months, attribution, member_years)
        for scope in by_zip:
            months = in_scope(cells, scope)
            months = months.group_by("month").aggregate(
                member_months=count_sum(months.member_months)
            )
            parts[scope.name] = _named(
                pmpm_by_category(months, in_scope(costs, scope), ["month"]), scope
            )
    return ibis.union(*[parts[s.name] for s in scopes], distinct=False)


def _scope_cells(
    member_month_cost: ir.Table,
    member_months: ir.Table,
    attribution: ir.Table,
    member_years: ir.Table | None,
) -> tuple[ir.Table, ir.Table]:
    """Member months by month × product line × ZIP code × attribution, and the cost rows of
    enrolled months: what any scope selects from."""
    columns = ("product_line", "zip_code")
    if can_look_up_months(member_years):
        cells = attributed_month_counts(member_years, member_months, attribution, columns)
    else:
        mm = attributed_member_months(member_months, attribution, columns)
        cells = mm.group_by(["month", *columns, "organization_id", "partner_flag"]).aggregate(
            member_months=mm.count().cast("int64")
        )
    costs = costs_with_member_months(member_month_cost, member_months, attribution)
    return cells, costs.filter(costs.enrolled)


def _scope_pmpm_from_cells(cost_pmpm: ir.Table, scope: Scope) -> ir.Table:
    """A scope without ZIP codes added up from ``cost_pmpm``'s cells."""
    cells = in_scope(cost_pmpm, scope)
    totals = cells.filter(cells.service_category == ALL)
    months = totals.group_by("month").aggregate(member_months=count_sum(totals.member_months))
    costs = cells.filter(cells.service_category != ALL)
    return _named(pmpm_by_category(months, costs, ["month"]), scope)


def _named(rows: ir.Table, scope: Scope) -> ir.Table:
    rows = rows.mutate(scope=ibis.literal(scope.name))
    return rows.select("scope", *[c for c in rows.columns if c != "scope"])


def scope_pmpm_by_year(scope_pmpm: ir.Table) -> ir.Table:
    """``scope_pmpm`` added up by year: each category's allowed and paid over the scope's member
    months of the year (the ``all`` rows' member months). Also reads ``cost_pmpm`` given a
    ``scope`` column, whose ``all`` rows add up to every cell's member months."""
    t = scope_pmpm.mutate(year=scope_pmpm.month.year().cast("int64"))
    months = t.filter(t.service_category == ALL)
    months = months.group_by(["scope", "year"]).aggregate(
        member_months=count_sum(months.member_months)
    )
    amounts = t.group_by(["scope", "year", "service_category_1", "service_category"]).aggregate(
        allowed_amount=money_sum(t.allowed_amount), paid_amount=money_sum(t.paid_amount)
    )
    j = amounts.inner_join(months, ["scope", "year"])
    return j.select(
        "scope",
        "year",
        "service_category_1",
        "service_category",
        "member_months",
        "allowed_amount",
        "paid_amount",
        allowed_pmpm=ratio(j.allowed_amount, j.member_months),
        paid_pmpm=ratio(j.paid_amount, j.member_months),
    )


def member_year_cost(
    member_month_cost: ir.Table,
    member_months: ir.Table,
    attribution: ir.Table,
    member_years: ir.Table | None = None,
) -> ir.Table:
    """One row per member × payer × year: member months, allowed and paid by category group.

    The member's product line and attribution are those of their last month in the year. This is
    the table settlements and scenarios start from: each dollar in it traces to claim lines of
    ``claims_enriched`` through ``member_month_cost`` (member_id, payer, service month).

    ``member_years`` (the run's table of that name, from ``member_months``) gives the count and
    the latest month's product line without grouping the member months again.
    """
    if member_years is not None:
        counted = member_years.select("member_id", "payer", "year", "member_months", "product_line")
    else:
        mm = member_months.select(*MONTH_KEY, "product_line")
        mm = mm.mutate(year=mm.month.year().cast("int64"))
        # one pass: the count and the latest month's product line (one row per member and month)
        counted = mm.group_by(["member_id", "payer", "year"]).aggregate(
            member_months=mm.count().cast("int64"),
            product_line=mm.product_line.argmax(mm.month),
        )
    # attribution is per year, so the latest month's is the year's and joins the member-years
    months = attributed_member_years(counted, attribution)
    costs = costs_with_member_months(member_month_cost, member_months, attribution)
    j = costs.filter(costs.enrolled)
    groups = ("inpatient", "outpatient", "professional", "ancillary", "pharmacy")
    zero = ibis.literal(0).cast(costs.allowed_amount.type())
    amounts = j.group_by(["member_id", "payer", "year"]).aggregate(
        allowed_amount=money_sum(j.allowed_amount),
        paid_amount=money_sum(j.paid_amount),
        medical_allowed_amount=money_sum(
            ibis.ifelse(j.service_category_1 != "pharmacy", j.allowed_amount, zero)
        ),
        **{
            f"{g}_allowed_amount": money_sum(
                ibis.ifelse(j.service_category_1 == g, j.allowed_amount, zero)
            )
            for g in groups
        },
        lines=count_sum(j.lines),
    )
    out = months.left_join(amounts, ["member_id", "payer", "year"])
    money = ["allowed_amount", "paid_amount", "medical_allowed_amount"] + [
        f"{g}_allowed_amount" for g in groups
    ]
    return out.select(
        "member_id",
        "payer",
        "year",
        "product_line",
        "organization_id",
        "partner_flag",
        "member_months",
        *[out[m].fill_null(zero).name(m) for m in money],
        lines=out.lines.fill_null(0),
    )


def cost_reconciliation(member_month_cost: ir.Table, member_months: ir.Table) -> ir.Table:
    """Every final line and dollar: counted in a member month, or outside enrollment (and why)."""
    if "enrolled" in member_month_cost.columns:
        enrolled = member_month_cost.enrolled
        j = member_month_cost
    else:  # a table made without its member months: look them up
        c = member_month_cost
        months = member_months.select(*MONTH_KEY).mutate(_enrolled=ibis.literal(True))
        j = c.left_join(months, list(MONTH_KEY))
        enrolled = j._enrolled.fill_null(False)
    j = j.mutate(status=ibis.ifelse(enrolled, "in_member_month", "outside_enrollment"))
    return (
        j.group_by(["status", "service_category_1"])
        .aggregate(
            lines=count_sum(j.lines),
            members=j.member_id.nunique().cast("int64"),
            allowed_amount=money_sum(j.allowed_amount),
            paid_amount=money_sum(j.paid_amount),
        )
        .order_by(["status", "service_category_1"])
    )
