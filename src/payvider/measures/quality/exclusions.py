"""Exclusions shared by several measures: hospice, and advanced illness with frailty.

* ``hospice`` — a hospice claim in the period (``claims_enriched`` category ``hospice``: bill
  types 81x/82x) or a hospice HCPCS code (value set ``hospice``) in the period. Applies to the
  screening, diabetes, blood-pressure, opioid and ED measures (:data:`HOSPICE_MEASURES`).
* ``advanced_illness_frailty`` — HEDIS-style, for the cancer screening measures: members 66+ at
  the period end with a frailty diagnosis or device (value sets ``frailty_diagnosis``,
  ``frailty_device``) in the period **and** an advanced-illness diagnosis (``advanced_illness``)
  on at least two different dates in the period or the year before.

A row already excluded keeps its first reason.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from payvider.measures.quality.framework import (
    MEMBER_SCHEMA,
    Period,
    age_on,
    in_value_set,
    member_years,
)

HOSPICE_MEASURES = (
    "breast_cancer_screening",
    "colorectal_cancer_screening",
    "hba1c_poor_control",
    "blood_pressure_control",
    "opioid_high_dosage",
    "opioid_benzodiazepine_concurrent",
    "ed_visits_per_1000",
)
FRAILTY_MEASURES = ("breast_cancer_screening", "colorectal_cancer_screening")
FRAILTY_AGE = 66
ADVANCED_ILLNESS_DATES = 2


def _of_type(evidence: ir.Table, code_type: str) -> ir.Table:
    if "code_type" in evidence.columns:
        return evidence.filter(evidence.code_type == code_type)
    return evidence


def hospice_members(
    claims_enriched: ir.Table | None, evidence: ir.Table | None, periods: list[Period]
) -> ir.Table | None:
    """member_id, period of members with hospice care in the period."""
    parts = []
    for p in periods:
        if claims_enriched is not None:
            c = claims_enriched
            c = c.filter((c.service_category == "hospice") & c.service_date.between(p.start, p.end))
            parts.append(c.select("member_id", period=ibis.literal(p.label)))
        if evidence is not None:
            e = _of_type(evidence, "procedure")
            e = in_value_set(e, "hospice")
            e = e.filter(e.event_date.between(p.start, p.end))
            parts.append(e.select("member_id", period=ibis.literal(p.label)))
    return ibis.union(*parts).distinct() if parts else None


def advanced_illness_frailty(
    evidence: ir.Table, member_months: ir.Table, periods: list[Period]
) -> ir.Table:
    """member_id, period of members 66+ with frailty and advanced illness (HEDIS-style)."""
    y = member_years(member_months)
    demo = y.group_by(_d_m=y.member_id).aggregate(_birth=y.birth_date.max())
    dx = _of_type(evidence, "diagnosis")
    px = _of_type(evidence, "procedure")
    parts = []
    for p in periods:
        fdx = in_value_set(dx, "frailty_diagnosis")
        fpx = in_value_set(px, "frailty_device")
        frail = ibis.union(
            fdx.filter(fdx.event_date.between(p.start, p.end)).select("member_id"),
            fpx.filter(fpx.event_date.between(p.start, p.end)).select("member_id"),
        ).distinct()
        lo = dt.date(p.start.year - 1, 1, 1)
        ai = in_value_set(dx, "advanced_illness")
        ai = ai.filter(ai.event_date.between(lo, p.end))
        ai = ai.group_by(_a_m=ai.member_id).aggregate(_dates=ai.event_date.nunique())
        ai = ai.filter(ai._dates >= ADVANCED_ILLNESS_DATES)
        j = frail.inner_join(ai, frail.member_id == ai._a_m).inner_join(
            demo, frail.member_id == demo._d_m
        )
        j = j.filter(age_on(j._birth, p.end) >= FRAILTY_AGE)
        parts.append(j.select("member_id", period=ibis.literal(p.label)))
    return ibis.union(*parts).distinct()


def apply_exclusion(
    rows: ir.Table, who: ir.Table | None, reason: str, measure_ids: tuple[str, ...]
) -> ir.Table:
    """Rows of ``measure_ids`` whose member and period are in ``who`` become excluded with
    ``reason`` (unless already excluded)."""
    if who is None:
        return rows
    w = who.select(_w_m=who.member_id, _w_p=who.period).distinct()
    j = rows.left_join(w, [rows.member_id == w._w_m, rows.period == w._w_p])
    hit = j._w_m.notnull() & j.measure_id.isin(measure_ids) & ~j.excluded
    j = j.mutate(
        excluded=j.excluded | hit,
        exclusion_reason=ibis.ifelse(hit, reason, j.exclusion_reason),
    )
    return j.select(*MEMBER_SCHEMA.names)


def apply_shared_exclusions(
    rows: ir.Table,
    claims_enriched: ir.Table | None,
    evidence: ir.Table | None,
    member_months: ir.Table,
    periods: list[Period],
) -> ir.Table:
    """Hospice, then advanced illness with frailty, on the measures they apply to."""
    rows = apply_exclusion(
        rows, hospice_members(claims_enriched, evidence, periods), "hospice", HOSPICE_MEASURES
    )
    if evidence is not None:
        rows = apply_exclusion(
            rows,
            advanced_illness_frailty(evidence, member_months, periods),
            "advanced_illness_frailty",
            FRAILTY_MEASURES,
        )
    return rows
