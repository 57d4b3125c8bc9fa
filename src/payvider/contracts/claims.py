"""Claims mode: a performance year's figures computed from a run, with the drill-down behind them.

The population is the contract's ``population`` applied month by month (a member month counts when
the member's attribution that year and the month's enrollment match); expenditure is every final
claim line (``claims_enriched``) whose service month is such a month, allowed or paid as the terms
say, pharmacy in or out, each member's year capped by the contract's high-cost truncation. The
benchmark's inputs come from the same population in the baseline years, from the market benchmark
or from the terms. Everything that touches claims or members is an Ibis expression; only the
scalar figures that feed the settlement engine come back to Python, as exact decimals.

The drill-down has two tables that trace the actual expenditure to the cent:

* ``drilldown_members``: one row per member with member months, lines, the amount before
  truncation, the truncation point, the excess removed and the amount counted;
* ``drilldown_lines``: one row per claim line (``entry = 'claim_line'``) plus one
  ``high_cost_truncation`` row per truncated member carrying minus the excess, so the ``amount``
  column sums exactly to the settlement's ``actual_expenditure``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir

from payvider.contracts.settlement import PerformanceYearFigures
from payvider.contracts.terms import (
    Capitation,
    ContractTerms,
    GlidePathBenchmark,
    HistoricalBenchmark,
    IntegratedMargin,
    MarketBenchmark,
)
from payvider.engine.backends import Engine
from payvider.measures.trend import market_by_month
from payvider.population.scopes import Scope, scope_member_months

__all__ = [
    "ClaimsFigures",
    "ClaimsModeError",
    "claims_figures",
    "default_year",
    "population_months",
    "year_drilldown",
]

MONEY = "decimal(18, 2)"
SUM = "decimal(38, 2)"
RISK = "decimal(18, 6)"
ZERO = Decimal(0)
REQUIRED_TABLES = ("member_months", "attribution", "claims_enriched")


class ClaimsModeError(ValueError):
    """The run or the command line lacks what the contract needs (a usage error)."""


@dataclass
class ClaimsFigures:
    """The figures handed to ``settle``, the drill-down expressions and how each was found."""

    figures: PerformanceYearFigures
    members: ir.Table
    lines: ir.Table
    details: dict[str, Any] = field(default_factory=dict)


def _scope(terms: ContractTerms, entity: str | None) -> Scope:
    pop = terms.population
    orgs = [entity] if entity is not None else pop.organizations
    if entity is not None and pop.organizations and entity not in pop.organizations:
        raise ClaimsModeError(
            f"entity {entity!r} is not among the contract's organizations {pop.organizations}"
        )
    return Scope(
        name="contract_population",
        product_lines=pop.product_lines,
        zip_codes=pop.zip_codes,
        attributed_to_partner=pop.attributed_to_partner,
        organizations=orgs,
    )


def population_months(
    terms: ContractTerms,
    member_months: ir.Table,
    attribution: ir.Table,
    year: int,
    entity: str | None = None,
) -> ir.Table:
    """The contract population's member months in ``year``, with product line, organization,
    premium and birth date (for capitation age bands)."""
    mm = scope_member_months(member_months, attribution, _scope(terms, entity))
    mm = mm.filter(mm.month.year() == year)
    return mm.select(
        "member_id",
        "payer",
        "month",
        "product_line",
        "birth_date",
        organization_id=mm.organization_id,
        premium_pmpm=mm.premium_pmpm.cast(MONEY),
    ).view()


def _year_lines(terms: ContractTerms, claims: ir.Table, months: ir.Table) -> ir.Table:
    """Final claim lines of the population's months, with the amount the terms count."""
    c = claims
    if not terms.expenditure.include_pharmacy:
        c = c.filter(c.service_category_1 != "pharmacy")
    amount = c.allowed_amount if terms.expenditure.basis == "allowed" else c.paid_amount
    keys = months.select("member_id", "payer", "month").view()
    j = c.inner_join(
        keys,
        [c.member_id == keys.member_id, c.payer == keys.payer, c.service_month == keys.month],
    )
    return j.select(
        member_id=c.member_id,
        payer=c.payer,
        claim_id=c.claim_id,
        claim_line_number=c.claim_line_number.cast("int64"),
        claim_type=c.claim_type,
        service_date=c.service_date,
        service_category_1=c.service_category_1,
        service_category=c.service_category,
        provider_npi=c.provider_npi,
        health_system=c.health_system,
        in_partner_system=c.in_partner_system,
        amount=amount.cast(MONEY),
    )


def _member_totals(months: ir.Table, lines: ir.Table) -> ir.Table:
    per_member = months.group_by(["member_id", "payer"]).aggregate(
        member_months=months.count().cast("int64"),
        organization_id=months.organization_id.argmax(months.month),
        product_line=months.product_line.argmax(months.month),
    )
    spend = lines.group_by(["member_id", "payer"]).aggregate(
        lines=lines.count().cast("int64"), amount=lines.amount.sum().cast(SUM)
    )
    j = per_member.left_join(spend, ["member_id", "payer"])
    return j.select(
        per_member.member_id,
        per_member.payer,
        per_member.organization_id,
        per_member.product_line,
        per_member.member_months,
        lines=j.lines.fill_null(0),
        amount=j.amount.fill_null(ibis.literal(0).cast(SUM)),
    )


def _truncation_point(terms: ContractTerms, engine: Engine, totals: ir.Table) -> Decimal | None:
    """The cap per member-year: the stated amount, or the nearest-rank percentile of the
    population's member-years (k = ⌈p × n⌉ in integers, ties ordered by member)."""
    t = terms.truncation
    if t is None:
        return None
    if t.method == "amount":
        return t.value
    n = int(engine.execute(totals.count()))
    if n == 0:
        return None
    num, den = t.value.as_integer_ratio()
    k = (n * num + den - 1) // den
    ranked = totals.order_by(["amount", "member_id", "payer"]).limit(1, offset=k - 1)
    value = engine.to_arrow(ranked.select("amount"))["amount"][0].as_py()
    return Decimal(value)


def _truncate(totals: ir.Table, point: Decimal | None) -> ir.Table:
    if point is None:
        return totals.mutate(
            truncation_point=ibis.null().cast(SUM),
            excess_removed=ibis.literal(0).cast(SUM),
            counted_amount=totals.amount,
        )
    cap = ibis.literal(point).cast(SUM)
    counted = ibis.ifelse(totals.amount > cap, cap, totals.amount).cast(SUM)
    return totals.mutate(
        truncation_point=cap,
        excess_removed=(totals.amount - counted).cast(SUM),
        counted_amount=counted,
    )


#: What a drill-down row tells of its claim line (null on a member's truncation row).
_LINE_COLUMNS = (
    "claim_id",
    "claim_line_number",
    "claim_type",
    "service_date",
    "service_category_1",
    "service_category",
    "provider_npi",
    "health_system",
    "in_partner_system",
)


def _drill_lines(lines: ir.Table, members: ir.Table) -> ir.Table:
    claim_rows = lines.mutate(entry=ibis.literal("claim_line")).select(
        "member_id",
        "payer",
        "entry",
        *_LINE_COLUMNS,
        amount=lines.amount.cast(SUM),
    )
    m = members.filter(members.excess_removed > 0)
    s = claim_rows.schema()
    trunc_rows = m.select(
        member_id=m.member_id,
        payer=m.payer,
        entry=ibis.literal("high_cost_truncation"),
        **{name: ibis.null().cast(s[name]) for name in _LINE_COLUMNS},
        amount=(-m.excess_removed).cast(SUM),
    )
    return claim_rows.union(trunc_rows, distinct=False)


@dataclass
class _Year:
    months: ir.Table
    members: ir.Table
    lines: ir.Table
    member_months: int
    members_count: int
    amount: Decimal
    excess: Decimal
    truncation_point: Decimal | None


def year_drilldown(
    terms: ContractTerms,
    engine: Engine,
    tables: dict[str, ir.Table],
    year: int,
    entity: str | None = None,
) -> _Year:
    """The population, member totals (truncated) and claim lines of one year, with its sums."""
    months = population_months(terms, tables["member_months"], tables["attribution"], year, entity)
    lines = _year_lines(terms, tables["claims_enriched"], months)
    totals = _member_totals(months, lines)
    point = _truncation_point(terms, engine, totals)
    members = _truncate(totals, point)
    sums = engine.to_arrow(
        members.aggregate(
            member_months=members.member_months.sum().cast("int64"),
            members=members.count().cast("int64"),
            amount=members.counted_amount.sum().cast(SUM),
            excess=members.excess_removed.sum().cast(SUM),
        )
    ).to_pylist()[0]
    return _Year(
        months=months,
        members=members,
        lines=_drill_lines(lines, members),
        member_months=int(sums["member_months"] or 0),
        members_count=int(sums["members"] or 0),
        amount=Decimal(sums["amount"] or 0),
        excess=Decimal(sums["excess"] or 0),
        truncation_point=point,
    )


def _risk(
    terms: ContractTerms, engine: Engine, tables: dict[str, ir.Table], months: ir.Table, year: int
) -> Decimal | None:
    """Average risk score over the population's member months that have one (None: no scores)."""
    scores = tables.get("risk_score")
    ra = terms.risk_adjustment
    if scores is None or ra is None or not ra.enabled:
        return None
    r = scores.filter((scores.model == ra.model) & (scores.year == year))
    r = r.select("member_id", "payer", _risk=r.risk_score.cast(RISK)).view()
    j = months.inner_join(r, ["member_id", "payer"])
    row = engine.to_arrow(
        j.aggregate(total=j._risk.sum().cast("decimal(38, 6)"), n=j.count().cast("int64"))
    ).to_pylist()[0]
    if not row["n"]:
        return None
    return Decimal(row["total"]) / Decimal(row["n"])


def _market(
    terms: ContractTerms, engine: Engine, tables: dict[str, ir.Table], months: ir.Table
) -> tuple[Decimal, Decimal]:
    """Market PMPM and risk weighted to the population's product lines month by month."""
    bench = tables.get("market_benchmark")
    if bench is None:
        raise ClaimsModeError("the run's inputs have no market_benchmark")
    m = market_by_month(bench, terms.expenditure.market_region)
    j = months.inner_join(m, ["month", "product_line"])
    row = engine.to_arrow(
        j.aggregate(
            pmpm=j.market_pmpm.sum().cast("decimal(38, 6)"),
            risk=j.market_risk.sum().cast("decimal(38, 6)"),
            n=j.count().cast("int64"),
        )
    ).to_pylist()[0]
    if not row["n"]:
        raise ClaimsModeError(
            "the market benchmark has no month and product line of the population"
            + (
                f" in region {terms.expenditure.market_region!r}"
                if terms.expenditure.market_region
                else ""
            )
        )
    n = Decimal(row["n"])
    return Decimal(row["pmpm"]) / n, Decimal(row["risk"]) / n


def _quality_score(
    tables: dict[str, ir.Table],
    engine: Engine,
    year: int,
    entity: str | None,
    stated: Decimal | None,
) -> tuple[Decimal | None, str]:
    if stated is not None:
        return stated, "stated on the command line"
    comp = tables.get("quality_composite")
    if comp is None:
        return None, "none"
    c = comp.filter(comp.period_start.year() == year)
    if entity is not None:
        c = c.filter((c.level == "organization") & (c.organization_id == entity))
    else:
        c = c.filter(c.level == "total")
    rows = engine.to_arrow(c.select("score")).to_pylist()
    if not rows or rows[0]["score"] is None:
        return None, "quality_composite has no score for the year"
    # the composite is a 0–100 score; two decimals are its stated precision
    score = Decimal(repr(float(rows[0]["score"]))).quantize(Decimal("0.01"))
    return score, "run's quality_composite"


def _measure_rates(
    terms: ContractTerms,
    engine: Engine,
    tables: dict[str, ir.Table],
    year: int,
    entity: str | None,
) -> dict[str, Decimal]:
    """Rates of the outcome pool's measures: numerator ÷ eligible, exactly, from quality_summary."""
    pool = terms.outcome_pool
    summary = tables.get("quality_summary")
    if pool is None or summary is None:
        return {}
    names = [m.name for m in pool.measures]
    q = summary.filter(summary.measure_id.isin(names) & (summary.period == str(year)))
    if entity is not None:
        q = q.filter((q.level == "organization") & (q.organization_id == entity))
    else:
        q = q.filter(q.level == "total")
    out = {}
    for r in engine.to_arrow(q.select("measure_id", "numerator", "eligible")).to_pylist():
        if r["eligible"]:
            out[r["measure_id"]] = Decimal(r["numerator"]) / Decimal(r["eligible"])
    return out


def _age_condition(months: ir.Table, band: str) -> ir.BooleanValue:
    if band == "all":
        return ibis.literal(True)
    b = months.birth_date
    m = months.month
    had_birthday = (m.month() > b.month()) | ((m.month() == b.month()) & (b.day() == 1))
    age = m.year() - b.year() - ibis.ifelse(had_birthday, 0, 1)
    if band.endswith("+"):
        return age >= int(band[:-1])
    lo, _, hi = band.partition("-")
    if not (lo.isdigit() and hi.isdigit()):
        raise ClaimsModeError(f"age band {band!r} is not 'all', 'A-B' or 'A+'")
    return (age >= int(lo)) & (age <= int(hi))


def _capitation_cells(model: Capitation, engine: Engine, months: ir.Table) -> dict[str, Decimal]:
    """Member months per (product line, age band) cell of the capitation rates; age on the
    first of the month."""
    aggs = {}
    for i, r in enumerate(model.rates):
        cond = _age_condition(months, r.age_band)
        if r.product_line != "all":
            cond = cond & (months.product_line == r.product_line)
        aggs[f"c{i}"] = ibis.ifelse(cond, 1, 0).sum().cast("int64")
    row = engine.to_arrow(months.aggregate(**aggs)).to_pylist()[0]
    return {
        f"{r.product_line}/{r.age_band}": Decimal(row[f"c{i}"] or 0)
        for i, r in enumerate(model.rates)
    }


def default_year(terms: ContractTerms, engine: Engine, tables: dict[str, ir.Table]) -> int:
    """The latest performance year of the contract that the run has member months for."""
    mm = tables["member_months"]
    years = engine.to_arrow(mm.select(y=mm.month.year().cast("int64")).distinct())["y"]
    have = {int(y) for y in years.to_pylist() if y is not None}
    usable = [y for y in terms.performance_years if y in have]
    if not usable:
        raise ClaimsModeError(
            f"the run has no member months in the contract's performance years "
            f"{terms.performance_years} (it has {sorted(have)})"
        )
    return max(usable)


def claims_figures(
    terms: ContractTerms,
    engine: Engine,
    tables: dict[str, ir.Table],
    year: int,
    entity: str | None = None,
    quality_score: Decimal | None = None,
) -> ClaimsFigures:
    """The performance year's figures from a run's tables, ready for ``settle``."""
    missing = [n for n in REQUIRED_TABLES if n not in tables]
    if missing:
        raise ClaimsModeError(f"the run lacks table(s) {', '.join(missing)}")
    if year not in terms.performance_years:
        raise ClaimsModeError(
            f"{year} is not a performance year of the contract {terms.performance_years}"
        )
    model = terms.payment_for(None) if terms.payment is not None else None
    if model is None:
        raise ClaimsModeError("claims mode needs a contract with one payment model, not tracks")
    py = year_drilldown(terms, engine, tables, year, entity)
    if py.member_months == 0:
        raise ClaimsModeError(f"the contract population has no member months in {year}")
    details: dict[str, Any] = {
        "year": year,
        "entity": entity,
        "members": py.members_count,
        "member_months": py.member_months,
        "expenditure_before_truncation": str(py.amount + py.excess),
        "truncation_point": None if py.truncation_point is None else str(py.truncation_point),
        "truncation_excess": str(py.excess),
    }
    values: dict[str, Any] = {
        "performance_year": year,
        "id": entity or "all",
        "actual_expenditure": py.amount,
        "assigned_beneficiaries": py.members_count,
        "member_months": Decimal(py.member_months),
    }

    method = terms.benchmark
    ra = terms.risk_adjustment
    risk_baseline_year = ra.baseline_year if ra is not None else None
    if isinstance(method, HistoricalBenchmark):
        base, factors, risks = [], [], []
        for y in method.baseline_years:
            b = year_drilldown(terms, engine, tables, y, entity)
            if b.member_months == 0:
                raise ClaimsModeError(f"the contract population has no member months in {y}")
            # the baseline year's PMPM on the performance year's member months
            base.append(b.amount / b.member_months * py.member_months)
            details[f"baseline_{y}"] = {
                "members": b.members_count,
                "member_months": b.member_months,
                "expenditure": str(b.amount),
            }
            if method.trend_source == "market":
                py_market, _ = _market(terms, engine, tables, py.months)
                y_market, _ = _market(terms, engine, tables, b.months)
                factors.append(py_market / y_market)
                details[f"baseline_{y}"]["market_pmpm"] = str(y_market)
                details["market_pmpm"] = str(py_market)
            if risk_baseline_year is None:
                risks.append(_risk(terms, engine, tables, b.months, y))
        values["baseline_expenditures"] = base
        if factors:
            values["baseline_trend_factors"] = factors
        if risks and all(r is not None for r in risks):
            values["risk_score_baseline"] = sum(
                (w * r for w, r in zip(method.weights, risks, strict=True)), ZERO
            )
    elif isinstance(method, MarketBenchmark):
        pmpm, mrisk = _market(terms, engine, tables, py.months)
        values["market_pmpm"] = pmpm
        details["market_pmpm"] = str(pmpm)
        if risk_baseline_year is None:
            values["risk_score_baseline"] = mrisk
    elif isinstance(method, GlidePathBenchmark):
        if method.baseline_pmpm is None:
            assert method.baseline_year is not None
            b = year_drilldown(terms, engine, tables, method.baseline_year, entity)
            if b.member_months == 0:
                raise ClaimsModeError(
                    f"the contract population has no member months in {method.baseline_year}"
                )
            values["baseline_pmpm"] = b.amount / b.member_months
            details[f"baseline_{method.baseline_year}"] = {
                "members": b.members_count,
                "member_months": b.member_months,
                "expenditure": str(b.amount),
            }
        if risk_baseline_year is None:
            risk_baseline_year = method.baseline_year
    if ra is not None and ra.enabled:
        perf = _risk(terms, engine, tables, py.months, year)
        if risk_baseline_year is not None:
            b = year_drilldown(terms, engine, tables, risk_baseline_year, entity)
            values["risk_score_baseline"] = _risk(
                terms, engine, tables, b.months, risk_baseline_year
            )
        if perf is None or values.get("risk_score_baseline") is None:
            raise ClaimsModeError(
                "the contract adjusts for risk but the run has no risk scores "
                f"({ra.model}) for the population"
            )
        values["risk_score_performance"] = perf
        details["risk_score_performance"] = str(perf)
        details["risk_score_baseline"] = str(values["risk_score_baseline"])

    if isinstance(model, IntegratedMargin):
        row = engine.to_arrow(
            py.months.aggregate(premium=py.months.premium_pmpm.sum().cast(SUM))
        ).to_pylist()[0]
        values["premium"] = Decimal(row["premium"] or 0)
    if isinstance(model, Capitation):
        values["member_months_by_cell"] = _capitation_cells(model, engine, py.months)

    q = terms.quality
    if q is not None and q.gate:
        score, source = _quality_score(tables, engine, year, entity, quality_score)
        if score is None:
            raise ClaimsModeError(
                "the contract has a quality gate and the run has no quality_composite score "
                f"for {year}"
                + (f" and organization {entity}" if entity else "")
                + "; give --quality-score"
            )
        values["quality_score"] = score
        details["quality_score_source"] = source
    elif quality_score is not None:
        values["quality_score"] = quality_score
        details["quality_score_source"] = "stated on the command line"
    rates = _measure_rates(terms, engine, tables, year, entity)
    if rates:
        values["measure_rates"] = rates
        details["measure_rates"] = {k: str(v) for k, v in rates.items()}
    return ClaimsFigures(PerformanceYearFigures(**values), py.members, py.lines, details)
