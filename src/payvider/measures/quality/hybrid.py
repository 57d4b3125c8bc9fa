"""Hybrid measures from EHR observations joined to payer members through the crosswalk.

HbA1c poor control (> 9.0 %): members 18–75 with diabetes (claims or EHR diagnosis in the period
or the year before), continuously enrolled; the most recent HbA1c of the period decides (lowest
value when several share that date); no test in the period counts as poor control. An inverse
measure: lower is better, and the numerator is the care-gap list.

Blood-pressure control (< 140/90): members 18–85 with essential hypertension; the most recent date
in the period with both a systolic and a diastolic reading; lowest of each on that date;
controlled when systolic < 140 and diastolic < 90. No reading is not controlled.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import ibis
import ibis.expr.types as ir

from payvider.measures.quality.framework import (
    MeasureSpec,
    Period,
    age_on,
    continuous_enrollment,
    finalize,
    in_value_set,
    measure_rows,
)

HBA1C_POOR = Decimal("9.0")
SYSTOLIC_MAX = 140
DIASTOLIC_MAX = 90

HBA1C = MeasureSpec(
    id="hba1c_poor_control",
    name="HbA1c poor control (> 9%)",
    description="Diabetic members whose most recent HbA1c in the period is above 9.0% or missing.",
    period="calendar year",
    denominator="members 18-75 at the period end with diabetes (E10, E11, E13) in the period or "
    "the year before, in claims or EHR conditions",
    continuous_enrollment="the period, at most one missing month, enrolled in the last month",
    exclusions=(),
    numerator="most recent HbA1c (LOINC 4548-4, 4549-2, 17856-6) > 9.0, or no test",
    value_sets=("diabetes", "hba1c_lab"),
    inverse=True,
)
BP = MeasureSpec(
    id="blood_pressure_control",
    name="Controlling high blood pressure (< 140/90)",
    description="Hypertensive members whose most recent blood pressure is below 140/90.",
    period="calendar year",
    denominator="members 18-85 at the period end with essential hypertension (I10) in the "
    "period or the year before, in claims or EHR conditions",
    continuous_enrollment="the period, at most one missing month, enrolled in the last month",
    exclusions=(),
    numerator="most recent reading date: lowest systolic (8480-6) < 140 and lowest diastolic "
    "(8462-4) < 90",
    value_sets=("essential_hypertension", "systolic_bp", "diastolic_bp"),
)


def _with_dx(ce: ir.Table, evidence: ir.Table, vs: str, p: Period) -> ir.Table:
    e = in_value_set(evidence, vs)
    e = e.filter(e.event_date.between(dt.date(p.start.year - 1, 1, 1), p.end))
    e = e.select(_dx_m=e.member_id).distinct()
    return ce.inner_join(e, ce.member_id == e._dx_m)


def _last_day(obs: ir.Table, p: Period) -> ir.Table:
    o = obs.filter(obs.observation_date.between(p.start, p.end))
    last = o.group_by(_l_m=o.member_id).aggregate(_l_d=o.observation_date.max())
    j = o.inner_join(last, (o.member_id == last._l_m) & (o.observation_date == last._l_d))
    return j


def _frame(r: ir.Table, spec: MeasureSpec, p: Period, num: ir.BooleanValue, detail) -> ir.Table:
    return measure_rows(r, spec.id, p, in_numerator=num, detail=detail)


def hybrid_rows(
    evidence: ir.Table,
    observations: ir.Table,
    member_months: ir.Table,
    periods: list[Period],
    attribution: ir.Table | None = None,
) -> ir.Table:
    """Member-level rows of HbA1c poor control and blood-pressure control for each period.

    ``observations`` is :func:`payvider.measures.quality.evidence.linked_observations`.
    """
    parts = []
    for p in periods:
        ce = continuous_enrollment(member_months, p.start, p.end)
        age = age_on(ce.birth_date, p.end)

        diab = _with_dx(ce.filter(age.between(18, 75)), evidence, "diabetes", p)
        a1c = _last_day(in_value_set(observations, "hba1c_lab"), p)
        a1c = a1c.group_by(_a_m=a1c.member_id).aggregate(
            _a_d=a1c.observation_date.max(), _a_v=a1c.value.min()
        )
        r = diab.left_join(a1c, diab.member_id == a1c._a_m)
        poor = r._a_v.isnull() | (r._a_v > HBA1C_POOR)
        detail = ibis.ifelse(
            r._a_v.isnull(),
            ibis.literal("no HbA1c test"),
            ibis.literal("HbA1c ").concat(
                r._a_v.cast("decimal(18, 1)").cast("string"), " on ", r._a_d.cast("string")
            ),
        )
        parts.append(finalize(_frame(r, HBA1C, p, poor, detail), attribution))

        htn = _with_dx(ce.filter(age.between(18, 85)), evidence, "essential_hypertension", p)
        sys_ = in_value_set(observations, "systolic_bp")
        dia = in_value_set(observations, "diastolic_bp")
        sys_ = sys_.filter(sys_.observation_date.between(p.start, p.end))
        s_day = sys_.group_by(_s_m=sys_.member_id, _s_d=sys_.observation_date).aggregate(
            _s_v=sys_.value.min()
        )
        d_day = dia.group_by(_d_m=dia.member_id, _d_d=dia.observation_date).aggregate(
            _d_v=dia.value.min()
        )
        both = s_day.inner_join(d_day, (s_day._s_m == d_day._d_m) & (s_day._s_d == d_day._d_d))
        last = both.group_by(_lm=both._s_m).aggregate(_ld=both._s_d.max())
        bp = both.inner_join(last, (both._s_m == last._lm) & (both._s_d == last._ld)).select(
            _b_m=lambda t: t._s_m,
            _b_d=lambda t: t._s_d,
            _b_s=lambda t: t._s_v,
            _b_di=lambda t: t._d_v,
        )
        r = htn.left_join(bp, htn.member_id == bp._b_m)
        ok = (r._b_s < SYSTOLIC_MAX) & (r._b_di < DIASTOLIC_MAX)
        detail = ibis.ifelse(
            r._b_s.isnull(),
            ibis.literal("no blood pressure reading"),
            ibis.literal("BP ").concat(
                r._b_s.cast("int64").cast("string"),
                "/",
                r._b_di.cast("int64").cast("string"),
                " on ",
                r._b_d.cast("string"),
            ),
        )
        parts.append(finalize(_frame(r, BP, p, ok.fill_null(False), detail), attribution))
    return ibis.union(*parts)
