"""Member years: one row per member, payer and calendar year with enrollment.

The year-level view of ``member_months``. Quality denominators (continuous enrollment, age,
enrollment after a discharge), the SDOH summary and member-year cost read it, instead of each
grouping the 24 million member months of a 1,000,000-member book again.

Columns: ``member_months`` (months enrolled in the year), ``month_mask`` (bit ``m - 1`` set when
enrolled in month ``m``), ``first_month`` and ``last_month``, the last month's ``product_line``
and ``zip_code``, ``attributes_constant`` (product line and ZIP code the same in every enrolled
month of the year), and ``gender`` and ``birth_date`` (the largest of the year's months, should
they differ).

``attributes_constant`` lets the cost tables look a month's product line and ZIP code up in the
2.3 million member-years of a 1,000,000-member book instead of its 24 million member months; only
the months of member-years where they change are looked up month by month.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

KEY = ("member_id", "payer", "year")


def member_years(member_months: ir.Table) -> ir.Table:
    """Member months grouped by member, payer and year. ``member_months`` has one row per member,
    payer and month (the member-months stage guarantees it): counting rows counts months, and
    adding each month's bit sets the month's bit."""
    mm = member_months
    # tables without a product line or ZIP code (e.g. hand-made ones) give null
    for name in ATTRIBUTES:
        if name not in mm.columns:
            mm = mm.mutate(**{name: ibis.null().cast("string")})
    bit = ibis.literal(1, "int64") << (mm.month.month() - 1).cast("int64")
    return mm.group_by(
        member_id=mm.member_id, payer=mm.payer, year=mm.month.year().cast("int64")
    ).aggregate(
        member_months=mm.count().cast("int64"),
        month_mask=bit.sum().cast("int64"),
        first_month=mm.month.min(),
        last_month=mm.month.max(),
        # the latest month's
        product_line=mm.product_line.argmax(mm.month),
        zip_code=mm.zip_code.argmax(mm.month),
        attributes_constant=ibis.and_(*[_constant(mm, mm[name]) for name in ATTRIBUTES]),
        gender=mm.gender.max(),
        birth_date=mm.birth_date.max(),
    )


#: Member-month attributes that member-years carry (the latest month's) with whether they change.
ATTRIBUTES = ("product_line", "zip_code")


def _constant(mm: ir.Table, value: ir.StringColumn) -> ir.BooleanValue:
    """Whether ``value`` is the same in every month of the group: null in all, or set in all
    and its smallest equal to its largest."""
    return (value.count() == 0) | ((value.count() == mm.count()) & (value.min() == value.max()))
