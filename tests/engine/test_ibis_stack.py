"""Guards for the Ibis/DuckDB/sqlglot combination (see the pins in pyproject.toml): upgrades that
break these calls (seen with duckdb 2.0 and sqlglot >= 30.18) fail here first."""

from __future__ import annotations

import ibis
import pyarrow as pa


def test_ibis_duckdb_calls_the_project_relies_on(tmp_path):
    con = ibis.duckdb.connect()
    assert con.sql("select 1 as x").execute()["x"].tolist() == [1]
    t = con.create_table("t", pa.table({"a": [1, 2, 3]}))
    con.create_table("t", t.mutate(b=t.a * 2), overwrite=True)
    assert "t" in con.list_tables()
    assert con.list_databases()
    mem = ibis.memtable({"a": [1, 2]})
    assert con.execute(mem.a.sum()) == 3
    cached = con.table("t").cache()
    assert cached.count().execute() == 3
    cached.release()
    batches = list(con.to_pyarrow_batches(con.table("t")))
    assert sum(b.num_rows for b in batches) == 3
    con.to_parquet(con.table("t"), str(tmp_path / "t.parquet"))
    assert con.read_parquet(str(tmp_path / "t.parquet")).count().execute() == 3
    con.disconnect()
