"""Canonical tables: declared once, here; validation, Ibis schemas and docs derive from them."""

from payvider.schema.model import Column, DateOrder, Table
from payvider.schema.tables import PRODUCT_LINES, TABLES, get_table

__all__ = ["PRODUCT_LINES", "TABLES", "Column", "DateOrder", "Table", "get_table"]
