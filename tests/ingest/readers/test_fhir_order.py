"""The FHIR reader returns rows in source order, so the same export always loads identically."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from payvider.ingest.files import FILE, ROW
from payvider.ingest.readers import fhir

BENCH = Path(__file__).resolve().parents[3] / "bench" / "bench_fhir.py"


def _write_export(folder: Path, gigabytes: float) -> int:
    spec = importlib.util.spec_from_file_location("bench_fhir", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.write_export(folder, gigabytes)


def test_rows_come_in_file_and_line_order_and_repeat_exactly(tmp_path):
    # About 14,000 resources: enough rows that DuckDB's joins run in parallel.
    written = _write_export(tmp_path / "export", 0.02)
    first = fhir.read(tmp_path / "export")
    second = fhir.read(tmp_path / "export")
    read = sum(t.num_rows for t in first.tables.values())
    assert read > written / 2
    for name, table in first.tables.items():
        keys = list(zip(table[FILE].to_pylist(), table[ROW].to_pylist(), strict=True))
        assert keys == sorted(keys), name
        assert table.equals(second.tables[name]), name
