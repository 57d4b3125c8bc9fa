"""Contract terms as data: Pydantic models loaded from YAML, money as Decimal.

A contract file states who the parties are, how the benchmark is set, how savings and losses
are shared, how quality changes the sharing, which fees and outcome payments apply, and how
money is rounded. The settlement engine (``payvider.contracts.settlement``) reads only these
models. Numbers in the YAML are read as exact decimals (never binary floats), so ``0.1`` in a
terms file is exactly one tenth.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from payvider.population.scopes import ProductLine

__all__ = [
    "ContractError",
    "ContractTerms",
    "PaymentModel",
    "load_terms",
    "parse_terms",
    "read_contract_text",
    "template_names",
    "terms_from_text",
]


class ContractError(ValueError):
    """A terms file cannot be used. The message names the file and the field."""

    def __init__(self, source: str, problem: str) -> None:
        self.source = source
        self.problem = problem
        super().__init__(f"{source}: {problem}")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _reject_floats(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for key, item in value.items():
                items = (
                    item
                    if isinstance(item, list)
                    else list(item.values())
                    if isinstance(item, dict)
                    else [item]
                )
                for v in items:
                    if isinstance(v, float):
                        raise ValueError(
                            f"{key}: binary float {v!r} is not allowed; give a decimal string or int"
                        )
        return value


Rate = Annotated[Decimal, Field(ge=0, le=1)]
Money = Decimal


class Party(_Model):
    name: str
    role: Literal["payer", "provider", "aco", "joint_venture", "other"]


# --- benchmark methods ---------------------------------------------------------------------


class HistoricalBenchmark(_Model):
    """Weighted baseline years trended forward (e.g. CMS's 10/30/60 weights).

    ``trend_source: market`` trends each baseline year by the market's own PMPM growth from that
    year to the performance year instead of ``annual_trend`` (a deal measured against the metro
    trend); the factors come with the year's figures (claims mode computes them).
    """

    method: Literal["historical"]
    baseline_years: list[int]
    weights: list[Decimal]
    annual_trend: Decimal = Decimal(0)
    trend_source: Literal["stated", "market"] = "stated"

    @model_validator(mode="after")
    def _weights_match(self) -> HistoricalBenchmark:
        if len(self.weights) != len(self.baseline_years):
            raise ValueError("weights must have one entry per baseline year")
        if sum(self.weights) != 1:
            raise ValueError(f"weights must sum to 1 (they sum to {sum(self.weights)})")
        return self


class MarketBenchmark(_Model):
    """The market's PMPM times the population's member months, with an agreed adjustment."""

    method: Literal["market"]
    adjustment: Decimal = Decimal(0)


class GlidePathBenchmark(_Model):
    """A baseline PMPM trended each year and reduced by an agreed step (e.g. to −10% by year 5).

    The baseline PMPM is stated (``baseline_pmpm``) or, in claims mode, the population's PMPM in
    ``baseline_year``.
    """

    method: Literal["glide_path"]
    baseline_pmpm: Money | None = None
    baseline_year: int | None = None
    annual_trend: Decimal = Decimal(0)
    reduction_by_year: dict[int, Rate]

    @model_validator(mode="after")
    def _baseline_given(self) -> GlidePathBenchmark:
        if self.baseline_pmpm is None and self.baseline_year is None:
            raise ValueError("give baseline_pmpm or baseline_year")
        return self


class StatedBenchmark(_Model):
    """Benchmark figures written into the contract, per performance year, or supplied per row."""

    method: Literal["stated"]
    amounts: dict[int, Money] = {}


Benchmark = Annotated[
    HistoricalBenchmark | MarketBenchmark | GlidePathBenchmark | StatedBenchmark,
    Field(discriminator="method"),
]


class RiskAdjustment(_Model):
    """Benchmark moves with the risk-score ratio; growth above ``growth_cap`` does not count.

    In claims mode the scores are the run's ``risk_score`` of ``model``, averaged over the
    population's member months. The baseline score is that of ``baseline_year`` if given, else
    the weighted baseline years (historical benchmark) or the market's average (market benchmark).
    """

    enabled: bool = True
    growth_cap: Decimal | None = None
    model: Literal["V24", "V28"] = "V28"
    baseline_year: int | None = None
    source: str | None = None


class Truncation(_Model):
    """High-cost truncation applied when expenditure is computed from claims (claims mode).

    Each member's expenditure in the year is capped at ``value`` dollars (``amount``) or at the
    ``value`` quantile of the population's member-years, nearest rank (``percentile``, a fraction
    such as 0.99).
    """

    method: Literal["percentile", "amount"]
    value: Decimal
    source: str | None = None

    @model_validator(mode="after")
    def _value_range(self) -> Truncation:
        if self.method == "percentile" and not Decimal(0) < self.value <= Decimal(1):
            raise ValueError("a percentile is a fraction in (0, 1], e.g. 0.99")
        if self.method == "amount" and self.value < 0:
            raise ValueError("a truncation amount must not be negative")
        return self


class Population(_Model):
    """Who is in the contract's population (claims mode), month by month.

    A member month is in scope when the member's attribution in that year and the month's
    enrollment match every condition given: the partner system (``attributed_to_partner``),
    named organizations, product lines and ZIP codes or 3-digit prefixes.
    """

    attributed_to_partner: bool | None = True
    organizations: list[str] | None = None
    product_lines: list[ProductLine] | None = None
    zip_codes: list[str] | None = None
    source: str | None = None


class Expenditure(_Model):
    """What counts as expenditure in claims mode: allowed or paid, with or without pharmacy."""

    basis: Literal["allowed", "paid"] = "allowed"
    include_pharmacy: bool = True
    #: Region of the run's ``market_benchmark`` for market figures (None: mean over regions).
    market_region: str | None = None
    source: str | None = None


# --- minimum savings / loss rates ----------------------------------------------------------


class RateBand(_Model):
    """Beneficiary counts ``[min_count, max_count]`` map linearly from ``rate_at_min`` to
    ``rate_at_max``; the last band has no ``max_count`` and a flat rate."""

    min_count: int
    max_count: int | None = None
    rate_at_min: Rate
    rate_at_max: Rate | None = None


class MinimumRate(_Model):
    """A fixed rate, or a table by population size, or a default when a row leaves it blank."""

    fixed: Rate | None = None
    table: list[RateBand] | None = None
    allowed: list[Rate] | None = None
    source: str | None = None

    @model_validator(mode="after")
    def _one_way(self) -> MinimumRate:
        if self.fixed is None and not self.table:
            raise ValueError("give either 'fixed' or 'table'")
        return self

    def for_population(self, count: int) -> Decimal:
        """The rate for ``count`` assigned members: fixed, or interpolated from the table."""
        if self.fixed is not None:
            return self.fixed
        assert self.table
        for band in self.table:
            if count < band.min_count:
                continue
            if band.max_count is None:
                return band.rate_at_min
            if count <= band.max_count:
                hi = band.rate_at_min if band.rate_at_max is None else band.rate_at_max
                span = Decimal(band.max_count - band.min_count)
                return band.rate_at_min - (band.rate_at_min - hi) * (count - band.min_count) / span
        raise ValueError(f"no minimum-rate band covers a population of {count}")


# --- quality -------------------------------------------------------------------------------


class SlidingPoint(_Model):
    score: Decimal
    multiplier: Decimal


class Quality(_Model):
    """How quality changes what is shared.

    - ``gate``: savings are shared only if the quality standard is met (the row's
      ``met_quality_standard`` flag, or ``min_score`` on the 0–100 quality score);
    - ``alternative_standard_scales_by_score``: an entity that misses the standard but meets the
      alternative standard shares at the sharing rate times its quality score (MSSP from 2023);
    - ``sliding_scale``: points (score → multiplier of the sharing rate), linear between points.
    """

    gate: bool = True
    min_score: Decimal | None = None
    alternative_standard_scales_by_score: bool = False
    sliding_scale: list[SlidingPoint] | None = None
    source: str | None = None


class OutcomeMeasure(_Model):
    name: str
    target: Decimal
    weight: Decimal
    higher_is_better: bool = True


class OutcomePool(_Model):
    """A pool per member month, paid out by the weights of the measures whose target is met."""

    pmpm: Money
    measures: list[OutcomeMeasure]


# --- payment models ------------------------------------------------------------------------


class BelowMsrSharing(_Model):
    """Sharing of savings that fall short of the MSR, for entities that qualify (MSSP 2024+)."""

    rate_factor: Rate
    revenue_category: Literal["low", "high"] | None = None
    min_beneficiaries: int = 0
    agreement_start_on_or_after: dt.date | None = None
    source: str | None = None


class LossRateFromQuality(_Model):
    """Loss rate = 1 − ``one_minus_times`` × quality score, within [``min``, ``max``];
    ``if_quality_failed`` when neither standard is met (MSSP ENHANCED)."""

    one_minus_times: Rate
    min: Rate
    max: Rate
    if_quality_failed: Rate
    source: str | None = None


class _Sharing(_Model):
    sharing_rate: Rate
    minimum_savings_rate: MinimumRate
    sharing_basis: Literal["first_dollar", "above_threshold"] = "first_dollar"
    savings_cap_pct_of_benchmark: Rate | None = None
    below_msr_sharing: BelowMsrSharing | None = None
    payment_reduction: Rate = Decimal(0)
    payment_reduction_source: str | None = None
    source: str | None = None


class SharedSavings(_Sharing):
    """Fee-for-service plus upside-only shared savings."""

    model: Literal["shared_savings"]


class TwoSided(_Sharing):
    """Shared savings and shared losses."""

    model: Literal["two_sided"]
    loss_sharing_rate: Rate | None = None
    loss_sharing_rate_from_quality: LossRateFromQuality | None = None
    minimum_loss_rate: MinimumRate | None = None
    loss_cap_pct_of_benchmark: Rate | None = None
    loss_cap_pct_of_revenue: Rate | None = None
    losses_source: str | None = None

    @model_validator(mode="after")
    def _loss_rate(self) -> TwoSided:
        if (self.loss_sharing_rate is None) == (self.loss_sharing_rate_from_quality is None):
            raise ValueError(
                "give exactly one of loss_sharing_rate, loss_sharing_rate_from_quality"
            )
        return self


class CapitationRate(_Model):
    product_line: str
    age_band: str = "all"
    pmpm: Money


class Capitation(_Model):
    """A global budget: PMPM by product line and age band, paid whatever the cost."""

    model: Literal["capitation"]
    rates: list[CapitationRate]


class IntegratedMargin(_Model):
    """Premium − medical cost − administrative cost, split at an agreed share."""

    model: Literal["integrated_margin"]
    provider_share: Rate
    floor: Money | None = None
    ceiling: Money | None = None
    #: Administrative cost when the year's figures do not state it: PMPM or a share of premium.
    administrative_cost_pmpm: Money | None = None
    administrative_cost_pct_of_premium: Rate | None = None


PaymentModel = Annotated[
    SharedSavings | TwoSided | Capitation | IntegratedMargin, Field(discriminator="model")
]


class Rounding(_Model):
    """Money is computed exactly and rounded once, at the net, to ``places`` decimals."""

    places: int = Field(default=2, ge=0, le=4)
    mode: Literal["half_up", "half_even", "down"] = "half_up"
    source: str | None = None

    def apply(self, amount: Decimal) -> Decimal:
        mode = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN, "down": ROUND_DOWN}
        return amount.quantize(Decimal(1).scaleb(-self.places), rounding=mode[self.mode])


class ContractTerms(_Model):
    """One contract: parties, years, benchmark and a payment model (or one per track)."""

    name: str
    description: str | None = None
    parties: list[Party] = []
    performance_years: list[int]
    benchmark: Benchmark = StatedBenchmark(method="stated")
    risk_adjustment: RiskAdjustment | None = None
    truncation: Truncation | None = None
    population: Population = Population()
    expenditure: Expenditure = Expenditure()
    payment: PaymentModel | None = None
    tracks: dict[str, PaymentModel] | None = None
    quality: Quality | None = None
    outcome_pool: OutcomePool | None = None
    care_management_fee_pmpm: Money | None = None
    extreme_uncontrollable_reduces_losses: bool = False
    rounding: Rounding = Rounding()
    sources: dict[str, str] = {}

    @model_validator(mode="after")
    def _payment_given(self) -> ContractTerms:
        if (self.payment is None) == (not self.tracks):
            raise ValueError("give exactly one of 'payment' or 'tracks'")
        return self

    def payment_for(self, track: str | None) -> PaymentModel:
        """The payment model of ``track`` (or the contract's only payment model)."""
        if self.payment is not None:
            return self.payment
        assert self.tracks
        if track is None or track not in self.tracks:
            raise ValueError(f"track {track!r} is not in this contract: {', '.join(self.tracks)}")
        return self.tracks[track]


# --- loading -------------------------------------------------------------------------------


class _DecimalLoader(yaml.SafeLoader):
    """YAML loader that reads every float literal as an exact Decimal."""


def _decimal_constructor(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
    text = loader.construct_scalar(node).replace("_", "")
    return Decimal(text)


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _decimal_constructor)

TEMPLATE_PACKAGE = "payvider.contracts.templates"


def template_names() -> list[str]:
    """Shipped templates as ``family:version`` names (file ``family-version.yaml``)."""
    names = []
    for entry in resources.files(TEMPLATE_PACKAGE).iterdir():
        if entry.name.endswith(".yaml"):
            names.append(entry.name.removesuffix(".yaml").replace("-", ":", 1))
    return sorted(names)


def _field_path(loc: tuple) -> str:
    return ".".join(str(p) for p in loc)


def parse_terms(data: Any, source: str = "<terms>") -> ContractTerms:
    """Validate a parsed YAML document; errors name the source and the field."""
    if not isinstance(data, dict):
        raise ContractError(source, "a contract must be a mapping of terms")
    # top-level keys starting with "x-" hold YAML anchors shared by several terms
    data = {k: v for k, v in data.items() if not str(k).startswith("x-")}
    try:
        return ContractTerms.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{_field_path(e['loc']) or '(top level)'}: {e['msg']}" for e in exc.errors()
        )
        raise ContractError(source, problems) from None


def read_contract_text(contract: str | Path) -> tuple[str, str]:
    """The YAML text of a contract path or shipped template name, and a name for messages."""
    text = str(contract)
    path = Path(text)
    if ":" in text and not path.exists():
        family, _, version = text.partition(":")
        name = f"{family}-{version}.yaml"
        entry = resources.files(TEMPLATE_PACKAGE) / name
        if not entry.is_file():
            raise ContractError(text, f"no such template (shipped: {', '.join(template_names())})")
        return entry.read_text(encoding="utf-8"), f"template {text}"
    if not path.is_file():
        raise ContractError(text, "contract file not found")
    return path.read_text(encoding="utf-8"), text


def terms_from_text(raw: str, source: str) -> ContractTerms:
    """Parse and validate the YAML text of a contract (numbers as exact decimals)."""
    try:
        data = yaml.load(raw, Loader=_DecimalLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ContractError(source, f"not valid YAML: {exc}") from None
    return parse_terms(data, source)


def load_terms(contract: str | Path) -> ContractTerms:
    """Load a contract from a YAML path or a shipped template name such as ``mssp:2023``."""
    raw, source = read_contract_text(contract)
    return terms_from_text(raw, source)
