"""Row-level validation of one canonical table against its declaration, as Ibis expressions.

``validate_table`` turns raw columns (text from CSV, or typed from Parquet) into the declared types
and lists every failure as (row, field, value, reason). A row with any failure is quarantined;
the rest are loaded. All rules derive from the declaration in ``payvider.schema``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
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
    staged = raw.select(**projection)
    checks: list[tuple[Callable[[ir.Table], ir.BooleanValue], str, str, str]] = []

    def fail(
        condition: Callable[[ir.Table], ir.BooleanValue], field: str, value: str, reason: str
    ) -> None:
        checks.append((condition, field, value, reason))

    latest = as_of + dt.timedelta(days=366)
    for col in spec.columns:
        if col.name not in raw.columns:
            continue
        name, raw_name = col.name, _raw(col.name)

        def present(t: ir.Table, raw_name: str = raw_name) -> ir.BooleanValue:
            return t[raw_name].strip().nullif("").notnull()

        if col.required:
            fail(lambda t, p=present: ~p(t), name, raw_name, "required field is missing")
        if col.type != "string":
            fail(
                lambda t, p=present, n=name: p(t) & t[n].isnull(),
                name,
                raw_name,
                _TYPE_WORDS[col.type],
            )
        if col.allowed:
            fail(
                lambda t, n=name, a=col.allowed: t[n].notnull() & ~t[n].isin(a),
                name,
                raw_name,
                f"unknown code: not one of {', '.join(col.allowed)}",
            )
        if col.code:
            fail(
                lambda t, n=name, c=CHECKERS[col.code]: t[n].notnull() & ~c(t[n]),
                name,
                raw_name,
                f"not {FORMAT_DESCRIPTIONS[col.code]}",
            )
        if col.type == "date":
            fail(
                lambda t, n=name: t[n] < EARLIEST_DATE,
                name,
                raw_name,
                f"implausible date before {EARLIEST_DATE}",
            )
            fail(
                lambda t, n=name: t[n] > latest,
                name,
                raw_name,
                f"far-future date (after {latest}, a year past the load date)",
            )
            if col.name == "birth_date":
                fail(lambda t, n=name: t[n] > as_of, name, raw_name, "birth date is in the future")

    for rule in spec.date_orders:
        if rule.start in raw.columns and rule.end in raw.columns:
            fail(
                lambda t, r=rule: t[r.end] < t[r.start],
                rule.end,
                _raw(rule.end),
                f"{rule.end} is before {rule.start}",
            )

    # One pass flags rows with any failure; the (few) flagged rows are then examined check by
    # check, instead of scanning every row once per check.
    any_bad = ibis.literal(False)
    for condition, *_ in checks:
        any_bad = any_bad | condition(staged).fill_null(False)
    wide = engine.materialize(staged.mutate(__bad=any_bad))
    bad = engine.materialize(wide.filter(wide["__bad"]))
    failures: list[ir.Table] = [
        bad.filter(condition(bad)).select(
            **{FILE: bad[FILE], ROW: bad[ROW], PART: bad[PART]},
            field=ibis.literal(field),
            value=bad[value].cast("string"),
            reason=ibis.literal(reason),
        )
        for condition, field, value, reason in checks
    ]
    if all(k in raw.columns for k in spec.primary_key):
        failures.append(_duplicate_keys(wide, spec))

    all_failures = (
        ibis.union(*failures, distinct=False)
        if failures
        else ibis.memtable([], schema=FAILURE_SCHEMA)
    )
    typed_table = wide.select(FILE, ROW, PART, *spec.column_names)
    return Validated(typed=typed_table, failures=all_failures)


def _duplicate_keys(wide: ir.Table, spec: Table) -> ir.Table:
    """Rows whose primary key was already seen on an earlier row.

    Aggregating keys and joining back the few duplicated ones is far cheaper than a window over
    every row. Null key parts compare as empty text so that they can still collide.
    """
    keys = {f"__k{i}": wide[k].cast("string").fill_null("") for i, k in enumerate(spec.primary_key)}
    order = wide[FILE].cast("int64") * 1_000_000_000_000 + wide[ROW] * 100 + wide[PART]
    keyed = wide.select(FILE, ROW, PART, __ord=order, **keys)
    dups = (
        keyed.group_by(list(keys))
        .aggregate(
            __n=keyed.count(),
            __first_ord=keyed["__ord"].min(),
            __first_row=keyed[ROW].argmin(keyed["__ord"]),
        )
        .filter(lambda t: t["__n"] > 1)
    )
    joined = keyed.inner_join(dups, list(keys))
    later = joined.filter(joined["__ord"] > joined["__first_ord"])
    value = ibis.literal("|").join([later[k] for k in keys])
    return later.select(
        **{FILE: later[FILE], ROW: later[ROW], PART: later[PART]},
        field=ibis.literal(",".join(spec.primary_key)),
        value=value,
        reason=ibis.literal("duplicate primary key; first seen at row ")
        + later["__first_row"].cast("string"),
    )
