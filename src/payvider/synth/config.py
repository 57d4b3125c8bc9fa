"""Parameters of the synthetic world, with defaults, and the effects it plants.

Every number that shapes the generated population lives here, so a params YAML can change any of
them and ``truth.json`` can record exactly what was used. Rates are annual unless stated.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

#: Product lines the generator books members into (a subset of the canonical PRODUCT_LINES).
BOOK_LINES = ("commercial", "medicare_advantage", "medicaid")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class PerLine(_Model):
    """One value per product line of the book."""

    commercial: float
    medicare_advantage: float
    medicaid: float

    def as_tuple(self) -> tuple[float, float, float]:
        return (self.commercial, self.medicare_advantage, self.medicaid)


class ReadmissionEffect(_Model):
    """A care-coordination program that lowers readmissions after partner-hospital discharges."""

    program_start: date = date(2024, 7, 1)
    #: Relative reduction of the 30-day readmission probability (0.30 = 30 % fewer readmissions).
    relative_reduction: float = Field(0.30, ge=0, le=1)
    #: Probability that an eligible discharge causes a 30-day readmission, before the program.
    #: Unrelated admissions that happen to fall within 30 days add ~1-3 points, so the observed
    #: all-cause rates land near HCUP Statistical Brief #248 (2016: Medicare 17.1 %, Medicaid
    #: 14.7 %, private insurance 8.7 %).
    base_rate: PerLine = PerLine(commercial=0.07, medicare_advantage=0.125, medicaid=0.12)
    #: Probability of a primary-care follow-up within 7 days of discharge, before / after.
    followup_7d_before: float = Field(0.40, ge=0, le=1)
    followup_7d_after: float = Field(0.60, ge=0, le=1)


class OpioidEffect(_Model):
    """Chronic opioid therapy and a tapering program run by the partner system."""

    #: Share of adult members on chronic opioid therapy (CDC: ~3-5 % of adults long-term use).
    chronic_rate: PerLine = PerLine(commercial=0.025, medicare_advantage=0.045, medicaid=0.05)
    #: Median and log-sd of the baseline daily MME of chronic users (share >= 90 MME ~ 15 %).
    median_mme: float = Field(45.0, gt=0)
    mme_log_sd: float = Field(0.7, gt=0)
    #: Acute (short) opioid courses per member-year, adults.
    acute_rate: float = Field(0.06, ge=0)
    taper_start: date = date(2024, 4, 1)
    #: Among high-dose (>= 90 MME) chronic users on therapy in the 90 days before their taper
    #: starts, managed by partner prescribers:
    taper_reduced_share: float = Field(0.45, ge=0, le=1)
    taper_discontinued_share: float = Field(0.15, ge=0, le=1)
    #: Background drift for high-dose users of other prescribers (no program).
    background_reduced_share: float = Field(0.08, ge=0, le=1)
    background_discontinued_share: float = Field(0.04, ge=0, le=1)
    #: Share of chronic opioid users with overlapping benzodiazepine fills.
    benzo_overlap_share: float = Field(0.20, ge=0, le=1)

    @model_validator(mode="after")
    def _shares(self) -> OpioidEffect:
        if self.taper_reduced_share + self.taper_discontinued_share > 1:
            raise ValueError("taper_reduced_share + taper_discontinued_share must be <= 1")
        if self.background_reduced_share + self.background_discontinued_share > 1:
            raise ValueError(
                "background_reduced_share + background_discontinued_share must be <= 1"
            )
        return self


class SdohEffect(_Model):
    """Social needs (member-level, persistent) and the partner system's screening of them."""

    #: Population prevalence of a need, per domain (AHC HRSN evaluation, CMS 2023: food and
    #: housing the most common; roughly 10-25 % of Medicaid/Medicare beneficiaries per domain).
    prevalence: dict[str, float] = {
        "food": 0.12,
        "housing": 0.09,
        "transportation": 0.07,
        "utilities": 0.06,
        "interpersonal_safety": 0.02,
        "financial": 0.14,
        "social_isolation": 0.10,
    }
    #: Need multiplier by product line (relative to the population prevalence).
    line_multiplier: PerLine = PerLine(commercial=0.55, medicare_advantage=1.0, medicaid=2.6)
    #: Share of partner patients with an office visit who are screened, per data year.
    screening_rate_by_year: list[float] = [0.30, 0.45, 0.60]
    referral_rate: float = Field(0.55, ge=0, le=1)

    @model_validator(mode="after")
    def _domains(self) -> SdohEffect:
        allowed = {
            "food",
            "housing",
            "transportation",
            "utilities",
            "interpersonal_safety",
            "financial",
            "social_isolation",
        }
        unknown = set(self.prevalence) - allowed
        if unknown:
            raise ValueError(f"unknown SDOH domains {sorted(unknown)}; allowed: {sorted(allowed)}")
        for k, v in self.prevalence.items():
            if not 0 <= v <= 1:
                raise ValueError(f"prevalence of {k} must be within [0, 1]")
        return self


class LinkageEffect(_Model):
    """How the partner EHR's demographics differ from the payer's (kinds of corruption)."""

    typo_first_name: float = Field(0.04, ge=0, le=1)
    typo_last_name: float = Field(0.05, ge=0, le=1)
    nickname: float = Field(0.06, ge=0, le=1)
    address_change: float = Field(0.10, ge=0, le=1)
    last_name_change: float = Field(0.02, ge=0, le=1)
    birth_date_error: float = Field(0.015, ge=0, le=1)
    #: EHR patients who are not members of the payer, per linked patient.
    non_member_patient_ratio: float = Field(0.40, ge=0)
    #: Share of the non-member patients who live with a member (same surname, address, phone).
    household_share: float = Field(0.30, ge=0, le=1)

    @model_validator(mode="after")
    def _total(self) -> LinkageEffect:
        total = (
            self.typo_first_name
            + self.typo_last_name
            + self.nickname
            + self.address_change
            + self.last_name_change
            + self.birth_date_error
        )
        if total > 1:
            raise ValueError("the corruption rates sum to more than 1")
        return self


class ScreeningRates(_Model):
    """Share of eligible members who keep up with cancer screening (HEDIS-style behaviour).

    NCQA State of Healthcare Quality (HEDIS MY2022): breast cancer screening about 71 %
    commercial, 70 % Medicare Advantage, 51 % Medicaid; colorectal cancer screening about 60-70 %
    commercial and Medicare Advantage.
    """

    breast: PerLine = PerLine(commercial=0.72, medicare_advantage=0.71, medicaid=0.52)
    colorectal: PerLine = PerLine(commercial=0.62, medicare_advantage=0.70, medicaid=0.45)


class SynthConfig(_Model):
    """Everything that shapes a synthetic population. Defaults give a realistic book."""

    start_date: date = date(2023, 1, 1)
    end_date: date = date(2025, 12, 31)
    #: Claims paid after this date are not in the files (recent months are incomplete).
    as_of_date: date = date(2026, 3, 31)

    payer: str = "prairie health plan"
    region: str = "twin cities metro"
    partner_system: str = "North Star Health"
    competitor_systems: list[str] = ["Lakeview Health System", "St. Anselm Health"]

    #: Share of members in each product line.
    product_mix: PerLine = PerLine(commercial=0.60, medicare_advantage=0.22, medicaid=0.18)
    #: Annual disenrollment hazard (KFF: Medicaid churn ~ 20-30 %/yr; MA switching ~ 10 %).
    churn: PerLine = PerLine(commercial=0.17, medicare_advantage=0.09, medicaid=0.28)
    #: Probability that a member who left comes back after a gap.
    reenroll: PerLine = PerLine(commercial=0.10, medicare_advantage=0.06, medicaid=0.45)
    #: Premium per member per month in the first year (KFF 2023 employer survey; CMS MA
    #: benchmarks; MACPAC Medicaid managed-care capitation).
    premium_pmpm: PerLine = PerLine(commercial=610.0, medicare_advantage=1180.0, medicaid=520.0)
    premium_trend: float = 0.055

    #: Provider roster size: members per primary-care clinician.
    members_per_pcp: float = Field(1400.0, gt=0)
    #: Share of members whose usual primary-care clinician is in the partner system.
    partner_pcp_share: float = Field(0.38, ge=0, le=1)
    #: Share of members without a usual primary-care clinician.
    no_pcp_share: float = Field(0.14, ge=0, le=1)
    #: Share of a member's primary-care visits that go to their true PCP.
    pcp_loyalty: float = Field(0.80, ge=0, le=1)
    #: Share of care of other members that the partner system gets anyway (market share).
    partner_market_share: float = Field(0.15, ge=0, le=1)

    #: Planted cost trends of allowed amounts (annual). The partner trend applies to members
    #: whose true PCP is in the partner system; everyone else and the market follow market_trend.
    market_trend: float = 0.06
    partner_trend: float = 0.0
    #: Planted share of the allowed spend of partner-PCP members that goes outside the system.
    leakage: float = Field(0.30, ge=0, le=1)

    #: Benchmark market PMPM (medical allowed) in the first month, per product line.
    benchmark_pmpm: PerLine = PerLine(commercial=455.0, medicare_advantage=1010.0, medicaid=420.0)
    benchmark_risk_score: PerLine = PerLine(commercial=1.0, medicare_advantage=1.06, medicaid=0.96)

    #: Scales every utilisation rate (1.0 = the calibrated defaults).
    utilization_scale: float = Field(1.0, gt=0)
    #: Share of claims later replaced, and voided.
    replacement_rate: float = Field(0.02, ge=0, le=0.5)
    void_rate: float = Field(0.01, ge=0, le=0.5)
    #: Median days from service to payment (heavy-tailed lognormal around it).
    paid_lag_median_days: float = Field(18.0, gt=0)
    paid_lag_log_sd: float = Field(0.85, gt=0)

    readmission: ReadmissionEffect = ReadmissionEffect()
    opioid: OpioidEffect = OpioidEffect()
    sdoh: SdohEffect = SdohEffect()
    linkage: LinkageEffect = LinkageEffect()
    screening: ScreeningRates = ScreeningRates()

    #: Members generated (and written) per chunk; bounds memory. Part of the determinism key.
    block_size: int = Field(25_000, ge=100)

    @model_validator(mode="after")
    def _check(self) -> SynthConfig:
        if not self.start_date < self.end_date:
            raise ValueError("start_date must be before end_date")
        if self.as_of_date < self.end_date:
            raise ValueError("as_of_date must be on or after end_date")
        if self.start_date.day != 1:
            raise ValueError("start_date must be the first day of a month")
        mix = self.product_mix.as_tuple()
        if any(m < 0 for m in mix) or abs(sum(mix) - 1.0) > 1e-6:
            raise ValueError("product_mix shares must be >= 0 and sum to 1")
        if self.no_pcp_share + 0.0 > 1:
            raise ValueError("no_pcp_share must be <= 1")
        return self

    @property
    def years(self) -> list[int]:
        return list(range(self.start_date.year, self.end_date.year + 1))

    @classmethod
    def from_yaml(cls, path: str | Path) -> SynthConfig:
        """Load a params YAML; unknown or invalid fields raise a ``ValueError`` naming them."""
        p = Path(path)
        try:
            data: Any = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ValueError(f"{p}: not valid YAML: {exc}") from None
        if not isinstance(data, dict):
            raise ValueError(f"{p}: expected a mapping of parameters at the top level")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = []
            for err in exc.errors():
                where = ".".join(str(x) for x in err["loc"]) or "(top level)"
                problems.append(f"  {where}: {err['msg']}")
            raise ValueError(
                f"{p}: invalid synthetic-data parameters:\n" + "\n".join(problems)
            ) from None
