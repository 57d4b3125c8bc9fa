"""The append-only audit log of member-level data access (``W/audit/access.jsonl``).

One JSON line per access: when, who (user and role), what (endpoint, dataset, run, filters) and
how many member-level rows were returned. The file is opened with ``O_APPEND`` only, never
rewritten or truncated by Payvider; lines are written whole under a lock so concurrent requests
cannot interleave. Unlike application logs, this record may name members (in filters): it is the
record of who looked at them, kept with the workspace's data.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from pathlib import Path
from typing import Any

_LOCK = threading.Lock()


class AuditLog:
    def __init__(self, root: Path | str) -> None:
        self.path = Path(root) / "audit" / "access.jsonl"

    def record(
        self,
        user: str,
        role: str,
        endpoint: str,
        filters: dict[str, Any],
        rows: int,
        dataset: str | None = None,
        run_id: str | None = None,
    ) -> dict:
        entry = {
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            "user": user,
            "role": role,
            "endpoint": endpoint,
            "dataset": dataset,
            "run_id": run_id,
            "filters": filters,
            "rows": rows,
        }
        line = (json.dumps(entry, default=str, sort_keys=True) + "\n").encode("utf-8")
        with _LOCK:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
        return entry

    def entries(self) -> list[dict]:
        if not self.path.exists():
            return []
        return [json.loads(x) for x in self.path.read_text().splitlines() if x.strip()]
