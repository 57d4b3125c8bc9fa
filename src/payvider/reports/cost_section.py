"""The cost pages of the HTML report: PMPM and trend against the market, service categories,
utilization, leakage, risk, claims completion and high-cost truncation.

Reads the run's output tables only; every figure here is in a table of the run, rounded for
display.
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

import ibis

from payvider.engine.backends import DuckDBEngine
from payvider.measures.cost import scope_pmpm_by_year
from payvider.reports.html import _line_chart, _table


def _money(v) -> str:
    return "" if v is None else f"{float(v):,.2f}"


def _dollars(v) -> str:
    if v is None:
        return ""
    return f"-${-float(v):,.0f}" if v < 0 else f"${float(v):,.0f}"


def _pct(v, signed: bool = False) -> str:
    if v is None:
        return ""
    return f"{float(v) * 100:+.1f}%" if signed else f"{float(v) * 100:.1f}%"


def cost_section(engine: DuckDBEngine, run_dir: Path) -> str:
    """Every cost figure of the run that has its table; empty when the run has none."""
    if not (run_dir / "cost_trend.parquet").exists():
        return ""
    parts = ["<h2>Cost of care</h2>"]
    parts.append(_trend(engine, run_dir))
    for name, build in (
        ("cost_pmpm", _categories),
        ("utilization", _utilization),
        ("leakage", _leakage),
        ("risk_score", _risk),
        ("completion_factors", _completion),
        ("high_cost_truncation", _truncation),
    ):
        if (run_dir / f"{name}.parquet").exists():
            parts.append(build(engine, run_dir))
    return "".join(parts)


def _read(engine: DuckDBEngine, run_dir: Path, name: str):
    return engine.read_parquet(run_dir / f"{name}.parquet")


def _trend(engine: DuckDBEngine, run_dir: Path) -> str:
    rows = _read(engine, run_dir, "cost_trend").order_by(["scope", "year"]).to_pyarrow().to_pylist()
    scopes = [s for s in ("all", "partner_attributed") if any(r["scope"] == s for r in rows)]
    partner = [r for r in rows if r["scope"] == "partner_attributed"]
    kpis = []
    if partner:
        last = partner[-1]
        kpis = [
            ("Partner-attributed allowed PMPM " + str(last["year"]), _money(last["pmpm"])),
            ("Risk score (mean)", f"{float(last['risk_score']):.3f}"),
            ("Trend vs market, last year (points)", _num(last["trend_difference_points"])),
            (
                f"Below the market trend since {partner[0]['year']}",
                _dollars(last["cumulative_savings_vs_market"]),
            ),
        ]
    cells = "".join(
        f"<div class='kpi'><b>{html.escape(v)}</b>{html.escape(k)}</div>" for k, v in kpis
    )
    # Indexed to the first year = 100: levels of CMS-HCC-adjusted PMPM and of the benchmark are on
    # different scales, their trends are what compares.
    series: dict[str, list[tuple[dt.date, float]]] = {}
    labels = {"all": "all members", "partner_attributed": "partner-attributed"}
    for scope in scopes:
        own = [r for r in rows if r["scope"] == scope and r["risk_adjusted_pmpm"]]
        if own:
            base = float(own[0]["risk_adjusted_pmpm"])
            series[labels[scope]] = [
                (dt.date(r["year"], 1, 1), 100 * float(r["risk_adjusted_pmpm"]) / base) for r in own
            ]
    market = [r for r in partner if r["market_risk_adjusted_pmpm"]]
    if market:
        base = float(market[0]["market_risk_adjusted_pmpm"])
        series["market"] = [
            (dt.date(r["year"], 1, 1), 100 * float(r["market_risk_adjusted_pmpm"]) / base)
            for r in market
        ]
    table = _table(
        [
            "scope",
            "year",
            "member months",
            "allowed PMPM",
            "paid PMPM",
            "risk",
            "risk-adj. PMPM",
            "market risk-adj.",
            "trend",
            "market trend",
            "points vs market",
            "savings vs market",
            "cumulative",
        ],
        [
            [
                r["scope"],
                str(r["year"]),
                r["member_months"],
                _money(r["pmpm"]),
                _money(r["paid_pmpm"]),
                f"{float(r['risk_score']):.3f}",
                _money(r["risk_adjusted_pmpm"]),
                _money(r["market_risk_adjusted_pmpm"]),
                _pct(r["trend"], True),
                _pct(r["market_trend"], True),
                _num(r["trend_difference_points"]),
                _dollars(r["savings_vs_market"]),
                _dollars(r["cumulative_savings_vs_market"]),
            ]
            for r in rows
        ],
        numeric=set(range(2, 13)),
    )
    return (
        f"<div class='kpis'>{cells}</div>"
        "<p class='muted'>Medical allowed (pharmacy excluded) per member month. The market is the "
        "regional benchmark weighted to each scope's own product-line mix; savings are what the "
        "scope's cost would have been had its risk-adjusted PMPM grown at the market's trend from "
        "the first year, minus what it was.</p>"
        + _line_chart(series, "Risk-adjusted PMPM, first year = 100", "index", zero_based=False)
        + f"<div style='overflow-x:auto'>{table}</div>"
    )


def _num(v, digits: int = 1) -> str:
    return "" if v is None else f"{float(v):+.{digits}f}"


def _categories(engine: DuckDBEngine, run_dir: Path) -> str:
    """Allowed PMPM by service category and year: all members and, when the run has
    ``scope_pmpm``, partner-attributed members beside them."""
    if (run_dir / "scope_pmpm.parquet").exists():
        t = _read(engine, run_dir, "scope_pmpm")
        t = t.filter(t.scope.isin(["all", "partner_attributed"]))
    else:  # a run from before scope_pmpm: all members, from cost_pmpm
        t = _read(engine, run_dir, "cost_pmpm")
        t = t.mutate(scope=ibis.literal("all"))
    t = scope_pmpm_by_year(t)
    rows = t.select(
        "scope",
        "year",
        group=t.service_category_1,
        category=t.service_category,
        pmpm=t.allowed_pmpm,
    )
    rows = rows.to_pyarrow().to_pylist()
    columns = sorted({(r["scope"] != "all", r["year"]) for r in rows})
    table: dict[tuple[str, str], dict[tuple[bool, int], float]] = {}
    # every category, then the total (the "all" rows)
    for r in sorted(rows, key=lambda r: (r["group"] == "all", r["group"], r["category"])):
        key = ("total", "") if r["group"] == "all" else (r["group"], r["category"])
        table.setdefault(key, {})[(r["scope"] != "all", r["year"])] = r["pmpm"]
    labels = [f"{'partner-attributed' if partner else 'all'} {y}" for partner, y in columns]
    return (
        "<h3>Allowed PMPM by service category</h3>"
        "<p class='muted'>Each category's allowed dollars per member month of the population: "
        "all members, and members attributed to the partner system (table "
        "<code>scope_pmpm</code>).</p>"
        + _table(
            ["group", "category", *labels],
            [[g, c, *[_money(v.get(k)) for k in columns]] for (g, c), v in table.items()],
            numeric=set(range(2, 2 + len(columns))),
        )
    )


def _utilization(engine: DuckDBEngine, run_dir: Path) -> str:
    u = _read(engine, run_dir, "utilization")
    measures = (
        "acute_admissions",
        "acute_bed_days",
        "readmissions",
        "ed_visits",
        "pcp_visits",
        "specialist_visits",
        "telehealth_visits",
    )
    g = u.group_by(["year", "partner_flag"]).aggregate(
        mm=u.member_months.sum(), **{m: u[m].sum() for m in measures}
    )
    rows = g.order_by(["year", "partner_flag"]).to_pyarrow().to_pylist()

    def rate(r, m):
        return f"{12000 * r[m] / r['mm']:,.1f}" if r["mm"] else ""

    return "<h3>Utilization per 1,000 members</h3>" + _table(
        ["year", "partner-attributed", "member months", *[m.replace("_", " ") for m in measures]],
        [
            [str(r["year"]), r["partner_flag"], r["mm"], *[rate(r, m) for m in measures]]
            for r in rows
        ],
        numeric=set(range(2, 3 + len(measures))),
    )


def _leakage(engine: DuckDBEngine, run_dir: Path) -> str:
    lk = _read(engine, run_dir, "leakage")
    total = lk.filter(lk.dimension == "total").order_by("year").to_pyarrow().to_pylist()
    if not total:
        return "<h3>Leakage</h3><p class='muted'>No member is attributed to the partner system.</p>"
    last = max(r["year"] for r in total)
    cats = (
        lk.filter((lk.dimension == "service_category") & (lk.year == last))
        .order_by(ibis.desc("out_of_system_allowed"))
        .limit(12)
        .to_pyarrow()
        .to_pylist()
    )
    parts = [
        "<h3>Leakage: care of partner-attributed members kept in the system</h3>",
        _table(
            ["year", "members", "allowed", "in system", "share of dollars", "share of visits"],
            [
                [
                    str(r["year"]),
                    r["members"],
                    _dollars(r["allowed_amount"]),
                    _dollars(r["in_system_allowed"]),
                    _pct(r["in_system_share"]),
                    _pct(r["in_system_visit_share"]),
                ]
                for r in total
            ],
            numeric={1, 2, 3, 4, 5},
        ),
        f"<p><b>{last}: by service category, largest out-of-system spend first</b></p>",
        _table(
            ["service category", "allowed", "out of system", "in-system share"],
            [
                [
                    r["value"],
                    _dollars(r["allowed_amount"]),
                    _dollars(r["out_of_system_allowed"]),
                    _pct(r["in_system_share"]),
                ]
                for r in cats
            ],
            numeric={1, 2, 3},
        ),
    ]
    dest_path = run_dir / "leakage_destinations.parquet"
    if dest_path.exists():
        d = engine.read_parquet(dest_path)
        dest = d.filter((d.year == last) & (d.rank <= 10)).order_by("rank").to_pyarrow().to_pylist()
        parts.append(f"<p><b>{last}: where the rest goes</b></p>")
        parts.append(
            _table(
                ["rank", "destination", "allowed", "share of leakage", "members"],
                [
                    [
                        r["rank"],
                        r["destination"],
                        _dollars(r["allowed_amount"]),
                        _pct(r["share_of_leakage"]),
                        r["members"],
                    ]
                    for r in dest
                ],
                numeric={0, 2, 3, 4},
            )
        )
    return "".join(parts)


def _risk(engine: DuckDBEngine, run_dir: Path) -> str:
    r = _read(engine, run_dir, "risk_score")
    g = r.group_by(
        ["model", "year", "product_line"] if "product_line" in r.columns else ["model", "year"]
    )
    rows = (
        g.aggregate(members=r.count(), mean=r.risk_score.cast("float64").mean())
        .order_by(["model", "year"])
        .to_pyarrow()
        .to_pylist()
    )
    cols = ["model", "year", *(["product line"] if rows and "product_line" in rows[0] else [])]
    return "<h3>CMS-HCC risk scores</h3>" + _table(
        [*cols, "members", "mean score"],
        [
            [
                r["model"],
                str(r["year"]),
                *([r["product_line"]] if "product_line" in r else []),
                r["members"],
                f"{r['mean']:.3f}",
            ]
            for r in rows
        ],
        numeric={len(cols), len(cols) + 1},
    )


def _completion(engine: DuckDBEngine, run_dir: Path) -> str:
    c = _read(engine, run_dir, "completion_factors")
    cols = set(c.columns)
    key = "incurred_month"
    rows = c.to_pyarrow().to_pylist()
    if not rows:
        return ""
    months = sorted({r[key] for r in rows})[-6:]
    recent = [r for r in rows if r[key] in months]
    seg = "product_line" if "product_line" in cols else None
    recent.sort(key=lambda r: (r.get(seg) or "", r[key]))
    return (
        "<h3>Claims completion (recent incurred months)</h3><p class='muted'>Chain-ladder "
        "completion factors from paid-date lag triangles: reported ÷ factor = completed.</p>"
        + _table(
            [
                *(["product line"] if seg else []),
                "incurred month",
                "age (months)",
                "completion factor",
                "reported allowed",
                "completed allowed",
                "IBNR",
            ],
            [
                [
                    *([r[seg]] if seg else []),
                    str(r[key]),
                    r.get("age_months"),
                    _num_plain(r.get("allowed_completion_factor"), 4),
                    _dollars(r.get("reported_allowed")),
                    _dollars(r.get("completed_allowed")),
                    _dollars(r.get("ibnr_allowed")),
                ]
                for r in recent
            ],
            numeric=set(range(1 + bool(seg), 6 + bool(seg))),
        )
    )


def _num_plain(v, digits: int) -> str:
    return "" if v is None else f"{float(v):.{digits}f}"


def _truncation(engine: DuckDBEngine, run_dir: Path) -> str:
    t = _read(engine, run_dir, "high_cost_truncation")
    rows = (
        t.group_by(["payer", "year"])
        .aggregate(
            members=t.count(),
            truncated=t.truncated.cast("int64").sum(),
            point=t.truncation_point.max(),
            allowed=t.allowed_amount.sum(),
            excess=t.excess_allowed_amount.sum(),
        )
        .order_by(["payer", "year"])
        .to_pyarrow()
        .to_pylist()
    )
    return "<h3>High-cost claimant truncation</h3>" + _table(
        ["payer", "year", "member-years", "truncated", "threshold", "allowed", "excess removed"],
        [
            [
                r["payer"],
                str(r["year"]),
                r["members"],
                r["truncated"],
                _dollars(r["point"]),
                _dollars(r["allowed"]),
                _dollars(r["excess"]),
            ]
            for r in rows
        ],
        numeric={2, 3, 4, 5, 6},
    )
