"""Provider segmentation: metrics and scores computed by hand on small tables, and the planted
efficient, value-ready partner system ranked into the top tier of a generated population."""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal

import ibis
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from payvider.cli import app
from payvider.segmentation.factors import FULL_CREDIBILITY, organization_metrics
from payvider.segmentation.scoring import score_organizations

D = Decimal


def _rows(engine, expr) -> dict[str, dict]:
    return {r["organization_id"]: r for r in engine.to_arrow(expr).to_pylist()}


def _table(engine, data: dict, schema: dict | None = None):
    """A small table on the engine under test (DuckDB, and Spark in the Spark run)."""
    return engine.from_arrow(ibis.memtable(data, schema=schema).to_pyarrow())


def test_scores_tiers_and_depth_by_hand(engine):
    metrics = _table(
        engine,
        {
            "organization_id": ["A", "B", "C", "D", "E"],
            "year": [2025] * 5,
            "attributed_lives": [400, 300, 200, 100, 5],
            "market_spend_share": [0.4, 0.3, 0.2, 0.1, 0.01],
            "risk_adjusted_pmpm_ratio": [0.8, 1.0, 1.1, 1.2, 0.1],
            "trend_ratio": [0.9, 1.0, 1.1, 1.2, 0.1],
            "service_breadth": [8, 6, 4, 2, 9],
            "utilization_ratio": [0.9, 1.0, 1.1, 1.2, 0.1],
            "value_based_share": [1.0, 0.0, 0.0, 0.0, 1.0],
            "linkage_rate": [1.0, 0.8, 0.7, 0.6, 1.0],
            "quality_composite": [0.8, 0.7, None, 0.6, 0.9],
        },
    )
    r = _rows(engine, score_organizations(metrics))
    # size and cost: each of the three metrics ranks A > B > C > D: 1, 2/3, 1/3, 0
    for org, expected in zip("ABCD", [100, 200 / 3, 100 / 3, 0], strict=True):
        assert r[org]["size_score"] == pytest.approx(expected)
        assert r[org]["cost_score"] == pytest.approx(expected)
    # disposition: value-based share A 1, B = C = D tie at rank 2 of 4 → 2/3;
    # quality among the 3 present: A 1, B 1/2, D 0, C missing → 1/2; linkage 1, 2/3, 1/3, 0
    assert r["A"]["disposition_score"] == pytest.approx(100)
    assert r["B"]["disposition_score"] == pytest.approx((2 / 3 + 1 / 2 + 2 / 3) * 100 / 3)
    assert r["C"]["disposition_score"] == pytest.approx((2 / 3 + 1 / 2 + 1 / 3) * 100 / 3)
    assert r["D"]["disposition_score"] == pytest.approx((2 / 3 + 0 + 0) * 100 / 3)
    # composite: A 100, B 64.8, C 38.9, D 7.4 → tiers 1, 1, 3, 3
    assert r["B"]["composite_score"] == pytest.approx((200 / 3 * 2 + 55 / 0.9) / 3)
    assert [r[o]["tier"] for o in "ABCD"] == [1, 1, 3, 3]
    assert [r[o]["rank"] for o in "ABCD"] == [1, 2, 3, 4]
    assert r["A"]["recommended_depth"] == "integrated_margin_or_joint_venture"
    assert r["C"]["recommended_depth"] == "upside_only"
    assert r["C"]["quadrant"] == "value_ready_not_yet_efficient"
    assert r["D"]["quadrant"] == "develop"
    # fewer than 11 lives: listed, not scored, whatever its metrics
    assert r["E"]["recommended_depth"] == "not_scored" and r["E"]["tier"] is None


def test_metrics_by_hand(engine):
    myc = _table(
        engine,
        {
            "member_id": ["m1", "m2", "m1", "m2", "m3"],
            "payer": ["p"] * 5,
            "year": [2024, 2024, 2025, 2025, 2025],
            "organization_id": ["X", "Y", "X", "Y", "Y"],
            "partner_flag": [True, False, True, False, False],
            "member_months": [12] * 5,
            "allowed_amount": [D(1200), D(2400), D(1500), D(2500), D(2500)],
            "medical_allowed_amount": [D(1200), D(2400), D(1440), D(2400), D(2400)],
        },
        schema={
            "member_id": "string",
            "payer": "string",
            "year": "int64",
            "organization_id": "string",
            "partner_flag": "boolean",
            "member_months": "int64",
            "allowed_amount": "decimal(38, 2)",
            "medical_allowed_amount": "decimal(38, 2)",
        },
    )
    risk = _table(
        engine,
        {
            "member_id": ["m1", "m2", "m1", "m2", "m3"],
            "payer": ["p"] * 5,
            "year": [2024, 2024, 2025, 2025, 2025],
            "model": ["V28"] * 5,
            "risk_score": [1.0, 2.0, 1.0, 2.0, 2.0],
        },
    )
    claims = _table(
        engine,
        {
            "provider_tin": ["X", "X", "X", "Y"],
            "year": [2025, 2025, 2024, 2025],
            "service_category": ["office visit", "lab", "imaging", "lab"],
            "service_date": [dt.date(2025, 1, 1)] * 4,
        },
    )
    util = _table(
        engine,
        {
            "year": [2025, 2025],
            "organization_id": ["X", "Y"],
            "acute_admissions": [1, 0],
            "ed_visits": [1, 2],
            "member_months": [12, 24],
        },
    )
    xwalk = _table(engine, {"member_id": ["m1"], "patient_id": ["P1"]})
    r = _rows(engine, organization_metrics(myc, claims, util, risk, None, xwalk))
    x = r["X"]
    z = math.sqrt(1 / FULL_CREDIBILITY)  # one life

    def credible(ratio):
        return z * ratio + 1 - z

    # lives 1; spend 1,500 of 6,500; breadth 2 categories billed in 2025
    assert (x["attributed_lives"], x["service_breadth"]) == (1, 2)
    assert x["market_spend_share"] == pytest.approx(1500 / 6500)
    # RA PMPM: X 1,440 / (1.0 × 12) = 120; book 6,240 / (12 + 24 + 24) = 104
    assert x["risk_adjusted_pmpm_ratio"] == pytest.approx(credible(120 / 104))
    # trend: X 120 / 100 = 1.2; book (6,240 / 36) / (3,600 / 24) = 1.1556
    assert x["trend_ratio"] == pytest.approx(credible(1.2 / (6240 / 36 / 150)))
    # utilization: X 2 events / 12 months, book 4 / 36
    assert x["utilization_ratio"] == pytest.approx(credible((2 / 12) / (4 / 36)))
    assert (x["value_based_share"], x["linkage_rate"]) == (1.0, 1.0)
    assert (r["Y"]["value_based_share"], r["Y"]["linkage_rate"]) == (0.0, 0.0)
    assert r["Y"]["attributed_lives"] == 2 and x["quality_composite"] is None


def test_partner_system_ranks_in_the_top_tier(synthetic_run):
    """The generator plants the partner system as the efficient (0% trend vs the market's 6%),
    value-ready (in the partnership, EHR-linked) organization: it must rank first, tier 1."""
    seg = pq.read_table(synthetic_run["run"] / "provider_segmentation.parquet").to_pylist()
    attribution = pq.read_table(synthetic_run["run"] / "attribution.parquet").to_pylist()
    partners = {r["organization_id"] for r in attribution if r["partner_flag"]}
    by_org = {r["organization_id"]: r for r in seg}
    assert partners and partners <= set(by_org)
    top = [r for r in seg if r["rank"] == 1]
    assert [r["organization_id"] for r in top] == sorted(partners)
    for org in partners:
        row = by_org[org]
        assert row["tier"] == 1
        assert row["quadrant"] == "efficient_and_value_ready"
        assert row["recommended_depth"] == "integrated_margin_or_joint_venture"
        assert row["risk_adjusted_pmpm_ratio"] < 1 and row["linkage_rate"] > 0.95

    runner = CliRunner()
    ws = str(synthetic_run["workspace"].root)
    res = runner.invoke(app, ["segments", "-w", ws, "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)[0]["organization_id"] in partners
    res = runner.invoke(app, ["segments", "-w", ws])
    assert res.exit_code == 0 and "integrated" in res.stdout
