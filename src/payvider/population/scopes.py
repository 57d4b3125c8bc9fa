"""Named population scopes.

A scope selects member months by product line, geography (ZIP codes or 3-digit ZIP prefixes),
attribution (to the partner system, or to named organizations) and date range. The seeds advise
starting with the members the partner's PCPs serve, then growing by product, then by geography:
the built-in scopes follow that path, and a YAML file can define more::

    scopes:
      - name: twin_cities_ma
        description: Medicare Advantage members in the 553/554 ZIP areas
        product_lines: [medicare_advantage]
        zip_codes: ["553", "554"]
        attributed_to_partner: true
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

import ibis
import ibis.expr.types as ir
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

ProductLine = Literal["commercial", "medicare_advantage", "medicare_ffs", "medicaid"]


class ScopeError(ValueError):
    """A scope file or name is invalid."""


class Scope(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9_]+$")
    description: str = ""
    product_lines: list[ProductLine] | None = None
    zip_codes: list[str] | None = Field(
        default=None, description="5-digit ZIP codes or 3-digit ZIP prefixes."
    )
    attributed_to_partner: bool | None = Field(
        default=None, description="true: only members attributed to the partner system."
    )
    organizations: list[str] | None = Field(
        default=None, description="Only members attributed to these organization ids."
    )
    start: dt.date | None = None
    end: dt.date | None = None

    @field_validator("zip_codes")
    @classmethod
    def _zips(cls, v: list[str] | None) -> list[str] | None:
        for z in v or []:
            if not (z.isdigit() and len(z) in (3, 5)):
                raise ValueError(f"{z!r} is not a 5-digit ZIP code or 3-digit prefix")
        return v


BUILTIN_SCOPES: dict[str, Scope] = {
    s.name: s
    for s in (
        Scope(name="all", description="Every enrolled member"),
        Scope(
            name="partner_attributed",
            description="Members attributed to the partner health system (the PCP-served start)",
            attributed_to_partner=True,
        ),
        Scope(
            name="partner_attributed_medicare_advantage",
            description="Partner-attributed Medicare Advantage members (grow by product)",
            attributed_to_partner=True,
            product_lines=["medicare_advantage"],
        ),
        Scope(
            name="partner_attributed_commercial",
            description="Partner-attributed commercial members (grow by product)",
            attributed_to_partner=True,
            product_lines=["commercial"],
        ),
    )
}


def load_scopes(path: Path | None = None) -> dict[str, Scope]:
    """Built-in scopes plus those in ``path`` (a YAML file with a ``scopes:`` list)."""
    scopes = dict(BUILTIN_SCOPES)
    if path is None:
        return scopes
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ScopeError(f"{path}: cannot read scopes ({exc})") from None
    problems = []
    for i, item in enumerate(data.get("scopes", []) if isinstance(data, dict) else []):
        try:
            scope = Scope(**item)
            scopes[scope.name] = scope
        except (ValidationError, TypeError) as exc:
            detail = (
                "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
                if isinstance(exc, ValidationError)
                else str(exc)
            )
            problems.append(f"scopes[{i}]: {detail}")
    if problems:
        raise ScopeError(f"{path}: " + " | ".join(problems))
    return scopes


def get_scope(name: str, path: Path | None = None) -> Scope:
    scopes = load_scopes(path)
    if name not in scopes:
        raise ScopeError(f"no scope named {name!r}; known: {', '.join(sorted(scopes))}")
    return scopes[name]


def scope_member_months(member_months: ir.Table, attribution: ir.Table, scope: Scope) -> ir.Table:
    """Member months in ``scope``, each with its attribution (organization, partner flag)."""
    mm = member_months.mutate(period=member_months.month.year().cast("int64"))
    a = attribution.select(
        "period",
        "member_id",
        "payer",
        organization_id=attribution.organization_id,
        partner_flag=attribution.partner_flag,
        rule=attribution.rule,
    )
    return in_scope(mm.left_join(a, ["period", "member_id", "payer"]), scope)


def in_scope(table: ir.Table, scope: Scope) -> ir.Table:
    """The rows of ``table`` in ``scope``: any table with the member month's ``month``,
    ``product_line``, ``zip_code``, ``partner_flag`` and ``organization_id`` (member months with
    their attribution, or cost rows that carry them)."""
    j = table
    conditions = []
    if scope.product_lines:
        conditions.append(j.product_line.isin(scope.product_lines))
    if scope.zip_codes:
        zips = j.zip_code.fill_null("")
        conditions.append(
            ibis.or_(*[zips.startswith(z) if len(z) == 3 else zips == z for z in scope.zip_codes])
        )
    if scope.attributed_to_partner is not None:
        conditions.append(j.partner_flag.fill_null(False) == scope.attributed_to_partner)
    if scope.organizations:
        conditions.append(j.organization_id.isin(scope.organizations))
    if scope.start:
        conditions.append(j.month >= scope.start.replace(day=1))
    if scope.end:
        conditions.append(j.month <= scope.end)
    return j.filter(*conditions) if conditions else j


def compare_scopes(member_months: ir.Table, attribution: ir.Table, scopes: list[Scope]) -> ir.Table:
    """Side by side: members, member months and attribution of each scope."""
    parts = []
    for scope in scopes:
        s = scope_member_months(member_months, attribution, scope)
        parts.append(
            s.aggregate(
                members=s.member_id.nunique(),
                member_months=s.count(),
                partner_member_months=s.partner_flag.fill_null(False).cast("int64").sum(),
                first_month=s.month.min(),
                last_month=s.month.max(),
            ).mutate(scope=ibis.literal(scope.name), description=ibis.literal(scope.description))
        )
    return ibis.union(*parts, distinct=False)
