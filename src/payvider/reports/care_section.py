"""The care-management page of the HTML report: how many members each worklist holds and who
comes first on each, with the reason."""

from __future__ import annotations

from pathlib import Path

from payvider.care.worklists import WORKLISTS
from payvider.engine.backends import DuckDBEngine
from payvider.reports.html import _table

#: Rows shown per worklist; the full lists come from `payvider worklist --out`.
TOP = 5


def care_section(engine: DuckDBEngine, run_dir: Path) -> str:
    path = run_dir / "care_worklist.parquet"
    if not path.exists():
        return ""
    w = engine.read_parquet(path)
    counts = {
        r["worklist"]: r
        for r in w.group_by("worklist")
        .aggregate(rows=w.count(), members=w.member_id.nunique())
        .to_pyarrow()
        .to_pylist()
    }
    if not counts:
        return ""
    top = w.filter(w.priority <= TOP).order_by(["worklist", "priority"]).to_pyarrow().to_pylist()
    year = top[0]["year"] if top else ""
    parts = [
        f"<h2>Care management</h2><p class='muted'>Worklists for the joint care teams in {year}: "
        "each row says why the member is on the list; priority 1 is the first call. Full lists: "
        "<code>payvider worklist --workspace W --out list.csv</code>. Definitions in "
        "docs/care.md.</p>",
        _table(
            ["worklist", "rows", "members"],
            [
                [name, counts[name]["rows"], counts[name]["members"]]
                for name in WORKLISTS
                if name in counts
            ],
            numeric={1, 2},
        ),
    ]
    for name in WORKLISTS:
        rows = [r for r in top if r["worklist"] == name]
        if rows:
            parts.append(f"<h3>{name.replace('_', ' ')}</h3>")
            parts.append(
                _table(
                    ["#", "member", "organization", "why"],
                    [
                        [r["priority"], r["member_id"], r["organization_id"] or "", r["reason"]]
                        for r in rows
                    ],
                    numeric={0},
                )
            )
    return "".join(parts)
