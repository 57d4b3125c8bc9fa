"""Execution engines. The only module that knows DuckDB and Spark exist.

Everything else builds Ibis expressions; an :class:`Engine` reads Parquet into tables, executes
expressions and writes their results as single Parquet files.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Literal

import ibis
import ibis.expr.types as ir
import pyarrow as pa

EngineName = Literal["duckdb", "spark"]
ENGINES: tuple[str, ...] = ("duckdb", "spark")


class EngineUnavailable(RuntimeError):
    """The engine's optional dependencies are not installed."""


class Engine:
    """A connected Ibis backend with Payvider's read/write conventions."""

    name: str = "base"

    def __init__(self, con: ibis.BaseBackend) -> None:
        self.con = con

    def read_parquet(self, path: Path | str, table_name: str | None = None) -> ir.Table:
        return self.con.read_parquet(str(path), table_name=table_name or _temp_name())

    def from_arrow(self, table: pa.Table, table_name: str | None = None) -> ir.Table:
        """Materialise an Arrow table in the engine."""
        return self.con.create_table(table_name or _temp_name(), table, temp=True)

    def materialize(self, expr: ir.Table, table_name: str | None = None) -> ir.Table:
        """Compute ``expr`` once and keep the result as a table of the engine."""
        return materialize(expr, table_name)

    def write_parquet(self, expr: ir.Table, path: Path) -> None:
        raise NotImplementedError

    def to_arrow(self, expr: ir.Expr) -> pa.Table:
        return expr.to_pyarrow()

    def execute(self, expr: ir.Expr):
        return expr.execute()

    def close(self) -> None:
        self.con.disconnect()

    def describe(self) -> dict:
        return {"engine": self.name, "version": getattr(self.con, "version", None)}


class DuckDBEngine(Engine):
    name = "duckdb"

    def __init__(self, memory_limit: str | None = None, threads: int | None = None) -> None:
        """``memory_limit`` (e.g. ``"4GB"``, default ``$PAYVIDER_DUCKDB_MEMORY_LIMIT`` or DuckDB's
        80 % of RAM) caps DuckDB's buffers; larger work spills to a temporary folder."""
        config: dict = {}
        self._spill: str | None = None
        memory_limit = memory_limit or os.environ.get("PAYVIDER_DUCKDB_MEMORY_LIMIT")
        if memory_limit:
            config["memory_limit"] = memory_limit
            self._spill = tempfile.mkdtemp(prefix="payvider-duckdb-")
            config["temp_directory"] = self._spill
        if threads:
            config["threads"] = threads
        super().__init__(ibis.duckdb.connect(**config))

    def from_arrow(self, table: pa.Table, table_name: str | None = None) -> ir.Table:
        """The Arrow table as a view DuckDB scans in place (no copy into DuckDB's memory: a
        loaded batch would otherwise be held twice)."""
        name = table_name or _temp_name()
        self.con.con.register(name, table)
        return self.con.table(name)

    def write_parquet(self, expr: ir.Table, path: Path) -> None:
        """Write ``expr`` with its declared integer types.

        DuckDB sums 64-bit integers into 128-bit ones and truncates dates to timestamps, where Ibis
        still types int64 and date (so a cast in the expression is dropped as a no-op); the COPY
        casts them back, so both engines write the same column types.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        self.con._run_pre_execute_hooks(expr)  # registers memtables, as Ibis' own writers do
        sql = self.con.compile(expr)
        casts = [
            f'CAST("{name}" AS {_DUCKDB_INT[str(dtype).strip("!")]}) AS "{name}"'
            for name, dtype in expr.schema().items()
            if str(dtype).strip("!") in _DUCKDB_INT
        ]
        if casts:
            sql = f"SELECT * REPLACE ({', '.join(casts)}) FROM ({sql})"
        target = str(path).replace("'", "''")
        self.con.con.execute(f"COPY ({sql}) TO '{target}' (FORMAT PARQUET)")

    def close(self) -> None:
        super().close()
        if self._spill:
            shutil.rmtree(self._spill, ignore_errors=True)


def _with_declared_types(df, schema):
    """Cast Spark's columns to the expression's declared types where Spark's SQL typing differs
    (e.g. a ratio of integers comes back DECIMAL where Ibis and DuckDB give DOUBLE)."""
    from ibis.backends.pyspark.datatypes import PySparkType

    casts = []
    changed = False
    for field, (name, dtype) in zip(df.schema.fields, schema.items(), strict=True):
        want = PySparkType.from_ibis(dtype)
        if field.dataType != want:
            casts.append(df[field.name].cast(want).alias(name))
            changed = True
        else:
            casts.append(df[field.name])
    return df.select(*casts) if changed else df


#: Declared types DuckDB may return differently (128-bit sums; timestamps from date_trunc).
_DUCKDB_INT = {
    "int64": "BIGINT",
    "int32": "INTEGER",
    "int16": "SMALLINT",
    "int8": "TINYINT",
    "date": "DATE",
}


class SparkEngine(Engine):
    """PySpark in local mode by default; a cluster master or a Spark Connect URL (``sc://…``)."""

    name = "spark"

    def __init__(self, master: str | None = None) -> None:
        try:
            from pyspark.sql import SparkSession
        except ImportError:  # pragma: no cover - depends on the environment
            raise EngineUnavailable(
                "the spark engine needs PySpark: pip install 'payvider[spark]'"
            ) from None
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        self._warehouse = _spark_scratch()
        builder = SparkSession.builder.appName("payvider")
        if master and master.startswith("sc://"):
            builder = builder.remote(master)
        else:
            builder = (
                builder.master(master or "local[2]")
                .config("spark.sql.warehouse.dir", self._warehouse)
                .config("spark.sql.session.timeZone", "UTC")
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.sql.shuffle.partitions", "4")
                .config("spark.sql.execution.arrow.pyspark.enabled", "true")
                .config("spark.driver.memory", "2g")
            )
        self.session = builder.getOrCreate()
        self.session.sparkContext.setLogLevel("ERROR")
        super().__init__(ibis.pyspark.connect(self.session))
        # Ibis hands in-memory tables to Spark through pandas, which fails on decimal columns
        # with nulls; Parquet keeps decimals, dates and nulls exact.
        self.con._register_in_memory_table = self._register_in_memory_table

    def _register_in_memory_table(self, op) -> None:
        import pyarrow.parquet as pq

        path = Path(self._warehouse) / f"{op.name}.parquet"
        pq.write_table(op.data.to_pyarrow(op.schema), path)
        self.session.read.parquet(str(path)).createOrReplaceTempView(op.name)

    def from_arrow(self, table: pa.Table, table_name: str | None = None) -> ir.Table:
        # Spark cannot take Arrow directly through Ibis' create_table; go through Parquet, which
        # keeps decimals and dates exact.
        import pyarrow.parquet as pq

        path = Path(self._warehouse) / f"{_temp_name()}.parquet"
        pq.write_table(table, path)
        return self.read_parquet(path, table_name)

    def materialize(self, expr: ir.Table, table_name: str | None = None) -> ir.Table:
        return expr.cache()

    def write_parquet(self, expr: ir.Table, path: Path) -> None:
        """Write one Parquet file (Spark writes folders of parts; keep the single part)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.con._run_pre_execute_hooks(expr)  # registers memtables, as Ibis' own writers do
        df = self.con._session.sql(self.con.compile(expr))
        df = _with_declared_types(df, expr.schema())
        tmp = path.parent / f".{path.name}.parts-{uuid.uuid4().hex[:8]}"
        df.coalesce(1).write.mode("overwrite").parquet(str(tmp))
        parts = sorted(tmp.glob("part-*.parquet"))
        if len(parts) != 1:
            raise RuntimeError(f"spark wrote {len(parts)} parts for {path.name}")
        shutil.move(str(parts[0]), path)
        shutil.rmtree(tmp, ignore_errors=True)

    def close(self) -> None:
        """Spark sessions are expensive to start: one stays up per process and is reused."""

    def describe(self) -> dict:
        return {"engine": self.name, "version": self.session.version}


def connect(
    engine: EngineName = "duckdb", master: str | None = None, memory_limit: str | None = None
) -> Engine:
    """Connect to an engine by name: ``duckdb`` (embedded, the default) or ``spark``."""
    if engine == "duckdb":
        return DuckDBEngine(memory_limit=memory_limit)
    if engine == "spark":
        return SparkEngine(master)
    raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")


def materialize(expr: ir.Table, table_name: str | None = None) -> ir.Table:
    """``expr`` computed once and kept by its own engine for the rest of the connection: a
    temporary table on DuckDB, a cached DataFrame behind a temporary view on Spark.

    For stages that read one intermediate result several times (Ibis' ``cache()`` would do,
    but its clean-up runs at garbage collection and fails once the run's connection is closed).
    """
    backend = expr._find_backend()
    name = table_name or _temp_name()
    if getattr(backend, "name", "") == "pyspark":
        backend._run_pre_execute_hooks(expr)
        df = backend._session.sql(backend.compile(expr)).cache()
        df.createOrReplaceTempView(name)
        return backend.table(name)
    return backend.create_table(name, expr, temp=True)


_SCRATCH: list[str] = []


def _spark_scratch() -> str:
    """One warehouse folder per process (a shared one makes the next session fail)."""
    if not _SCRATCH:
        _SCRATCH.append(tempfile.mkdtemp(prefix="payvider-spark-"))
    return _SCRATCH[0]


def _temp_name() -> str:
    return f"pv_{uuid.uuid4().hex[:12]}"
