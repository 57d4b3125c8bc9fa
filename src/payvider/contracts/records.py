"""Settlements kept in the workspace, and their reproduction.

Each claims-mode or summary-mode settlement made with a workspace is written (atomically, like a
run) to ``W/settlements/<settlement id>/``:

```
settlement.json          line items, net, figures, parameters, hashes (see ``record``)
contract.yaml            the contract's YAML text as settled (its SHA-256 is in settlement.json)
summary.csv              summary mode: the CSV as settled
drilldown_members.parquet / .csv, drilldown_lines.parquet    claims mode: the drill-down
```

``reproduce`` recomputes a settlement from these recorded inputs: the stored contract text, the
same run's tables (whose manifest must hash as recorded) or the stored CSV, and the recorded
parameters; it reports every line item, net or drill-down total that differs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import ibis.expr.types as ir
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from payvider import __version__
from payvider.contracts.claims import ClaimsModeError, claims_figures, default_year
from payvider.contracts.settlement import Settlement, settle
from payvider.contracts.summary import read_summary, settle_summary
from payvider.contracts.terms import ContractTerms, read_contract_text, terms_from_text
from payvider.engine.backends import DuckDBEngine, Engine
from payvider.engine.workspace import Workspace, WorkspaceError, _atomic_folder

__all__ = [
    "ClaimsSettlement",
    "Reproduction",
    "load_record",
    "record_claims",
    "record_summary",
    "reproduce",
    "run_tables",
    "settle_from_run",
    "settlement_dict",
]

RUN_TABLES = (
    "member_months",
    "attribution",
    "claims_enriched",
    "risk_score",
    "quality_summary",
    "quality_composite",
)
LINE_ORDER = ["member_id", "payer", "entry", "claim_id", "claim_line_number"]


def _sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def settlements_dir(workspace: Workspace) -> Path:
    return workspace.root / "settlements"


def run_tables(engine: Engine, workspace: Workspace, run_id: str | None) -> tuple[Path, dict]:
    """The run's folder and the tables claims mode reads: the run's outputs, and the market
    benchmark of the input batches that run used (not batches loaded since)."""
    run_dir = workspace.run_path(run_id)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    tables: dict[str, ir.Table] = {}
    for name in RUN_TABLES:
        path = run_dir / f"{name}.parquet"
        if path.exists():
            tables[name] = engine.read_parquet(path)
    parts = [
        workspace.batches_dir / b["batch_id"] / "market_benchmark.parquet"
        for b in manifest.get("input_batches", [])
        if "market_benchmark.parquet" in b.get("files", {})
    ]
    if parts:
        market = engine.read_parquet(parts[0])
        for p in parts[1:]:
            market = market.union(engine.read_parquet(p), distinct=False)
        tables["market_benchmark"] = market
    return run_dir, tables


def settlement_dict(s: Settlement) -> dict[str, Any]:
    """A settlement as JSON-ready data: exact amounts as text, every line with its formula."""
    return {
        "id": s.id,
        "performance_year": s.performance_year,
        "track": s.track,
        "net_amount": str(s.net_amount),
        "direction": s.direction,
        "line_items": [
            {
                "name": li.name,
                "amount": str(li.amount),
                "formula": li.formula,
                "unit": li.unit,
                "counts": li.counts,
            }
            for li in s.line_items
        ],
    }


@dataclass
class ClaimsSettlement:
    """A claims-mode settlement with its figures, how they were found, and the drill-down."""

    terms: ContractTerms
    settlement: Settlement
    figures: dict[str, Any]
    details: dict[str, Any]
    members: ir.Table
    lines: ir.Table
    run_dir: Path


def settle_from_run(
    engine: Engine,
    workspace: Workspace,
    terms: ContractTerms,
    run_id: str | None = None,
    year: int | None = None,
    entity: str | None = None,
    quality_score: Decimal | None = None,
) -> ClaimsSettlement:
    """Compute the year's figures from the run and settle them (the engine's pure function)."""
    run_dir, tables = run_tables(engine, workspace, run_id)
    if year is None:
        year = default_year(terms, engine, tables)
    cf = claims_figures(terms, engine, tables, year, entity, quality_score)
    settlement = settle(terms, cf.figures)
    return ClaimsSettlement(
        terms,
        settlement,
        cf.figures.model_dump(mode="json"),
        cf.details,
        cf.members,
        cf.lines,
        run_dir,
    )


def _new_id(now: dt.datetime | None = None) -> str:
    return "S" + Workspace.new_run_id(now)


def _base_record(settlement_id: str, mode: str, contract_text: str, source: str, terms) -> dict:
    return {
        "settlement_id": settlement_id,
        "mode": mode,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "software_version": __version__,
        "contract": {
            "name": terms.name,
            "source": source,
            "file": "contract.yaml",
            "sha256": _sha256_text(contract_text),
        },
    }


def record_claims(
    engine: Engine,
    workspace: Workspace,
    contract: str,
    result: ClaimsSettlement,
    quality_score: Decimal | None = None,
) -> tuple[str, Path]:
    """Write a claims-mode settlement with its drill-down; returns its id and folder."""
    text, source = read_contract_text(contract)
    sid = _new_id()
    manifest = result.run_dir / "manifest.json"
    record = _base_record(sid, "claims", text, source, result.terms)
    record["run"] = {"run_id": result.run_dir.name, "manifest_sha256": _sha256_file(manifest)}
    record["parameters"] = {
        "year": result.settlement.performance_year,
        "entity": result.details.get("entity"),
        "quality_score": None if quality_score is None else str(quality_score),
    }
    record["figures"] = [result.figures]
    record["details"] = result.details
    record["settlements"] = [settlement_dict(result.settlement)]
    parent = settlements_dir(workspace)
    parent.mkdir(exist_ok=True)
    with _atomic_folder(parent, sid) as tmp:
        (tmp / "contract.yaml").write_text(text, encoding="utf-8")
        record["drilldown"] = write_drilldown(engine, result, tmp)
        (tmp / "settlement.json").write_text(json.dumps(record, indent=2) + "\n")
    return sid, parent / sid


def write_drilldown(engine: Engine, result: ClaimsSettlement, folder: Path) -> dict[str, Any]:
    """Write the drill-down tables (sorted, so two writes of one settlement read the same) and
    return their totals, which must equal the settlement's actual expenditure."""
    members = result.members.order_by(["member_id", "payer"])
    engine.write_parquet(members, folder / "drilldown_members.parquet")
    engine.write_parquet(result.lines.order_by(LINE_ORDER), folder / "drilldown_lines.parquet")
    m = pq.read_table(folder / "drilldown_members.parquet")
    pacsv.write_csv(m, folder / "drilldown_members.csv")
    return drilldown_totals(folder)


def drilldown_totals(folder: Path) -> dict[str, Any]:
    """Sums of the written drill-down, exact (Arrow sums the stored decimals, no row loop)."""
    import pyarrow.compute as pc

    m = pq.read_table(folder / "drilldown_members.parquet")
    lines = pq.read_table(folder / "drilldown_lines.parquet", columns=["entry", "amount"])

    def total(column) -> Decimal:
        value = pc.sum(column).as_py()
        return Decimal(0) if value is None else Decimal(value)

    entries = pc.value_counts(lines["entry"]).to_pylist()
    count = {e["values"]: e["counts"] for e in entries}
    return {
        "members_file": "drilldown_members.parquet",
        "lines_file": "drilldown_lines.parquet",
        "members": m.num_rows,
        "claim_lines": count.get("claim_line", 0),
        "truncated_members": count.get("high_cost_truncation", 0),
        "lines_amount": str(total(lines["amount"])),
        "members_counted_amount": str(total(m["counted_amount"])),
        "truncation_excess": str(total(m["excess_removed"])),
    }


def record_summary(
    workspace: Workspace, contract: str, summary_path: Path, settlements: list[Settlement]
) -> tuple[str, Path]:
    """Write a summary-mode settlement (every row) with copies of the contract and the CSV."""
    text, source = read_contract_text(contract)
    terms = terms_from_text(text, source)
    sid = _new_id()
    record = _base_record(sid, "summary", text, source, terms)
    data = Path(summary_path).read_bytes()
    record["summary"] = {
        "file": "summary.csv",
        "source": str(summary_path),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    record["settlements"] = [settlement_dict(s) for s in settlements]
    parent = settlements_dir(workspace)
    parent.mkdir(exist_ok=True)
    with _atomic_folder(parent, sid) as tmp:
        (tmp / "contract.yaml").write_text(text, encoding="utf-8")
        (tmp / "summary.csv").write_bytes(data)
        (tmp / "settlement.json").write_text(json.dumps(record, indent=2) + "\n")
    return sid, parent / sid


def load_record(workspace: Workspace, settlement_id: str) -> tuple[dict, Path]:
    folder = settlements_dir(workspace) / settlement_id
    path = folder / "settlement.json"
    if not path.is_file():
        raise WorkspaceError(f"no settlement {settlement_id!r} in {workspace.root}")
    return json.loads(path.read_text()), folder


@dataclass
class Reproduction:
    settlement_id: str
    identical: bool
    differences: list[dict[str, Any]] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)


def _compare(recorded: list[dict], fresh: list[dict], diffs: list[dict]) -> None:
    if len(recorded) != len(fresh):
        diffs.append({"item": "settlements", "recorded": len(recorded), "now": len(fresh)})
    for old, new in zip(recorded, fresh, strict=False):
        key = f"{old['id']} {old['performance_year']}"
        old_items = {li["name"]: li for li in old["line_items"]}
        new_items = {li["name"]: li for li in new["line_items"]}
        for name in list(old_items) + [n for n in new_items if n not in old_items]:
            a, b = old_items.get(name), new_items.get(name)
            if a is None or b is None or a["amount"] != b["amount"] or a["formula"] != b["formula"]:
                diffs.append(
                    {
                        "item": f"{key}: {name}",
                        "recorded": None if a is None else a["amount"],
                        "now": None if b is None else b["amount"],
                    }
                )
        if old["net_amount"] != new["net_amount"]:
            diffs.append(
                {
                    "item": f"{key}: net_amount",
                    "recorded": old["net_amount"],
                    "now": new["net_amount"],
                }
            )


def reproduce(
    workspace: Workspace, settlement_id: str, engine: Engine | None = None
) -> Reproduction:
    """Recompute a recorded settlement from its recorded inputs and compare every line item."""
    record, folder = load_record(workspace, settlement_id)
    out = Reproduction(settlement_id, True)
    text = (folder / "contract.yaml").read_text(encoding="utf-8")
    if _sha256_text(text) != record["contract"]["sha256"]:
        out.differences.append(
            {
                "item": "contract.yaml sha256",
                "recorded": record["contract"]["sha256"],
                "now": _sha256_text(text),
            }
        )
    else:
        out.checks.append(f"contract {record['contract']['source']}: SHA-256 as recorded")
    terms = terms_from_text(text, f"{settlement_id}/contract.yaml")
    if record["mode"] == "summary":
        csv_path = folder / "summary.csv"
        digest = _sha256_file(csv_path)
        if digest != record["summary"]["sha256"]:
            out.differences.append(
                {
                    "item": "summary.csv sha256",
                    "recorded": record["summary"]["sha256"],
                    "now": digest,
                }
            )
        else:
            out.checks.append("summary CSV: SHA-256 as recorded")
        fresh = settle_summary(terms, read_summary(csv_path), str(csv_path))
        _compare(record["settlements"], [settlement_dict(s) for s in fresh], out.differences)
    else:
        own = engine is None
        engine = engine or DuckDBEngine()
        try:
            _reproduce_claims(engine, workspace, terms, record, folder, out)
        finally:
            if own:
                engine.close()
    out.identical = not out.differences
    return out


def _reproduce_claims(
    engine: Engine,
    workspace: Workspace,
    terms: ContractTerms,
    record: dict,
    folder: Path,
    out: Reproduction,
) -> None:
    run_id = record["run"]["run_id"]
    run_dir = workspace.run_path(run_id)
    digest = _sha256_file(run_dir / "manifest.json")
    if digest != record["run"]["manifest_sha256"]:
        out.differences.append(
            {
                "item": "run manifest sha256",
                "recorded": record["run"]["manifest_sha256"],
                "now": digest,
            }
        )
    else:
        out.checks.append(f"run {run_id}: manifest SHA-256 as recorded")
    manifest = json.loads((run_dir / "manifest.json").read_text())
    for name in RUN_TABLES:
        path = run_dir / f"{name}.parquet"
        expected = manifest.get("outputs", {}).get(name, {}).get("sha256")
        if path.exists() and expected and _sha256_file(path) != expected:
            out.differences.append(
                {"item": f"run table {name}.parquet", "recorded": expected, "now": "changed"}
            )
    p = record["parameters"]
    score = None if p.get("quality_score") is None else Decimal(p["quality_score"])
    try:
        fresh = settle_from_run(engine, workspace, terms, run_id, p["year"], p.get("entity"), score)
    except ClaimsModeError as exc:
        out.differences.append({"item": "recompute", "recorded": "settled", "now": str(exc)})
        return
    _compare(record["settlements"], [settlement_dict(fresh.settlement)], out.differences)
    if fresh.figures != record["figures"][0]:
        changed = sorted(
            k
            for k in set(fresh.figures) | set(record["figures"][0])
            if fresh.figures.get(k) != record["figures"][0].get(k)
        )
        for k in changed:
            out.differences.append(
                {
                    "item": f"figure {k}",
                    "recorded": record["figures"][0].get(k),
                    "now": fresh.figures.get(k),
                }
            )
    # the drill-down recomputed member by member must equal the stored one
    stored = pq.read_table(folder / "drilldown_members.parquet").to_pylist()
    now = engine.to_arrow(fresh.members.order_by(["member_id", "payer"])).to_pylist()
    if stored != now:
        changed = sum(1 for a, b in zip(stored, now, strict=False) if a != b) + abs(
            len(stored) - len(now)
        )
        out.differences.append(
            {
                "item": "drilldown_members",
                "recorded": f"{len(stored)} rows",
                "now": f"{changed} rows differ",
            }
        )
    else:
        out.checks.append(f"drill-down: {len(stored)} members identical")
