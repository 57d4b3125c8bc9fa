"""A member month's enrollment, product line, ZIP code and attribution, looked up in the
member-years.

Cost tables ask the same of every row they build: was the member enrolled in that month, in which
product line and ZIP code, attributed to whom. Joining the member months answers it, but at
24 million member months for a 1,000,000-member book that join is the largest part of several
stages. ``member_years`` has a tenth of the rows and says which months are enrolled
(``month_mask``) and whether the product line and ZIP code stay the same all year
(``attributes_constant``); attribution is per year anyway. Only the months of member-years whose
attributes change are looked up month by month.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from payvider.marts.arith import count_sum
from payvider.marts.member_years import ATTRIBUTES

UNATTRIBUTED = "unattributed"


def attributed_to(t: ir.Table) -> dict[str, ir.Value]:
    """``organization_id`` (``unattributed`` unless a rule attributed the member to one) and
    ``partner_flag`` (false when none) of rows left-joined with attribution."""
    attributed = t.rule.notnull() & (t.rule != UNATTRIBUTED) & t.organization_id.notnull()
    return {
        "organization_id": ibis.ifelse(attributed, t.organization_id, UNATTRIBUTED),
        "partner_flag": t.partner_flag.fill_null(False),
    }


def can_look_up_months(member_years: ir.Table | None) -> bool:
    """Whether ``member_years`` can stand in for the member months' attributes (a table from a
    run before it carried them cannot)."""
    return member_years is not None and "attributes_constant" in member_years.columns


def attributed_member_years(member_years: ir.Table, attribution: ir.Table) -> ir.Table:
    """``member_years`` (``year`` as int64) with the year's ``organization_id`` and
    ``partner_flag`` (:func:`attributed_to`)."""
    y = member_years.mutate(year=member_years.year.cast("int64"))
    ya = y.left_join(attribution_by_year(attribution), ["member_id", "payer", "year"])
    return ya.select(*y.columns, **attributed_to(ya))


def changing_member_months(member_years: ir.Table, member_months: ir.Table) -> ir.Table:
    """The member months of the member-years whose product line or ZIP code changes (the only
    ones a lookup in the member-years cannot answer whole)."""
    varying = member_years.filter(~member_years.attributes_constant)
    mm = member_months.mutate(_c_year=member_months.month.year().cast("int64"))
    mm = mm.semi_join(
        varying,
        [mm.member_id == varying.member_id, mm.payer == varying.payer, mm._c_year == varying.year],
    )
    return mm.drop("_c_year")


def spread_over_months(t: ir.Table) -> ir.Table:
    """Each row of ``t`` (with ``year`` and ``month_mask``) once per enrolled month, with that
    ``month`` (the first of the month)."""
    twelve = ibis.memtable({"_m": list(range(1, 13))}, schema={"_m": "int64"})
    spread = t.cross_join(twelve)
    spread = spread.filter(((spread.month_mask >> (spread._m - 1)) & 1) == 1)
    month = ibis.date(spread.year.cast("int32"), spread._m.cast("int32"), 1)
    return spread.mutate(month=month).drop("_m")


def attributed_year_months(
    member_years: ir.Table,
    member_months: ir.Table,
    attribution: ir.Table,
    columns: tuple[str, ...] = ("product_line",),
) -> ir.Table:
    """Member months counted by ``year`` × ``columns`` × ``organization_id`` × ``partner_flag``:
    :func:`attributed_month_counts` added up by year."""
    keys = [*columns, "organization_id", "partner_flag"]
    m = attributed_month_counts(member_years, member_months, attribution, columns)
    m = m.mutate(year=m.month.year().cast("int64"))
    return m.group_by(["year", *keys]).aggregate(member_months=count_sum(m.member_months))


def attributed_month_counts(
    member_years: ir.Table,
    member_months: ir.Table,
    attribution: ir.Table,
    columns: tuple[str, ...] = ("product_line",),
) -> ir.Table:
    """Member months counted by ``month`` × ``columns`` × ``organization_id`` × ``partner_flag``,
    as grouping :func:`payvider.measures.cost.attributed_member_months` would count them.
    Member-years whose attributes never change are counted by their set of enrolled months
    (few distinct ones), then spread over those months; only the others are counted month by
    month.
    """
    _check_columns(columns)
    keys = [*columns, "organization_id", "partner_flag"]
    ya = attributed_member_years(member_years, attribution)
    ya = ya.filter(ya.attributes_constant)
    sets = ya.group_by(["year", "month_mask", *keys]).aggregate(_n=ya.count().cast("int64"))
    spread = spread_over_months(sets)
    spread = spread.select("month", *keys, member_months=spread._n)
    mm = changing_member_months(member_years, member_months)
    mm = mm.mutate(year=mm.month.year().cast("int64"))
    ma = mm.left_join(attribution_by_year(attribution), ["member_id", "payer", "year"])
    ma = ma.select("month", *columns, **attributed_to(ma))
    changing = ma.group_by(["month", *keys]).aggregate(member_months=ma.count().cast("int64"))
    both = spread.union(changing.select(*spread.columns), distinct=False)
    return both.group_by(["month", *keys]).aggregate(member_months=count_sum(both.member_months))


def _check_columns(columns: tuple[str, ...]) -> None:
    unknown = sorted(set(columns) - set(ATTRIBUTES))
    if unknown:
        # attributes_constant says nothing about other columns of the member months
        raise ValueError(f"member_years look up only {', '.join(ATTRIBUTES)}, not {unknown}")


def attribution_by_year(attribution: ir.Table) -> ir.Table:
    """The columns of ``attribution`` that :func:`attributed_to` reads, keyed by member, payer
    and year."""
    return attribution.select(
        "member_id",
        "payer",
        "organization_id",
        "partner_flag",
        "rule",
        year=attribution.period.cast("int64"),
    )


def month_attributes(
    rows: ir.Table,
    member_years: ir.Table,
    member_months: ir.Table,
    attribution: ir.Table | None = None,
    columns: tuple[str, ...] = ("product_line", "zip_code"),
    month: str = "month",
) -> ir.Table:
    """``rows`` (with ``member_id``, ``payer`` and a first-of-month date ``month``) with
    ``enrolled`` and, for enrolled months, ``columns`` of their member month and (with
    ``attribution``) the year's ``organization_id`` and ``partner_flag`` as
    :func:`payvider.measures.cost.attributed_member_months` gives them; null outside enrollment.

    The same as joining the member months, but looked up in the member-years (a tenth of the
    rows): a month is enrolled when its bit is set in ``month_mask``, and a member-year whose
    product line and ZIP code never change (``attributes_constant``) gives its own. Only the
    months of the other member-years, few in any book, are looked up in ``member_months``.
    """
    _check_columns(columns)
    base, extra = member_years, {}
    if attribution is not None:
        base = attributed_member_years(member_years, attribution)
        extra = {f"_y_{c}": base[c] for c in ("organization_id", "partner_flag")}
    years = base.select(
        _y_m=base.member_id,
        _y_p=base.payer,
        _y_y=base.year.cast("int64"),
        _y_mask=base.month_mask.cast("int64"),
        _y_const=base.attributes_constant,
        **{f"_y_{c}": base[c] for c in columns},
        **extra,
    )
    r = rows.mutate(_r_year=rows[month].year().cast("int64"))
    j = r.left_join(
        years, [r.member_id == years._y_m, r.payer == years._y_p, r._r_year == years._y_y]
    )
    bit = (j._y_mask >> (j[month].month() - 1).cast("int64")) & 1
    enrolled = (bit == 1).fill_null(False)
    if columns:
        # the months of member-years whose attributes change, from the member months
        mm = changing_member_months(member_years, member_months)
        mm = mm.select(
            _v_m=mm.member_id,
            _v_p=mm.payer,
            _v_month=mm.month,
            **{f"_v_{c}": mm[c] for c in columns},
        )
        j = j.left_join(mm, [j.member_id == mm._v_m, j.payer == mm._v_p, j[month] == mm._v_month])
    null = ibis.null()
    out = {"enrolled": enrolled}
    for c in columns:
        value = ibis.ifelse(j._y_const, j[f"_y_{c}"], j[f"_v_{c}"])
        out[c] = ibis.ifelse(enrolled, value, null.cast(value.type()))
    if attribution is not None:
        for c in ("organization_id", "partner_flag"):
            value = j[f"_y_{c}"]
            out[c] = ibis.ifelse(enrolled, value, null.cast(value.type()))
    return j.select(*rows.columns, **out)
