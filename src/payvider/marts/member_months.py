"""Member months from enrollment spans.

Grain: one member × payer × month. A member counts in a month when enrolled on any day of it
(``any_day``, the default) or only when enrolled on its first day (``first_of_month``). When spans
of the same member and payer overlap, the month is counted once, on the span that started last.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import ibis
import ibis.expr.types as ir

MemberMonthRule = Literal["any_day", "first_of_month"]
CALENDAR_START = dt.date(1990, 1, 1)
CALENDAR_END = dt.date(2050, 12, 1)


def calendar_months(start: dt.date = CALENDAR_START, end: dt.date = CALENDAR_END) -> ir.Table:
    """One row per month: its first and last day."""
    firsts, lasts = [], []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        first = dt.date(year, month, 1)
        nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
        firsts.append(first)
        lasts.append(nxt - dt.timedelta(days=1))
        year, month = nxt.year, nxt.month
    return ibis.memtable({"month": firsts, "month_end": lasts})


def member_months(eligibility: ir.Table, rule: MemberMonthRule = "any_day") -> ir.Table:
    """Expand enrollment spans into member months."""
    cal = calendar_months()
    e = eligibility
    if rule == "any_day":
        cond = (cal.month <= e.enrollment_end_date) & (cal.month_end >= e.enrollment_start_date)
    elif rule == "first_of_month":
        cond = (cal.month >= e.enrollment_start_date) & (cal.month <= e.enrollment_end_date)
    else:
        raise ValueError(f"unknown member-month rule {rule!r}; use any_day or first_of_month")
    joined = e.inner_join(cal, cond)
    window = ibis.window(
        group_by=[joined.member_id, joined.payer, joined.month],
        order_by=[joined.enrollment_start_date.desc(), joined.plan.fill_null("").desc()],
    )
    ranked = joined.mutate(_span_rank=ibis.row_number().over(window))
    return ranked.filter(ranked._span_rank == 0).select(
        member_id=ranked.member_id,
        person_id=ranked.person_id.fill_null(ranked.member_id),
        payer=ranked.payer,
        month=ranked.month,
        product_line=ranked.product_line,
        plan=ranked.plan,
        gender=ranked.gender,
        birth_date=ranked.birth_date,
        zip_code=ranked.zip_code,
        dual_status_code=ranked.dual_status_code,
        original_reason_entitlement_code=ranked.original_reason_entitlement_code,
        premium_pmpm=ranked.premium_pmpm,
        enrollment_start_date=ranked.enrollment_start_date,
    )
