"""Member years: one row per member, payer and calendar year with enrollment.

The year-level view of ``member_months``. Quality denominators (continuous enrollment, age,
enrollment after a discharge), the SDOH summary and member-year cost read it, instead of each
grouping the 24 million member months of a 1,000,000-member book again.

Columns: ``member_months`` (months enrolled in the year), ``month_mask`` (bit ``m - 1`` set when
enrolled in month ``m``), ``first_month`` and ``last_month``, the last month's ``product_line``,
and ``gender`` and ``birth_date`` (the largest of the year's months, should they differ).
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
    bit = ibis.literal(1, "int64") << (mm.month.month() - 1).cast("int64")
    return mm.group_by(
        member_id=mm.member_id, payer=mm.payer, year=mm.month.year().cast("int64")
    ).aggregate(
        member_months=mm.count().cast("int64"),
        month_mask=bit.sum().cast("int64"),
        first_month=mm.month.min(),
        last_month=mm.month.max(),
        # the latest month's (tables without a product line, e.g. hand-made ones, give null)
        product_line=(
            mm.product_line.argmax(mm.month)
            if "product_line" in mm.columns
            else ibis.null().cast("string")
        ),
        gender=mm.gender.max(),
        birth_date=mm.birth_date.max(),
    )
