"""Who may see what: every read of a dataset goes through :func:`query_dataset`.

It applies, in order: the role's right to the dataset (viewers get aggregates only), small-cell
suppression of aggregates for every role but ``jv_admin`` (computed on the whole table, so a
filter cannot change which cells are hidden), the role's row scope on member-level data
(``payer_analyst``: its payer; ``provider_analyst``: members attributed to its organization), the
request's filters, order and page; and it writes member-level reads to the audit log.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from payvider.api.audit import AuditLog
from payvider.api.datasets import DATASETS, Dataset
from payvider.api.store import NotFound, RunStore
from payvider.api.suppression import suppress_small_cells
from payvider.api.users import User

MAX_LIMIT = 10_000
DEFAULT_LIMIT = 100


class ApiError(Exception):
    """A request that cannot be served; ``status`` is the HTTP status, the message says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Page:
    dataset: str
    run_id: str
    total: int
    limit: int | None
    offset: int
    columns: list[str]
    rows: list[dict[str, Any]]
    suppressed: bool

    def as_dict(self) -> dict[str, Any]:
        next_offset = self.offset + len(self.rows)
        return {
            "dataset": self.dataset,
            "run_id": self.run_id,
            "total": self.total,
            "limit": self.limit,
            "offset": self.offset,
            "next_offset": next_offset if next_offset < self.total else None,
            "small_cell_suppression": self.suppressed,
            "columns": self.columns,
            "rows": [{k: jsonable(v) for k, v in r.items()} for r in self.rows],
        }


def jsonable(v: Any) -> Any:
    """Exact money as text, dates as ISO text, NaN as null."""
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, dt.date | dt.datetime):
        return v.isoformat()
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def get_dataset(name: str) -> Dataset:
    ds = DATASETS.get(name)
    if ds is None:
        raise ApiError(404, f"no dataset {name!r}; available: {', '.join(sorted(DATASETS))}")
    return ds


def suppresses(user: User) -> bool:
    """Aggregates are suppressed for every role without access to all members."""
    return user.role != "jv_admin"


def scope_rows(t: ir.Table, user: User, what: str) -> ir.Table:
    """Member-level rows the user may see (raises 403 for viewers)."""
    if not user.member_level:
        raise ApiError(403, f"role {user.role} sees aggregates only; {what} is member-level data")
    if user.role == "payer_analyst":
        if "payer" not in t.columns:
            raise ApiError(403, f"{what} has no payer column to limit a payer_analyst's rows by")
        return t.filter(t.payer == user.payer)
    if user.role == "provider_analyst":
        if "organization_id" not in t.columns:
            raise ApiError(403, f"{what} has no organization to limit a provider_analyst's rows by")
        return t.filter(t.organization_id == user.organization_id)
    return t


def _typed(t: ir.Table, column: str, param: str, value: str) -> Any:
    typ = t[column].type()
    if typ.is_integer():
        try:
            return int(value)
        except ValueError:
            raise ApiError(400, f"{param}={value!r}: expected a whole number") from None
    if typ.is_boolean():
        if value.lower() not in ("true", "false"):
            raise ApiError(400, f"{param}={value!r}: expected true or false")
        return value.lower() == "true"
    return value


def _period_filter(t: ir.Table, ds: Dataset, value: str) -> ir.Table:
    column, kind = ds.period  # type: ignore[misc]
    col = t[column]
    if kind == "text":
        return t.filter(col == value)
    try:
        if kind == "month" and len(value) == 7:
            month = dt.date.fromisoformat(value + "-01")
            return t.filter(col == month)
        year = int(value)
    except ValueError:
        raise ApiError(
            400,
            f"period={value!r}: expected a year (2024)"
            + (" or a month (2024-03)" if kind == "month" else ""),
        ) from None
    return t.filter((col.year() if kind == "month" else col) == year)


def dataset_expr(
    store: RunStore, user: User, ds: Dataset, run_id: str, filters: dict[str, str]
) -> ir.Table:
    """The Ibis expression of what ``user`` may see of ``ds`` under ``filters``."""
    unknown = sorted(set(filters) - set(ds.filter_names()))
    if unknown:
        raise ApiError(
            400,
            f"dataset {ds.name} has no filter {', '.join(unknown)}; "
            f"filters: {', '.join(ds.filter_names()) or 'none'}",
        )
    try:
        t = store.table(run_id, ds.table)
    except NotFound as exc:
        raise ApiError(404, f"dataset {ds.name}: {exc}") from None
    if ds.build is not None:
        t = ds.build(t)
    if ds.member_level:
        t = scope_rows(t, user, f"dataset {ds.name}")
    else:
        hide = suppresses(user) and ds.count_column is not None
        if hide:
            t = suppress_small_cells(t, ds.count_column, ds.dimensions, ds.margins)  # type: ignore[arg-type]
        t = store.materialize(f"{run_id}_{ds.name}_{'suppressed' if hide else 'all'}", t)
    for param, value in filters.items():
        if param == "period":
            t = _period_filter(t, ds, value)
        else:
            column = ds.filters[param]
            t = t.filter(t[column] == _typed(t, column, param, value))
    return t


def _scope_key(user: User, ds: Dataset) -> tuple:
    """What decides the rows a user sees of ``ds``: users with equal keys see the same rows."""
    if ds.member_level:
        return (user.role, user.payer, user.organization_id)
    return ("suppressed",) if suppresses(user) else ("all",)


def _order_sql(ds: Dataset) -> str:
    return ", ".join(f'"{c}" ASC NULLS FIRST' for c in ds.order_by)


def query_dataset(
    store: RunStore,
    audit: AuditLog,
    user: User,
    name: str,
    filters: dict[str, str],
    limit: int | None = DEFAULT_LIMIT,
    offset: int = 0,
    run: str | None = None,
    endpoint: str = "",
) -> Page:
    """One page of dataset ``name`` as ``user`` may see it; member-level reads are audited."""
    ds = get_dataset(name)
    if limit is not None and not 1 <= limit <= MAX_LIMIT:
        raise ApiError(400, f"limit={limit}: must be between 1 and {MAX_LIMIT}")
    if offset < 0:
        raise ApiError(400, f"offset={offset}: must be 0 or more")
    try:
        run_id = store.run_id(run)
    except NotFound as exc:
        raise ApiError(404, str(exc)) from None
    key = (run_id, ds.name, _scope_key(user, ds), tuple(sorted(filters.items())))
    # The Ibis expression is compiled once per run, dataset, row scope and filters; pages and
    # counts are SQL around it, and small pages are remembered (runs never change).
    sql = store.cached(
        ("sql", *key),
        lambda: ibis.to_sql(dataset_expr(store, user, ds, run_id, filters), dialect="duckdb"),
    )

    def fetch() -> tuple[int, pa.Table]:
        total = store.sql(f"SELECT count(*) AS n FROM ({sql})")["n"][0].as_py()
        page = f"SELECT * FROM ({sql}) ORDER BY {_order_sql(ds)}"
        if limit is not None:
            page += f" LIMIT {int(limit)}"
        return int(total), store.sql(page + f" OFFSET {int(offset)}")

    if limit is not None and limit <= 1000:
        total, data = store.cached(("page", *key, limit, offset), fetch)
    else:
        total, data = fetch()
    rows = data.to_pylist()
    if ds.member_level:
        audit.record(user.name, user.role, endpoint, filters, len(rows), ds.name, run_id)
    return Page(
        ds.name,
        run_id,
        total,
        limit,
        offset,
        data.column_names,
        rows,
        suppressed=not ds.member_level and suppresses(user) and ds.count_column is not None,
    )


def aggregate_rows(
    store: RunStore, user: User, name: str, run_id: str, **filters: str
) -> list[dict[str, Any]]:
    """All rows of an aggregate dataset as ``user`` may see them (for summaries and charts)."""
    ds = get_dataset(name)
    if ds.member_level:
        raise ValueError(f"{name} is member-level; use query_dataset")
    return query_dataset(
        store, AuditLog(store.workspace.root), user, name, filters, None, 0, run_id
    ).rows


def visible_count(value: int | None, user: User) -> int | None:
    """A headline count, or None when it is a small cell the user may not see."""
    if value is None or (suppresses(user) and value < 11):
        return None
    return value


__all__ = ["ApiError", "Page", "aggregate_rows", "query_dataset"]
