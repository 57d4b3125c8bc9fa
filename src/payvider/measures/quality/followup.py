"""Follow-up after hospitalization within 7 and 30 days.

Denominator: acute stay chains (as in the readmission measure) discharged home (status 01 or 06)
from the period start to 30 days before its end, enrolled through 30 days after. Numerator: an
outpatient or telehealth visit with a clinician 1–7 (or 1–30) days after discharge: a claims
visit (E/M line in ``office_pcp``, ``office_specialist`` or ``telehealth``, the utilization
definition of a visit) or an EHR office, telehealth or wellness encounter via the crosswalk.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from payvider.measures.quality.framework import MeasureSpec, Period, finalize, measure_rows
from payvider.measures.quality.readmission import acute_chains, enrolled_after

HOME = ("01", "06")
VISIT_CATEGORIES = ("office_pcp", "office_specialist", "telehealth")
EHR_VISIT_TYPES = ("office visit", "telehealth", "wellness")


def _spec(days: int) -> MeasureSpec:
    return MeasureSpec(
        id=f"followup_{days}d",
        name=f"Follow-up within {days} days after hospitalization",
        description=f"Share of acute discharges to home with a clinician visit within {days} days.",
        period="discharges from the period start to 30 days before its end",
        denominator="acute inpatient stay chains discharged home (status 01, 06)",
        continuous_enrollment="enrolled in the month of discharge and the month 30 days after",
        exclusions=(
            "discharge_in_last_30_days",
            "not_enrolled_after_discharge",
        ),
        numerator=f"office, telehealth or wellness visit 1-{days} days after discharge "
        "(claims E/M visit or EHR encounter)",
    )


SPEC_7 = _spec(7)
SPEC_30 = _spec(30)


def visits(
    claims_enriched: ir.Table | None,
    encounter: ir.Table | None = None,
    crosswalk: ir.Table | None = None,
) -> ir.Table:
    """Member visit days (member_id, visit_date) from claims and, linked, from the EHR. A day
    may be there more than once: the follow-up asks only for the first visit after a discharge,
    and reads the visits of discharged members only."""
    parts = []
    if claims_enriched is not None:
        c = claims_enriched.filter(
            claims_enriched.is_visit & claims_enriched.service_category.isin(VISIT_CATEGORIES)
        )
        parts.append(c.select("member_id", visit_date=c.service_date))
    if encounter is not None and crosswalk is not None:
        e = encounter.filter(encounter.encounter_type.lower().isin(EHR_VISIT_TYPES))
        x = crosswalk.select(_x_m=crosswalk.member_id, _x_p=crosswalk.patient_id)
        e = e.inner_join(x, e.patient_id == x._x_p)
        parts.append(e.select(member_id=e._x_m, visit_date=e.encounter_start_date))
    if not parts:
        raise ValueError("follow-up needs claims_enriched or EHR encounters with a crosswalk")
    return ibis.union(*parts)


def followup_rows(
    inpatient_stays: ir.Table,
    member_months: ir.Table,
    visit_days: ir.Table,
    periods: list[Period],
    attribution: ir.Table | None = None,
) -> ir.Table:
    """Member-level rows of the 7- and 30-day follow-up measures (one per home discharge)."""
    c = acute_chains(inpatient_stays)
    c = c.filter(c.discharge_disposition_code.isin(HOME))
    c = enrolled_after(c, member_months, "discharge_date")
    v = visit_days.select(_v_m=visit_days.member_id, _v_d=visit_days.visit_date)
    discharged = c.select(_c_m=c.member_id).distinct()
    v = v.semi_join(discharged, v._v_m == discharged._c_m)
    j = c.left_join(
        v,
        [
            c.member_id == v._v_m,
            v._v_d > c.discharge_date,
            v._v_d <= c.discharge_date + ibis.interval(days=30),
        ],
    )
    first = j.group_by("encounter_id").aggregate(_first_visit=j._v_d.min())
    f = first.select(_f_enc=first.encounter_id, _fv=first._first_visit)
    c = c.inner_join(f, c.encounter_id == f._f_enc)
    gap = c._fv.delta(c.discharge_date, unit="day").cast("int64")
    parts = []
    for p in periods:
        last_index = p.end - dt.timedelta(days=30)
        r = c.filter(c.discharge_date.between(p.start, p.end))
        reason = ibis.cases(
            (r.discharge_date > last_index, "discharge_in_last_30_days"),
            (~r._enrolled_after, "not_enrolled_after_discharge"),
            else_=ibis.null().cast("string"),
        )
        for spec, days in ((SPEC_7, 7), (SPEC_30, 30)):
            g = gap.between(1, days).fill_null(False)
            parts.append(
                measure_rows(
                    r,
                    spec.id,
                    p,
                    in_numerator=g,
                    exclusion_reason=reason,
                    event_id=r.encounter_id,
                    event_date=r.discharge_date,
                    detail=ibis.ifelse(
                        g,
                        ibis.literal("visit ").concat(r._fv.cast("string")),
                        ibis.null().cast("string"),
                    ),
                )
            )
    return finalize(ibis.union(*parts), attribution)
