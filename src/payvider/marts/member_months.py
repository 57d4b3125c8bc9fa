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
    """Expand enrollment spans into member months.

    Only the spans of a member and payer with two spans that may share a month are ranked month
    by month; the months of every other span are taken as they are. Ranking all member months
    (24 million at 1,000,000 members, from 2.4 million spans of which none overlap) was the
    stage's cost in time and memory.
    """
    if rule not in ("any_day", "first_of_month"):
        raise ValueError(f"unknown member-month rule {rule!r}; use any_day or first_of_month")
    e = eligibility
    overlapping = _overlapping_members(e)
    keyed = e.member_id.notnull() & e.payer.notnull()
    alone = e.filter(keyed).anti_join(overlapping, list(MEMBER_KEY))
    # spans without a member or payer (the schema requires both) are ranked as before
    shared = e.semi_join(overlapping, list(MEMBER_KEY)).union(e.filter(~keyed), distinct=False)
    alone, shared = _months_of(alone, rule), _months_of(shared, rule)
    window = ibis.window(
        group_by=[shared.member_id, shared.payer, shared.month],
        order_by=[shared.enrollment_start_date.desc(), shared.plan.fill_null("").desc()],
    )
    ranked = shared.mutate(_span_rank=ibis.row_number().over(window))
    ranked = ranked.filter(ranked._span_rank == 0)
    return ibis.union(_member_month_row(alone), _member_month_row(ranked), distinct=False)


#: A member at a payer: member months are unique per key and month.
MEMBER_KEY = ("member_id", "payer")


def _months_of(spans: ir.Table, rule: MemberMonthRule) -> ir.Table:
    """Each span joined to the calendar months it counts in under ``rule``."""
    cal = calendar_months()
    if rule == "any_day":
        cond = [
            cal.month <= spans.enrollment_end_date,
            cal.month_end >= spans.enrollment_start_date,
        ]
    else:
        cond = [cal.month >= spans.enrollment_start_date, cal.month <= spans.enrollment_end_date]
    return spans.inner_join(cal, cond)


def _overlapping_members(eligibility: ir.Table) -> ir.Table:
    """Members and payers with two spans that may count in the same month under either rule:
    spans whose months, from the start date's to the end date's, intersect.

    Each span meets itself, so a member has overlapping spans exactly when their pairs of
    intersecting spans outnumber their spans that cover a month at all.
    """
    e = eligibility
    s = e.select(
        *MEMBER_KEY,
        first=e.enrollment_start_date.truncate("M"),
        last=e.enrollment_end_date.truncate("M"),
    )
    s = s.filter(s.first <= s.last)
    o = s.view()
    pairs = s.inner_join(
        o,
        [
            s.member_id == o.member_id,
            s.payer == o.payer,
            s.first <= o["last"],
            o.first <= s["last"],
        ],
    )
    pairs = pairs.group_by(*MEMBER_KEY).aggregate(pairs=pairs.count())
    spans = s.group_by(*MEMBER_KEY).aggregate(spans=s.count())
    j = pairs.inner_join(spans, list(MEMBER_KEY))
    return j.filter(j.pairs > j.spans).select(*MEMBER_KEY)


def _member_month_row(m: ir.Table) -> ir.Table:
    return m.select(
        member_id=m.member_id,
        person_id=m.person_id.fill_null(m.member_id),
        payer=m.payer,
        month=m.month,
        product_line=m.product_line,
        plan=m.plan,
        gender=m.gender,
        birth_date=m.birth_date,
        zip_code=m.zip_code,
        dual_status_code=m.dual_status_code,
        original_reason_entitlement_code=m.original_reason_entitlement_code,
        premium_pmpm=m.premium_pmpm,
        enrollment_start_date=m.enrollment_start_date,
    )
