"""The settlement report: one self-contained HTML page a CFO can read and check.

A waterfall from the benchmark (or premium, or capitation) to the net payment, every line item
with its formula, the quality scorecard, and the drill-down (top members and totals that match
the actual expenditure to the cent). Amounts in the tables are the settlement's exact decimals
rounded for display; the chart's bar heights are only drawings of them. Also the run report's
settlement section (settlements kept in the workspace for that run).
"""

from __future__ import annotations

import html
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from payvider.contracts.records import drilldown_totals, settlement_dict, settlements_dir
from payvider.contracts.settlement import Settlement
from payvider.contracts.terms import ContractTerms, terms_from_text
from payvider.engine.workspace import Workspace
from payvider.reports.html import _CSS, _table

__all__ = ["settlement_section", "waterfall_steps", "write_settlement_report"]

D = Decimal
TOP_MEMBERS = 20


def _usd(value: Decimal | str | None) -> str:
    if value is None:
        return ""
    v = D(value).quantize(D("0.01"))
    if v == 0:
        v = abs(v)
    return f"-${-v:,.2f}" if v < 0 else f"${v:,.2f}"


def _amounts(s: dict) -> dict[str, Decimal]:
    return {li["name"]: D(li["amount"]) for li in s["line_items"]}


def waterfall_steps(s: dict) -> list[tuple[str, Decimal, str]]:
    """(label, amount, kind) from the start figure to the net; kind is ``total`` (a bar from
    zero) or ``step`` (a move from the running level). The steps add up to the net exactly."""
    a = _amounts(s)
    counted = [li for li in s["line_items"] if li["counts"]]
    steps: list[tuple[str, Decimal, str]] = []
    used: set[str] = set()
    if "premium" in a:  # integrated margin
        steps += [
            ("premium", a["premium"], "total"),
            ("medical cost", -a["actual_expenditure"], "step"),
            ("administrative cost", -a["administrative_cost"], "step"),
            ("margin", a["margin"], "total"),
            ("payer's share", a["provider_margin_share"] - a["margin"], "step"),
        ]
        used.add("provider_margin_share")
    elif "benchmark_expenditure" in a:  # sharing models
        savings = a["savings"]
        shared = a.get("shared_savings", a.get("shared_losses", D(0)))
        steps += [
            ("benchmark", a["benchmark_expenditure"], "total"),
            ("actual expenditure", -a["actual_expenditure"], "step"),
            ("savings" if savings >= 0 else "losses", savings, "total"),
            ("not shared (rate, corridor, cap)", shared - savings, "step"),
        ]
        used |= {"shared_savings", "shared_losses"}
    elif "capitation_payment" in a:
        steps.append(("capitation", a["capitation_payment"], "total"))
        used.add("capitation_payment")
    for li in counted:
        if li["name"] not in used and D(li["amount"]) != 0:
            steps.append((li["name"].replace("_", " "), D(li["amount"]), "step"))
    steps.append(("net payment", D(s["net_amount"]), "total"))
    return steps


def _waterfall_svg(steps: list[tuple[str, Decimal, str]], title: str) -> str:
    width, height, pad_l, pad_b, pad_t = 900, 320, 90, 70, 30
    levels, running = [], D(0)
    for _, amount, kind in steps:
        if kind == "total":
            start, end = D(0), amount
            running = amount
        else:
            start, end = running, running + amount
            running = end
        levels.append((float(start), float(end)))
    lo = min(0.0, *(min(s, e) for s, e in levels))
    hi = max(0.0, *(max(s, e) for s, e in levels)) or 1.0
    plot_w, plot_h = width - pad_l - 20, height - pad_t - pad_b
    bar_w = plot_w / max(len(steps), 1)

    def sy(v: float) -> float:
        return pad_t + plot_h - (v - lo) / (hi - lo) * plot_h

    parts = [
        f'<svg role="img" aria-label="{html.escape(title)}" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width}px">',
        f'<text x="{pad_l}" y="18" font-size="14" font-weight="600">{html.escape(title)}</text>',
        f'<line x1="{pad_l}" y1="{sy(0):.1f}" x2="{pad_l + plot_w}" y2="{sy(0):.1f}" '
        'stroke="#9aa5b1"/>',
    ]
    for i, ((label, amount, kind), (start, end)) in enumerate(zip(steps, levels, strict=True)):
        x = pad_l + i * bar_w + bar_w * 0.15
        top, bottom = sy(max(start, end)), sy(min(start, end))
        color = "#2563eb" if kind == "total" else ("#059669" if amount >= 0 else "#dc2626")
        parts.append(
            f'<rect x="{x:.1f}" y="{top:.1f}" width="{bar_w * 0.7:.1f}" '
            f'height="{max(bottom - top, 1):.1f}" fill="{color}"/>'
        )
        parts.append(
            f'<text x="{x + bar_w * 0.35:.1f}" y="{top - 4:.1f}" font-size="10" '
            f'text-anchor="middle">{html.escape(_usd(amount))}</text>'
        )
        parts.append(
            f'<text x="{x + bar_w * 0.35:.1f}" y="{height - pad_b + 14}" font-size="10" '
            f'text-anchor="middle">{html.escape(label[:24])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _line_items(s: dict) -> str:
    rows = []
    for li in s["line_items"]:
        amount = D(li["amount"])
        shown = _usd(amount) if li["unit"] == "USD" else f"{amount:.6g}"
        rows.append([("• " if li["counts"] else "") + li["name"], shown, li["formula"]])
    return (
        _table(["line item (• counts toward the net)", "amount", "formula"], rows, numeric={1})
        + f"<p><b>Net: {_usd(s['net_amount'])}</b> ({html.escape(s['direction'])}). The lines "
        "marked • add up to the net exactly; amounts are exact decimals, shown to the cent.</p>"
    )


def _scorecard(s: dict, figures: dict | None, terms: ContractTerms | None) -> str:
    a = _amounts(s)
    rows: list[list] = []
    score = (figures or {}).get("quality_score")
    q = terms.quality if terms is not None else None
    if q is not None:
        gate = "" if q.min_score is None else f"≥ {q.min_score}"
        rows.append(["quality score (gate)", score or "", gate, a.get("final_sharing_rate", "")])
    pool = terms.outcome_pool if terms is not None else None
    rates = (figures or {}).get("measure_rates") or {}
    if pool is not None:
        for m in pool.measures:
            rate = rates.get(m.name)
            met = rate is not None and (
                D(rate) >= m.target if m.higher_is_better else D(rate) <= m.target
            )
            rows.append(
                [
                    f"{m.name} (weight {m.weight})",
                    "" if rate is None else f"{float(D(rate)) * 100:.1f}%",
                    f"{'≥' if m.higher_is_better else '≤'} {float(m.target) * 100:.1f}%",
                    "met" if met else "not met",
                ]
            )
    if not rows:
        return "<p class='muted'>The contract has no quality terms.</p>"
    return _table(["measure", "result", "target", "outcome"], rows)


def _drilldown(folder: Path, s: dict) -> str:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    members = pq.read_table(folder / "drilldown_members.parquet")
    totals = drilldown_totals(folder)
    actual = _amounts(s).get("actual_expenditure")
    match = actual is not None and D(totals["lines_amount"]) == actual
    order = pc.sort_indices(members, sort_keys=[("counted_amount", "descending")])
    top = members.take(order[:TOP_MEMBERS]).to_pylist()
    lines = pq.read_table(
        folder / "drilldown_lines.parquet", columns=["service_category_1", "amount"]
    )
    grouped = lines.group_by("service_category_1").aggregate([("amount", "sum")]).to_pylist()
    by_cat: dict[str, Decimal] = {
        (r["service_category_1"] or "high-cost truncation"): D(r["amount_sum"]) for r in grouped
    }
    status = "ok" if match else "bad"
    return (
        f"<p class='{status}'>{totals['members']:,} members · {totals['claim_lines']:,} claim "
        f"lines · {totals['truncated_members']:,} truncated members: the drill-down sums to "
        f"{_usd(totals['lines_amount'])}, the settlement's actual expenditure is {_usd(actual)}"
        f" — {'they match to the cent' if match else 'THEY DO NOT MATCH'}.</p>"
        + _table(
            ["service category", "amount"],
            [[k, _usd(v)] for k, v in sorted(by_cat.items())]
            + [["total", _usd(sum(by_cat.values()))]],
            numeric={1},
        )
        + f"<p><b>Top {len(top)} members by counted expenditure</b> (all members in "
        "drilldown_members.parquet, every claim line in drilldown_lines.parquet)</p>"
        + _table(
            [
                "member",
                "organization",
                "member months",
                "lines",
                "amount",
                "truncation excess",
                "counted",
            ],
            [
                [
                    r["member_id"],
                    r["organization_id"],
                    r["member_months"],
                    r["lines"],
                    _usd(r["amount"]),
                    _usd(r["excess_removed"]),
                    _usd(r["counted_amount"]),
                ]
                for r in top
            ],
            numeric={2, 3, 4, 5, 6},
        )
    )


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def _one(s: dict, figures: dict | None, terms: ContractTerms | None, folder: Path | None) -> str:
    label = f"{s['id']} · performance year {s['performance_year']}"
    parts = [
        f"<h2>{html.escape(label)}</h2>",
        _waterfall_svg(waterfall_steps(s), "From the benchmark to the net payment"),
        "<h3>Line items</h3>",
        _line_items(s),
        "<h3>Quality scorecard</h3>",
        _scorecard(s, figures, terms),
    ]
    if folder is not None and (folder / "drilldown_members.parquet").exists():
        parts += ["<h3>Drill-down: members and claim lines</h3>", _drilldown(folder, s)]
    return "".join(parts)


def write_settlement_report(
    out_path: Path,
    folder: Path | None = None,
    settlements: list[Settlement] | None = None,
    terms: ContractTerms | None = None,
) -> Path:
    """Write the report of a kept settlement (``folder``) or of settlements just computed."""
    meta = ""
    if folder is not None:
        record = json.loads((Path(folder) / "settlement.json").read_text())
        terms = terms_from_text(
            (Path(folder) / "contract.yaml").read_text(encoding="utf-8"), "contract.yaml"
        )
        items = record["settlements"]
        figures = record.get("figures") or [None] * len(items)
        c = record["contract"]
        run = record.get("run")
        meta = (
            f"<p class='muted'>Settlement {html.escape(record['settlement_id'])} · "
            f"{html.escape(record['mode'])} mode · contract {html.escape(c['source'])} "
            f"(SHA-256 {c['sha256'][:16]}…)"
            + (
                f" · run {html.escape(run['run_id'])} (manifest SHA-256 "
                f"{run['manifest_sha256'][:16]}…)"
                if run
                else ""
            )
            + f" · software {html.escape(record['software_version'])}. Reproduce with "
            f"<code>payvider settle --workspace W --reproduce {html.escape(record['settlement_id'])}"
            "</code>.</p>"
        )
    else:
        items = [settlement_dict(s) for s in settlements or []]
        figures = [None] * len(items)
    name = terms.name if terms is not None else "contract"
    body = meta + "".join(
        _one(s, f, terms, Path(folder) if folder is not None else None)
        for s, f in zip(items, figures, strict=True)
    )
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(_page(f"Settlement — {name}", body), encoding="utf-8")
    return out_path


def settlement_section(workspace: Workspace, run_id: str) -> str:
    """The run report's settlements: those kept in the workspace from this run."""
    parent = settlements_dir(workspace)
    if not parent.is_dir():
        return ""
    records: list[tuple[dict[str, Any], Path]] = []
    for d in sorted(parent.iterdir()):
        path = d / "settlement.json"
        if d.name.startswith(".") or not path.is_file():
            continue
        record = json.loads(path.read_text())
        if (record.get("run") or {}).get("run_id") == run_id:
            records.append((record, d))
    if not records:
        return ""
    rows = []
    for record, _ in records:
        for s in record["settlements"]:
            a = _amounts(s)
            rows.append(
                [
                    record["settlement_id"],
                    record["contract"]["name"],
                    str(s["performance_year"]),
                    s["id"],
                    _usd(a.get("benchmark_expenditure") or a.get("premium")),
                    _usd(a.get("actual_expenditure")),
                    _usd(s["net_amount"]),
                    s["direction"],
                ]
            )
    record, folder = records[-1]
    s = record["settlements"][0]
    return (
        "<h2>Settlements</h2><p class='muted'>Claims-mode settlements of this run kept in the "
        "workspace (the full report of each: <code>payvider settle … --report</code>).</p>"
        + _table(
            [
                "settlement",
                "contract",
                "year",
                "entity",
                "benchmark / premium",
                "actual",
                "net",
                "direction",
            ],
            rows,
            numeric={4, 5, 6},
        )
        + _waterfall_svg(
            waterfall_steps(s),
            f"{record['contract']['name']} {s['performance_year']}: benchmark to net payment",
        )
    )
