"""A self-contained HTML report of a run: what was loaded, what was rejected, what was computed.

No external assets: styles and charts (inline SVG) are in the one file, so it can be mailed or
archived with the settlement it supports.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path

from payvider.engine.backends import DuckDBEngine
from payvider.engine.workspace import Workspace

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;
color:#1f2933;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d9e2ec}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
th,td{border:1px solid #d9e2ec;padding:.3rem .6rem;text-align:left;vertical-align:top}
th{background:#f0f4f8}td.n{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#627d98;font-size:.85rem}.ok{color:#0b7a42}.bad{color:#b42318}
.kpis{display:flex;gap:1rem;flex-wrap:wrap}.kpi{border:1px solid #d9e2ec;border-radius:6px;padding:.6rem 1rem}
.kpi b{display:block;font-size:1.4rem}
"""
_COLORS = ["#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2"]


def _table(headers: list[str], rows: list[list], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for i, v in enumerate(row):
            if isinstance(v, bool):
                text = "yes" if v else "no"
            elif isinstance(v, int):
                text = f"{v:,}"
            else:
                text = html.escape("" if v is None else str(v))
            cells.append(f'<td class="n">{text}</td>' if i in numeric else f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _line_chart(
    series: dict[str, list[tuple[dt.date, float]]],
    title: str,
    y_label: str,
    zero_based: bool = True,
) -> str:
    """An inline SVG line chart, one line per series; the y axis starts at 0 unless
    ``zero_based`` is false (then it spans the data, for indices and rates near each other)."""
    width, height, pad_l, pad_b, pad_t, pad_r = 900, 300, 70, 40, 30, 160
    points = [p for s in series.values() for p in s]
    if not points:
        return "<p class='muted'>No data.</p>"
    xs = sorted({p[0] for p in points})
    x_index = {x: i for i, x in enumerate(xs)}
    y_max = max(p[1] for p in points) or 1.0
    y_lo = 0.0
    if not zero_based:
        y_lo, y_hi = min(p[1] for p in points), y_max
        margin = (y_hi - y_lo) * 0.1 or 1.0
        y_lo, y_max = y_lo - margin, y_hi + margin
    plot_w, plot_h = width - pad_l - pad_r, height - pad_t - pad_b

    def sx(x: dt.date) -> float:
        return pad_l + (x_index[x] / max(len(xs) - 1, 1)) * plot_w

    def sy(y: float) -> float:
        return pad_t + plot_h - ((y - y_lo) / (y_max - y_lo)) * plot_h

    parts = [
        f'<svg role="img" aria-label="{html.escape(title)}" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width}px">',
        f'<text x="{pad_l}" y="18" font-size="14" font-weight="600">{html.escape(title)}</text>',
        f'<line x1="{pad_l}" y1="{pad_t + plot_h}" x2="{pad_l + plot_w}" y2="{pad_t + plot_h}" stroke="#9aa5b1"/>',
        f'<line x1="{pad_l}" y1="{pad_t}" x2="{pad_l}" y2="{pad_t + plot_h}" stroke="#9aa5b1"/>',
    ]
    for frac in (0, 0.5, 1):
        y = y_lo + (y_max - y_lo) * frac
        parts.append(
            f'<text x="{pad_l - 6}" y="{sy(y) + 4:.1f}" font-size="11" text-anchor="end">{y:,.0f}</text>'
        )
    step = max(1, len(xs) // 8)
    for x in xs[::step]:
        parts.append(
            f'<text x="{sx(x):.1f}" y="{pad_t + plot_h + 16}" font-size="11" text-anchor="middle">'
            f"{x:%Y-%m}</text>"
        )
    parts.append(
        f'<text x="14" y="{pad_t + plot_h / 2}" font-size="11" transform="rotate(-90 14 {pad_t + plot_h / 2})" '
        f'text-anchor="middle">{html.escape(y_label)}</text>'
    )
    for i, (name, pts) in enumerate(sorted(series.items())):
        color = _COLORS[i % len(_COLORS)]
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in sorted(pts))
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{path}"/>')
        ly = pad_t + 14 + i * 18
        parts.append(
            f'<rect x="{width - pad_r + 12}" y="{ly - 9}" width="12" height="3" fill="{color}"/>'
        )
        parts.append(
            f'<text x="{width - pad_r + 30}" y="{ly}" font-size="12">{html.escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def write_report(workspace: Workspace, out_path: Path, run_id: str | None = None) -> Path:
    """Write the report of run ``run_id`` (default: the newest) and return its path."""
    from payvider.reports.care_section import care_section
    from payvider.reports.cost_section import cost_section
    from payvider.reports.dashboard_charts import dashboard_charts_section
    from payvider.reports.quality_section import quality_section
    from payvider.reports.scenarios_section import scenarios_section
    from payvider.reports.segmentation_section import segmentation_section
    from payvider.reports.settlement import settlement_section
    from payvider.reports.social_section import social_sections

    run_dir = workspace.run_path(run_id)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    engine = DuckDBEngine()
    try:
        sections = [
            _overview(workspace, manifest),
            dashboard_charts_section(workspace, manifest["run_id"]),
            _membership(engine, run_dir),
            _attribution(engine, run_dir),
            cost_section(engine, run_dir),
            quality_section(engine, run_dir),
            settlement_section(workspace, manifest["run_id"]),
            care_section(engine, run_dir),
            social_sections(engine, run_dir),
            segmentation_section(engine, run_dir),
            scenarios_section(workspace, run_dir.name),
            _loads(workspace),
        ]
        sections.append(_outputs(manifest))
    finally:
        engine.close()
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Payvider report — run {html.escape(manifest['run_id'])}</title>"
        f"<style>{_CSS}</style></head><body>"
        f"<h1>Payvider report</h1><p class='muted'>Run {html.escape(manifest['run_id'])} · "
        f"engine {html.escape(str(manifest.get('engine')))} · software {html.escape(manifest['software_version'])}"
        f" · created {html.escape(manifest['created_at'])}</p>"
        + "".join(sections)
        + "</body></html>"
    )
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(page, encoding="utf-8")
    return out_path


def _overview(workspace: Workspace, manifest: dict) -> str:
    reports = [workspace.batch_report(b) for b in workspace.batch_ids()]
    read = sum(t["read"] for r in reports for t in r["tables"])
    loaded = sum(t["loaded"] for r in reports for t in r["tables"])
    quarantined = sum(t["quarantined"] for r in reports for t in r["tables"])
    mm = manifest["outputs"].get("member_months", {}).get("rows", 0)
    lines = manifest["outputs"].get("final_medical_claim", {}).get("rows", 0)
    kpis = [
        ("Batches", len(reports)),
        ("Rows read", read),
        ("Loaded", loaded),
        ("Quarantined", quarantined),
        ("Member months", mm),
        ("Final claim lines", lines),
    ]
    cells = "".join(f"<div class='kpi'><b>{v:,}</b>{html.escape(k)}</div>" for k, v in kpis)
    status = "ok" if read == loaded + quarantined else "bad"
    note = "reconcile" if status == "ok" else "DO NOT reconcile"
    return (
        f"<h2>Overview</h2><div class='kpis'>{cells}</div>"
        f"<p class='{status}'>Rows read = loaded + quarantined: the counts {note}.</p>"
    )


def _loads(workspace: Workspace) -> str:
    parts = ["<h2>Data loaded</h2>"]
    for b in workspace.batch_ids():
        r = workspace.batch_report(b)
        parts.append(
            f"<h3>Batch {html.escape(b)}</h3><p class='muted'>from {html.escape(r['source'])} · "
            f"loaded {html.escape(r['loaded_at'])}</p>"
        )
        parts.append(
            _table(
                ["table", "files", "read", "loaded", "quarantined"],
                [
                    [t["table"], ", ".join(t["files"]), t["read"], t["loaded"], t["quarantined"]]
                    for t in r["tables"]
                ],
                numeric={2, 3, 4},
            )
        )
        if r.get("quarantine_reasons"):
            parts.append("<p><b>Quarantined, by reason</b></p>")
            parts.append(
                _table(
                    ["table", "field", "reason", "failures", "example"],
                    [
                        [q["table"], q["field"], q["reason"], q["failures"], q["example"]]
                        for q in r["quarantine_reasons"]
                    ],
                    numeric={3},
                )
            )
        if r.get("findings"):
            parts.append("<p><b>Data-quality findings</b> (rows kept)</p>")
            parts.append(
                _table(
                    ["table", "check", "rows", "detail"],
                    [[f["table"], f["check"], f["rows"], f["detail"]] for f in r["findings"]],
                    numeric={2},
                )
            )
    return "".join(parts)


def _membership(engine: DuckDBEngine, run_dir: Path) -> str:
    path = run_dir / "member_months.parquet"
    if not path.exists():
        return ""
    mm = engine.read_parquet(path)
    by_month = (
        mm.group_by(["month", "product_line"])
        .aggregate(members=mm.member_id.nunique())
        .order_by(["month", "product_line"])
        .to_pyarrow()
        .to_pylist()
    )
    series: dict[str, list[tuple[dt.date, float]]] = {}
    for row in by_month:
        series.setdefault(row["product_line"] or "unknown", []).append(
            (row["month"], row["members"])
        )
    totals = (
        mm.group_by("product_line")
        .aggregate(member_months=mm.count(), members=mm.member_id.nunique())
        .order_by("product_line")
        .to_pyarrow()
        .to_pylist()
    )
    return (
        "<h2>Membership</h2>"
        + _line_chart(series, "Enrolled members by month and product line", "members")
        + _table(
            ["product line", "member months", "members"],
            [[t["product_line"], t["member_months"], t["members"]] for t in totals],
            numeric={1, 2},
        )
    )


def _attribution(engine: DuckDBEngine, run_dir: Path) -> str:
    from payvider.marts.membership import attribution_summary

    path = run_dir / "attribution.parquet"
    if not path.exists():
        return ""
    rows = engine.to_arrow(attribution_summary(engine.read_parquet(path))).to_pylist()
    parts = [
        "<h2>Attribution</h2><p class='muted'>Each eligible member lands on the first rule that "
        "assigns them: voluntary alignment, step 1 (plurality of primary-care charges from "
        "primary-care clinicians), step 2 (specialists); the rest are unattributed.</p>",
        _table(
            ["period", "rule", "members", "share of eligible", "to the partner system"],
            [
                [
                    str(r["period"]),
                    r["rule"],
                    r["members"],
                    f"{r['share']:.1%}",
                    r["partner_members"],
                ]
                for r in rows
            ],
            numeric={2, 3, 4},
        ),
    ]
    membership = run_dir / "membership.parquet"
    if membership.exists():
        m = engine.read_parquet(membership)
        by_month = (
            m.group_by("month")
            .aggregate(members=m.members.sum(), partner=m.partner_attributed_members.sum())
            .order_by("month")
            .to_pyarrow()
            .to_pylist()
        )
        series = {
            "partner share": [
                (r["month"], 100.0 * r["partner"] / r["members"]) for r in by_month if r["members"]
            ]
        }
        parts.append(
            _line_chart(series, "Members attributed to the partner system", "% of members")
        )
    churn = run_dir / "attribution_churn.parquet"
    if churn.exists():
        rows = engine.read_parquet(churn).to_pyarrow().to_pylist()
        parts.append("<p><b>Change from the previous period</b></p>")
        parts.append(
            _table(
                ["period", "status", "partner before", "partner after", "members"],
                [
                    [
                        str(r["period"]),
                        r["status"],
                        r["partner_before"],
                        r["partner_after"],
                        r["members"],
                    ]
                    for r in rows
                ],
                numeric={4},
            )
        )
    return "".join(parts)


def _outputs(manifest: dict) -> str:
    rows = [[n, o["rows"], o["seconds"], o["sha256"][:16]] for n, o in manifest["outputs"].items()]
    batches = ", ".join(b["batch_id"] for b in manifest.get("input_batches", []))
    return (
        "<h2>Run outputs</h2>"
        + _table(["table", "rows", "seconds", "sha256 (first 16)"], rows, numeric={1})
        + f"<p class='muted'>Input batches: {html.escape(batches)}. Parameters: "
        f"{html.escape(json.dumps(manifest.get('parameters', {})))}</p>"
    )


__all__ = ["write_report"]
