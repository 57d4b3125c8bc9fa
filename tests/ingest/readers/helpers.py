"""What the reader tests read back from a loaded batch."""

from __future__ import annotations

import pyarrow.parquet as pq

from payvider.engine.workspace import Workspace


def table_rows(ws: Workspace, name: str) -> list[dict]:
    """The rows of canonical table ``name`` in the workspace's first batch."""
    return pq.read_table(ws.table_files(name)[0]).to_pylist()


def quarantine_rows(ws: Workspace, report) -> list[dict]:
    """The quarantined rows of the batch of ``report``."""
    return pq.read_table(ws.batches_dir / report.batch_id / "quarantine.parquet").to_pylist()


def counts(report, table: str) -> tuple[int, int, int]:
    """(read, loaded, quarantined) of one table in a load report."""
    t = next(t for t in report.tables if t.table == table)
    return t.read, t.loaded, t.quarantined
