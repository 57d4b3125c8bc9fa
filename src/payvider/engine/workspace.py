"""A workspace is a folder: immutable input batches and one folder per run.

```
W/
  workspace.json                 format marker
  batches/<batch id>/            one per load: <table>.parquet, quarantine.parquet, load_report.json
  runs/<run id>/                 one per run: <table>.parquet …, manifest.json
```

Batches and runs are written to a hidden temporary folder and renamed into place on success, so
an interrupted load or run never leaves a half-written batch or run behind.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

FORMAT_VERSION = 1


class WorkspaceError(Exception):
    """The workspace folder is missing something a command needs."""


class Workspace:
    def __init__(self, root: Path | str, create: bool = False) -> None:
        self.root = Path(root)
        marker = self.root / "workspace.json"
        if not marker.exists():
            if not create:
                raise WorkspaceError(
                    f"{self.root} is not a Payvider workspace (no workspace.json); "
                    "run `payvider ingest --workspace W PATH` first"
                )
            self.root.mkdir(parents=True, exist_ok=True)
            marker.write_text(json.dumps({"format_version": FORMAT_VERSION}, indent=2) + "\n")
        self.batches_dir.mkdir(exist_ok=True)
        self.runs_dir.mkdir(exist_ok=True)

    @property
    def batches_dir(self) -> Path:
        return self.root / "batches"

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    # --- batches -------------------------------------------------------------------------------

    def batch_ids(self) -> list[str]:
        """Loaded batches in load order."""
        reports = [
            (json.loads((d / "load_report.json").read_text()).get("loaded_at", ""), d.name)
            for d in self.batches_dir.iterdir()
            if d.is_dir() and not d.name.startswith(".") and (d / "load_report.json").exists()
        ]
        return [name for _, name in sorted(reports)]

    def has_batch(self, batch_id: str) -> bool:
        return (self.batches_dir / batch_id / "load_report.json").exists()

    def batch_report(self, batch_id: str) -> dict:
        return json.loads((self.batches_dir / batch_id / "load_report.json").read_text())

    def table_files(self, table: str) -> list[Path]:
        """Parquet files of ``table`` across all batches, in load order."""
        files = [self.batches_dir / b / f"{table}.parquet" for b in self.batch_ids()]
        return [f for f in files if f.exists()]

    @contextmanager
    def writing_batch(self, batch_id: str) -> Iterator[Path]:
        with _atomic_folder(self.batches_dir, batch_id) as tmp:
            yield tmp

    # --- runs ----------------------------------------------------------------------------------

    def run_ids(self) -> list[str]:
        """Completed runs, oldest first (run ids sort by time)."""
        return sorted(
            d.name
            for d in self.runs_dir.iterdir()
            if d.is_dir() and not d.name.startswith(".") and (d / "manifest.json").exists()
        )

    def latest_run(self) -> Path:
        runs = self.run_ids()
        if not runs:
            raise WorkspaceError(f"{self.root} has no runs yet; run `payvider run --workspace W`")
        return self.runs_dir / runs[-1]

    def run_path(self, run_id: str | None = None) -> Path:
        if run_id is None:
            return self.latest_run()
        path = self.runs_dir / run_id
        if not (path / "manifest.json").exists():
            raise WorkspaceError(f"no run {run_id!r} in {self.root}")
        return path

    @staticmethod
    def new_run_id(now: dt.datetime | None = None) -> str:
        now = now or dt.datetime.now(dt.UTC)
        return (
            now.strftime("%Y%m%dT%H%M%S")
            + f"{now.microsecond // 1000:03d}Z-"
            + uuid.uuid4().hex[:6]
        )

    @contextmanager
    def writing_run(self, run_id: str) -> Iterator[Path]:
        with _atomic_folder(self.runs_dir, run_id) as tmp:
            yield tmp


@contextmanager
def _atomic_folder(parent: Path, name: str) -> Iterator[Path]:
    """Yield a temporary folder under ``parent``; rename it to ``name`` only if the block ends
    without an exception. The rename is atomic on one file system."""
    tmp = parent / f".tmp-{name}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    try:
        yield tmp
        os.replace(tmp, parent / name)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
