"""Run stages and member rows of the social, experience and engagement measures, and the composite.

:func:`extra_member_rows` adds the SDOH and engagement measures' rows to ``quality_member``;
``EXTRA_STAGES`` lists (name, inputs, description, build) of the tables of their own:
``sdoh_summary``, ``experience_summary`` and ``quality_composite`` (after ``quality_summary``).
Builds take the dict of available tables and the run parameters (the composite's configuration
is the run parameter ``quality_composite``).
"""

from __future__ import annotations

from typing import Any

import ibis.expr.types as ir

from payvider.measures.quality.composite import CompositeConfig, quality_composite
from payvider.measures.quality.engagement import SPECS as ENGAGEMENT_SPECS
from payvider.measures.quality.engagement import engagement_rows, telehealth_days
from payvider.measures.quality.experience import experience_summary
from payvider.measures.quality.framework import MeasureSpec, Period
from payvider.measures.quality.sdoh import SPECS as SDOH_SPECS
from payvider.measures.quality.sdoh import sdoh_rows, sdoh_summary

EXTRA_SPECS: tuple[MeasureSpec, ...] = SDOH_SPECS + ENGAGEMENT_SPECS
#: Inputs the extra member rows read (added to the ``quality_member`` stage's inputs).
EXTRA_MEMBER_INPUTS = ("sdoh_screening",)


def extra_member_rows(
    tables: dict[str, ir.Table],
    evidence: ir.Table,
    periods: list[Period],
    attribution: ir.Table | None,
    attribute: bool = True,
) -> list[ir.Table]:
    """Member rows of the SDOH measures (with EHR inputs and a crosswalk) and engagement measures
    (with attribution). ``attribute=False`` leaves the rows ``unattributed`` for the caller to
    attribute."""
    parts = []
    mm = tables["member_months"]
    xw = tables.get("member_patient_crosswalk")
    enc = tables.get("encounter")
    if xw is not None and enc is not None and tables.get("sdoh_screening") is not None:
        att = attribution if attribute else None
        parts.append(sdoh_rows(tables["sdoh_screening"], enc, xw, mm, periods, att))
    if attribution is not None:
        tele = telehealth_days(tables.get("claims_enriched"), enc, xw)
        parts.append(engagement_rows(attribution, tele, evidence, periods, attribute))
    return parts


def _periods(tables: dict[str, ir.Table]) -> list[Period]:
    from payvider.measures.quality.stages import measurement_periods

    return measurement_periods(tables["member_months"])


def _sdoh_summary(tables: dict[str, ir.Table], params: Any) -> ir.Table:
    return sdoh_summary(
        tables["sdoh_screening"],
        tables["member_patient_crosswalk"],
        tables["member_months"],
        _periods(tables),
        tables.get("attribution"),
        tables.get("member_years"),
    )


def _experience_summary(tables: dict[str, ir.Table], params: Any) -> ir.Table:
    return experience_summary(
        tables["survey_response"],
        tables.get("member_patient_crosswalk"),
        tables.get("attribution"),
    )


def _quality_composite(tables: dict[str, ir.Table], params: Any) -> ir.Table:
    config = getattr(params, "quality_composite", None) or CompositeConfig.default()
    return quality_composite(tables["quality_summary"], config)


EXTRA_STAGES = (
    (
        "sdoh_summary",
        (
            "sdoh_screening",
            "member_patient_crosswalk",
            "member_months",
            "member_years",
            "attribution",
        ),
        "SDOH screenings by period, organization and domain: members screened, needs found, "
        "referrals.",
        _sdoh_summary,
    ),
    (
        "experience_summary",
        ("survey_response", "member_patient_crosswalk", "attribution"),
        "Patient-experience survey items by year and organization: mean score and top-box share.",
        _experience_summary,
    ),
    (
        "quality_composite",
        ("quality_summary",),
        "Composite quality score (0-100) per period, in total and by organization, from "
        "configured weights and targets.",
        _quality_composite,
    ),
)
