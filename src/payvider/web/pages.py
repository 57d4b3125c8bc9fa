"""The dashboard's pages: overview, cost, quality, settlement and attribution, plus login.

Each page asks ``payvider.api.access`` for what the logged-in user may see, turns it into Plotly
figures (``payvider.web.charts``) and tables, and renders one template. The login page takes a
token and keeps it in an HTTP-only, same-site cookie; every page checks it again.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import plotly
from fastapi import FastAPI, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from payvider.api.access import ApiError, aggregate_rows, query_dataset, suppresses
from payvider.api.settlements import (
    DRILLDOWN,
    load_settlement,
    settlement_ids,
    settlement_path,
    waterfall,
)
from payvider.api.store import NotFound
from payvider.api.summary import overview
from payvider.api.users import User
from payvider.web import charts

COOKIE = "payvider_token"
TEMPLATES = Path(__file__).parent / "templates"
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
NAV = [
    ("/", "Overview"),
    ("/cost", "Cost"),
    ("/quality", "Quality"),
    ("/settlement", "Settlement"),
    ("/attribution", "Attribution"),
]
MEMBER_ROWS = 50
_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape())
_CATEGORIES = ("inpatient", "outpatient", "professional", "ancillary", "pharmacy")


def fmt(v: Any, column: str = "") -> str:
    if column in ("year", "period", "performance_year") and v is not None:
        return str(v)
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, Decimal):
        return f"{v:,.2f}"
    if isinstance(v, float):
        return f"{v:,.4g}" if abs(v) < 10 else f"{v:,.2f}"
    return str(v)


def money(v: Any) -> str:
    return "—" if v is None else f"${Decimal(str(v)):,.0f}"


def pct(v: Any) -> str:
    return "—" if v is None else f"{100 * float(v):.1f}%"


def _table(tid: str, title: str, rows: list[dict], columns: list[str], note: str = "") -> dict:
    return {
        "id": tid,
        "title": title,
        "columns": columns,
        "rows": [{c: fmt(r.get(c), c) for c in columns} for r in rows],
        "note": note,
    }


def _member_note(user: User) -> str:
    return f"Member-level lists are not shown: the {user.role} role sees aggregates only."


def _scope_note(user: User) -> str:
    if user.role == "provider_analyst":
        return f"Members attributed to organization {user.organization_id} only. "
    if user.role == "payer_analyst":
        return f"Members of {user.payer} only. "
    return ""


def add_dashboard(app: FastAPI) -> None:
    """Add the dashboard's routes (pages, login, static files) to the API application."""
    services = app.state.services
    store = services.store

    def logged_in(request: Request) -> User | None:
        return services.users.authenticate(request.cookies.get(COOKIE))

    def render(name: str, **ctx: Any) -> HTMLResponse:
        ctx.setdefault("charts", [])
        ctx["figures_json"] = json.dumps({c["id"]: c["fig"] for c in ctx["charts"]}).replace(
            "</", "<\\/"
        )
        return HTMLResponse(_env.get_template(name).render(nav=NAV, **ctx))

    def page(request: Request, path: str, title: str, build) -> Response:
        user = logged_in(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        try:
            run_id = store.run_id(request.query_params.get("run"))
            ctx = build(request, user, run_id)
        except (ApiError, NotFound) as exc:
            msg = exc.message if isinstance(exc, ApiError) else str(exc)
            return render("page.html", title=title, user=user, active=path, notes=[msg])
        return render(
            "page.html",
            title=title,
            user=user,
            active=path,
            run_id=run_id,
            suppressed=suppresses(user),
            **ctx,
        )

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(PLOTLY_JS, media_type="text/javascript")

    @app.get("/static/dashboard.css", include_in_schema=False)
    def css() -> FileResponse:
        return FileResponse(TEMPLATES / "dashboard.css", media_type="text/css")

    @app.get("/login", include_in_schema=False)
    def login_form(request: Request) -> HTMLResponse:
        return render("login.html", title="Log in", user=None)

    @app.post("/login", include_in_schema=False)
    def login(token: str = Form("")) -> Response:
        user = services.users.authenticate(token.strip())
        if user is None:
            resp = render(
                "login.html", title="Log in", user=None, error="Unknown or expired token."
            )
            resp.status_code = 401
            return resp
        resp = RedirectResponse("/", status_code=303)
        resp.set_cookie(COOKIE, token.strip(), httponly=True, samesite="strict")
        return resp

    @app.get("/logout", include_in_schema=False)
    def logout() -> Response:
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(COOKIE)
        return resp

    def _overview(request: Request, user: User, run_id: str) -> dict:
        o = overview(store, user, run_id)
        savings = o["savings_to_date"]
        kpis = [
            (f"Members ({o['month']})", fmt(o["members"])),
            ("Attributed", pct(o["attributed_share"])),
            ("Attributed to the partner", pct(o["partner_attributed_share"])),
            (
                "Savings to date"
                + (
                    " (settled)" if savings and savings["source"] == "settlements" else " vs market"
                ),
                money(savings["amount"]) if savings else "—",
            ),
        ]
        notes = []
        if o["quality_composite"]:
            kpis.append(("Quality composite", fmt(o["quality_composite"].get("score"))))
        else:
            notes.append("No quality composite in this run.")
        membership = aggregate_rows(store, user, "membership", run_id)
        return {
            "kpis": kpis,
            "notes": notes,
            "charts": [
                {"id": "chart-pmpm", "fig": charts.pmpm_vs_market(o["pmpm_trend"])},
                {"id": "chart-membership", "fig": charts.membership_lines(membership)},
            ],
        }

    def _cost(request: Request, user: User, run_id: str) -> dict:
        trend = aggregate_rows(store, user, "cost_trend", run_id)
        summary = aggregate_rows(store, user, "cost_summary", run_id)
        leakage = aggregate_rows(store, user, "leakage", run_id)
        destinations = aggregate_rows(store, user, "leakage_destinations", run_id)
        return {
            "charts": [
                {"id": "chart-trend", "fig": charts.pmpm_vs_market(trend)},
                {"id": "chart-categories", "fig": charts.category_bars(summary, _CATEGORIES)},
                {"id": "chart-leakage", "fig": charts.leakage_share(leakage)},
                {"id": "chart-destinations", "fig": charts.leakage_destinations(destinations)},
            ],
            "tables": [
                _table(
                    "cost-trend",
                    "Cost trend against the market",
                    trend,
                    [
                        "scope",
                        "year",
                        "members",
                        "pmpm",
                        "risk_adjusted_pmpm",
                        "market_risk_adjusted_pmpm",
                        "trend",
                        "market_trend",
                        "savings_vs_market",
                        "cumulative_savings_vs_market",
                    ],
                ),
                _table(
                    "cost-summary",
                    "Cost by year, product line and partner attribution",
                    summary,
                    ["year", "product_line", "partner_flag", "members", "member_months"]
                    + ["allowed_amount", "allowed_pmpm"]
                    + [f"{c}_pmpm" for c in _CATEGORIES],
                ),
            ],
        }

    def _quality(request: Request, user: User, run_id: str) -> dict:
        rows = aggregate_rows(store, user, "quality_summary", run_id)
        totals = [r for r in rows if r["level"] == "total"]
        tables = [
            _table(
                "measures",
                "Measures (whole population)",
                totals,
                ["measure_id", "period", "denominator", "exclusions", "numerator"]
                + ["rate", "ci_lower", "ci_upper", "oe_ratio", "care_gaps"],
            )
        ]
        notes = []
        if user.member_level:
            gaps = query_dataset(
                store,
                services.audit,
                user,
                "quality_care_gaps",
                {},
                MEMBER_ROWS,
                0,
                run_id,
                endpoint="/quality",
            )
            tables.append(
                _table(
                    "care-gaps",
                    f"Open care gaps ({gaps.total:,}; first {len(gaps.rows)})",
                    gaps.rows,
                    ["measure_id", "period", "member_id", "payer", "event_date"]
                    + ["organization_id", "clinician_npi"],
                    _scope_note(user),
                )
            )
        else:
            notes.append(_member_note(user))
        return {
            "charts": [{"id": "chart-measures", "fig": charts.measure_rates(rows)}],
            "tables": tables,
            "notes": notes,
        }

    def _settlement(request: Request, user: User, run_id: str) -> dict:
        root = store.workspace.root
        ids = settlement_ids(root)
        if not ids:
            return {
                "notes": [
                    "No settlements stored in this workspace yet "
                    "(settlements/<id>/settlement.json)."
                ]
            }
        chosen = request.query_params.get("id", ids[-1])
        path = settlement_path(root, chosen)
        if path is None:
            raise ApiError(404, f"no settlement {chosen!r}")
        s = load_settlement(path)
        net = None if s.get("net_amount") is None else Decimal(str(s["net_amount"]))
        listing = [
            {
                "id": f"{i}",
                "net_amount": load_settlement(settlement_path(root, i)).get("net_amount"),  # type: ignore[arg-type]
            }
            for i in ids
        ]
        tables = [
            _table(
                "line-items",
                f"Line items of {chosen}",
                s["line_items"],
                ["name", "amount", "formula"],
            ),
            _table("settlements", "Settlements", listing, ["id", "net_amount"]),
        ]
        notes = []
        if s["has_drilldown"]:
            if user.member_level:
                from payvider.api.access import scope_rows

                t = store.parquet(path / DRILLDOWN, f"settlement_{chosen}")
                t = scope_rows(t, user, "the settlement drill-down")
                rows = t.limit(MEMBER_ROWS).to_pyarrow().to_pylist()
                services.audit.record(
                    user.name, user.role, "/settlement", {"id": chosen}, len(rows), "settlement"
                )
                tables.append(
                    _table(
                        "drilldown",
                        "Drill-down (first rows)",
                        rows,
                        list(rows[0]) if rows else [],
                        _scope_note(user),
                    )
                )
            else:
                notes.append(_member_note(user))
        return {
            "kpis": [
                ("Net settlement", money(net)),
                ("Direction", str(s.get("direction", "—")).replace("_", " ")),
                ("Performance year", fmt(s.get("performance_year"), "performance_year")),
            ],
            "charts": [{"id": "chart-waterfall", "fig": charts.waterfall(waterfall(s), net)}],
            "tables": tables,
            "notes": notes,
        }

    def _attribution(request: Request, user: User, run_id: str) -> dict:
        rules = aggregate_rows(store, user, "attribution_rules", run_id)
        membership = aggregate_rows(store, user, "membership", run_id)
        tables = [
            _table(
                "attribution-rules",
                "Members by period and deciding rule",
                rules,
                ["period", "rule", "members", "partner_members", "share"],
            )
        ]
        notes = []
        if user.member_level:
            filters = {
                k: v for k, v in request.query_params.items() if k in ("member_id", "period") and v
            }
            roster = query_dataset(
                store,
                services.audit,
                user,
                "attribution",
                filters,
                MEMBER_ROWS,
                0,
                run_id,
                endpoint="/attribution",
            )
            tables.append(
                _table(
                    "roster",
                    f"Attributed members ({roster.total:,}; first {len(roster.rows)})",
                    roster.rows,
                    ["period", "member_id", "payer", "product_line", "rule"]
                    + ["organization_id", "health_system", "clinician_npi", "winning_share"],
                    _scope_note(user),
                )
            )
        else:
            notes.append(_member_note(user))
        return {
            "charts": [
                {"id": "chart-attribution", "fig": charts.attribution_bars(rules)},
                {"id": "chart-partner-share", "fig": charts.partner_share(membership)},
            ],
            "tables": tables,
            "notes": notes,
        }

    for path, title, build in (
        ("/", "Overview", _overview),
        ("/cost", "Cost", _cost),
        ("/quality", "Quality", _quality),
        ("/settlement", "Settlement", _settlement),
        ("/attribution", "Attribution", _attribution),
    ):
        app.add_api_route(
            path, _handler(page, path, title, build), methods=["GET"], include_in_schema=False
        )


def _handler(page, path: str, title: str, build):
    def handler(request: Request) -> Response:
        return page(request, path, title, build)

    return handler
