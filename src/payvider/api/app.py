"""The FastAPI application: REST endpoints under ``/api`` (OpenAPI at ``/api/openapi.json``,
interactive docs at ``/api/docs``) and the dashboard pages.

Endpoints hold no business logic: they authenticate, hand the request to
``payvider.api.access`` and shape the answer. Errors are JSON ``{"error": message}`` with a 4xx
status; an unexpected failure is a 500 with a generic message, never a stack trace. The request
log names the route template only (``/api/datasets/{name}``), never query strings, so no member
id reaches the application log.
"""

from __future__ import annotations

import io
import logging
import time
from pathlib import Path
from typing import Annotated, Any, Literal

import pyarrow as pa
import pyarrow.csv as pacsv
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from payvider import __version__
from payvider.api.access import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    ApiError,
    Page,
    jsonable,
    query_dataset,
    scope_rows,
)
from payvider.api.audit import AuditLog
from payvider.api.datasets import DATASETS
from payvider.api.settlements import (
    DRILLDOWN,
    load_settlement,
    settlement_ids,
    settlement_path,
    summary,
)
from payvider.api.store import NotFound, RunStore
from payvider.api.summary import overview
from payvider.api.users import User, UserStore
from payvider.engine.runs import list_runs
from payvider.engine.workspace import Workspace

log = logging.getLogger("payvider.api")
RESERVED = {"run", "limit", "offset"}


class Services:
    """What the endpoints share: the workspace, its run tables, users and audit log."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.store = RunStore(workspace)
        self.users = UserStore(workspace.root)
        self.audit = AuditLog(workspace.root)


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def current_user(request: Request) -> User:
    services: Services = request.app.state.services
    user = services.users.authenticate(bearer_token(request))
    if user is None:
        raise ApiError(401, "missing or invalid bearer token (Authorization: Bearer <token>)")
    return user


UserDep = Annotated[User, Depends(current_user)]
RunQ = Annotated[str | None, Query(description="Run id (default: the newest run).")]
LimitQ = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Rows per page.")]
OffsetQ = Annotated[int, Query(ge=0, description="Rows to skip.")]


def _filters(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items() if k not in RESERVED}


def _csv(table: pa.Table, filename: str) -> Response:
    buf = io.BytesIO()
    pacsv.write_csv(table, buf)
    return Response(
        buf.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def create_app(workspace: Workspace | Path | str, dashboard: bool = True) -> FastAPI:
    """The API (and, unless ``dashboard`` is false, the dashboard) over ``workspace``."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    app = FastAPI(
        title="Payvider API",
        version=__version__,
        description="Runs of a Payvider workspace: membership and attribution, cost and trend, "
        "leakage, quality and care gaps, settlements and exports. Bearer-token authentication; "
        "member-level data is role-scoped and audited; aggregates are small-cell suppressed.",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.services = services = Services(ws)

    @app.middleware("http")
    async def request_log(request: Request, call_next):
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        log.info(
            "%s %s %s %.1fms",
            request.method,
            getattr(route, "path", "(unmatched)"),
            response.status_code,
            1000 * (time.perf_counter() - started),
        )
        return response

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"error": exc.message}, status_code=exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            f"{'.'.join(str(x) for x in e.get('loc', ()) if x != 'query')}: {e.get('msg')}"
            for e in exc.errors()
        ]
        return JSONResponse({"error": "invalid request: " + "; ".join(problems)}, 422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error(
            "unexpected %s on %s",
            type(exc).__name__,
            getattr(request.scope.get("route"), "path", "?"),
        )
        return JSONResponse({"error": "internal error; the server log has the details"}, 500)

    @app.get("/api/health", tags=["meta"])
    def health() -> dict:
        """Liveness (no authentication)."""
        return {"status": "ok", "version": __version__}

    @app.get("/api/me", tags=["meta"])
    def me(user: UserDep) -> dict:
        """The authenticated user and role."""
        return user.public()

    @app.get("/api/runs", tags=["meta"])
    def runs(user: UserDep) -> list[dict]:
        """Completed runs, oldest first."""
        return list_runs(ws)

    @app.get("/api/datasets", tags=["datasets"])
    def datasets(user: UserDep) -> list[dict]:
        """The datasets, their level (member or aggregate) and filters."""
        return [
            {**d.describe(), "allowed": user.member_level or not d.member_level}
            for d in DATASETS.values()
        ]

    def _page(request: Request, user: User, name: str, run, limit, offset) -> Page:
        return query_dataset(
            services.store,
            services.audit,
            user,
            name,
            _filters(request),
            limit,
            offset,
            run,
            endpoint=request.url.path,
        )

    @app.get("/api/datasets/{name}", tags=["datasets"])
    def dataset(
        name: str,
        request: Request,
        user: UserDep,
        run: RunQ = None,
        limit: LimitQ = DEFAULT_LIMIT,
        offset: OffsetQ = 0,
    ) -> dict:
        """One page of a dataset. Filters are query parameters (``period``, ``organization``,
        ``product_line``, ``scope``, ``measure`` … as listed by ``/api/datasets``); the answer
        carries ``total`` and ``next_offset``."""
        return _page(request, user, name, run, limit, offset).as_dict()

    @app.get("/api/exports/{name}.csv", tags=["exports"])
    def export_csv(
        name: str,
        request: Request,
        user: UserDep,
        run: RunQ = None,
        limit: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
        offset: OffsetQ = 0,
    ) -> Response:
        """A dataset (with the same filters and rules) as CSV; all rows unless ``limit``."""
        page = _page(request, user, name, run, limit, offset)
        table = (
            pa.Table.from_pylist(page.rows)
            if page.rows
            else pa.table({c: [] for c in page.columns})
        )
        return _csv(table, f"{name}-{page.run_id}.csv")

    @app.get("/api/exports/attribution/fhir-group", tags=["exports"])
    def export_group(
        request: Request,
        user: UserDep,
        run: RunQ = None,
        period: Annotated[int | None, Query(description="Performance year.")] = None,
        organization: Annotated[str | None, Query(description="Attributed organization.")] = None,
    ) -> JSONResponse:
        """The attributed roster as a FHIR R4 Group (Da Vinci ATR), limited to what the user
        may see."""
        from payvider.exports.attribution_roster import attributed_roster, roster_to_fhir_group

        run_id = _run(run)
        roster = attributed_roster(services.store.table(run_id, "attribution"), period)
        roster = scope_rows(roster, user, "the attribution roster")
        if organization is not None:
            roster = roster.filter(roster.organization_id == organization)
        data = roster.to_pyarrow()
        label = f"{organization or 'all'}-{period or 'all'}"
        group = roster_to_fhir_group(
            data, f"payvider-attribution-{label}", f"Attributed members ({label})"
        )
        services.audit.record(
            user.name,
            user.role,
            request.url.path,
            {"period": period, "organization": organization},
            data.num_rows,
            "attribution",
            run_id,
        )
        return JSONResponse(group, media_type="application/fhir+json")

    @app.get("/api/exports/measures/{measure_id}/{period}", tags=["exports"])
    def export_measure_report(
        measure_id: str,
        period: str,
        request: Request,
        user: UserDep,
        run: RunQ = None,
        type_: Annotated[
            Literal["summary", "subject-list"],
            Query(alias="type", description="DEQM MeasureReport type."),
        ] = "summary",
    ) -> JSONResponse:
        """A quality measure of one period as a FHIR R4 MeasureReport (Da Vinci DEQM): the
        ``summary`` (counts and score, organizations with fewer than 11 eligible members left
        out) for every role, the ``subject-list`` (members of each population) for roles with
        member-level access, limited to the members they may see."""
        from payvider.exports.measure_report import subject_list_report, summary_report
        from payvider.measures.quality.stages import SPECS

        specs = {s.id: s for s in SPECS}
        if measure_id not in specs:
            raise ApiError(404, f"no measure {measure_id!r}; known: {', '.join(sorted(specs))}")
        run_id = _run(run)
        q = services.store.table(run_id, "quality_summary")
        rows = (
            q.filter((q.measure_id == measure_id) & (q.period == period)).to_pyarrow().to_pylist()
        )
        totals = [r for r in rows if r["level"] == "total"]
        if not totals:
            raise ApiError(404, f"measure {measure_id!r} has no results for period {period!r}")
        spec = specs[measure_id]
        if type_ == "summary":
            orgs = [r for r in rows if r["level"] == "organization"]
            report = summary_report(spec, totals[0], orgs)
        else:
            m = services.store.table(run_id, "quality_member")
            m = scope_rows(m, user, "a subject-list MeasureReport")
            members = (
                m.filter((m.measure_id == measure_id) & (m.period == period))
                .to_pyarrow()
                .to_pylist()
            )
            report = subject_list_report(spec, totals[0], members)
            services.audit.record(
                user.name,
                user.role,
                request.url.path,
                {"type": type_},
                len(members),
                "quality_member",
                run_id,
            )
        return JSONResponse(report, media_type="application/fhir+json")

    def _run(run: str | None) -> str:
        try:
            return services.store.run_id(run)
        except NotFound as exc:
            raise ApiError(404, str(exc)) from None

    @app.get("/api/summary", tags=["summary"])
    def summary_(user: UserDep, run: RunQ = None) -> dict:
        """Overview: members, attributed share, PMPM against the market, savings, quality."""
        data = overview(services.store, user, _run(run))
        return _json(data)

    @app.get("/api/settlements", tags=["settlements"])
    def settlements(user: UserDep, limit: LimitQ = DEFAULT_LIMIT, offset: OffsetQ = 0) -> dict:
        """Stored settlements (newest id last)."""
        ids = settlement_ids(ws.root)
        chosen = ids[offset : offset + limit]
        rows = [summary(load_settlement(settlement_path(ws.root, s))) for s in chosen]  # type: ignore[arg-type]
        nxt = offset + len(rows)
        return {
            "total": len(ids),
            "limit": limit,
            "offset": offset,
            "next_offset": nxt if nxt < len(ids) else None,
            "rows": rows,
        }

    def _settlement(settlement_id: str) -> Path:
        path = settlement_path(ws.root, settlement_id)
        if path is None:
            raise ApiError(404, f"no settlement {settlement_id!r}; see /api/settlements")
        return path

    @app.get("/api/settlements/{settlement_id}", tags=["settlements"])
    def settlement(settlement_id: str, user: UserDep) -> dict:
        """One settlement with its line items."""
        return _json(load_settlement(_settlement(settlement_id)))

    @app.get("/api/settlements/{settlement_id}/drilldown", tags=["settlements"])
    def drilldown(
        settlement_id: str,
        request: Request,
        user: UserDep,
        limit: LimitQ = DEFAULT_LIMIT,
        offset: OffsetQ = 0,
    ) -> dict:
        """The settlement's member-level drill-down (role-scoped, audited)."""
        path = _settlement(settlement_id) / DRILLDOWN
        if not path.exists():
            raise ApiError(404, f"settlement {settlement_id!r} has no drill-down")
        t = services.store.parquet(path, f"settlement_{settlement_id}_{path.stat().st_mtime_ns}")
        t = scope_rows(t, user, "the settlement drill-down")
        order = [c for c in ("member_id", "payer") if c in t.columns]
        if order:
            t = t.order_by(order)
        total = int(t.count().to_pyarrow().as_py())
        rows = t.limit(limit, offset=offset).to_pyarrow().to_pylist()
        services.audit.record(
            user.name, user.role, request.url.path, {}, len(rows), f"settlement:{settlement_id}"
        )
        nxt = offset + len(rows)
        return {
            "settlement": settlement_id,
            "total": total,
            "limit": limit,
            "offset": offset,
            "next_offset": nxt if nxt < total else None,
            "rows": [{k: jsonable(v) for k, v in r.items()} for r in rows],
        }

    if dashboard:
        from payvider.web.pages import add_dashboard

        add_dashboard(app)

    return app


def _json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json(v) for v in value]
    return jsonable(value)
