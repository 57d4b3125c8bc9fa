"""Run tables as Ibis tables for concurrent requests.

One DuckDB database per server, one cursor (and Ibis backend over it) per thread: a single
connection shared by threads fails or hangs under concurrent requests. Each run table is a
persistent view over its Parquet file, created once, which every cursor sees (Ibis's own
``read_parquet`` makes temporary views that other cursors cannot see).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir
import pyarrow as pa

from payvider.engine.workspace import Workspace


class NotFound(LookupError):
    """A run, table or settlement that does not exist."""


class RunStore:
    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._con = duckdb.connect()
        self._lock = threading.Lock()
        self._views: set[str] = set()
        self._local = threading.local()
        self._cache: OrderedDict[Hashable, Any] = OrderedDict()
        self._cache_lock = threading.Lock()

    def cached(self, key: Hashable, compute: Callable[[], Any], size: int = 2048) -> Any:
        """``compute()``, remembered under ``key`` (least recently used dropped first). Runs are
        immutable once written, so compiled queries and results of a run never go stale."""
        with self._cache_lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        value = compute()
        with self._cache_lock:
            self._cache[key] = value
            while len(self._cache) > size:
                self._cache.popitem(last=False)
        return value

    def sql(self, query: str) -> pa.Table:
        """Run compiled SQL on this thread's cursor."""
        self._backend()
        return self._local.cursor.execute(query).fetch_arrow_table()

    def run_id(self, run: str | None = None) -> str:
        """``run`` if it is a completed run of the workspace, else the newest run."""
        runs = self.workspace.run_ids()
        if not runs:
            raise NotFound("the workspace has no runs yet; run `payvider run` first")
        if run is None or run == "latest":
            return runs[-1]
        if run not in runs:
            raise NotFound(f"no run {run!r}; see /api/runs")
        return run

    def run_dir(self, run_id: str) -> Path:
        return self.workspace.runs_dir / run_id

    def has_table(self, run_id: str, table: str) -> bool:
        return (self.run_dir(run_id) / f"{table}.parquet").exists()

    def _backend(self) -> ibis.BaseBackend:
        backend = getattr(self._local, "backend", None)
        if backend is None:
            self._local.cursor = self._con.cursor()
            backend = ibis.duckdb.from_connection(self._local.cursor)
            self._local.backend = backend
        return backend

    def table(self, run_id: str, table: str) -> ir.Table:
        return self.parquet(self.run_dir(run_id) / f"{table}.parquet", f"{run_id}_{table}")

    def parquet(self, path: Path, key: str) -> ir.Table:
        """A persistent view named after ``key`` over the Parquet file ``path``."""
        if not path.exists():
            raise NotFound(f"{path.stem} is not in this run")
        view = "v_" + re.sub(r"[^A-Za-z0-9_]", "_", key)
        if view not in self._views:
            with self._lock:
                if view not in self._views:
                    literal = str(path).replace("'", "''")
                    self._con.execute(
                        f"CREATE OR REPLACE VIEW \"{view}\" AS SELECT * FROM read_parquet('{literal}')"
                    )
                    self._views.add(view)
        return self._backend().table(view)

    def materialize(self, key: str, expr: ir.Table) -> ir.Table:
        """``expr`` computed once into a table named after ``key`` that every cursor sees (for
        aggregates with suppression: the windows run once per run, not once per request)."""
        name = "m_" + re.sub(r"[^A-Za-z0-9_]", "_", key)
        if name not in self._views:
            with self._lock:
                if name not in self._views:
                    sql = ibis.to_sql(expr, dialect="duckdb")
                    self._con.execute(f'CREATE OR REPLACE TABLE "{name}" AS {sql}')
                    self._views.add(name)
        return self._backend().table(name)

    def close(self) -> None:
        self._con.close()
