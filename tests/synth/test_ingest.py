"""A generated population loads through canonical ingest with nothing quarantined."""

from __future__ import annotations

from pathlib import Path

from payvider.engine.workspace import Workspace
from payvider.ingest import load_batch
from payvider.synth import OUTPUT_TABLES, SynthConfig, generate_population


def test_generated_population_loads_with_zero_quarantined_rows(tmp_path: Path) -> None:
    out = tmp_path / "synthetic"
    summary = generate_population(out, members=1_500, seed=21)
    ws = Workspace(tmp_path / "ws", create=True)
    report = load_batch(ws, out, as_of=SynthConfig().as_of_date)
    by_table = {t.table: t for t in report.tables}
    assert set(by_table) == set(OUTPUT_TABLES)
    for name, t in by_table.items():
        assert t.quarantined == 0, (name, report.quarantine_reasons)
        assert t.read == t.loaded == summary["rows"][name]
        assert t.reconciles
    assert report.findings == []
    assert report.ignored_files == []
