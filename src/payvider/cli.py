"""The ``payvider`` command line.

Every command that prints a table also takes ``--json`` and then prints the same data as JSON on
stdout; progress and messages go to stderr. Exit codes: 0 success, 2 usage error, 3 input rejected
(the message names the file and the problem), 1 anything else.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from payvider import __version__

app = typer.Typer(
    name="payvider",
    help="Payvider: data platform for payer–provider value-based partnerships.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, soft_wrap=True)
out = Console(width=None if sys.stdout.isatty() else 160)

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_REJECTED = 0, 1, 2, 3


class EngineChoice(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


class FormatChoice(StrEnum):
    parquet = "parquet"
    csv = "csv"


class ReaderChoice(StrEnum):
    auto = "auto"
    canonical = "canonical"
    synthea = "synthea"
    fhir = "fhir"
    cclf = "cclf"


class MemberMonthRuleChoice(StrEnum):
    any_day = "any_day"
    first_of_month = "first_of_month"


WorkspaceOpt = Annotated[
    Path, typer.Option("--workspace", "-w", help="Workspace folder.", show_default=False)
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout instead of tables.")]
CompositeOpt = Annotated[
    Path | None,
    typer.Option(
        "--quality-composite",
        help="Composite quality score weights and targets (YAML; default: the shipped one).",
    ),
]


def _emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


@contextmanager
def _errors() -> Iterator[None]:
    """Map failures to the documented exit codes with a one-line message (no stack trace)."""
    from payvider.api.users import UserError
    from payvider.contracts.claims import ClaimsModeError
    from payvider.engine.backends import EngineUnavailable
    from payvider.engine.workspace import WorkspaceError
    from payvider.ingest.errors import InputRejected
    from payvider.measures.quality.composite import CompositeError
    from payvider.population.scopes import ScopeError

    try:
        yield
    except InputRejected as exc:
        err.print(f"[bold red]input rejected[/]: {exc}", highlight=False)
        raise typer.Exit(EXIT_REJECTED) from None
    except (
        WorkspaceError,
        EngineUnavailable,
        ScopeError,
        ClaimsModeError,
        CompositeError,
        UserError,
        typer.BadParameter,
    ) as exc:
        err.print(f"[bold red]error[/]: {exc}", highlight=False)
        raise typer.Exit(EXIT_USAGE) from None
    except typer.Exit:
        raise
    except Exception as exc:  # the last resort: a clear message, exit 1
        err.print(f"[bold red]error[/]: {type(exc).__name__}: {exc}", highlight=False)
        raise typer.Exit(EXIT_ERROR) from None


@contextmanager
def _spinner(enabled: bool = True) -> Iterator[Callable[[str], None]]:
    if not enabled:
        yield lambda _msg: None
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task("starting", total=None)
        yield lambda msg: progress.update(task, description=msg)


@contextmanager
def _bar(label: str) -> Iterator[Callable[[str, float], None]]:
    """A progress bar on stderr; the callback takes a step name and a fraction done."""
    with Progress(
        TextColumn(f"{label} " + "{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task("", total=1.0)
        yield lambda step, frac: progress.update(task, description=step, completed=frac)


def _print_load_report(report) -> None:
    status = "[yellow]already loaded[/] (nothing added)" if report.status != "loaded" else "loaded"
    err.print(f"batch [bold]{report.batch_id}[/] from {report.source}: {status}", highlight=False)
    table = RichTable(title="Load report", title_justify="left")
    for col in ("table", "files", "read", "loaded", "quarantined"):
        table.add_column(
            col, justify="right" if col in ("read", "loaded", "quarantined") else "left"
        )
    for t in report.tables:
        table.add_row(
            t.table, ", ".join(t.files), f"{t.read:,}", f"{t.loaded:,}", f"{t.quarantined:,}"
        )
    out.print(table)
    if report.quarantine_reasons:
        q = RichTable(title="Quarantined (by reason)", title_justify="left")
        for col in ("table", "field", "reason", "failures", "example"):
            q.add_column(col)
        for r in report.quarantine_reasons:
            q.add_row(r["table"], str(r["field"]), r["reason"], f"{r['failures']:,}", r["example"])
        out.print(q)
    if report.findings:
        f = RichTable(title="Data-quality findings (rows kept)", title_justify="left")
        for col in ("table", "check", "rows", "detail"):
            f.add_column(col)
        for x in report.findings:
            f.add_row(x.table, x.check, f"{x.rows:,}", x.detail)
        out.print(f)
    if report.ignored_files:
        err.print(f"not data files, not loaded: {', '.join(report.ignored_files)}", highlight=False)


@app.command()
def ingest(
    path: Annotated[
        Path, typer.Argument(help="Folder of canonical CSV/Parquet files, or one file.")
    ],
    workspace: WorkspaceOpt,
    reader: Annotated[
        ReaderChoice,
        typer.Option(
            "--format",
            "--reader",
            help="Input format; auto recognises Synthea CSV, FHIR and CCLF exports.",
        ),
    ] = ReaderChoice.auto,
    as_of: Annotated[
        str | None, typer.Option(help="Load date for date sanity checks (default today).")
    ] = None,
    memory_limit: Annotated[
        str | None,
        typer.Option(
            help="Cap DuckDB's memory while validating (e.g. 2GB); beyond it DuckDB spills to "
            "disk. Default: $PAYVIDER_DUCKDB_MEMORY_LIMIT, else DuckDB's 80% of RAM."
        ),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Load a folder of files into the workspace as one immutable batch."""
    import os

    from payvider.engine.workspace import Workspace
    from payvider.ingest.readers import ingest_path

    if memory_limit:
        os.environ["PAYVIDER_DUCKDB_MEMORY_LIMIT"] = memory_limit
    with _errors():
        when = dt.date.fromisoformat(as_of) if as_of else None
        ws = Workspace(workspace, create=True)
        with _spinner() as say:
            report = ingest_path(ws, path, reader.value, as_of=when, progress=say)
        if json_:
            _emit_json(report.to_dict())
        else:
            _print_load_report(report)


@app.command()
def run(
    workspace: WorkspaceOpt,
    engine: Annotated[EngineChoice, typer.Option(help="Execution engine.")] = EngineChoice.duckdb,
    master: Annotated[
        str | None,
        typer.Option(help="Spark master (e.g. spark://host:7077) or Spark Connect URL (sc://…)."),
    ] = None,
    member_month_rule: Annotated[
        MemberMonthRuleChoice,
        typer.Option(help="Count a month when enrolled on any day or the 1st."),
    ] = MemberMonthRuleChoice.any_day,
    memory_limit: Annotated[
        str | None,
        typer.Option(help="Cap DuckDB's memory, e.g. 4GB (it spills to disk beyond it)."),
    ] = None,
    quality_composite: CompositeOpt = None,
    opioid_taper_start: Annotated[
        dt.datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="Start of the opioid tapering program (YYYY-MM-DD): the opioid_taper table "
            "compares the 90 days before it with the last 90 days of data.",
        ),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Run the pipeline over every loaded batch; writes W/runs/<run id>/."""
    from payvider.engine.runs import run_pipeline
    from payvider.engine.workspace import Workspace
    from payvider.measures.quality.composite import load_config
    from payvider.pipeline import RunParameters

    with _errors():
        ws = Workspace(workspace)
        params = RunParameters(
            member_month_rule=member_month_rule.value,
            quality_composite=load_config(quality_composite),
            opioid_taper_start=opioid_taper_start.date() if opioid_taper_start else None,
        )
        with _bar("run") as bar:
            result = run_pipeline(
                ws,
                engine.value,
                master,
                params,
                progress=lambda step, i, n: bar(step, i / max(n, 1)),
                memory_limit=memory_limit,
            )
        if json_:
            _emit_json(result.manifest)
            return
        err.print(f"run [bold]{result.run_id}[/] written to {result.path}", highlight=False)
        table = RichTable(title=f"Run {result.run_id} ({engine.value})", title_justify="left")
        for col in ("table", "rows", "seconds"):
            table.add_column(col, justify="left" if col == "table" else "right")
        for name, info in result.manifest["outputs"].items():
            table.add_row(name, f"{info['rows']:,}", f"{info['seconds']:.2f}")
        out.print(table)


@app.command()
def runs(workspace: WorkspaceOpt, json_: JsonOpt = False) -> None:
    """List the workspace's runs, newest last."""
    from payvider.engine.runs import list_runs
    from payvider.engine.workspace import Workspace

    with _errors():
        rows = list_runs(Workspace(workspace))
        if json_:
            _emit_json(rows)
            return
        table = RichTable(title="Runs (newest last)", title_justify="left")
        for col in ("run_id", "created_at", "engine", "batches", "tables", "seconds"):
            table.add_column(col)
        for r in rows:
            table.add_row(
                *(
                    str(r[c])
                    for c in ("run_id", "created_at", "engine", "batches", "tables", "seconds")
                )
            )
        out.print(table)


@app.command()
def quarantine(
    workspace: WorkspaceOpt,
    batch: Annotated[str | None, typer.Option(help="Batch id (default: every batch).")] = None,
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 50,
    json_: JsonOpt = False,
) -> None:
    """Show quarantined rows: file, row, field, value and reason."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from payvider.engine.workspace import Workspace, WorkspaceError

    with _errors():
        ws = Workspace(workspace)
        batches = [batch] if batch else ws.batch_ids()
        parts = []
        for b in batches:
            path = ws.batches_dir / b / "quarantine.parquet"
            if not path.exists():
                raise WorkspaceError(f"no batch {b!r} in {ws.root}")
            t = pq.read_table(path)
            parts.append(t.append_column("batch_id", pa.array([b] * t.num_rows, pa.string())))
        rows = pa.concat_tables(parts).to_pylist() if parts else []
        if json_:
            _emit_json({"total": len(rows), "rows": rows[:limit]})
            return
        table = RichTable(title=f"Quarantine: {len(rows):,} failures", title_justify="left")
        for col in ("batch_id", "table", "file", "row", "field", "value", "reason"):
            table.add_column(col)
        for r in rows[:limit]:
            table.add_row(
                *(
                    str(r[c]) if r[c] is not None else ""
                    for c in ("batch_id", "table", "file", "row", "field", "value", "reason")
                )
            )
        out.print(table)


@app.command()
def schema(
    markdown: Annotated[bool, typer.Option("--markdown", help="Print docs/schema.md.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Describe the canonical tables."""
    from payvider.schema import TABLES
    from payvider.schema.docs import render_schema_markdown

    if markdown:
        sys.stdout.write(render_schema_markdown() + "\n")
        return
    rows = [
        {
            "table": t.name,
            "side": t.side,
            "grain": t.grain,
            "columns": len(t.columns),
            "primary_key": list(t.primary_key),
            "required": t.required_columns,
        }
        for t in TABLES.values()
    ]
    if json_:
        _emit_json(rows)
        return
    table = RichTable(title="Canonical tables", title_justify="left")
    for col in ("table", "side", "grain", "columns", "primary key"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["table"], r["side"], r["grain"], str(r["columns"]), ", ".join(r["primary_key"])
        )
    out.print(table)


@app.command()
def generate(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the population to.")],
    members: Annotated[int, typer.Option(help="Number of members.", min=1)] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    config: Annotated[Path | None, typer.Option(help="Parameters YAML.")] = None,
    format_: Annotated[
        FormatChoice, typer.Option("--format", help="File format.")
    ] = FormatChoice.parquet,
    json_: JsonOpt = False,
) -> None:
    """Generate a synthetic payer + health-system population with planted truth."""
    from payvider.synth import SynthConfig, generate_population

    with _errors():
        cfg = SynthConfig.from_yaml(config) if config else None
        with _bar("generate") as bar:
            summary = generate_population(out_dir, members, seed, cfg, format_.value, progress=bar)
        if json_:
            _emit_json(summary)
            return
        _print_generate_summary(summary, out_dir)


def _print_generate_summary(summary: dict, out_dir: Path) -> None:
    rows = summary.get("rows", {})
    table = RichTable(title=f"Generated population in {out_dir}", title_justify="left")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, n in rows.items():
        table.add_row(name, f"{n:,}")
    out.print(table)


@app.command()
def demo(
    directory: Annotated[
        Path, typer.Option("--dir", help="Where to put the demo data and workspace.")
    ] = Path("payvider-demo"),
    members: Annotated[int, typer.Option(help="Members to generate.", min=100)] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    engine: Annotated[EngineChoice, typer.Option(help="Execution engine.")] = EngineChoice.duckdb,
    serve_: Annotated[
        bool,
        typer.Option(
            "--serve", help="Then serve the API and dashboard, with a demo user for each role."
        ),
    ] = False,
    host: Annotated[str, typer.Option(help="With --serve: address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="With --serve: port.")] = 8000,
    json_: JsonOpt = False,
) -> None:
    """Generate a population, load it, run the whole pipeline and write the report."""
    from payvider.engine.runs import run_pipeline
    from payvider.engine.workspace import Workspace
    from payvider.ingest import load_batch
    from payvider.pipeline import RunParameters
    from payvider.reports.html import write_report
    from payvider.synth import generate_population
    from payvider.synth.config import SynthConfig

    with _errors():
        data_dir = directory / "data"
        ws_dir = directory / "workspace"
        with _bar("demo") as bar:
            bar("generating population", 0.0)
            summary = generate_population(
                data_dir,
                members,
                seed,
                None,
                "parquet",
                progress=lambda step, frac: bar(f"generate: {step}", 0.4 * frac),
            )
            ws = Workspace(ws_dir, create=True)
            bar("loading", 0.4)
            report = load_batch(ws, data_dir, progress=lambda msg: bar(f"load: {msg}", 0.5))
            result = run_pipeline(
                ws,
                engine.value,
                None,
                # the synthetic partnership's tapering program starts on the generator's date
                RunParameters(opioid_taper_start=SynthConfig().opioid.taper_start),
                progress=lambda step, i, n: bar(f"run: {step}", 0.6 + 0.3 * i / max(n, 1)),
            )
            bar("settling the seed ACO contract", 0.92)
            settlement = _demo_settlement(ws, result.run_id)
            bar("writing report", 0.95)
            report_path = write_report(ws, directory / "report.html", result.run_id)
        trend = _partner_trend(result.path)
        composite = _total_composite(result.path)
        scenario_line = _demo_scenario(ws, result.run_id)
        top = _top_segment(result.path)
        categories = _top_categories(result.path)
        payload = {
            "generated": summary,
            "load": report.to_dict(),
            "run": result.manifest,
            "cost_trend": trend,
            "top_categories": categories,
            "worklists": _worklist_counts(result.path),
            "settlement": settlement,
            "quality_composite": composite,
            "scenario": scenario_line,
            "top_segment": top,
            "report": str(report_path),
        }
        if json_:
            _emit_json(payload)
        else:
            _print_demo(report, result, trend, report_path, payload)
        if serve_:
            _serve_demo(ws, host, port)


def _print_demo(report, result, trend: list[dict], report_path: Path, payload: dict) -> None:
    _print_load_report(report)
    table = RichTable(title=f"Run {result.run_id}", title_justify="left")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, info in result.manifest["outputs"].items():
        table.add_row(name, f"{info['rows']:,}")
    out.print(table)
    if trend:
        shown = [_fmt_cost_row(r) for r in trend]
        _print_rows(
            "Partner-attributed members: cost of care against the market", shown, list(shown[0])
        )
    if payload["top_categories"]:
        *top, total = payload["top_categories"]
        out.print(
            f"Partner-attributed allowed PMPM {total['year']}: {total['allowed_pmpm']:,.2f}; "
            "largest categories "
            + ", ".join(f"{r['service_category']} {r['allowed_pmpm']:,.2f}" for r in top)
            + " (payvider cost --scope partner_attributed --by-category)",
            highlight=False,
        )
    settlement, composite = payload["settlement"], payload["quality_composite"]
    if payload["worklists"]:
        _print_rows(
            "Care-management worklists (payvider worklist)",
            payload["worklists"],
            ["worklist", "members"],
        )
    if settlement:
        s = settlement["settlements"][0]
        out.print(
            f"Settlement under {settlement['contract']['name']}, performance year "
            f"{s['performance_year']} (quality score {settlement['quality_score']}, "
            f"{settlement['quality_score_source']}): net [bold]{_usd(s['net_amount'])}[/] "
            f"({s['direction']}); kept as {settlement['settlement_id']}",
            highlight=False,
        )
    if composite:
        shown = [
            {
                "period": str(r["period"]),
                "score": "" if r["score"] is None else str(r["score"]),
                "measures scored": f"{r['measures_scored']} of {r['measures_configured']}",
            }
            for r in composite
        ]
        _print_rows("Composite quality score (0-100), all members", shown, list(shown[0]))
    scenario_line, top = payload["scenario"], payload["top_segment"]
    if scenario_line:
        out.print(
            f"Scenario ({scenario_line['contract']}, {scenario_line['year']}): benchmark "
            f"{_money0(scenario_line['benchmark_expenditure'])}, actual "
            f"{_money0(scenario_line['actual_expenditure'])}, net "
            f"{_money0(scenario_line['net_amount'])} ({scenario_line['direction']})",
            highlight=False,
        )
    if top:
        out.print(
            f"Top provider segment: {top['health_system'] or top['organization_id']} "
            f"(tier {top['tier']}, composite {top['composite_score']:.0f}): "
            f"{top['recommended_depth']}",
            highlight=False,
        )
    out.print(f"Report: [bold]{report_path}[/]", highlight=False)


def _serve_demo(ws, host: str, port: int) -> None:
    """Create (or re-issue) one demo user per role, print their tokens and serve."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from payvider.api.users import UserStore

    store = UserStore(ws.root)
    existing = store.load()
    attribution = pq.read_table(
        ws.latest_run() / "attribution.parquet",
        columns=["payer", "organization_id", "partner_flag"],
    )
    partner = attribution.filter(pc.fill_null(attribution["partner_flag"], False))
    org = partner["organization_id"][0].as_py() if partner.num_rows else None
    payer = attribution["payer"][0].as_py() if attribution.num_rows else None
    demo_users = [
        ("demo-admin", "jv_admin", None, None),
        ("demo-payer", "payer_analyst", None, payer),
        ("demo-provider", "provider_analyst", org, None),
        ("demo-viewer", "viewer", None, None),
    ]
    for name, role, organization, payer_name in demo_users:
        if name in existing:
            token = store.rotate(name)
        else:
            _, token = store.add(name, role, organization, payer_name)
        err.print(f"{role:<17} {name:<14} token {token}", highlight=False)
    _serve(ws, host, port)


def _serve(ws, host: str, port: int) -> None:
    import uvicorn

    from payvider.api.app import create_app

    err.print(
        f"serving {ws.root} on http://{host}:{port}/ (API docs at /api/docs)", highlight=False
    )
    uvicorn.run(create_app(ws), host=host, port=port, access_log=False, log_level="warning")


@app.command()
def serve(
    workspace: WorkspaceOpt,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
) -> None:
    """Serve the REST API (/api, OpenAPI at /api/docs) and the dashboard over a workspace."""
    from payvider.api.users import UserStore
    from payvider.engine.workspace import Workspace

    with _errors():
        ws = Workspace(workspace)
        if not UserStore(ws.root).load():
            err.print(
                "no users yet: add one with `payvider users add NAME --role jv_admin --workspace W`",
                highlight=False,
            )
        _serve(ws, host, port)


users_app = typer.Typer(
    help="Users of the API and dashboard, and their tokens.", no_args_is_help=True
)
app.add_typer(users_app, name="users")


class RoleChoice(StrEnum):
    jv_admin = "jv_admin"
    payer_analyst = "payer_analyst"
    provider_analyst = "provider_analyst"
    viewer = "viewer"


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="User name.")],
    workspace: WorkspaceOpt,
    role: Annotated[RoleChoice, typer.Option(help="Role.")],
    organization: Annotated[
        str | None, typer.Option(help="provider_analyst: the organization_id (TIN).")
    ] = None,
    payer: Annotated[str | None, typer.Option(help="payer_analyst: the payer.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Add a user and print its token (shown once; only its hash is stored)."""
    from payvider.api.users import UserStore
    from payvider.engine.workspace import Workspace

    with _errors():
        user, token = UserStore(Workspace(workspace).root).add(
            name, role.value, organization, payer
        )
        if json_:
            _emit_json({**user.public(), "token": token})
            return
        err.print(f"added {user.name} ({user.role}); token (shown once):", highlight=False)
        sys.stdout.write(token + "\n")


@users_app.command("list")
def users_list(workspace: WorkspaceOpt, json_: JsonOpt = False) -> None:
    """List users and roles (never tokens)."""
    from payvider.api.users import UserStore
    from payvider.engine.workspace import Workspace

    with _errors():
        rows = [u.public() for u in UserStore(Workspace(workspace).root).load().values()]
        if json_:
            _emit_json(rows)
            return
        _print_rows(
            "Users",
            rows,
            ["name", "role", "organization_id", "payer", "created_at", "token_issued_at"],
        )


@users_app.command("remove")
def users_remove(
    name: Annotated[str, typer.Argument(help="User name.")], workspace: WorkspaceOpt
) -> None:
    """Remove a user; its token stops working at once."""
    from payvider.api.users import UserStore
    from payvider.engine.workspace import Workspace

    with _errors():
        UserStore(Workspace(workspace).root).remove(name)
        err.print(f"removed {name}", highlight=False)


@users_app.command("token")
def users_token(
    name: Annotated[str, typer.Argument(help="User name.")], workspace: WorkspaceOpt
) -> None:
    """Issue a new token for a user (the old one stops working) and print it."""
    from payvider.api.users import UserStore
    from payvider.engine.workspace import Workspace

    with _errors():
        token = UserStore(Workspace(workspace).root).rotate(name)
        err.print(f"new token for {name} (shown once):", highlight=False)
        sys.stdout.write(token + "\n")


def _worklist_counts(run_dir: Path) -> list[dict]:
    """Members on each care-management worklist of the run (empty if not computed)."""
    import pyarrow.parquet as pq

    from payvider.care.worklists import WORKLISTS

    path = run_dir / "care_worklist.parquet"
    if not path.exists():
        return []
    members: dict[str, set] = {}
    for r in pq.read_table(path, columns=["worklist", "member_id"]).to_pylist():
        members.setdefault(r["worklist"], set()).add(r["member_id"])
    return [{"worklist": w, "members": len(members[w])} for w in WORKLISTS if w in members]


#: The demo's quality score when the run has no composite quality score.
DEMO_QUALITY_SCORE = "75"


def _demo_settlement(ws, run_id: str) -> dict | None:
    """Settle ``seed:aco-metro-trend`` on the demo run (latest year), keep it and return it.

    The quality score is the run's ``quality_composite`` when it has one; otherwise the demo
    states :data:`DEMO_QUALITY_SCORE` and says so.
    """
    from decimal import Decimal

    from payvider.contracts.records import load_record, record_claims, settle_from_run
    from payvider.contracts.terms import load_terms
    from payvider.engine.backends import DuckDBEngine

    contract = "seed:aco-metro-trend"
    terms = load_terms(contract)
    stated = None
    if not (ws.run_path(run_id) / "quality_composite.parquet").exists():
        stated = Decimal(DEMO_QUALITY_SCORE)
    engine = DuckDBEngine()
    try:
        result = settle_from_run(engine, ws, terms, run_id, None, None, stated)
        sid, _ = record_claims(engine, ws, contract, result, stated)
    finally:
        engine.close()
    record, _ = load_record(ws, sid)
    record["quality_score"] = result.figures.get("quality_score")
    record["quality_score_source"] = (
        "stated by the demo: the run has no quality_composite"
        if stated is not None
        else result.details.get("quality_score_source")
    )
    return record


def _total_composite(run_dir: Path) -> list[dict]:
    """The run's composite quality score in total, per period (empty if not computed)."""
    import pyarrow.parquet as pq

    path = run_dir / "quality_composite.parquet"
    if not path.exists():
        return []
    rows = pq.read_table(path).to_pylist()
    return sorted((r for r in rows if r["level"] == "total"), key=lambda r: r["period"])


def _demo_scenario(ws, run_id: str) -> dict | None:
    """The first projected year of the example two-sided term sheet (None if not possible)."""
    from payvider.engine.workspace import WorkspaceError
    from payvider.scenarios.assumptions import ScenarioAssumptions
    from payvider.scenarios.inputs import load_contract, load_scenario_inputs
    from payvider.scenarios.projection import project

    try:
        a = ScenarioAssumptions()
        base, _ = load_scenario_inputs(ws, run_id, a)
        terms, _ = load_contract("example:two-sided")
        [year] = project(terms, base, a, 1)
    except (WorkspaceError, ValueError):
        return None
    row = year.as_dict()
    row.pop("line_items")
    return {"contract": terms.name, **row}


def _top_segment(run_dir: Path) -> dict | None:
    """The first-ranked organization of the run's provider segmentation."""
    import pyarrow.parquet as pq

    path = run_dir / "provider_segmentation.parquet"
    if not path.exists():
        return None
    rows = [r for r in pq.read_table(path).to_pylist() if r["rank"] == 1]
    return rows[0] if rows else None


def _partner_trend(run_dir: Path) -> list[dict]:
    """The run's cost trend rows of the partner-attributed scope (empty if not computed)."""
    import pyarrow.parquet as pq

    path = run_dir / "cost_trend.parquet"
    if not path.exists():
        return []
    rows = pq.read_table(path).to_pylist()
    return sorted((r for r in rows if r["scope"] == "partner_attributed"), key=lambda r: r["year"])


def _top_categories(run_dir: Path, count: int = 3) -> list[dict]:
    """The partner-attributed scope's largest service categories by allowed PMPM in the run's
    last year, with that year's total (empty if ``scope_pmpm`` was not computed)."""
    from payvider.engine.backends import DuckDBEngine
    from payvider.measures.cost import scope_pmpm_by_year

    path = run_dir / "scope_pmpm.parquet"
    if not path.exists():
        return []
    engine = DuckDBEngine()
    try:
        t = engine.read_parquet(path)
        t = scope_pmpm_by_year(t.filter(t.scope == "partner_attributed"))
        rows = engine.to_arrow(t.filter(t.year == t.year.max())).to_pylist()
    finally:
        engine.close()
    total = [r for r in rows if r["service_category"] == "all"]
    ranked = sorted(
        (r for r in rows if r["service_category"] != "all"), key=lambda r: -r["allowed_pmpm"]
    )
    return [
        {k: r[k] for k in ("year", "service_category", "allowed_pmpm", "member_months")}
        for r in ranked[:count] + total
    ]


@app.command()
def report(
    workspace: WorkspaceOpt,
    out_path: Annotated[Path, typer.Option("--out", help="HTML file to write.")] = Path(
        "report.html"
    ),
    run_id: Annotated[str | None, typer.Option("--run", help="Run id (default: newest).")] = None,
) -> None:
    """Write a self-contained HTML report of a run."""
    from payvider.engine.workspace import Workspace
    from payvider.reports.html import write_report

    with _errors():
        path = write_report(Workspace(workspace), out_path, run_id)
        out.print(f"Report: [bold]{path}[/]", highlight=False)


def _run_tables(ws, run_id: str | None, names: list[str]):
    """A DuckDB engine and the run's tables (plus canonical inputs) by name."""
    from payvider.engine.backends import DuckDBEngine
    from payvider.engine.runs import canonical_inputs

    engine = DuckDBEngine()
    run_dir = ws.run_path(run_id)
    tables = canonical_inputs(engine, ws)
    for name in names:
        tables[name] = engine.read_parquet(run_dir / f"{name}.parquet")
    return engine, tables


def _print_rows(title: str, rows: list[dict], columns: list[str]) -> None:
    table = RichTable(title=title, title_justify="left")
    for col in columns:
        table.add_column(col)
    for r in rows:
        table.add_row(
            *(
                ""
                if r[c] is None
                else f"{r[c]:,}"
                if isinstance(r[c], int) and c != "period"
                else str(r[c])
                for c in columns
            )
        )
    out.print(table)


ScopesOpt = Annotated[
    Path | None, typer.Option("--scopes", help="YAML file of scopes (added to the built-in ones).")
]
RunOpt = Annotated[str | None, typer.Option("--run", help="Run id (default: newest).")]


@app.command()
def attribution(
    workspace: WorkspaceOpt,
    rules: Annotated[
        Path | None,
        typer.Option(help="Attribution rules YAML: attribute again with these rules (not saved)."),
    ] = None,
    scope: Annotated[str | None, typer.Option(help="Only members in this scope.")] = None,
    scopes_file: ScopesOpt = None,
    run_id: RunOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Attribution summary: members by period and deciding rule, partner share."""
    from payvider.engine.workspace import Workspace
    from payvider.marts.attribution import attribute_members
    from payvider.marts.attribution_rules import AttributionRules
    from payvider.marts.membership import attribution_summary
    from payvider.pipeline import claim_years
    from payvider.population.scopes import get_scope, scope_member_months

    with _errors():
        ws = Workspace(workspace)
        engine, t = _run_tables(ws, run_id, ["attribution", "member_months", "final_medical_claim"])
        try:
            attr = t["attribution"]
            if rules is not None:
                r = AttributionRules.from_yaml(rules)
                attr = attribute_members(
                    t["final_medical_claim"],
                    t["eligibility"],
                    t["member_months"],
                    t["provider"],
                    r.periods or claim_years(t["final_medical_claim"]),
                    r,
                )
            if scope:
                members = (
                    scope_member_months(t["member_months"], attr, get_scope(scope, scopes_file))
                    .select("period", "member_id", "payer")
                    .distinct()
                )
                attr = attr.semi_join(members, ["period", "member_id", "payer"])
            rows = engine.to_arrow(attribution_summary(attr)).to_pylist()
        finally:
            engine.close()
        if json_:
            _emit_json(rows)
            return
        _print_rows(
            f"Attribution{f' in scope {scope}' if scope else ''}",
            rows,
            ["period", "rule", "members", "share", "partner_members"],
        )


@app.command()
def scopes(
    workspace: WorkspaceOpt,
    scopes_file: ScopesOpt = None,
    run_id: RunOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Compare population scopes side by side."""
    from payvider.engine.workspace import Workspace
    from payvider.population.scopes import compare_scopes, load_scopes

    with _errors():
        ws = Workspace(workspace)
        engine, t = _run_tables(ws, run_id, ["attribution", "member_months"])
        try:
            expr = compare_scopes(
                t["member_months"], t["attribution"], list(load_scopes(scopes_file).values())
            )
            rows = engine.to_arrow(expr).to_pylist()
        finally:
            engine.close()
        if json_:
            _emit_json(rows)
            return
        _print_rows(
            "Scopes",
            rows,
            [
                "scope",
                "members",
                "member_months",
                "partner_member_months",
                "first_month",
                "last_month",
                "description",
            ],
        )


def _fmt_cost_row(r: dict) -> dict:
    """Round the headline figures for display (the run's tables keep full precision)."""

    def num(v, digits=2):
        return None if v is None else f"{float(v):,.{digits}f}"

    def pct(v):
        return None if v is None else f"{float(v) * 100:+.1f}%"

    return {
        "year": str(r["year"]),
        "members": r["members"],
        "mm": r["member_months"],
        "pmpm": num(r["pmpm"]),
        "paid_pmpm": num(r["paid_pmpm"]),
        "risk": num(r["risk_score"], 3),
        "ra_pmpm": num(r["risk_adjusted_pmpm"]),
        "market_ra": num(r["market_risk_adjusted_pmpm"]),
        "trend": pct(r["trend"]),
        "market": pct(r["market_trend"]),
        "pts": num(r["trend_difference_points"], 1),
        "savings": num(r["savings_vs_market"], 0),
        "cumulative": num(r["cumulative_savings_vs_market"], 0),
    }


@app.command()
def cost(
    workspace: WorkspaceOpt,
    scope: Annotated[str, typer.Option(help="Population scope (see `payvider scopes`).")] = "all",
    scopes_file: ScopesOpt = None,
    region: Annotated[
        str | None, typer.Option(help="Market region of the benchmark (default: all regions).")
    ] = None,
    risk_model: Annotated[
        str, typer.Option(help="CMS-HCC model whose scores risk-adjust (V24 or V28).")
    ] = "V28",
    by_category: Annotated[
        bool,
        typer.Option(
            "--by-category", help="Instead: the scope's PMPM by service category and year."
        ),
    ] = False,
    run_id: RunOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Total cost of care by year for a scope: PMPM, risk, trend against the market, dollars."""
    from payvider.engine.workspace import Workspace
    from payvider.measures.trend import scope_trend
    from payvider.population.scopes import get_scope

    with _errors():
        ws = Workspace(workspace)
        chosen = get_scope(scope, scopes_file)
        run_dir = ws.run_path(run_id)
        if by_category:
            _cost_by_category(ws, run_id, run_dir, chosen, json_)
            return
        names = ["member_month_cost", "member_months", "attribution"]
        if (run_dir / "risk_score.parquet").exists():
            names.append("risk_score")
        engine, t = _run_tables(ws, run_id, names)
        try:
            scores = t.get("risk_score")
            if scores is not None:
                scores = scores.filter(scores.model == risk_model)
            expr = scope_trend(
                chosen,
                t["member_month_cost"],
                t["member_months"],
                t["attribution"],
                t["market_benchmark"],
                scores,
                region,
            )
            rows = engine.to_arrow(expr.order_by("year")).to_pylist()
        finally:
            engine.close()
        if json_:
            _emit_json(rows)
            return
        shown = [_fmt_cost_row(r) for r in rows]
        _print_rows(
            f"Total cost of care, scope {chosen.name} (medical allowed; pharmacy excluded)",
            shown,
            list(shown[0]) if shown else ["year"],
        )


def _cost_by_category(ws, run_id: str | None, run_dir: Path, chosen, json_: bool) -> None:
    """``payvider cost --by-category``: the scope's allowed and paid PMPM by service category
    and year (``scope_pmpm`` of the run's tables, for any scope)."""
    from payvider.measures.cost import scope_pmpm, scope_pmpm_by_year

    names = ["member_month_cost", "member_months", "attribution"]
    if (run_dir / "member_years.parquet").exists():
        names.append("member_years")
    engine, t = _run_tables(ws, run_id, names)
    try:
        expr = scope_pmpm(
            t["member_month_cost"],
            t["member_months"],
            t["attribution"],
            t.get("member_years"),
            [chosen],
        )
        expr = scope_pmpm_by_year(expr).drop("scope")
        expr = expr.order_by(
            ["year", expr.service_category_1 == "all", "service_category_1", "service_category"]
        )
        rows = engine.to_arrow(expr).to_pylist()
    finally:
        engine.close()
    if json_:
        _emit_json(rows)
        return
    shown = [
        {
            "year": str(r["year"]),
            "group": r["service_category_1"],
            "category": r["service_category"],
            "mm": r["member_months"],
            "allowed": f"{float(r['allowed_amount']):,.2f}",
            "allowed_pmpm": f"{float(r['allowed_pmpm']):,.2f}",
            "paid_pmpm": f"{float(r['paid_pmpm']):,.2f}",
        }
        for r in rows
    ]
    _print_rows(
        f"PMPM by service category, scope {chosen.name} (pharmacy included)",
        shown,
        list(shown[0]) if shown else ["year"],
    )


@app.command()
def settle(
    contract: Annotated[
        str | None,
        typer.Option("--contract", "-c", help="Contract YAML file or template (mssp:2023)."),
    ] = None,
    summary: Annotated[
        Path | None,
        typer.Option("--summary", help="Summary mode: CSV of figures, one row per entity-year."),
    ] = None,
    workspace: Annotated[
        Path | None,
        typer.Option(
            "--workspace",
            "-w",
            help="Claims mode from this workspace's run (and where to keep it).",
        ),
    ] = None,
    run_id: RunOpt = None,
    year: Annotated[int | None, typer.Option(help="Performance year (default: latest).")] = None,
    entity: Annotated[
        str | None, typer.Option(help="Settle one attributed organization (organization id).")
    ] = None,
    quality_score: Annotated[
        str | None,
        typer.Option(help="Quality score 0–100 when the run has no quality_composite."),
    ] = None,
    reproduce: Annotated[
        str | None,
        typer.Option("--reproduce", help="Recompute a kept settlement and compare it."),
    ] = None,
    report_path: Annotated[
        Path | None, typer.Option("--report", help="Write a self-contained HTML settlement report.")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Settle a contract: from a run's claims (--workspace) or a summary CSV (--summary);
    every line item shown. Settlements made with a workspace are kept and reproducible."""
    from decimal import Decimal, InvalidOperation

    from payvider.contracts.summary import read_summary, settle_summary, summary_record
    from payvider.contracts.terms import ContractError, load_terms
    from payvider.engine.workspace import Workspace
    from payvider.ingest.errors import InputRejected

    with _errors():
        if reproduce is not None:
            if workspace is None or contract or summary:
                raise typer.BadParameter("--reproduce takes --workspace and no contract or CSV")
            _settle_reproduce(Workspace(workspace), reproduce, json_)
            return
        if contract is None:
            raise typer.BadParameter("give --contract (a YAML file or template name)")
        if summary is None and workspace is None:
            raise typer.BadParameter(
                "give --summary CSV (summary mode) or --workspace (claims mode)"
            )
        score = None
        if quality_score is not None:
            try:
                score = Decimal(quality_score)
            except InvalidOperation:
                raise typer.BadParameter(
                    f"--quality-score {quality_score!r} is not a number"
                ) from None
            if not Decimal(0) <= score <= Decimal(100):
                raise typer.BadParameter("--quality-score must be between 0 and 100")
        try:
            terms = load_terms(contract)
        except ContractError as exc:
            raise InputRejected(exc.source, exc.problem) from None
        if summary is not None:
            results = settle_summary(terms, read_summary(summary), str(summary))
            rows = [summary_record(s) for s in results]
            folder = None
            if workspace is not None:
                from payvider.contracts.records import record_summary

                sid, folder = record_summary(Workspace(workspace), contract, summary, results)
                err.print(f"settlement [bold]{sid}[/] kept in {folder}", highlight=False)
            if report_path is not None:
                _settle_report(folder, results, terms, report_path)
            if json_:
                _emit_json(rows)
                return
            shown = [
                {
                    "id": r["id"],
                    "year": str(r["performance_year"]),
                    "track": r.get("track"),
                    "savings": f"{Decimal(r['savings']):,.0f}" if "savings" in r else None,
                    "generated": f"{Decimal(r.get('generated_savings_losses', 0)):,.0f}",
                    "rate": r.get("final_loss_rate") or r.get("final_sharing_rate"),
                    "earned": f"{r['earned_shared_savings_losses']:,}",
                    "direction": r["direction"],
                }
                for r in rows
            ]
            _print_rows(f"Settlement under {terms.name}", shown, list(shown[0]))
            return
        _settle_claims(
            Workspace(workspace), contract, terms, run_id, year, entity, score, report_path, json_
        )


def _settle_claims(ws, contract, terms, run_id, year, entity, score, report_path, json_) -> None:
    """Claims mode: figures from the run, the settlement kept with its drill-down."""
    from payvider.contracts.records import load_record, record_claims, settle_from_run
    from payvider.engine.backends import DuckDBEngine

    engine = DuckDBEngine()
    try:
        with _spinner(not json_) as say:
            say("computing the year's figures from the run")
            result = settle_from_run(engine, ws, terms, run_id, year, entity, score)
            say("writing the settlement and its drill-down")
            sid, folder = record_claims(engine, ws, contract, result, score)
    finally:
        engine.close()
    record, _ = load_record(ws, sid)
    if report_path is not None:
        _settle_report(folder, None, terms, report_path)
    if json_:
        _emit_json(record)
        return
    _print_settlement(record)
    d = record["drilldown"]
    out.print(
        f"Drill-down: {d['members']:,} members, {d['claim_lines']:,} claim lines, "
        f"{d['truncated_members']:,} truncated; lines sum to {_usd(d['lines_amount'])}",
        highlight=False,
    )
    out.print(f"Settlement [bold]{sid}[/] kept in {folder}", highlight=False)


def _usd(text: str) -> str:
    """An exact decimal string as dollars and cents, negatives as -$."""
    from decimal import Decimal

    value = Decimal(text)
    if value == 0:
        value = abs(value)  # no "-$0.00" for a rounding residue
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


def _print_settlement(record: dict) -> None:
    for s in record["settlements"]:
        table = RichTable(
            title=f"Settlement {record['settlement_id']} · {record['contract']['name']} · "
            f"{s['id']} {s['performance_year']}",
            title_justify="left",
        )
        for col in ("line item", "amount", "formula"):
            table.add_column(col, justify="right" if col == "amount" else "left")
        for li in s["line_items"]:
            from decimal import Decimal

            amount = Decimal(li["amount"])
            shown = (
                _usd(str(amount.quantize(Decimal("0.01"))))
                if li["unit"] == "USD"
                else f"{amount:.6g}"
            )
            table.add_row(("• " if li["counts"] else "  ") + li["name"], shown, li["formula"])
        out.print(table)
        out.print(
            f"Net: [bold]{_usd(s['net_amount'])}[/] ({s['direction']}); • lines sum to the net",
            highlight=False,
        )


def _settle_report(folder, results, terms, report_path: Path) -> None:
    from payvider.reports.settlement import write_settlement_report

    path = write_settlement_report(report_path, folder=folder, settlements=results, terms=terms)
    err.print(f"Report: [bold]{path}[/]", highlight=False)


def _settle_reproduce(ws, settlement_id: str, json_: bool) -> None:
    from payvider.contracts.records import reproduce

    result = reproduce(ws, settlement_id)
    if json_:
        _emit_json(
            {
                "settlement_id": settlement_id,
                "identical": result.identical,
                "checks": result.checks,
                "differences": result.differences,
            }
        )
    else:
        for check in result.checks:
            err.print(f"[green]✓[/] {check}", highlight=False)
        if result.identical:
            out.print(f"Settlement {settlement_id} reproduced: identical.", highlight=False)
        else:
            _print_rows(
                f"Settlement {settlement_id} does NOT reproduce",
                [{k: str(v) for k, v in d.items()} for d in result.differences],
                ["item", "recorded", "now"],
            )
    if not result.identical:
        raise typer.Exit(EXIT_ERROR)


ContractOpt = Annotated[
    str,
    typer.Option(
        "--contract",
        "-c",
        help="Contract YAML, template (mssp:2024#ENHANCED) or example (example:two-sided).",
    ),
]
AssumptionsOpt = Annotated[
    Path | None, typer.Option("--assumptions", help="Scenario assumptions YAML.")
]


def _scenario_inputs(workspace: Path, run_id: str | None, contract: str, assumptions: Path | None):
    """Contract, assumptions and the run's base year for the scenario commands."""
    from payvider.engine.workspace import Workspace
    from payvider.scenarios.assumptions import load_assumptions
    from payvider.scenarios.inputs import load_contract, load_scenario_inputs

    terms, track = load_contract(contract)
    a = load_assumptions(assumptions)
    if track:
        a = a.model_copy(update={"track": track})
    base, sample = load_scenario_inputs(Workspace(workspace), run_id, a)
    return terms, a, base, sample


def _money0(v) -> str:
    from decimal import Decimal

    return "" if v is None else f"{Decimal(v):,.0f}"


def _share(v) -> str:
    return "" if v is None else f"{float(v):.1%}"


@app.command()
def scenario(
    workspace: WorkspaceOpt,
    contract: ContractOpt,
    years: Annotated[int, typer.Option(help="Years to project after the base year.", min=1)] = 3,
    assumptions: AssumptionsOpt = None,
    run_id: RunOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Project a contract N years from the run's last complete year and settle each year."""
    from payvider.scenarios.projection import project

    with _errors():
        terms, a, base, _ = _scenario_inputs(workspace, run_id, contract, assumptions)
        try:
            result = project(terms, base, a, years)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
        rows = [p.as_dict() for p in result]
        if json_:
            _emit_json(
                {
                    "contract": terms.name,
                    "track": a.track,
                    "population": base.population,
                    "base_year": base.base_year,
                    "base_members": base.members,
                    "base_pmpm": str(base.pmpm.quantize(Decimal("0.01"))),
                    "cost_trend": str(result[0].drivers.cost_trend),
                    "benchmark_trend": str(result[0].drivers.benchmark_trend),
                    "years": rows,
                }
            )
            return
        d = result[0].drivers
        err.print(
            f"base year {base.base_year}: {base.members:,} members of {base.population}, "
            f"PMPM {base.pmpm:,.2f}; cost trend {float(d.cost_trend):.2%}, "
            f"benchmark trend {float(d.benchmark_trend):.2%}",
            highlight=False,
        )
        shown = [
            {
                "year": str(r["year"]),
                "members": r["members"],
                "benchmark": _money0(r["benchmark_expenditure"]),
                "actual": _money0(r["actual_expenditure"]),
                "quality": r["quality_score"],
                "net": _money0(r["net_amount"]),
                "direction": r["direction"],
            }
            for r in rows
        ]
        _print_rows(f"Scenario under {terms.name}", shown, list(shown[0]))


@app.command()
def montecarlo(
    workspace: WorkspaceOpt,
    contract: ContractOpt,
    draws: Annotated[int, typer.Option(help="Bootstrap draws.", min=1)] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
    years: Annotated[int, typer.Option(help="Years to project after the base year.", min=1)] = 1,
    assumptions: AssumptionsOpt = None,
    run_id: RunOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Distribution of each projected year's settlement over resampled members."""
    from payvider.scenarios.montecarlo import simulate

    with _errors():
        terms, a, base, sample = _scenario_inputs(workspace, run_id, contract, assumptions)
        try:
            with _spinner(not json_) as say:
                say(f"settling {draws:,} draws × {years} year(s)")
                result = simulate(terms, base, sample, a, years, draws, seed)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
        rows = [y.summary() for y in result]
        if json_:
            _emit_json({"contract": terms.name, "track": a.track, "seed": seed, "years": rows})
            return
        shown = [
            {
                "year": str(r["year"]),
                "P(clear MSR)": _share(r["probability_clear_msr"]),
                "expected net": _money0(r["expected_net"]),
                "5th pct": _money0(r["net_p05"]),
                "median": _money0(r["net_p50"]),
                "95th pct": _money0(r["net_p95"]),
                "P(provider pays)": _share(r["probability_provider_pays"]),
                "expected losses": _money0(r["expected_shared_losses"]),
            }
            for r in rows
        ]
        _print_rows(
            f"Monte Carlo under {terms.name}: {draws:,} draws, seed {seed}", shown, list(shown[0])
        )


@app.command()
def compare(
    workspace: WorkspaceOpt,
    contract: Annotated[
        list[str],
        typer.Option(
            "--contract", "-c", help="A contract to compare (repeat: --contract A --contract B)."
        ),
    ],
    draws: Annotated[int, typer.Option(help="Bootstrap draws.", min=1)] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
    year: Annotated[int, typer.Option(help="Projection year to compare (1 = next).", min=1)] = 1,
    assumptions: AssumptionsOpt = None,
    run_id: RunOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Term sheets side by side on the same draws: payer cost, provider gain, each party's risk."""
    from payvider.engine.workspace import Workspace
    from payvider.scenarios.assumptions import load_assumptions
    from payvider.scenarios.compare import TermSheet, compare_term_sheets
    from payvider.scenarios.inputs import load_contract, load_scenario_inputs

    with _errors():
        if len(contract) < 2:
            raise typer.BadParameter("give at least two --contract options to compare")
        sheets = [TermSheet(spec, *load_contract(spec)) for spec in contract]
        a = load_assumptions(assumptions)
        base, sample = load_scenario_inputs(Workspace(workspace), run_id, a)
        try:
            with _spinner(not json_) as say:
                say(f"settling {len(sheets)} term sheets × {draws:,} draws")
                rows = compare_term_sheets(sheets, base, sample, a, year, draws, seed)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
        if json_:
            _emit_json(rows)
            return
        shown = [
            {
                "contract": r["contract"],
                "payer cost": _money0(r["expected_payer_cost"]),
                "payer 5–95th": f"{_money0(r['payer_cost_p05'])} – {_money0(r['payer_cost_p95'])}",
                "P(payer over budget)": _share(r["probability_payer_over_budget"]),
                "provider gain": _money0(r["expected_provider_gain"]),
                "provider 5–95th": (
                    f"{_money0(r['provider_gain_p05'])} – {_money0(r['provider_gain_p95'])}"
                ),
                "P(provider loss)": _share(r["probability_provider_loss"]),
            }
            for r in rows
        ]
        _print_rows(
            f"Term sheets on the same population, year {rows[0]['year']}", shown, list(shown[0])
        )


@app.command()
def segments(
    workspace: WorkspaceOpt,
    run_id: RunOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Provider organizations scored on size, cost management and value-based disposition."""
    import pyarrow.parquet as pq

    from payvider.engine.workspace import Workspace

    with _errors():
        path = Workspace(workspace).run_path(run_id) / "provider_segmentation.parquet"
        if not path.exists():
            raise typer.BadParameter("this run has no provider segmentation; run `payvider run`")
        rows = pq.read_table(path).to_pylist()
        if json_:
            _emit_json(rows)
            return

        def num(v, digits=0):
            return "" if v is None else f"{float(v):.{digits}f}"

        shown = [
            {
                "rank": "" if r["rank"] is None else str(r["rank"]),
                "organization": r["organization_id"],
                "system": r["health_system"] or "",
                "lives": r["attributed_lives"],
                "size": num(r["size_score"]),
                "cost": num(r["cost_score"]),
                "disposition": num(r["disposition_score"]),
                "composite": num(r["composite_score"]),
                "tier": "" if r["tier"] is None else str(r["tier"]),
                "depth": r["recommended_depth"],
            }
            for r in rows
            if r["tier"] is not None
        ]
        small = sum(1 for r in rows if r["tier"] is None)
        if small:
            err.print(f"{small} organization(s) with fewer than 11 lives not scored nor shown")
        _print_rows(
            f"Provider segmentation, {rows[0]['year'] if rows else ''}",
            shown,
            list(shown[0]) if shown else ["organization"],
        )


@app.command()
def quality(
    workspace: WorkspaceOpt,
    measure: Annotated[str | None, typer.Option(help="Only this measure id.")] = None,
    composite: Annotated[
        bool,
        typer.Option("--composite", help="Show the composite quality score (0-100) instead."),
    ] = False,
    quality_composite: CompositeOpt = None,
    run_id: RunOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Quality measures of the run: denominator, exclusions, numerator, rate, 95% interval, O/E."""
    import pyarrow.parquet as pq

    from payvider.engine.workspace import Workspace

    with _errors():
        ws = Workspace(workspace)
        path = ws.run_path(run_id) / "quality_summary.parquet"
        if not path.exists():
            raise typer.BadParameter("this run has no quality measures; run `payvider run` again")
        if composite:
            _print_composite(path, quality_composite, json_)
            return
        rows = [r for r in pq.read_table(path).to_pylist() if r["level"] == "total"]
        known = sorted({r["measure_id"] for r in rows})
        if measure is not None:
            if measure not in known:
                raise typer.BadParameter(f"no measure {measure!r}; known: {', '.join(known)}")
            rows = [r for r in rows if r["measure_id"] == measure]
        rows.sort(key=lambda r: (r["measure_id"], r["period"]))
        if json_:
            _emit_json(rows)
            return

        def pct(v, unit=None):
            if v is None:
                return ""
            if unit and unit != "proportion":  # e.g. ED visits per 1,000 member-years
                return f"{float(v):,.1f}/1,000"
            return f"{float(v):.1%}"

        shown = [
            {
                "measure": r["measure_id"],
                "period": str(r["period"]),
                "denominator": r["denominator"],
                "exclusions": r["exclusions"],
                "numerator": r["numerator"],
                "rate": pct(r["rate"], r.get("unit")),
                "95% interval": f"{pct(r['ci_lower'], r.get('unit'))}–"
                f"{pct(r['ci_upper'], r.get('unit'))}",
                "O/E": "" if r.get("oe_ratio") is None else f"{float(r['oe_ratio']):.2f}",
                "care gaps": r["care_gaps"],
            }
            for r in rows
        ]
        _print_rows("Quality measures", shown, list(shown[0]) if shown else ["measure"])
        comp = ws.run_path(run_id) / "quality_composite.parquet"
        if comp.exists() and measure is None:
            for r in sorted(pq.read_table(comp).to_pylist(), key=lambda r: r["period"]):
                if r["level"] == "total" and r["score"] is not None:
                    out.print(
                        f"Composite quality score {r['period']}: [bold]{r['score']}[/] of 100 "
                        f"({r['measures_scored']} of {r['measures_configured']} measures scored)",
                        highlight=False,
                    )


def _print_composite(summary_path: Path, config_path: Path | None, json_: bool) -> None:
    """Composite scores of a run: stored, or scored again from its summary with another config."""
    import pyarrow.parquet as pq

    from payvider.engine.backends import DuckDBEngine
    from payvider.measures.quality.composite import load_config, quality_composite

    stored = summary_path.parent / "quality_composite.parquet"
    if config_path is None and stored.exists():
        rows = pq.read_table(stored).to_pylist()
    else:
        engine = DuckDBEngine()
        try:
            summary = engine.read_parquet(summary_path)
            rows = engine.to_arrow(quality_composite(summary, load_config(config_path))).to_pylist()
        finally:
            engine.close()
    rows.sort(key=lambda r: (r["period"], r["level"] != "total", str(r["organization_id"])))
    if json_:
        _emit_json(rows)
        return
    shown = [
        {
            "period": str(r["period"]),
            "organization": r["organization_id"] or "total",
            "score": "" if r["score"] is None else str(r["score"]),
            "measures scored": f"{r['measures_scored']} of {r['measures_configured']}",
        }
        for r in rows
    ]
    _print_rows("Composite quality score (0-100)", shown, list(shown[0]) if shown else ["period"])


@app.command()
def worklist(
    workspace: WorkspaceOpt,
    list_: Annotated[
        str | None,
        typer.Option("--list", help="Only this worklist (high_risk, care_gap, ...)."),
    ] = None,
    organization: Annotated[
        str | None, typer.Option(help="Only members attributed to this organization id.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the rows to this CSV file.")] = None,
    limit: Annotated[int, typer.Option(help="Rows to print per worklist.")] = 10,
    run_id: RunOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Care-management worklists: who to call and why, in priority order."""
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    from payvider.care.worklists import WORKLISTS
    from payvider.engine.workspace import Workspace

    with _errors():
        ws = Workspace(workspace)
        path = ws.run_path(run_id) / "care_worklist.parquet"
        if not path.exists():
            raise typer.BadParameter("this run has no worklists; run `payvider run` again")
        if list_ is not None and list_ not in WORKLISTS:
            raise typer.BadParameter(f"no worklist {list_!r}; known: {', '.join(WORKLISTS)}")
        table = pq.read_table(path)
        if list_ is not None:
            table = table.filter(pc.equal(table["worklist"], list_))
        if organization is not None:
            table = table.filter(pc.equal(table["organization_id"], organization))
        table = table.sort_by([("worklist", "ascending"), ("priority", "ascending")])
        if out is not None:
            pcsv.write_csv(table, out)
        if json_:
            _emit_json(table.to_pylist())
            return
        counts = {w: 0 for w in WORKLISTS}
        for w in table["worklist"].to_pylist():
            counts[w] += 1
        _print_rows(
            "Worklists",
            [{"worklist": w, "members": n} for w, n in counts.items() if list_ in (None, w)],
            ["worklist", "members"],
        )
        for w in WORKLISTS:
            rows = [r for r in table.filter(pc.equal(table["worklist"], w)).to_pylist()][:limit]
            if rows:
                shown = [
                    {
                        "#": r["priority"],
                        "member": r["member_id"],
                        "organization": r["organization_id"] or "",
                        "why": r["reason"],
                    }
                    for r in rows
                ]
                _print_rows(w, shown, ["#", "member", "organization", "why"])
        if out is not None:
            typer.echo(f"wrote {table.num_rows:,} rows to {out}")


class ExportFormat(StrEnum):
    csv = "csv"
    fhir = "fhir"


export_app = typer.Typer(help="Export run results.", no_args_is_help=True)
app.add_typer(export_app, name="export")


@export_app.command("attribution")
def export_attribution(
    workspace: WorkspaceOpt,
    out_path: Annotated[Path, typer.Option("--out", help="File to write.")],
    format_: Annotated[
        ExportFormat, typer.Option("--format", help="csv or fhir (ATR Group).")
    ] = ExportFormat.csv,
    period: Annotated[int | None, typer.Option(help="Performance year (default: all).")] = None,
    scope: Annotated[str | None, typer.Option(help="Only members in this scope.")] = None,
    scopes_file: ScopesOpt = None,
    run_id: RunOpt = None,
) -> None:
    """Export the attributed roster as CSV or a FHIR R4 Group (Da Vinci ATR)."""
    from payvider.engine.workspace import Workspace
    from payvider.exports.attribution_roster import (
        attributed_roster,
        write_fhir_group,
        write_roster_csv,
    )
    from payvider.population.scopes import get_scope, scope_member_months

    with _errors():
        ws = Workspace(workspace)
        engine, t = _run_tables(ws, run_id, ["attribution", "member_months"])
        try:
            roster = attributed_roster(t["attribution"], period)
            if scope:
                members = (
                    scope_member_months(
                        t["member_months"], t["attribution"], get_scope(scope, scopes_file)
                    )
                    .select("period", "member_id", "payer")
                    .distinct()
                )
                roster = roster.semi_join(members, ["period", "member_id", "payer"])
            data = engine.to_arrow(roster)
        finally:
            engine.close()
        if format_ == ExportFormat.csv:
            path = write_roster_csv(data, out_path)
        else:
            label = f"{scope or 'all'}-{period or 'all'}"
            path = write_fhir_group(
                data, out_path, f"payvider-attribution-{label}", f"Attributed members ({label})"
            )
        err.print(f"wrote {data.num_rows:,} attributed members to {path}", highlight=False)


@export_app.command("measures")
def export_measures(
    workspace: WorkspaceOpt,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write into.")],
    format_: Annotated[
        ExportFormat,
        typer.Option(
            "--format", help="fhir (DEQM MeasureReport, summary and subject-list) or csv."
        ),
    ] = ExportFormat.fhir,
    measure: Annotated[str | None, typer.Option(help="Only this measure id.")] = None,
    run_id: RunOpt = None,
) -> None:
    """Export quality measures as FHIR R4 MeasureReports (Da Vinci DEQM) or CSV."""
    from payvider.engine.workspace import Workspace
    from payvider.exports.measure_report import write_csv, write_fhir
    from payvider.measures.quality.stages import SPECS

    with _errors():
        ws = Workspace(workspace)
        run_dir = ws.run_path(run_id)
        if not (run_dir / "quality_summary.parquet").exists():
            raise typer.BadParameter("this run has no quality measures; run `payvider run` again")
        engine, t = _run_tables(ws, run_id, ["quality_summary", "quality_member"])
        try:
            s, m = t["quality_summary"], t["quality_member"]
            known = sorted(
                engine.to_arrow(s.select("measure_id").distinct())["measure_id"].to_pylist()
            )
            if measure is not None:
                if measure not in known:
                    raise typer.BadParameter(f"no measure {measure!r}; known: {', '.join(known)}")
                s, m = s.filter(s.measure_id == measure), m.filter(m.measure_id == measure)
            summary = engine.to_arrow(s.order_by(["measure_id", "period", "level"]))
            members = engine.to_arrow(m.order_by(["measure_id", "period", "member_id"]))
        finally:
            engine.close()
        if format_ == ExportFormat.csv:
            paths = write_csv(summary, members, out_dir)
        else:
            paths = write_fhir(summary, members, {sp.id: sp for sp in SPECS}, out_dir)
        err.print(f"wrote {len(paths)} files to {out_dir}", highlight=False)


@app.command()
def link(
    workspace: WorkspaceOpt,
    upper: Annotated[
        float, typer.Option(help="Accept pairs at or above this match probability.")
    ] = 0.95,
    lower: Annotated[
        float, typer.Option(help="Review pairs from this match probability up to --upper.")
    ] = 0.50,
    json_: JsonOpt = False,
) -> None:
    """Link payer members to EHR patients and print the match counts."""
    from payvider.engine.backends import DuckDBEngine
    from payvider.engine.runs import canonical_inputs
    from payvider.engine.workspace import Workspace
    from payvider.link import LinkSettings
    from payvider.link import link as link_members

    with _errors():
        try:
            settings = LinkSettings(upper=upper, lower=lower)
        except ValueError as exc:
            err.print(f"[bold red]usage error[/]: {exc}", highlight=False)
            raise typer.Exit(EXIT_USAGE) from None
        ws = Workspace(workspace)
        if not ws.batch_ids():
            from payvider.engine.workspace import WorkspaceError

            raise WorkspaceError(f"{ws.root} has no loaded batches; run `payvider ingest` first")
        engine = DuckDBEngine()
        try:
            t = canonical_inputs(engine, ws)
            with _spinner() as say:
                say("linking members to patients")
                result = link_members(t["eligibility"], t["patient"], settings)
        finally:
            engine.close()
        c = result.counts
        rows = [
            {"measure": k, "count": c[k]}
            for k in (
                "members",
                "patients",
                "deterministic",
                "probabilistic",
                "review_queue",
                "unmatched_members",
                "unmatched_patients",
            )
        ]
        if json_:
            _emit_json({**c, "upper": upper, "lower": lower, "seconds": result.seconds})
            return
        _print_rows(
            f"Member ↔ patient linkage (accept ≥ {upper}, review ≥ {lower})",
            rows,
            ["measure", "count"],
        )


@app.command()
def version() -> None:
    """Print the version."""
    out.print(__version__)


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
