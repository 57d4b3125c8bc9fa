"""Row-level validation of one canonical table against its declaration, as Ibis expressions.

``validate_table`` turns raw columns (text from CSV, or typed from Parquet) into the declared types
and lists every failure as (row, field, value, reason). A row with any failure is quarantined;
the rest are loaded. All rules derive from the declaration in ``payvider.schema``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from payvider.engine.backends import Engine
from payvider.ingest.codes import CHECKERS, FORMAT_DESCRIPTIONS, normalize_code
from payvider.ingest.files import FILE, PART, ROW
from payvider.schema.model import Column, Table

EARLIEST_DATE = dt.date(1900, 1, 1)
_TRUE = ("1", "true", "t", "y", "yes")
_FALSE = ("0", "false", "f", "n", "no")
_TYPE_WORDS = {
    "date": "not a date (expected YYYY-MM-DD)",
    "timestamp": "not a date-time (expected YYYY-MM-DD HH:MM:SS)",
    "money": "not an amount (expected a number such as 1234.56)",
    "number": "not a number",
    "integer": "not a whole number",
    "boolean": "not a yes/no flag (expected 1/0, true/false, y/n)",
}
FAILURE_SCHEMA = ibis.schema(
    {
        FILE: "int32",
        ROW: "int64",
        PART: "int64",
        "field": "string",
        "value": "string",
        "reason": "string",
    }
)


@dataclass
class Validated:
    """A validated table: ``typed`` has every declared column plus ``_row``/``_file_index``;
    ``failures`` has one row per failed check."""

    typed: ir.Table
    failures: ir.Table


def _raw(name: str) -> str:
    return f"__raw_{name}"


def _typed_value(col: Column, src: ir.Value) -> ir.Value:
    """Cast a raw column to the declared type; values that do not convert become null."""
    if src.type().is_string():
        text = src.strip().nullif("")
        if col.type == "string":
            if col.code:
                return normalize_code(text, col.code)
            return text.lower() if col.lowercase else text
        if col.type == "boolean":
            low = text.lower()
            return ibis.cases((low.isin(_TRUE), True), (low.isin(_FALSE), False), else_=None).cast(
                "boolean"
            )
        if col.type == "date":
            ok = text.re_search(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T].*)?$")
            return ibis.ifelse(ok, text.substr(0, 10), None).try_cast("date")
        if col.type in ("money", "number", "integer"):
            text = text.replace(",", "") if col.type != "integer" else text
        return text.try_cast(col.ibis_type)
    if col.type == "string":
        text = src.cast("string")
        if col.code:
            return normalize_code(text, col.code)
        return text.lower() if col.lowercase else text
    return src.try_cast(col.ibis_type)


def validate_table(engine: Engine, raw: ir.Table, spec: Table, as_of: dt.date) -> Validated:
    """Type and check ``raw`` (which holds a subset of ``spec``'s columns plus row ids)."""
    projection: dict[str, ir.Value] = {FILE: raw[FILE], ROW: raw[ROW], PART: raw[PART]}
    for col in spec.columns:
        if col.name in raw.columns:
            projection[col.name] = _typed_value(col, raw[col.name]).name(col.name)
            projection[_raw(col.name)] = raw[col.name].cast("string")
        else:
            projection[col.name] = ibis.null().cast(col.ibis_type)
    wide = engine.materialize(raw.select(**projection))

    failures: list[ir.Table] = []

    def fail(condition: ir.BooleanValue, field: str, value: ir.Value, reason: str) -> None:
        failures.append(
            wide.filter(condition).select(
                **{FILE: wide[FILE], ROW: wide[ROW], PART: wide[PART]},
                field=ibis.literal(field),
                value=value.cast("string"),
                reason=ibis.literal(reason),
            )
        )

    for col in spec.columns:
        typed = wide[col.name]
        if col.name not in raw.columns:
            continue
        raw_text = wide[_raw(col.name)]
        raw_present = raw_text.strip().nullif("").notnull()
        if col.required:
            fail(~raw_present, col.name, raw_text, "required field is missing")
        if col.type != "string":
            fail(raw_present & typed.isnull(), col.name, raw_text, _TYPE_WORDS[col.type])
        if col.allowed:
            fail(
                typed.notnull() & ~typed.isin(col.allowed),
                col.name,
                raw_text,
                f"unknown code: not one of {', '.join(col.allowed)}",
            )
        if col.code:
            fail(
                typed.notnull() & ~CHECKERS[col.code](typed),
                col.name,
                raw_text,
                f"not {FORMAT_DESCRIPTIONS[col.code]}",
            )
        if col.type == "date":
            latest = as_of + dt.timedelta(days=366)
            fail(
                typed < EARLIEST_DATE,
                col.name,
                raw_text,
                f"implausible date before {EARLIEST_DATE}",
            )
            fail(
                typed > latest,
                col.name,
                raw_text,
                f"far-future date (after {latest}, a year past the load date)",
            )
            if col.name == "birth_date":
                fail(typed > as_of, col.name, raw_text, "birth date is in the future")

    for rule in spec.date_orders:
        if rule.start in raw.columns and rule.end in raw.columns:
            fail(
                wide[rule.end] < wide[rule.start],
                rule.end,
                wide[rule.end],
                f"{rule.end} is before {rule.start}",
            )

    if all(k in raw.columns for k in spec.primary_key):
        window = ibis.window(
            group_by=[wide[k] for k in spec.primary_key], order_by=[FILE, ROW, PART]
        )
        ranked = wide.mutate(
            __dup=ibis.row_number().over(window),
            __first=wide[ROW].first().over(window),
        )
        key = ibis.literal("|").join(
            [ranked[k].cast("string").fill_null("") for k in spec.primary_key]
        )
        failures.append(
            ranked.filter(ranked["__dup"] > 0).select(
                **{FILE: ranked[FILE], ROW: ranked[ROW], PART: ranked[PART]},
                field=ibis.literal(",".join(spec.primary_key)),
                value=key,
                reason=ibis.literal("duplicate primary key; first seen at row ")
                + ranked["__first"].cast("string"),
            )
        )

    all_failures = (
        ibis.union(*failures, distinct=False)
        if failures
        else ibis.memtable([], schema=FAILURE_SCHEMA)
    )
    typed_table = wide.select(FILE, ROW, PART, *spec.column_names)
    return Validated(typed=typed_table, failures=all_failures)
