"""Engagement of attributed members: telehealth use and the Medicare annual wellness visit.

Both measures count members attributed to an organization in the period's year (the
``attribution`` row of that year with a rule other than ``unattributed``): the population a
partnership is accountable for.

- ``telehealth_use``: attributed members with at least one telehealth visit in the period — a
  claim line in service category ``telehealth`` (place of service 02/10 or a telehealth modifier)
  or a linked EHR encounter of type ``telehealth``. A use measure, not a gap: no care-gap list.
- ``annual_wellness_visit``: attributed Medicare members (product line ``medicare…``; the AWV is a
  Medicare Part B benefit) with an initial or subsequent annual wellness visit (HCPCS G0438,
  G0439) in the period, from claim lines or EHR procedures. Members without one are care gaps.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from payvider.measures.quality.framework import (
    MeasureSpec,
    Period,
    finalize,
    in_value_set,
    measure_rows,
)

TELEHEALTH = MeasureSpec(
    id="telehealth_use",
    name="Telehealth use",
    description="Attributed members with a telehealth visit in the period.",
    period="calendar year",
    denominator="members attributed in the period's year",
    continuous_enrollment="none (eligible for attribution in the year)",
    exclusions=(),
    numerator="a claim line in service category telehealth or a linked EHR telehealth encounter",
    care_gaps=False,
)
AWV = MeasureSpec(
    id="annual_wellness_visit",
    name="Annual wellness visit",
    description="Attributed Medicare members with an annual wellness visit in the period.",
    period="calendar year",
    denominator="Medicare members attributed in the period's year",
    continuous_enrollment="none (eligible for attribution in the year)",
    exclusions=(),
    numerator="HCPCS G0438 or G0439 on a claim line or EHR procedure in the period",
    value_sets=("annual_wellness_visit",),
    sources=("CMS Medicare annual wellness visit, 42 CFR 410.15; HCPCS G0438/G0439",),
)
SPECS = (TELEHEALTH, AWV)


def _attributed(attribution: ir.Table, p: Period) -> ir.Table:
    a = attribution.filter(
        (attribution.period.cast("int64") == p.end.year) & (attribution.rule != "unattributed")
    )
    return a.select("member_id", "payer", "product_line")


def telehealth_days(
    claims_enriched: ir.Table | None,
    encounter: ir.Table | None = None,
    crosswalk: ir.Table | None = None,
) -> ir.Table:
    """(member_id, visit_date) of telehealth visits from claims and linked EHR encounters."""
    parts = []
    if claims_enriched is not None:
        c = claims_enriched.filter(claims_enriched.service_category == "telehealth")
        parts.append(c.select("member_id", visit_date=c.service_date))
    if encounter is not None and crosswalk is not None:
        e = encounter.filter(encounter.encounter_type.lower() == "telehealth")
        x = crosswalk.select(_x_m=crosswalk.member_id, _x_p=crosswalk.patient_id)
        e = e.inner_join(x, e.patient_id == x._x_p)
        parts.append(e.select(member_id=e._x_m, visit_date=e.encounter_start_date))
    if not parts:
        raise ValueError("telehealth use needs claims_enriched or EHR encounters with a crosswalk")
    return ibis.union(*parts).distinct()


def _first_in(days: ir.Table, p: Period, date_col: str) -> ir.Table:
    d = days.filter(days[date_col].between(p.start, p.end))
    return d.group_by(_f_m=d.member_id).aggregate(_f_d=d[date_col].min(), _f_n=d.count())


def engagement_rows(
    attribution: ir.Table,
    telehealth: ir.Table,
    evidence: ir.Table,
    periods: list[Period],
    attribute: bool = True,
) -> ir.Table:
    """Member rows of ``telehealth_use`` and ``annual_wellness_visit`` for each period.

    ``attribute=False`` leaves the rows ``unattributed`` (a caller that attributes all measures'
    rows at once); the denominators still come from ``attribution``.

    ``telehealth`` is :func:`telehealth_days`; ``evidence`` is
    :func:`payvider.measures.quality.evidence.coded_evidence` (member_id, code, event_date).
    """
    awv = in_value_set(evidence, "annual_wellness_visit")
    parts = []
    for p in periods:
        att = _attributed(attribution, p)
        t = _first_in(telehealth, p, "visit_date")
        r = att.left_join(t, att.member_id == t._f_m)
        detail = ibis.ifelse(
            r._f_d.isnull(),
            ibis.literal("no telehealth visit"),
            r._f_n.cast("string").concat(" telehealth day(s), first ", r._f_d.cast("string")),
        )
        rows = measure_rows(r, TELEHEALTH.id, p, in_numerator=r._f_d.notnull(), detail=detail)
        parts.append(finalize(rows, attribution if attribute else None))

        med = att.filter(att.product_line.lower().startswith("medicare"))
        w = _first_in(awv, p, "event_date")
        r = med.left_join(w, med.member_id == w._f_m)
        detail = ibis.ifelse(
            r._f_d.isnull(),
            ibis.literal("no annual wellness visit"),
            ibis.literal("annual wellness visit on ").concat(r._f_d.cast("string")),
        )
        rows = measure_rows(r, AWV.id, p, in_numerator=r._f_d.notnull(), detail=detail)
        parts.append(finalize(rows, attribution if attribute else None))
    return ibis.union(*parts)
