"""Linkage as pipeline stages: ``member_patient_crosswalk`` and ``link_review_queue``.

Both come from one linkage of the run's ``eligibility`` and ``patient`` tables; the second stage
reuses the first one's result (kept for the inputs it was computed from), so linkage runs once
per run. On DuckDB the outputs are tables of the run's own connection. On Spark, linkage runs on
an embedded DuckDB (Splink does not run as an Ibis expression on Spark); its outputs are written
to a scratch Parquet file and read by the run's Spark session, so later stages can use them on
either engine.
"""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

import ibis.expr.types as ir
import pyarrow.parquet as pq

from payvider.link.linkage import LinkResult, link
from payvider.link.settings import LinkSettings

__all__ = ["LinkSettings", "link_crosswalk", "link_review_queue"]

_LAST: dict[tuple, LinkResult] = {}


def _result(eligibility: ir.Table, patient: ir.Table, settings: LinkSettings) -> LinkResult:
    key = (eligibility.op(), patient.op(), settings.model_dump_json())
    if key not in _LAST:
        _LAST.clear()
        _LAST[key] = link(eligibility, patient, settings)
    return _LAST[key]


def _on_backend_of(like: ir.Table, table: ir.Table) -> ir.Table:
    """``table`` (on DuckDB) as a table of ``like``'s backend."""
    backend = like._find_backend()
    if getattr(backend, "name", "") == "duckdb":
        return table
    path = Path(tempfile.mkdtemp(prefix="payvider-link-")) / f"{uuid.uuid4().hex[:8]}.parquet"
    pq.write_table(table.to_pyarrow(), path)
    return backend.read_parquet(str(path))


def link_crosswalk(tables: dict[str, ir.Table], settings: LinkSettings) -> ir.Table:
    """The one-to-one member ↔ patient crosswalk of a run."""
    r = _result(tables["eligibility"], tables["patient"], settings)
    return _on_backend_of(tables["eligibility"], r.crosswalk)


def link_review_queue(tables: dict[str, ir.Table], settings: LinkSettings) -> ir.Table:
    """Candidate pairs between the thresholds, with the compared fields side by side."""
    r = _result(tables["eligibility"], tables["patient"], settings)
    return _on_backend_of(tables["eligibility"], r.review_queue)
