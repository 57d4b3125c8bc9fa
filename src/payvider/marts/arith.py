"""Arithmetic that gives the same answer on every engine.

Sums run over DECIMAL money and integer counts only (exact, whatever the order of addition);
DuckDB's integer sums come back as 128-bit integers and decimal sums at engine-specific precisions,
so both are cast to fixed types. Ratios are one IEEE division of exact inputs, left unrounded:
rounding a double at a half-way point differs between engines, so display code rounds instead.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

MONEY_SUM = "decimal(38, 2)"


def money_sum(amount: ir.NumericColumn) -> ir.NumericScalar:
    """Exact sum of a DECIMAL money column as decimal(38, 2)."""
    return amount.sum().cast(MONEY_SUM)


def count_sum(values: ir.NumericColumn) -> ir.IntegerScalar:
    """Sum of integer counts as int64."""
    return values.sum().cast("int64")


def ratio(numerator: ir.NumericValue, denominator: ir.NumericValue) -> ir.FloatingValue:
    """numerator / denominator as float64; null when the denominator is zero or null."""
    return ibis.ifelse(
        denominator != 0,
        numerator.cast("float64") / denominator.cast("float64"),
        ibis.null().cast("float64"),
    )
