"""Inpatient stays: institutional inpatient claims rolled up to admissions with length of stay.

A hospital sends one claim per stay, or several (interim bills, a late charge, a corrected claim
already resolved upstream). Claims of the same member at the same facility and of the same kind of
stay (acute hospital, psychiatric, rehabilitation, skilled nursing) are one admission when their
dates overlap or touch (the next claim starts on or the day after the last discharge). A transfer
to another facility starts a new admission. Dates are the admission and discharge dates when
present, else the claim's service dates.

Readmissions here are utilization counts: an acute admission starting 1–30 days after the member's
previous acute discharge. The quality measure (planned readmissions, exclusions, risk model) is
separate.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from payvider.marts.arith import money_sum
from payvider.marts.service_categories import INPATIENT_STAY_CATEGORIES

READMISSION_DAYS = 30


def inpatient_claims(claims_enriched: ir.Table, final_medical: ir.Table) -> ir.Table:
    """One row per institutional inpatient claim with its stay dates and amounts."""
    e = claims_enriched.filter(claims_enriched.service_category.isin(INPATIENT_STAY_CATEGORIES))
    lines = e.group_by("claim_id").aggregate(
        member_id=e.member_id.max(),
        payer=e.payer.max(),
        service_category=e.service_category.max(),
        provider_npi=e.provider_npi.max(),
        health_system=e.health_system.max(),
        in_partner_system=e.in_partner_system.max(),
        allowed_amount=e.allowed_amount.sum(),
        paid_amount=e.paid_amount.sum(),
    )
    c = final_medical.filter(final_medical.claim_type == "institutional")
    # dates of the inpatient claims only (a few percent of institutional claims)
    c = c.semi_join(lines.select("claim_id"), "claim_id")
    dates = c.group_by("claim_id").aggregate(
        start=c.admission_date.fill_null(c.claim_start_date).min(),
        end=c.discharge_date.fill_null(c.claim_end_date).fill_null(c.claim_start_date).max(),
        drg_code=c.drg_code.max(),
        discharge_disposition_code=c.discharge_disposition_code.max(),
    )
    return lines.inner_join(dates, "claim_id")


def inpatient_stays(claims_enriched: ir.Table, final_medical: ir.Table) -> ir.Table:
    """Admissions: one row per stay, with length of stay, amounts and a readmission flag."""
    c = inpatient_claims(claims_enriched, final_medical)
    key = [c.member_id, c.payer, c.provider_npi, c.service_category]
    order = [c.start, c.end, c.claim_id]
    running_end = c.end.max().over(ibis.cumulative_window(group_by=key, order_by=order))
    c = c.mutate(_running_end=running_end)
    prev_end = c._running_end.lag().over(ibis.window(group_by=key, order_by=order))
    c = c.mutate(
        _new=ibis.ifelse(prev_end.isnull() | (c.start > prev_end + ibis.interval(days=1)), 1, 0)
    )
    c = c.mutate(_stay_no=c._new.sum().over(ibis.cumulative_window(group_by=key, order_by=order)))
    s = c.group_by(
        ["member_id", "payer", "provider_npi", "service_category", "_stay_no"]
    ).aggregate(
        admission_date=c.start.min(),
        discharge_date=c.end.max(),
        claims=c.count().cast("int64"),
        drg_code=c.drg_code.max(),
        discharge_disposition_code=c.discharge_disposition_code.max(),
        health_system=c.health_system.max(),
        in_partner_system=c.in_partner_system.max(),
        allowed_amount=money_sum(c.allowed_amount),
        paid_amount=money_sum(c.paid_amount),
    )
    los = s.discharge_date.delta(s.admission_date, unit="day").cast("int64")
    s = s.mutate(
        encounter_id=ibis.literal("IP-")
        .concat(s.member_id, "-", s.payer, "-", s.provider_npi.fill_null("?"), "-")
        .concat(s.admission_date.cast("string")),
        length_of_stay=los,
        bed_days=ibis.greatest(los, 1),
    )
    s = s.mutate(_acute=s.service_category == "inpatient_acute")
    w = ibis.window(
        group_by=[s.member_id, s.payer, s._acute],
        order_by=[s.admission_date, s.discharge_date, s.encounter_id],
    )
    prev_discharge = s.discharge_date.lag().over(w)
    gap = s.admission_date.delta(prev_discharge, unit="day").cast("int64")
    s = s.mutate(
        days_since_last_discharge=ibis.ifelse(s._acute, gap, ibis.null().cast("int64")),
    )
    s = s.mutate(
        is_readmission=s._acute
        & s.days_since_last_discharge.between(1, READMISSION_DAYS).fill_null(False)
    )
    return s.select(
        "encounter_id",
        "member_id",
        "payer",
        "service_category",
        "admission_date",
        "discharge_date",
        "length_of_stay",
        "bed_days",
        "claims",
        "drg_code",
        "discharge_disposition_code",
        "provider_npi",
        "health_system",
        "in_partner_system",
        "allowed_amount",
        "paid_amount",
        "days_since_last_discharge",
        "is_readmission",
        year=s.admission_date.year().cast("int64"),
        admission_month=s.admission_date.truncate("M").cast("date"),
    )
