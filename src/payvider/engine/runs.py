"""Executing the pipeline on an engine and recording the run.

A run reads the workspace's canonical batches, executes every stage of ``payvider.pipeline`` and
writes each output to ``runs/<run id>/<table>.parquet`` plus ``manifest.json``: input batches and
file hashes, software version, engine, parameters, row counts and timings. The run folder appears
only when every stage succeeded.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import ibis.expr.types as ir
import pyarrow as pa

from payvider import __version__
from payvider.engine.backends import Engine, EngineName, connect
from payvider.engine.workspace import Workspace, WorkspaceError
from payvider.ingest.files import file_sha256
from payvider.pipeline import STAGES, RunParameters
from payvider.schema import TABLES

Progress = Callable[[str, int, int], None]


@dataclass
class RunResult:
    run_id: str
    path: Path
    manifest: dict


def canonical_inputs(engine: Engine, workspace: Workspace) -> dict[str, ir.Table]:
    """Every canonical table as one Ibis table over all batches (empty if never loaded)."""
    tables: dict[str, ir.Table] = {}
    for name, spec in TABLES.items():
        files = workspace.table_files(name)
        if not files:
            empty = pa.Table.from_pylist([], schema=spec.ibis_schema().to_pyarrow())
            tables[name] = engine.from_arrow(empty)
            continue
        parts = [engine.read_parquet(f) for f in files]
        table = parts[0]
        for part in parts[1:]:
            table = table.union(part, distinct=False)
        tables[name] = table
    return tables


def run_pipeline(
    workspace: Workspace,
    engine_name: EngineName = "duckdb",
    master: str | None = None,
    params: RunParameters | None = None,
    progress: Progress | None = None,
    memory_limit: str | None = None,
) -> RunResult:
    """Run every stage and return the new run's id, folder and manifest.

    ``memory_limit`` caps DuckDB's memory (e.g. ``"4GB"``); beyond it DuckDB spills to disk.
    """
    params = params or RunParameters()
    if not workspace.batch_ids():
        raise WorkspaceError(f"{workspace.root} has no loaded batches; run `payvider ingest` first")
    started = time.perf_counter()
    run_id = workspace.new_run_id()
    engine = connect(engine_name, master, memory_limit)
    try:
        tables = canonical_inputs(engine, workspace)
        counts: dict[str, int] = {}
        timings: dict[str, float] = {}
        outputs: dict[str, str] = {}
        with workspace.writing_run(run_id) as tmp:
            for i, stage in enumerate(STAGES):
                if progress:
                    progress(stage.name, i, len(STAGES))
                t0 = time.perf_counter()
                expr = stage.build(tables, params)
                path = tmp / f"{stage.name}.parquet"
                engine.write_parquet(expr, path)
                tables[stage.name] = engine.read_parquet(path)
                counts[stage.name] = int(engine.execute(tables[stage.name].count()))
                timings[stage.name] = round(time.perf_counter() - t0, 3)
                outputs[stage.name] = file_sha256(path)
            if progress:
                progress("done", len(STAGES), len(STAGES))
            manifest = {
                "run_id": run_id,
                "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "software_version": __version__,
                "python": platform.python_version(),
                **engine.describe(),
                "parameters": json.loads(params.model_dump_json()),
                "input_batches": [
                    {
                        "batch_id": b,
                        "files": {
                            f.name: file_sha256(f)
                            for f in sorted((workspace.batches_dir / b).glob("*.parquet"))
                            if f.name != "quarantine.parquet"
                        },
                    }
                    for b in workspace.batch_ids()
                ],
                "outputs": {
                    name: {"rows": counts[name], "sha256": outputs[name], "seconds": timings[name]}
                    for name in counts
                },
                "seconds": round(time.perf_counter() - started, 3),
            }
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    finally:
        engine.close()
    return RunResult(run_id, workspace.runs_dir / run_id, manifest)


def list_runs(workspace: Workspace) -> list[dict]:
    """Completed runs, oldest first, with what each computed."""
    out = []
    for run_id in workspace.run_ids():
        m = json.loads((workspace.runs_dir / run_id / "manifest.json").read_text())
        out.append(
            {
                "run_id": run_id,
                "created_at": m.get("created_at"),
                "engine": m.get("engine"),
                "software_version": m.get("software_version"),
                "batches": len(m.get("input_batches", [])),
                "tables": len(m.get("outputs", {})),
                "seconds": m.get("seconds"),
            }
        )
    return out
