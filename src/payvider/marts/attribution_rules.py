"""Attribution settings: which rules run, in which order, over which window.

Defaults reproduce the Medicare Shared Savings Program method (voluntary alignment, then step 1
plurality of allowed charges for primary-care services from primary-care clinicians, then step 2
over specialists; 12-month look-back; ties to the most recent service, then the lowest id). The
``commercial`` preset counts visits instead of dollars, as many commercial contracts do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

RuleName = Literal["voluntary_alignment", "step1_primary_care", "step2_specialist"]
ProductLine = Literal["commercial", "medicare_advantage", "medicare_ffs", "medicaid"]


class AttributionRulesError(ValueError):
    """A rules file is invalid; the message lists every problem with its field."""


class AttributionRules(BaseModel):
    """How members are attributed to organizations and clinicians."""

    model_config = ConfigDict(extra="forbid")

    rules: list[RuleName] = Field(
        default=["voluntary_alignment", "step1_primary_care", "step2_specialist"],
        description="Rules in the order they are tried; a member lands on the first that assigns.",
    )
    organization_level: Literal["tin", "health_system"] = Field(
        default="tin", description="Sum charges per billing TIN or per health system."
    )
    basis: Literal["allowed", "visits"] = Field(
        default="allowed", description="Plurality of allowed charges (MSSP) or of visits."
    )
    lookback_months: Literal[12, 24] = Field(default=12, description="Length of the window.")
    mode: Literal["retrospective", "prospective"] = Field(
        default="retrospective",
        description="Retrospective: the window ends with the performance year. Prospective: it "
        "ends the day before the year starts, and the assignment holds for the whole year.",
    )
    min_enrolled_months: int = Field(
        default=1,
        ge=0,
        le=12,
        description="Months enrolled in the performance year to be eligible.",
    )
    product_lines: list[ProductLine] | None = Field(
        default=None, description="Eligible product lines (all when not set)."
    )
    periods: list[int] | None = Field(
        default=None, description="Performance years (default: every year with claims)."
    )

    @model_validator(mode="after")
    def _rules_unique(self) -> AttributionRules:
        if len(set(self.rules)) != len(self.rules):
            raise ValueError("rules: each rule may appear once")
        if not self.rules:
            raise ValueError("rules: at least one rule is needed")
        return self

    @classmethod
    def preset(cls, name: str) -> AttributionRules:
        if name == "mssp":
            return cls()
        if name == "commercial":
            return cls(basis="visits", organization_level="health_system")
        raise AttributionRulesError(f"unknown attribution preset {name!r}; use mssp or commercial")

    @classmethod
    def from_yaml(cls, path: Path | str) -> AttributionRules:
        """Load rules from YAML; ``preset: commercial`` starts from a preset."""
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise AttributionRulesError(f"{path}: cannot read rules ({exc})") from None
        if not isinstance(data, dict):
            raise AttributionRulesError(f"{path}: expected a mapping of settings")
        preset = data.pop("preset", None)
        base = cls.preset(preset).model_dump() if preset else {}
        try:
            return cls(**(base | data))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '(file)'}: {e['msg']}"
                for e in exc.errors()
            )
            raise AttributionRulesError(f"{path}: {problems}") from None
