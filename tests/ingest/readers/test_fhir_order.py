"""The FHIR reader returns the same rows in the same order every time it reads an export."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from payvider.ingest.readers import fhir

BENCH = Path(__file__).resolve().parents[3] / "bench" / "bench_fhir.py"


def _write_export(folder: Path, gigabytes: float) -> int:
    spec = importlib.util.spec_from_file_location("bench_fhir", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.write_export(folder, gigabytes)


def test_the_same_export_reads_identically(tmp_path):
    # About 14,000 resources: enough rows that DuckDB's joins run in parallel.
    written = _write_export(tmp_path / "export", 0.02)
    first = fhir.read(tmp_path / "export")
    second = fhir.read(tmp_path / "export")
    read = sum(t.num_rows for t in first.tables.values())
    assert read > written / 2
    for name, table in first.tables.items():
        assert table.equals(second.tables[name]), name
