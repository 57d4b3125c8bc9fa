"""The composite quality score (0–100) that contracts use as their quality gate.

Scoring, per measure with rate r, a floor f (no points) and a target t (full points):

    points = clamp((r − f) ÷ (t − f), 0, 1)

For a measure where higher is better the floor lies below the target; for an inverse measure
(readmissions, HbA1c poor control) it lies above, and the same formula gives full points at or
below the target. The score is the weighted mean of the points of the measures that could be
scored, times 100:

    score = 100 × Σ wᵢ·pointsᵢ ÷ Σ wᵢ   (over scored measures), rounded half-up to 0.01

A measure is not scored when it has no rate, or fewer eligible cases than ``min_eligible`` (the
MIPS case minimum of 20 by default); its weight then drops out of the denominator. No scored
measure, no score. All arithmetic is in Decimal, so the score a contract sees is reproducible.

:func:`composite_score` is the pure function; :func:`quality_composite` scores the
``quality_summary`` table of a run per period, in total and by attributed organization.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

DEFAULT_CONFIG = "quality_composite.yaml"
ZERO, ONE, HUNDRED = Decimal(0), Decimal(1), Decimal(100)
CENT = Decimal("0.01")


class CompositeError(ValueError):
    """A composite configuration that cannot be used; the message names the file and field."""


class MeasureTarget(BaseModel):
    """One measure of the composite: its weight and the rates that earn no and full points."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    measure_id: str
    weight: Decimal = Field(gt=0)
    floor: Decimal = Field(ge=0, le=1)
    target: Decimal = Field(ge=0, le=1)
    higher_is_better: bool = True

    @model_validator(mode="after")
    def _ordered(self) -> MeasureTarget:
        if self.higher_is_better and not self.floor < self.target:
            raise ValueError(f"{self.measure_id}: floor must be below target (higher is better)")
        if not self.higher_is_better and not self.floor > self.target:
            raise ValueError(f"{self.measure_id}: floor must be above target (lower is better)")
        return self


class CompositeConfig(BaseModel):
    """Weights and targets of the composite score (a YAML file; the package ships a default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "composite"
    source: str | None = None
    #: Measures with fewer eligible cases than this are not scored (MIPS case minimum: 20).
    min_eligible: int = Field(20, ge=0)
    measures: tuple[MeasureTarget, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> CompositeConfig:
        ids = [m.measure_id for m in self.measures]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"measures listed twice: {', '.join(dup)}")
        return self

    @classmethod
    def default(cls) -> CompositeConfig:
        """The shipped default (``reference/quality_composite.yaml``)."""
        entry = resources.files("payvider.reference") / DEFAULT_CONFIG
        return load_config_text(entry.read_text(encoding="utf-8"), f"shipped {DEFAULT_CONFIG}")


def _as_decimals(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _as_decimals(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_decimals(v) for v in value]
    return value


def load_config_text(text: str, source: str) -> CompositeConfig:
    """Parse and validate a composite configuration; errors name the source and field."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CompositeError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise CompositeError(f"{source}: a composite configuration must be a mapping")
    try:
        return CompositeConfig.model_validate(_as_decimals(data))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}"
            for e in exc.errors()
        )
        raise CompositeError(f"{source}: {problems}") from None


def load_config(path: str | Path | None = None) -> CompositeConfig:
    """A composite configuration from a YAML file, or the shipped default."""
    if path is None:
        return CompositeConfig.default()
    p = Path(path)
    if not p.is_file():
        raise CompositeError(f"{p}: composite configuration not found")
    return load_config_text(p.read_text(encoding="utf-8"), str(p))


@dataclass(frozen=True)
class MeasurePoints:
    measure_id: str
    rate: Decimal | None
    weight: Decimal
    points: Decimal | None  # 0..1; None when not scored
    reason: str | None = None  # why not scored


@dataclass(frozen=True)
class CompositeResult:
    #: 0–100, two decimals; None when no measure could be scored.
    score: Decimal | None
    measures_scored: int
    measures_configured: int
    weight_scored: Decimal
    measures: tuple[MeasurePoints, ...]

    def detail(self) -> str:
        """One line per measure: points earned of its weight, or why it was not scored."""
        return "; ".join(
            f"{m.measure_id} {m.points:.4f}×{m.weight}"
            if m.points is not None
            else f"{m.measure_id} not scored ({m.reason})"
            for m in self.measures
        )


def _decimal(rate: float | Decimal | None) -> Decimal | None:
    if rate is None:
        return None
    return rate if isinstance(rate, Decimal) else Decimal(str(rate))


def measure_points(rate: Decimal, m: MeasureTarget) -> Decimal:
    """Points (0..1) of a rate: linear from the floor to the target, clamped."""
    p = (rate - m.floor) / (m.target - m.floor)
    return min(max(p, ZERO), ONE)


def composite_score(
    rates: Mapping[str, float | Decimal | None],
    config: CompositeConfig | None = None,
    eligible: Mapping[str, int] | None = None,
) -> CompositeResult:
    """Score measure rates (0..1, by measure id) against the configuration's targets.

    ``eligible`` (optional) gives each measure's eligible cases; measures below
    ``config.min_eligible`` are not scored. Rates of measures not in the configuration are ignored.
    """
    config = config or CompositeConfig.default()
    out = []
    for m in config.measures:
        rate = _decimal(rates.get(m.measure_id))
        n = None if eligible is None else eligible.get(m.measure_id)
        if rate is None:
            out.append(MeasurePoints(m.measure_id, None, m.weight, None, "no rate"))
        elif n is not None and n < config.min_eligible:
            reason = f"{n} eligible < {config.min_eligible}"
            out.append(MeasurePoints(m.measure_id, rate, m.weight, None, reason))
        else:
            out.append(MeasurePoints(m.measure_id, rate, m.weight, measure_points(rate, m)))
    scored = [m for m in out if m.points is not None]
    weight = sum((m.weight for m in scored), ZERO)
    score = None
    if scored:
        earned = sum((m.weight * m.points for m in scored), ZERO)
        score = (HUNDRED * earned / weight).quantize(CENT, rounding=ROUND_HALF_UP)
    return CompositeResult(score, len(scored), len(config.measures), weight, tuple(out))


SCHEMA = ibis.schema(
    {
        "period": "string",
        "period_start": "date",
        "period_end": "date",
        "level": "string",
        "organization_id": "string",
        "score": "decimal(5, 2)",
        "measures_scored": "int64",
        "measures_configured": "int64",
        "weight_scored": "decimal(18, 4)",
        "detail": "string",
        "config": "string",
    }
)


def quality_composite(summary: ir.Table, config: CompositeConfig | None = None) -> ir.Table:
    """The composite score per period, in total (organization null) and by organization.

    Reads the summary's total and organization rows of the configured measures (a few hundred
    rows at most, executed here) and scores each group in Decimal with :func:`composite_score`.
    """
    config = config or CompositeConfig.default()
    ids = [m.measure_id for m in config.measures]
    s = summary.filter(summary.level.isin(["total", "organization"]) & summary.measure_id.isin(ids))
    cols = ["period", "period_start", "period_end", "level", "organization_id"]
    rows = s.select(*cols, "measure_id", "rate", "eligible").to_pyarrow().to_pylist()
    groups: dict[tuple, dict[str, dict]] = {}
    for r in rows:
        key = tuple(r[c] for c in cols)
        groups.setdefault(key, {})[r["measure_id"]] = r
    stamp = json.dumps({"name": config.name, "min_eligible": config.min_eligible})
    out: dict[str, list] = {n: [] for n in SCHEMA.names}
    for key in sorted(groups, key=lambda k: tuple(str(v) for v in k)):
        by_measure = groups[key]
        result = composite_score(
            {k: v["rate"] for k, v in by_measure.items()},
            config,
            {k: int(v["eligible"] or 0) for k, v in by_measure.items()},
        )
        period, start, end, level, org = key
        for name, value in (
            ("period", period),
            ("period_start", start),
            ("period_end", end),
            ("level", level),
            ("organization_id", None if level == "total" else org),
            ("score", result.score),
            ("measures_scored", result.measures_scored),
            ("measures_configured", result.measures_configured),
            ("weight_scored", result.weight_scored),
            ("detail", result.detail()),
            ("config", stamp),
        ):
            out[name].append(value)
    return ibis.memtable(pa.table(out, schema=SCHEMA.to_pyarrow()))
