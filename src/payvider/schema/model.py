"""The vocabulary for declaring canonical tables.

A table is declared once, as a :class:`Table` of :class:`Column` objects. Validation rules, Ibis
schemas and ``docs/schema.md`` are all derived from these declarations, so they cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import ibis
import ibis.expr.datatypes as dt

ColumnType = Literal["string", "date", "money", "integer", "number", "boolean", "timestamp"]

#: Ibis type of each declared column type. Money is DECIMAL(18, 2) end to end: exact, and the
#: same on every engine (binary floats disagree between engines in the last digits).
IBIS_TYPES: dict[str, dt.DataType] = {
    "string": dt.string,
    "date": dt.date,
    "money": dt.Decimal(18, 2),
    "integer": dt.int64,
    "number": dt.Decimal(18, 4),
    "boolean": dt.boolean,
    "timestamp": dt.timestamp,
}

#: Code formats a string column may be checked against (see ``payvider.ingest.codes``).
CodeFormat = Literal[
    "npi",
    "tin",
    "icd10cm",
    "icd10pcs",
    "hcpcs",
    "ndc",
    "zip",
    "bill_type",
    "revenue_code",
    "place_of_service",
    "drg",
    "loinc",
    "cvx",
    "year_month",
]


@dataclass(frozen=True)
class Column:
    """One column of a canonical table."""

    name: str
    type: ColumnType
    description: str
    required: bool = False
    allowed: tuple[str, ...] | None = None
    code: CodeFormat | None = None
    #: Values are lower-cased before the allowed-values check (e.g. ``Male`` → ``male``).
    lowercase: bool = False

    @property
    def ibis_type(self) -> dt.DataType:
        return IBIS_TYPES[self.type]


@dataclass(frozen=True)
class DateOrder:
    """Row rule: ``end`` is on or after ``start`` when both are present."""

    start: str
    end: str


@dataclass(frozen=True)
class Table:
    """A canonical table: its grain, its columns and its primary key."""

    name: str
    side: Literal["payer", "provider", "shared"]
    grain: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    date_orders: tuple[DateOrder, ...] = ()
    #: Column-name aliases accepted on input (source name → canonical name).
    aliases: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"table {self.name}: duplicate column names")
        missing = [k for k in self.primary_key if k not in names]
        if missing:
            raise ValueError(f"table {self.name}: primary key columns {missing} are not declared")
        for rule in self.date_orders:
            if rule.start not in names or rule.end not in names:
                raise ValueError(f"table {self.name}: date rule names an undeclared column")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name} has no column {name!r}")

    def ibis_schema(self) -> ibis.Schema:
        return ibis.schema({c.name: c.ibis_type for c in self.columns})
