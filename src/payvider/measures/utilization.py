"""Utilization per 1,000 members: admissions, bed days, ED visits, readmissions, primary-care,
specialist and telehealth visits.

Rates are annualised: ``count / member_months × 12,000``. Counting units:

* admissions, bed days and readmissions come from ``inpatient_stays`` (acute hospital stays;
  psychiatric, rehabilitation and skilled-nursing stays are counted in their own columns);
* an ED visit is a member's day with an outpatient emergency-department facility claim (visits
  that end in an admission are part of the inpatient stay, as in most actuarial groupers);
* a visit is a member × day × rendering clinician with an evaluation-and-management line, in the
  office (primary care or specialist) or by telehealth. ``telehealth_share`` is telehealth visits
  over all three kinds.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from payvider.marts.arith import count_sum, ratio
from payvider.marts.month_lookup import (
    attributed_year_months,
    can_look_up_months,
    month_attributes,
)
from payvider.measures.cost import attributed_member_months

CELL = ("year", "product_line", "organization_id", "partner_flag")
COUNTS = (
    "acute_admissions",
    "acute_bed_days",
    "readmissions",
    "psychiatric_admissions",
    "rehab_admissions",
    "snf_admissions",
    "snf_days",
    "ed_visits",
    "pcp_visits",
    "specialist_visits",
    "telehealth_visits",
)


def _event_rows(claims_enriched: ir.Table, inpatient_stays: ir.Table) -> ir.Table:
    """What each counted event (a stay, an ED day, a visit) adds to one count: member × payer ×
    month (of the admission or visit), ``kind`` (the position of the count in :data:`COUNTS`)
    and ``n``. A stay gives one row per count it adds to. Narrow rows keep the join with member
    months cheap."""
    kind = {c: i for i, c in enumerate(COUNTS)}
    s = inpatient_stays
    cat = s.service_category
    stay_counts = (
        ("acute_admissions", cat == "inpatient_acute", 1),
        ("acute_bed_days", cat == "inpatient_acute", s.bed_days.fill_null(0)),
        ("readmissions", s.is_readmission, 1),
        ("psychiatric_admissions", cat == "inpatient_psychiatric", 1),
        ("rehab_admissions", cat == "inpatient_rehab", 1),
        ("snf_admissions", cat == "skilled_nursing", 1),
        ("snf_days", cat == "skilled_nursing", s.bed_days.fill_null(0)),
    )
    parts = [
        s.filter(cond).select(
            member_id=s.member_id,
            payer=s.payer,
            month=s.admission_month,
            kind=ibis.literal(kind[name]).cast("int8"),
            n=ibis.literal(n).cast("int64") if isinstance(n, int) else n.cast("int64"),
        )
        for name, cond, n in stay_counts
    ]
    c = claims_enriched
    ed = c.filter(c.service_category == "emergency_department")
    ed = ed.select("member_id", "payer", month=ed.service_month, day=ed.service_date).distinct()
    parts.append(
        ed.select(
            "member_id",
            "payer",
            "month",
            kind=ibis.literal(kind["ed_visits"]).cast("int8"),
            n=ibis.literal(1).cast("int64"),
        )
    )
    v = c.filter(
        c.is_visit & c.service_category.isin(("office_pcp", "office_specialist", "telehealth"))
    )
    v = v.select(
        "member_id",
        "payer",
        "service_category",
        month=v.service_month,
        day=v.service_date,
        npi=v.rendering_npi.fill_null(""),
    ).distinct()
    visit_kind = ibis.cases(
        (v.service_category == "office_pcp", kind["pcp_visits"]),
        (v.service_category == "office_specialist", kind["specialist_visits"]),
        else_=kind["telehealth_visits"],
    )
    parts.append(
        v.select(
            "member_id",
            "payer",
            "month",
            kind=visit_kind.cast("int8"),
            n=ibis.literal(1).cast("int64"),
        )
    )
    return ibis.union(*parts, distinct=False)


def utilization(
    claims_enriched: ir.Table,
    inpatient_stays: ir.Table,
    member_months: ir.Table,
    attribution: ir.Table,
    member_years: ir.Table | None = None,
) -> ir.Table:
    """Counts and rates per 1,000 by year × product line × attributed organization.

    Each event is counted once for every member month of its member, payer and month (one, as
    member months are unique per member, payer and month): events join member months once and
    sum by cell (per kind of count), without first rolling them up per member month. With
    ``member_years`` the months are looked up, and counted, in the member-years.
    """
    events = _event_rows(claims_enriched, inpatient_stays)
    if can_look_up_months(member_years):
        e = month_attributes(events, member_years, member_months, attribution, ("product_line",))
        e = e.filter(e.enrolled).mutate(year=e.month.year().cast("int64"))
        mm = None
    else:
        # only the columns the cells need go through the attribution join
        mm = attributed_member_months(member_months, attribution, ("product_line",)).mutate(
            year=lambda t: t.month.year().cast("int64")
        )
        e = events.inner_join(
            mm.select("member_id", "payer", "month", *CELL), ["member_id", "payer", "month"]
        )
    by_kind = e.group_by([*CELL, "kind"]).aggregate(n=count_sum(e.n))
    counts = by_kind.group_by(list(CELL)).aggregate(
        member_months=ibis.literal(0).cast("int64"),
        **{
            c: count_sum(ibis.ifelse(by_kind.kind == i, by_kind.n, 0)) for i, c in enumerate(COUNTS)
        },
    )
    if mm is None:
        months = attributed_year_months(member_years, member_months, attribution)
        months = months.select(
            *CELL,
            member_months=months.member_months,
            **{c: ibis.literal(0).cast("int64") for c in COUNTS},
        )
    else:
        months = mm.group_by(list(CELL)).aggregate(
            member_months=mm.count().cast("int64"),
            **{c: ibis.literal(0).cast("int64") for c in COUNTS},
        )
    both = months.union(counts.select(*months.columns), distinct=False)
    out = both.group_by(list(CELL)).aggregate(
        member_months=count_sum(both.member_months),
        **{c: count_sum(both[c]) for c in COUNTS},
    )
    per_1000 = {f"{c}_per_1000": ratio(out[c] * 12000, out.member_months) for c in COUNTS}
    visits = out.pcp_visits + out.specialist_visits + out.telehealth_visits
    return out.mutate(
        **per_1000,
        average_length_of_stay=ratio(out.acute_bed_days, out.acute_admissions),
        readmission_rate=ratio(out.readmissions, out.acute_admissions),
        telehealth_share=ratio(out.telehealth_visits, visits),
    )
