"""Emergency-department visits per 1,000 member-years, as a utilization-type quality measure.

One row per member, payer and period with any enrollment in it: ``exposure_months`` is the
member's months in the period, ``events`` the member's ED visits in it — member-days with an
outpatient emergency-department facility claim (``claims_enriched`` category
``emergency_department``; visits ending in an admission belong to the inpatient stay), the same
counting unit as the ``utilization`` table. The summary divides the events of eligible rows by
their member months x 12,000. Members in hospice during the period are excluded by the stage.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from payvider.measures.quality.framework import (
    MeasureSpec,
    Period,
    calendar_year,
    finalize,
    measure_rows,
    member_years,
)

ED_VISITS = MeasureSpec(
    id="ed_visits_per_1000",
    name="Emergency department visits per 1,000",
    description="ED visits (member-days with an ED facility claim) per 1,000 member-years.",
    period="calendar year",
    denominator="member months of every member enrolled in the period",
    continuous_enrollment="none: exposure is counted in member months",
    exclusions=("hospice: hospice claims or codes in the period",),
    numerator="ED visits in the period: member-days with an emergency_department claim line",
    value_sets=("hospice",),
    inverse=True,
    care_gaps=False,
    sources=("claims_enriched", "member_months"),
    kind="per_1000",
)


def _exposure(member_months: ir.Table, p: Period) -> ir.Table:
    """member_id, payer, exposure_months: months enrolled in the period."""
    year = calendar_year(p.start, p.end)
    if year is not None:
        y = member_years(member_months)
        y = y.filter(y.year == year)
        return y.select("member_id", "payer", exposure_months=y.months)
    mm = member_months.filter(member_months.month.between(p.start, p.end))
    # One member_months row per member, payer and month: counting rows counts months.
    return mm.group_by(["member_id", "payer"]).aggregate(exposure_months=mm.count().cast("int64"))


def ed_rows(
    claims_enriched: ir.Table,
    member_months: ir.Table,
    periods: list[Period],
    attribution: ir.Table | None = None,
) -> ir.Table:
    """Member-level rows: exposure months and ED visits per member, payer and period."""
    c = claims_enriched.filter(claims_enriched.service_category == "emergency_department")
    visits = c.select("member_id", "payer", day=c.service_date).distinct()
    parts = []
    for p in periods:
        exp = _exposure(member_months, p)
        v = visits.filter(visits.day.between(p.start, p.end))
        v = v.group_by(_v_m=v.member_id, _v_p=v.payer).aggregate(_n=v.count().cast("int64"))
        r = exp.left_join(v, [exp.member_id == v._v_m, exp.payer == v._v_p])
        events = r._n.fill_null(0)
        r = r.mutate(events=events)
        parts.append(
            measure_rows(
                r,
                ED_VISITS.id,
                p,
                in_numerator=events > 0,
                detail=ibis.literal("ED visits ").concat(events.cast("string")),
            )
        )
    return finalize(ibis.union(*parts), attribution)
