"""Reading a scenario's base from a workspace run (the I/O edge of the scenarios package).

The Ibis expressions of ``payvider.scenarios.base`` run on DuckDB over the run's Parquet tables;
the few aggregate rows come back as exact decimals, the member rows as numpy arrays (integer cents
and member months) for Monte Carlo.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path

import numpy as np

from payvider.contracts.terms import ContractError, ContractTerms, load_terms
from payvider.engine.backends import DuckDBEngine
from payvider.engine.runs import canonical_inputs
from payvider.engine.workspace import Workspace, WorkspaceError
from payvider.ingest.errors import InputRejected
from payvider.scenarios.assumptions import ScenarioAssumptions
from payvider.scenarios.base import (
    complete_years,
    market_by_year,
    population_by_year,
    population_members,
)
from payvider.scenarios.projection import ScenarioBase

__all__ = ["MemberSample", "load_contract", "load_scenario_inputs"]


@dataclass(frozen=True)
class MemberSample:
    """The base year's population, one entry per member: what Monte Carlo resamples."""

    cents: np.ndarray  # int64 expenditure in cents (exact)
    member_months: np.ndarray  # int64
    stratum: np.ndarray  # int32 index into ``strata``
    strata: list[str]


EXAMPLES = "payvider.scenarios.examples"


def example_names() -> list[str]:
    """Shipped example term sheets as ``example:<name>``."""
    files = resources.files(EXAMPLES).iterdir()
    return sorted(
        f"example:{f.name.removesuffix('.yaml')}" for f in files if f.name.endswith(".yaml")
    )


def load_contract(spec: str) -> tuple[ContractTerms, str | None]:
    """A contract from ``PATH``, a template (``mssp:2024``) or a shipped example
    (``example:two-sided``), with an optional ``#TRACK`` suffix (``mssp:2024#ENHANCED``)."""
    text, _, track = spec.partition("#")
    try:
        if text.startswith("example:") and not Path(text).exists():
            entry = resources.files(EXAMPLES) / f"{text.removeprefix('example:')}.yaml"
            if not entry.is_file():
                raise ContractError(text, f"no such example ({', '.join(example_names())})")
            with resources.as_file(entry) as path:
                terms = load_terms(path)
        else:
            terms = load_terms(text)
    except ContractError as exc:
        raise InputRejected(exc.source, exc.problem) from None
    if track and (not terms.tracks or track not in terms.tracks):
        known = ", ".join(terms.tracks or []) or "none"
        raise InputRejected(text, f"no track {track!r} (tracks: {known})")
    return terms, track or None


def _dec(value) -> Decimal:
    return Decimal(str(value))


def _annual_growth(first: Decimal, last: Decimal, years: int) -> Decimal | None:
    if years <= 0 or first <= 0 or last <= 0:
        return None
    return ((last / first) ** (Decimal(1) / years) - 1).quantize(Decimal("0.000001"))


def load_scenario_inputs(
    workspace: Workspace, run_id: str | None, a: ScenarioAssumptions
) -> tuple[ScenarioBase, MemberSample]:
    """The base year of ``a.population`` in a run, and its members for resampling."""
    run_dir: Path = workspace.run_path(run_id)
    need = ["member_year_cost", "member_months"]
    missing = [n for n in need if not (run_dir / f"{n}.parquet").exists()]
    if missing:
        raise WorkspaceError(f"run {run_dir.name} has no {', '.join(missing)}; run it again")
    eng = DuckDBEngine()
    try:
        t = {n: eng.read_parquet(run_dir / f"{n}.parquet") for n in need}
        for opt in ("risk_score", "quality_summary"):
            if (run_dir / f"{opt}.parquet").exists():
                t[opt] = eng.read_parquet(run_dir / f"{opt}.parquet")
        market = canonical_inputs(eng, workspace).get("market_benchmark")
        years = sorted(eng.to_arrow(complete_years(t["member_months"]))["year"].to_pylist())
        if not years:
            raise WorkspaceError("the run has no complete year (twelve months) to project from")
        base_year = years[-1]
        by_year = eng.to_arrow(
            population_by_year(t["member_year_cost"], a.population, a.expenditure)
        ).to_pylist()
        members = population_members(
            t["member_year_cost"], t.get("risk_score"), base_year, a.population, a.expenditure
        )
        members = members.mutate(cents=(members.expenditure * 100).cast("int64"))
        m = eng.to_arrow(members.order_by(["member_id", "payer"]))
        mrows = eng.to_arrow(market_by_year(market)).to_pylist() if market is not None else []
        q = t.get("quality_summary")
        qrows = []
        if q is not None:
            q = q.filter((q.level == "total") & (q.period == str(base_year)) & q.rate.notnull())
            qrows = eng.to_arrow(q.select("measure_id", "rate")).to_pylist()
    finally:
        eng.close()

    rows = [r for r in by_year if r["year"] == base_year]
    n = sum(r["members"] for r in rows)
    if n == 0:
        raise WorkspaceError(f"population {a.population!r} has no members in {base_year}")
    mm_pl = {r["product_line"]: _dec(r["member_months"]) for r in rows if r["member_months"]}
    pmpm_by_year: dict[int, Decimal] = {}
    for y in years:
        mm = sum(r["member_months"] for r in by_year if r["year"] == y)
        spend = sum((_dec(r["expenditure"]) for r in by_year if r["year"] == y), Decimal(0))
        if mm:
            pmpm_by_year[y] = spend / mm
    # market PMPM weighted by the base year's product-line mix of the population
    mk = {(r["year"], r["product_line"]): _dec(r["market_pmpm"]) for r in mrows}
    total_mm = sum(mm_pl.values(), Decimal(0))

    def market_pmpm(y: int) -> Decimal | None:
        if not mk or any((y, pl) not in mk for pl in mm_pl):
            return None
        return sum((mk[(y, pl)] * w for pl, w in mm_pl.items()), Decimal(0)) / total_mm

    first = years[0]
    m_first, m_last = market_pmpm(first), market_pmpm(base_year)
    base = ScenarioBase(
        base_year=base_year,
        members=n,
        member_months=total_mm,
        expenditure=sum((_dec(r["expenditure"]) for r in rows), Decimal(0)),
        book_members=sum(r["book_members"] for r in rows),
        member_months_by_product_line=mm_pl,
        pmpm_by_year=pmpm_by_year,
        market_pmpm=m_last,
        market_trend=None
        if m_first is None or m_last is None
        else _annual_growth(m_first, m_last, base_year - first),
        observed_trend=_annual_growth(
            pmpm_by_year.get(first, Decimal(0)), pmpm_by_year[base_year], base_year - first
        ),
        measure_rates={r["measure_id"]: _dec(r["rate"]).quantize(Decimal("0.0001")) for r in qrows},
        population=a.population,
    )
    strata, inverse = np.unique(m["stratum"].to_numpy(zero_copy_only=False), return_inverse=True)
    sample = MemberSample(
        cents=m["cents"].to_numpy().astype(np.int64),  # exact: decimal(38, 2) × 100
        member_months=m["member_months"].to_numpy().astype(np.int64),
        stratum=inverse.astype(np.int32),
        strata=[str(s) for s in strata],
    )
    return base, sample
