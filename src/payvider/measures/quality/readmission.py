"""30-day all-cause unplanned readmission (observed, expected from a risk model, O/E).

Index stays are acute inpatient admissions from ``inpatient_stays``. Stays of a member that
overlap or where the next admission starts on the day of or the day after a discharge (a transfer,
at any facility) are one *chain*; the chain's last discharge is the index discharge and its last
stay gives the discharge status, DRG and facility. A readmission is the first later chain that
starts 1–30 days after the index discharge, unless it is planned (CMS planned-readmission
algorithm, shipped subset); as in the CMS rule, when the first readmission is planned the index
stay counts as not readmitted.

Expected: indirect standardisation. Each eligible index stay gets the readmission rate of its
stratum (age band × sex × HCC-count band) in the reference population (all eligible index stays
of all the periods computed), shrunk towards the overall rate with the weight of
:data:`SHRINKAGE` stays; O/E = observed rate ÷ mean expected rate.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from payvider.measures.quality.framework import (
    MeasureSpec,
    Period,
    age_on,
    code_in,
    enrolled_in_month,
    finalize,
    measure_rows,
    member_years,
)

MEASURE_ID = "readmission_30d"
WINDOW_DAYS = 30
#: Pseudo-stays of the overall rate added to each stratum (empirical-Bayes style shrinkage).
SHRINKAGE = 10
DIED = ("20", "40", "41", "42")
AGAINST_ADVICE = ("07",)
TRANSFERRED_OUT = ("02", "66")
AGE_BANDS = ((0, 17), (18, 44), (45, 64), (65, 74), (75, 84), (85, 200))

SPEC = MeasureSpec(
    id=MEASURE_ID,
    name="30-day all-cause unplanned readmission",
    description="Share of acute inpatient index discharges followed by an unplanned acute "
    "admission within 30 days; observed, expected (age, sex, HCC count) and O/E.",
    period="index discharges from the period start to 30 days before its end",
    denominator="acute inpatient stay chains (transfers joined) discharged in the period",
    continuous_enrollment="enrolled in the month of discharge and the month 30 days after",
    exclusions=(
        "died: discharge status 20, 40, 41 or 42",
        "against_medical_advice: discharge status 07",
        "transferred_out: discharge status 02 or 66 with no following admission in the data",
        "pregnancy_perinatal: MS-DRG of MDC 14 or 15",
        "discharge_in_last_30_days: no full 30-day follow-up window in the period",
        "not_enrolled_after_discharge",
    ),
    numerator="an unplanned acute admission 1-30 days after the index discharge (the first "
    "readmission decides; a planned first readmission is not counted)",
    value_sets=(
        "planned_readmission_transplant",
        "planned_readmission_chemotherapy",
        "planned_readmission_rehabilitation",
        "pregnancy_perinatal",
    ),
    inverse=True,
    care_gaps=False,
)


def planned_stay(drg_code: ir.StringValue) -> ir.BooleanValue:
    """Always-planned admissions by MS-DRG (transplant, chemotherapy, rehabilitation)."""
    return (
        code_in(drg_code, "planned_readmission_transplant", "ms-drg")
        | code_in(drg_code, "planned_readmission_chemotherapy", "ms-drg")
        | code_in(drg_code, "planned_readmission_rehabilitation", "ms-drg")
    )


def stay_principal_diagnoses(
    inpatient_stays: ir.Table, inpatient_claims: ir.Table, diagnoses: ir.Table
) -> ir.Table:
    """Principal diagnoses (sequence 1) of each stay's claims: encounter_id, diagnosis_code.

    ``inpatient_claims`` is :func:`payvider.marts.encounters.inpatient_claims` (a claim belongs to
    the stay of its member, payer, facility and category whose dates contain its start).
    """
    s = inpatient_stays.select(
        "encounter_id",
        _m=inpatient_stays.member_id,
        _p=inpatient_stays.payer,
        _npi=inpatient_stays.provider_npi.fill_null("?"),
        _cat=inpatient_stays.service_category,
        _adm=inpatient_stays.admission_date,
        _dis=inpatient_stays.discharge_date,
    )
    c = inpatient_claims
    j = c.inner_join(
        s,
        [
            c.member_id == s._m,
            c.payer == s._p,
            c.provider_npi.fill_null("?") == s._npi,
            c.service_category == s._cat,
            c.start >= s._adm,
            c.start <= s._dis,
        ],
    ).select("encounter_id", "claim_id")
    d = diagnoses.filter(diagnoses.diagnosis_sequence == 1)
    return j.inner_join(d, "claim_id").select("encounter_id", "diagnosis_code").distinct()


def acute_chains(inpatient_stays: ir.Table, principal_dx: ir.Table | None = None) -> ir.Table:
    """Acute stays joined into chains (transfers, overlaps): one row per chain.

    Columns: member_id, payer, encounter_id (of the last stay), admission_date (first),
    discharge_date (last), discharge_disposition_code, drg_code, provider_npi, in_partner_system
    (last stay), stays, first_planned (the chain's first stay is always planned).
    """
    s = inpatient_stays.filter(inpatient_stays.service_category == "inpatient_acute")
    planned = planned_stay(s.drg_code)
    if principal_dx is not None:
        pdx = principal_dx.filter(
            code_in(principal_dx.diagnosis_code, "planned_readmission_chemotherapy", "icd-10-cm")
        )
        pdx = pdx.select(_pdx_enc=pdx.encounter_id).distinct()
        s = s.left_join(pdx, s.encounter_id == pdx._pdx_enc)
        planned = planned_stay(s.drg_code) | s._pdx_enc.notnull()
    s = s.mutate(_planned=planned)
    key = [s.member_id, s.payer]
    order = [s.admission_date, s.discharge_date, s.encounter_id]
    s = s.mutate(
        _run_end=s.discharge_date.max().over(ibis.cumulative_window(group_by=key, order_by=order))
    )
    prev_end = s._run_end.lag().over(ibis.window(group_by=key, order_by=order))
    s = s.mutate(
        _new=ibis.ifelse(
            prev_end.isnull() | (s.admission_date > prev_end + ibis.interval(days=1)), 1, 0
        )
    )
    s = s.mutate(_chain=s._new.sum().over(ibis.cumulative_window(group_by=key, order_by=order)))
    ck = ["member_id", "payer", "_chain"]
    by = [s.member_id, s.payer, s._chain]
    s = s.mutate(
        _last=ibis.row_number().over(
            ibis.window(
                group_by=by,
                order_by=[
                    ibis.desc(s.discharge_date),
                    ibis.desc(s.admission_date),
                    ibis.desc(s.encounter_id),
                ],
            )
        ),
        _first=ibis.row_number().over(
            ibis.window(group_by=by, order_by=[s.admission_date, s.discharge_date, s.encounter_id])
        ),
    )
    agg = s.group_by(ck).aggregate(
        chain_admission=s.admission_date.min(),
        chain_discharge=s.discharge_date.max(),
        stays=s.count().cast("int64"),
    )
    first = s.filter(s._first == 0).select(*ck, first_planned=s._planned)
    last = s.filter(s._last == 0).select(
        *ck,
        "encounter_id",
        "discharge_disposition_code",
        "drg_code",
        "provider_npi",
        "in_partner_system",
    )
    c = agg.inner_join(first, ck).inner_join(last, ck)
    return c.select(
        "member_id",
        "payer",
        "encounter_id",
        admission_date=c.chain_admission,
        discharge_date=c.chain_discharge,
        discharge_disposition_code=c.discharge_disposition_code,
        drg_code=c.drg_code,
        provider_npi=c.provider_npi,
        in_partner_system=c.in_partner_system,
        stays=c.stays,
        first_planned=c.first_planned,
        _chain=c._chain,
    )


def enrolled_after(
    rows: ir.Table, member_months: ir.Table, date_col: str, days: int = WINDOW_DAYS
) -> ir.Table:
    """Adds ``_enrolled_after``: enrolled (same payer) in the month of ``date_col`` and the month
    ``days`` later."""
    y = member_years(member_months)
    d = rows[date_col]
    rows = rows.mutate(_d0=d, _d1=d + ibis.interval(days=days))
    a = y.select(_a_m=y.member_id, _a_p=y.payer, _a_y=y.year, _a_mask=y.month_mask)
    b = y.select(_b_m=y.member_id, _b_p=y.payer, _b_y=y.year, _b_mask=y.month_mask)
    rows = rows.left_join(
        a,
        [rows.member_id == a._a_m, rows.payer == a._a_p, rows._d0.year().cast("int64") == a._a_y],
    )
    rows = rows.left_join(
        b,
        [rows.member_id == b._b_m, rows.payer == b._b_p, rows._d1.year().cast("int64") == b._b_y],
    )
    rows = rows.mutate(
        _enrolled_after=enrolled_in_month(rows._a_mask, rows._d0)
        & enrolled_in_month(rows._b_mask, rows._d1)
    )
    return rows.drop(
        "_d0", "_d1", "_a_m", "_a_p", "_a_y", "_a_mask", "_b_m", "_b_p", "_b_y", "_b_mask"
    )


def _band(value: ir.IntegerValue, bands) -> ir.StringValue:
    case = ibis.cases(
        *[(value.between(lo, hi), f"{lo}-{hi}" if hi < 200 else f"{lo}+") for lo, hi in bands],
        else_="unknown",
    )
    return case


def _hcc_band(n: ir.IntegerValue) -> ir.StringValue:
    return ibis.cases((n <= 0, "0"), (n == 1, "1"), (n <= 3, "2-3"), else_="4+")


def _demographics(member_months: ir.Table) -> ir.Table:
    y = member_years(member_months)
    return y.group_by(_d_m=y.member_id, _d_p=y.payer).aggregate(
        _gender=y.gender.max(), _birth=y.birth_date.max()
    )


def readmission_rows(
    inpatient_stays: ir.Table,
    member_months: ir.Table,
    periods: list[Period],
    risk_score: ir.Table | None = None,
    attribution: ir.Table | None = None,
    principal_dx: ir.Table | None = None,
    risk_model: str = "V28",
) -> ir.Table:
    """Member-level rows (one per index chain discharged in a period) of the readmission measure."""
    chains = acute_chains(inpatient_stays, principal_dx)
    nxt = chains.select(
        _n_m=chains.member_id,
        _n_p=chains.payer,
        _n_chain=chains._chain - 1,
        next_admission=chains.admission_date,
        next_planned=chains.first_planned,
        next_encounter=chains.encounter_id,
    )
    c = chains.left_join(
        nxt,
        [
            chains.member_id == nxt._n_m,
            chains.payer == nxt._n_p,
            chains._chain == nxt._n_chain,
        ],
    )
    gap = c.next_admission.delta(c.discharge_date, unit="day").cast("int64")
    c = c.mutate(
        _gap=gap,
        _readmit=gap.between(1, WINDOW_DAYS).fill_null(False),
    )
    c = enrolled_after(c, member_months, "discharge_date")
    demo = _demographics(member_months)
    c = c.left_join(demo, [c.member_id == demo._d_m, c.payer == demo._d_p])
    if risk_score is not None:
        rs = risk_score.filter(risk_score.model == risk_model)
        rs = rs.select(_r_m=rs.member_id, _r_p=rs.payer, _r_y=rs.year, _hcc=rs.hcc_count)
        c = c.left_join(
            rs,
            [
                c.member_id == rs._r_m,
                c.payer == rs._r_p,
                c.discharge_date.year().cast("int64") == rs._r_y.cast("int64"),
            ],
        )
        hcc = c._hcc.fill_null(0).cast("int64")
    else:
        hcc = ibis.literal(0)
    c = c.mutate(
        _stratum=_band(age_on(c._birth, c.discharge_date), AGE_BANDS).concat(
            "|", c._gender.fill_null("unknown"), "|", _hcc_band(hcc)
        ),
    )
    disp = c.discharge_disposition_code
    parts = []
    for p in periods:
        last_index = p.end - dt.timedelta(days=WINDOW_DAYS)
        r = c.filter(c.discharge_date.between(p.start, p.end))
        reason = ibis.cases(
            (disp.isin(DIED), "died"),
            (disp.isin(AGAINST_ADVICE), "against_medical_advice"),
            (disp.isin(TRANSFERRED_OUT) & ~r._readmit, "transferred_out"),
            (code_in(r.drg_code, "pregnancy_perinatal", "ms-drg"), "pregnancy_perinatal"),
            (r.discharge_date > last_index, "discharge_in_last_30_days"),
            (~r._enrolled_after, "not_enrolled_after_discharge"),
            else_=ibis.null().cast("string"),
        )
        planned = r._readmit & r.next_planned.fill_null(False)
        detail = ibis.cases(
            (planned, ibis.literal("planned readmission ").concat(r.next_encounter)),
            (r._readmit, ibis.literal("readmitted ").concat(r.next_encounter)),
            else_=ibis.null().cast("string"),
        )
        parts.append(
            measure_rows(
                r,
                MEASURE_ID,
                p,
                in_numerator=r._readmit & ~planned,
                exclusion_reason=reason,
                event_id=r.encounter_id,
                event_date=r.discharge_date,
                detail=detail,
            )
        )
    rows = ibis.union(*parts) if len(parts) > 1 else parts[0]
    # indirect standardisation over the eligible stays of all periods
    elig = rows.filter(~rows.excluded)
    overall = elig.aggregate(
        _n_all=elig.count().cast("float64"),
        _x_all=elig.in_numerator.cast("int64").sum().cast("float64"),
    )
    strata = elig.group_by("_stratum").aggregate(
        _n=elig.count().cast("float64"), _x=elig.in_numerator.cast("int64").sum().cast("float64")
    )
    strata = strata.cross_join(overall)
    strata = strata.select(
        _s_key=strata._stratum,
        _p=(strata._x + SHRINKAGE * strata._x_all / strata._n_all) / (strata._n + SHRINKAGE),
    )
    rows = rows.left_join(strata, rows._stratum == strata._s_key)
    rows = rows.mutate(
        expected=ibis.ifelse(rows.excluded, ibis.null().cast("float64"), rows._p.round(9))
    )
    return finalize(rows, attribution)
