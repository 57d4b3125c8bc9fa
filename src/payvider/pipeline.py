"""The stages of ``payvider run``: which output tables are built, from what, by which function.

Each stage is a pure function from Ibis tables (canonical inputs or earlier stages' outputs) to one
Ibis table. The run executor (``payvider.engine.runs``) reads inputs, executes each stage on the
chosen engine and writes its output as ``<stage name>.parquet``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import ibis.expr.types as ir
from pydantic import BaseModel, ConfigDict, Field

from payvider.care.worklists import WorklistSettings, care_worklist, empty_worklist
from payvider.link.stages import LinkSettings, link_crosswalk, link_review_queue
from payvider.marts.attribution import attribute_members
from payvider.marts.attribution_rules import AttributionRules
from payvider.marts.completion import completed_costs, lag_triangle
from payvider.marts.encounters import inpatient_stays
from payvider.marts.final_claims import resolve_adjustments
from payvider.marts.member_months import MemberMonthRule, member_months
from payvider.marts.member_years import member_years
from payvider.marts.membership import attribution_churn, membership_by_month
from payvider.marts.risk import Basis, Model, risk_scores_all_models
from payvider.marts.service_categories import claims_enriched
from payvider.marts.truncation import truncate_high_cost
from payvider.measures.cost import (
    cost_pmpm,
    cost_reconciliation,
    member_month_costs,
    member_year_cost,
    scope_pmpm,
)
from payvider.measures.leakage import leakage, leakage_destinations
from payvider.measures.quality.composite import CompositeConfig
from payvider.measures.quality.extra_stages import EXTRA_STAGES
from payvider.measures.quality.opioid_taper import opioid_taper
from payvider.measures.quality.stages import QUALITY_STAGES, SPECS
from payvider.measures.trend import cost_trend
from payvider.measures.utilization import utilization
from payvider.population.scopes import BUILTIN_SCOPES
from payvider.segmentation import provider_segmentation


class RunParameters(BaseModel):
    """Settings of a run; recorded in its manifest so the run can be reproduced."""

    model_config = ConfigDict(extra="forbid")

    member_month_rule: MemberMonthRule = "any_day"
    as_of: dt.date | None = None
    attribution: AttributionRules = AttributionRules()
    linkage: LinkSettings = LinkSettings()
    #: Market region of ``market_benchmark`` to compare trends with (None: mean over regions).
    market_region: str | None = None
    #: CMS-HCC scoring of the run's ``risk_score`` table. Concurrent (diagnoses of the same year)
    #: scores every year that has claims; prospective follows CMS payment (prior-year diagnoses).
    risk_basis: Basis = "concurrent"
    #: The model whose scores risk-adjust PMPM and trends.
    risk_model: Model = "V28"
    #: High-cost claimant truncation of member-year allowed: a percentile of member-years
    #: (nearest rank, per payer and year) or a fixed dollar cap; the cap wins when both are set.
    truncation_percentile: float | None = Field(99.0, gt=0, le=100)
    truncation_cap: Decimal | None = None
    #: Incurred months of experience that the chain-ladder development factors average over.
    completion_months_of_experience: int = Field(12, ge=1)
    #: Thresholds of the care-management worklists.
    worklists: WorklistSettings = WorklistSettings()
    #: Weights and targets of the composite quality score (the shipped default unless given).
    quality_composite: CompositeConfig = Field(default_factory=CompositeConfig.default)
    #: Start of the partnership's opioid tapering program: the ``opioid_taper`` stage compares
    #: the 90 days before it with the last 90 days of the data (None: no program, empty table).
    opioid_taper_start: dt.date | None = None


@dataclass(frozen=True)
class Stage:
    name: str
    inputs: tuple[str, ...]
    description: str
    build: Callable[[dict[str, ir.Table], RunParameters], ir.Table]


def claim_years(claims: ir.Table) -> list[int]:
    """Calendar years with claims (executes a one-row aggregate)."""
    years = claims.select(year=claims.claim_start_date.year()).distinct().to_pyarrow()
    return sorted(int(y) for y in years["year"].to_pylist() if y is not None)


def _attribution(t: dict[str, ir.Table], p: RunParameters) -> ir.Table:
    return attribute_members(
        t["final_medical_claim"],
        t["eligibility"],
        t["member_months"],
        t["provider"],
        p.attribution.periods or claim_years(t["final_medical_claim"]),
        p.attribution,
    )


STAGES: tuple[Stage, ...] = (
    Stage(
        "final_medical_claim",
        ("medical_claim",),
        "Medical claim lines with replacements and voids resolved.",
        lambda t, p: resolve_adjustments(t["medical_claim"]),
    ),
    Stage(
        "final_pharmacy_claim",
        ("pharmacy_claim",),
        "Pharmacy claim lines with replacements and reversals resolved.",
        lambda t, p: resolve_adjustments(t["pharmacy_claim"]),
    ),
    Stage(
        "member_months",
        ("eligibility",),
        "One row per member, payer and month of enrollment.",
        lambda t, p: member_months(t["eligibility"], p.member_month_rule),
    ),
    Stage(
        "member_years",
        ("member_months",),
        "One row per member, payer and year: months enrolled (count and mask), the last month's "
        "product line, sex and birth date.",
        lambda t, p: member_years(t["member_months"]),
    ),
    Stage(
        "attribution",
        ("final_medical_claim", "eligibility", "member_months", "provider"),
        "Attribution of each eligible member per performance year, with the rule that decided it.",
        _attribution,
    ),
    Stage(
        "membership",
        ("member_months", "attribution"),
        "Members, member months and attribution by month and product line.",
        lambda t, p: membership_by_month(t["member_months"], t["attribution"]),
    ),
    Stage(
        "attribution_churn",
        ("attribution",),
        "Members by change in attribution from the previous period.",
        lambda t, p: attribution_churn(t["attribution"]),
    ),
    Stage(
        "member_patient_crosswalk",
        ("eligibility", "patient"),
        "One-to-one links of payer members to EHR patients (deterministic, then probabilistic).",
        lambda t, p: link_crosswalk(t, p.linkage),
    ),
    Stage(
        "link_review_queue",
        ("eligibility", "patient"),
        "Member–patient pairs between the linkage thresholds, for clerical review.",
        lambda t, p: link_review_queue(t, p.linkage),
    ),
)


def _risk_score(t: dict[str, ir.Table], p: RunParameters) -> ir.Table:
    return risk_scores_all_models(
        t["final_medical_claim"],
        t["medical_claim_diagnosis"],
        t["member_months"],
        claim_years(t["final_medical_claim"]),
        basis=p.risk_basis,
        enrollment_years=t.get("member_years"),
    )


def _model_scores(t: dict[str, ir.Table], p: RunParameters) -> ir.Table | None:
    scores = t.get("risk_score")
    return None if scores is None else scores.filter(scores.model == p.risk_model)


COST_STAGES: tuple[Stage, ...] = (
    Stage(
        "risk_score",
        ("final_medical_claim", "medical_claim_diagnosis", "member_months", "member_years"),
        "CMS-HCC V24 and V28 risk scores per member and year, with the HCCs that counted.",
        _risk_score,
    ),
    Stage(
        "claims_enriched",
        ("final_medical_claim", "final_pharmacy_claim", "provider"),
        "Every final medical line and pharmacy fill with its service category and provider system.",
        lambda t, p: claims_enriched(
            t["final_medical_claim"], t["final_pharmacy_claim"], t["provider"]
        ),
    ),
    Stage(
        "inpatient_stays",
        ("claims_enriched", "final_medical_claim"),
        "Institutional inpatient claims rolled up to admissions, with length of stay.",
        lambda t, p: inpatient_stays(t["claims_enriched"], t["final_medical_claim"]),
    ),
    Stage(
        "member_month_cost",
        ("claims_enriched", "member_months", "attribution", "member_years"),
        "Allowed and paid per member, month, service category and in/out of the partner system, "
        "with the member month's enrollment, product line and attribution.",
        lambda t, p: member_month_costs(
            t["claims_enriched"], t["member_months"], t["attribution"], t.get("member_years")
        ),
    ),
    Stage(
        "cost_pmpm",
        ("member_month_cost", "member_months", "attribution", "member_years"),
        "Allowed and paid PMPM by month, product line, attributed organization, service category.",
        lambda t, p: cost_pmpm(
            t["member_month_cost"], t["member_months"], t["attribution"], t.get("member_years")
        ),
    ),
    Stage(
        "scope_pmpm",
        ("member_month_cost", "member_months", "attribution", "member_years", "cost_pmpm"),
        "Allowed and paid PMPM by built-in scope, month and service category.",
        lambda t, p: scope_pmpm(
            t["member_month_cost"],
            t["member_months"],
            t["attribution"],
            t.get("member_years"),
            cost_pmpm=t["cost_pmpm"],
        ),
    ),
    Stage(
        "member_year_cost",
        ("member_month_cost", "member_months", "attribution", "member_years"),
        "Member months, allowed and paid per member and year: the base of settlements.",
        lambda t, p: member_year_cost(
            t["member_month_cost"], t["member_months"], t["attribution"], t.get("member_years")
        ),
    ),
    Stage(
        "cost_reconciliation",
        ("member_month_cost", "member_months"),
        "Every final line and dollar: in a member month, or outside enrollment.",
        lambda t, p: cost_reconciliation(t["member_month_cost"], t["member_months"]),
    ),
    Stage(
        "utilization",
        ("claims_enriched", "inpatient_stays", "member_months", "attribution", "member_years"),
        "Admissions, bed days, ED, readmissions and visits per 1,000 by year and organization.",
        lambda t, p: utilization(
            t["claims_enriched"],
            t["inpatient_stays"],
            t["member_months"],
            t["attribution"],
            t.get("member_years"),
        ),
    ),
    Stage(
        "leakage",
        ("claims_enriched", "member_months", "attribution", "member_years"),
        "Share of partner-attributed members' care delivered inside the partner system.",
        lambda t, p: leakage(
            t["claims_enriched"], t["member_months"], t["attribution"], t.get("member_years")
        ),
    ),
    Stage(
        "leakage_destinations",
        ("claims_enriched", "member_months", "attribution", "member_years"),
        "Top out-of-system destinations of partner-attributed members' spend.",
        lambda t, p: leakage_destinations(
            t["claims_enriched"],
            t["member_months"],
            t["attribution"],
            member_years=t.get("member_years"),
        ),
    ),
    Stage(
        "cost_trend",
        ("member_month_cost", "member_months", "attribution", "market_benchmark", "member_years"),
        "Risk-adjusted PMPM trend of each built-in scope against the market, and its dollars.",
        lambda t, p: cost_trend(
            list(BUILTIN_SCOPES.values()),
            t["member_month_cost"],
            t["member_months"],
            t["attribution"],
            t["market_benchmark"],
            _model_scores(t, p),
            p.market_region,
            t.get("member_years"),
        ),
    ),
    Stage(
        "lag_triangle",
        ("medical_claim", "member_months", "member_years"),
        "Paid-date lag triangle by product line (claims as received: replacements and voids "
        "count when paid).",
        lambda t, p: lag_triangle(
            t["medical_claim"],
            t["member_months"],
            by_product_line=True,
            member_years=t.get("member_years"),
        ),
    ),
    Stage(
        "completion_factors",
        ("lag_triangle", "member_months"),
        "Chain-ladder completion factors, IBNR and completed PMPM per incurred month.",
        lambda t, p: completed_costs(
            t["lag_triangle"],
            t["member_months"],
            as_of=p.as_of,
            months_of_experience=p.completion_months_of_experience,
        ),
    ),
    Stage(
        "high_cost_truncation",
        ("final_medical_claim", "member_months", "member_years"),
        "Member-year allowed truncated at the high-cost claimant threshold, with the excess.",
        lambda t, p: truncate_high_cost(
            t["final_medical_claim"],
            cap=p.truncation_cap,
            percentile=None if p.truncation_cap is not None else p.truncation_percentile,
            member_months=t["member_months"],
            member_years=t.get("member_years"),
        ),
    ),
)


def _quality_stage(name, inputs, description, build) -> Stage:
    return Stage(name, tuple(inputs), description, lambda t, p: build(t))


def _care_worklist(t: dict[str, ir.Table], p: RunParameters) -> ir.Table:
    periods = t["attribution"].select(y=t["attribution"].period.max()).to_pyarrow()["y"]
    if periods[0].as_py() is None:
        return empty_worklist()
    year = int(periods[0].as_py())
    as_of = dt.date(year, 12, 31) if p.as_of is None else min(p.as_of, dt.date(year, 12, 31))
    return care_worklist(t, year, as_of, p.worklists, SPECS, p.risk_model)


CARE_STAGES: tuple[Stage, ...] = (
    Stage(
        "care_worklist",
        (
            "attribution",
            "risk_score",
            "quality_care_gaps",
            "quality_member",
            "inpatient_stays",
            "sdoh_screening",
            "member_patient_crosswalk",
            "claims_enriched",
            "provider",
            "eligibility",
        ),
        "Members for the joint care teams to call in the latest year, each with the reason: high "
        "and rising risk, discharges without follow-up, care gaps, unmet social needs, high-dose "
        "opioids, steerable out-of-system care.",
        _care_worklist,
    ),
)


def _segmentation(t: dict[str, ir.Table], p: RunParameters) -> ir.Table:
    return provider_segmentation(
        t["member_year_cost"],
        t["claims_enriched"],
        t["utilization"],
        _model_scores(t, p),
        t.get("quality_summary"),
        t["member_patient_crosswalk"],
        t["provider"],
    )


SEGMENTATION_STAGES: tuple[Stage, ...] = (
    Stage(
        "provider_segmentation",
        (
            "member_year_cost",
            "claims_enriched",
            "utilization",
            "risk_score",
            "quality_summary",
            "member_patient_crosswalk",
            "provider",
        ),
        "Provider organizations scored on size and brand, cost management and value-based "
        "disposition, with tier and recommended partnership depth.",
        _segmentation,
    ),
)

STAGES = STAGES + COST_STAGES + tuple(_quality_stage(*entry) for entry in QUALITY_STAGES)
STAGES = STAGES + tuple(Stage(n, tuple(i), d, b) for n, i, d, b in EXTRA_STAGES)
STAGES += (
    Stage(
        "opioid_taper",
        ("final_pharmacy_claim", "member_months", "member_years", "provider"),
        "Tapering program outcomes of long-term high-dose opioid patients: reduced, "
        "discontinued, maintained; program (partner prescriber) vs not.",
        lambda t, p: opioid_taper(t, p.opioid_taper_start),
    ),
)
STAGES += SEGMENTATION_STAGES + CARE_STAGES


def stage_names() -> list[str]:
    return [s.name for s in STAGES]
