"""Quality tables of a run: member-level rows of every measure, their summary and care gaps.

``QUALITY_STAGES`` lists (name, inputs, description, build) for the run's stage list; each build
takes the dict of available tables. Optional inputs (EHR tables, crosswalk, risk scores) are used
when present; a measure whose required inputs are missing is left out.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from payvider.engine.backends import materialize
from payvider.marts.encounters import inpatient_claims
from payvider.measures.quality.ed_visits import ED_VISITS, ed_rows
from payvider.measures.quality.evidence import coded_evidence, linked_observations
from payvider.measures.quality.exclusions import apply_shared_exclusions
from payvider.measures.quality.extra_stages import (
    EXTRA_MEMBER_INPUTS,
    EXTRA_SPECS,
    extra_member_rows,
)
from payvider.measures.quality.followup import SPEC_7, SPEC_30, followup_rows, visits
from payvider.measures.quality.framework import (
    MeasureSpec,
    Period,
    care_gaps,
    finalize,
    forget_enrollment,
    start_enrollment,
    summarize,
    tag_value_sets,
    value_set_prefixes,
)
from payvider.measures.quality.hybrid import BP, HBA1C, hybrid_rows
from payvider.measures.quality.opioids import SPECS as OPIOID_SPECS
from payvider.measures.quality.opioids import opioid_rows
from payvider.measures.quality.readmission import SPEC as READMISSION
from payvider.measures.quality.readmission import readmission_rows, stay_principal_diagnoses
from payvider.measures.quality.screening import BREAST, COLORECTAL, screening_rows

SPECS: tuple[MeasureSpec, ...] = (READMISSION, SPEC_7, SPEC_30, BREAST, COLORECTAL, HBA1C, BP)
SPECS += EXTRA_SPECS
SPECS += (*OPIOID_SPECS, ED_VISITS)


def measurement_periods(member_months: ir.Table) -> list[Period]:
    """Calendar years with enrollment (executes a small aggregate)."""
    # the distinct months are few and quick to find; their years are taken here
    months = member_months.select("month").distinct().to_pyarrow()["month"].to_pylist()
    return [Period.year(y) for y in sorted({m.year for m in months if m is not None})]


def quality_member(tables: dict[str, ir.Table], periods: list[Period] | None = None) -> ir.Table:
    """Member-level rows of all measures whose inputs are present."""
    mm = tables["member_months"]
    start_enrollment(mm, tables.get("member_years"))
    periods = periods or measurement_periods(mm)
    attribution = tables.get("attribution")
    # The measures' rows are attributed once, after their union (``finalize`` below).
    parts = []
    stays = tables.get("inpatient_stays")
    if stays is not None:
        parts.append(
            readmission_rows(
                stays,
                mm,
                periods,
                tables.get("risk_score"),
                principal_dx=_principal_dx(tables),
            )
        )
        parts.append(
            followup_rows(
                stays,
                mm,
                visits(
                    tables.get("claims_enriched"),
                    tables.get("encounter"),
                    tables.get("member_patient_crosswalk"),
                ),
                periods,
            )
        )
    # Computed once, each row tagged with its value sets: every measure and exclusion picks the
    # rows of its value sets by tag (kept in value-set order, so a pick reads only its part).
    # Repeated rows are kept: every measure asks whether, when first or when last.
    ev = tag_value_sets(coded_evidence(tables, value_set_prefixes(), distinct=False))
    ev = _materialized(ev.order_by("value_set", "member_id"))
    parts.append(screening_rows(ev, mm, periods))
    if tables.get("observation") is not None and tables.get("member_patient_crosswalk") is not None:
        obs = linked_observations(tables["observation"], tables["member_patient_crosswalk"])
        obs = tag_value_sets(obs)
        obs = _materialized(obs.order_by("value_set", "member_id"))
        parts.append(hybrid_rows(ev, obs, mm, periods))
    parts.extend(extra_member_rows(tables, ev, periods, attribution, attribute=False))
    if tables.get("final_pharmacy_claim") is not None:
        parts.append(opioid_rows(tables["final_pharmacy_claim"], mm, periods, ev))
    if tables.get("claims_enriched") is not None:
        parts.append(ed_rows(tables["claims_enriched"], mm, periods))
    rows = ibis.union(*parts)
    rows = apply_shared_exclusions(rows, tables.get("claims_enriched"), ev, mm, periods)
    rows = finalize(rows.drop("organization_id", "clinician_npi"), attribution)
    forget_enrollment()  # the expression keeps what it uses; the run's next stages start afresh
    return rows


def _materialized(expr: ir.Table) -> ir.Table:
    """``expr`` computed once and kept by its engine, so that the measures that read it do not
    each recompute it within one large query."""
    return materialize(expr)


def _principal_dx(tables: dict[str, ir.Table]) -> ir.Table | None:
    """Principal diagnoses of the inpatient stays (planned readmissions by diagnosis)."""
    need = ("inpatient_stays", "claims_enriched", "final_medical_claim", "medical_claim_diagnosis")
    if any(tables.get(n) is None for n in need):
        return None
    return stay_principal_diagnoses(
        tables["inpatient_stays"],
        inpatient_claims(tables["claims_enriched"], tables["final_medical_claim"]),
        tables["medical_claim_diagnosis"],
    )


def quality_summary(tables: dict[str, ir.Table]) -> ir.Table:
    """One row per measure × period × level (total, organization, clinician)."""
    return summarize(tables["quality_member"], SPECS)


def quality_care_gaps(tables: dict[str, ir.Table]) -> ir.Table:
    """Members in a denominator without the numerator (or with it, for inverse measures)."""
    return care_gaps(tables["quality_member"], SPECS)


QUALITY_STAGES = (
    (
        "quality_member",
        (
            "member_months",
            "member_years",
            "attribution",
            "inpatient_stays",
            "claims_enriched",
            "risk_score",
            "final_medical_claim",
            "medical_claim_procedure",
            "medical_claim_diagnosis",
            "member_patient_crosswalk",
            "procedure",
            "condition",
            "encounter",
            "observation",
            *EXTRA_MEMBER_INPUTS,
            "final_pharmacy_claim",
        ),
        "Member-level rows of every quality measure: denominator, exclusion, numerator, "
        "attributed organization.",
        quality_member,
    ),
    (
        "quality_summary",
        ("quality_member",),
        "Quality measures by period, in total, by organization and clinician: counts, rate, "
        "Wilson 95% interval, expected and O/E.",
        quality_summary,
    ),
    (
        "quality_care_gaps",
        ("quality_member",),
        "Members in a measure's denominator with an open care gap.",
        quality_care_gaps,
    ),
)
