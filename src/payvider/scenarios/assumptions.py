"""Scenario assumptions: what is assumed about the years after the run's last complete year.

Written as YAML and read with exact decimals (``0.05`` is five hundredths, never a binary float).
Rates are fractions per year. A blank trend is taken from the run: the population's own observed
PMPM trend (``cost_trend``) and the market benchmark's trend (``benchmark_trend``).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from payvider.contracts.terms import _DecimalLoader
from payvider.ingest.errors import InputRejected

__all__ = ["ScenarioAssumptions", "load_assumptions"]

Fraction = Annotated[Decimal, Field(ge=0, le=1)]


class ScenarioAssumptions(BaseModel):
    """Stated assumptions of a projection; every field has a documented default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Members settled: ``partner_attributed`` (the partner system's attributed members),
    #: ``all`` (the whole book) or ``organization:<id>`` (one attributed organization).
    population: str = Field(
        "partner_attributed", pattern=r"^(partner_attributed|all|organization:.+)$"
    )
    #: Expenditure the contract settles on.
    expenditure: str = Field("medical_allowed", pattern=r"^(medical_allowed|allowed|paid)$")
    #: Annual growth of the population's PMPM before program savings (blank: observed in the run).
    cost_trend: Decimal | None = Field(None, gt=-1)
    #: Annual growth of the benchmark PMPM (blank: the market benchmark's trend in the run).
    benchmark_trend: Decimal | None = Field(None, gt=-1)
    #: Share of projected cost that care programs avoid: one rate for every year, or per
    #: projection year (1 = the first year after the base year; missing years: 0).
    program_savings: Fraction | dict[int, Fraction] = Decimal(0)
    #: Annual growth of the payer's book (members and member months).
    membership_growth: Decimal = Field(Decimal(0), gt=-1)
    #: Share of the book in the settled population (blank: the base year's share).
    attribution_share: Fraction | None = None
    #: Quality score (0-100) in the first projected year, and its change per year.
    quality_score: Annotated[Decimal, Field(ge=0, le=100)] = Decimal(80)
    quality_score_change: Decimal = Decimal(0)
    met_quality_standard: bool = True
    #: Measure rates for outcome pools (blank: the run's rates in the base year).
    measure_rates: dict[str, Decimal] = {}
    #: Participant revenue as a share of expenditure (for revenue-based loss caps).
    participant_revenue_ratio: Decimal | None = Field(None, ge=0)
    #: Integrated margin: premium PMPM = base PMPM ÷ medical loss ratio, trended at the
    #: benchmark trend; administrative cost = ratio × premium.
    medical_loss_ratio: Annotated[Decimal, Field(gt=0, le=1)] = Decimal("0.87")
    administrative_cost_ratio: Fraction = Decimal("0.10")
    #: Track of a contract with several payment tracks (e.g. ENHANCED of ``mssp:2024``).
    track: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_floats(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, float):
                    raise ValueError(f"{key}: binary float {item!r}; give a decimal")
        return value

    def savings_in(self, k: int) -> Decimal:
        """Program savings rate of projection year ``k`` (1-based)."""
        if isinstance(self.program_savings, dict):
            return self.program_savings.get(k, Decimal(0))
        return self.program_savings

    def quality_in(self, k: int) -> Decimal:
        """Quality score of projection year ``k``, kept within 0-100."""
        score = self.quality_score + self.quality_score_change * (k - 1)
        return min(max(score, Decimal(0)), Decimal(100))


def load_assumptions(path: Path | str | None) -> ScenarioAssumptions:
    """Assumptions from a YAML file (None: every default); errors name the file and field."""
    if path is None:
        return ScenarioAssumptions()
    path = Path(path)
    if not path.is_file():
        raise InputRejected(str(path), "assumptions file not found")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_DecimalLoader)  # noqa: S506
    except yaml.YAMLError as exc:
        raise InputRejected(str(path), f"not valid YAML: {exc}") from None
    try:
        return ScenarioAssumptions.model_validate(data or {})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}"
            for e in exc.errors()
        )
        raise InputRejected(str(path), problems) from None
