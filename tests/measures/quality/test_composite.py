"""Composite quality score: the scoring formula worked by hand, configuration errors, the stage."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

from payvider.measures.quality.composite import (
    CompositeConfig,
    CompositeError,
    composite_score,
    load_config,
    quality_composite,
)
from payvider.measures.quality.framework import SUMMARY_SCHEMA

CONFIG = CompositeConfig.model_validate(
    {
        "name": "test",
        "min_eligible": 20,
        "measures": [
            {"measure_id": "m1", "weight": "2", "floor": "0.50", "target": "0.80"},
            {
                "measure_id": "m2",
                "weight": "1",
                "floor": "0.40",
                "target": "0.15",
                "higher_is_better": False,
            },
            {"measure_id": "m3", "weight": "1", "floor": "0.30", "target": "0.60"},
        ],
    }
)


def test_linear_points_weighted_to_100():
    # m1: (0.65 - 0.50) / (0.80 - 0.50) = 0.5; m2 (inverse): 0.10 is below the target -> 1;
    # m3: 0.20 is below the floor -> 0. Score = 100 * (2*0.5 + 1*1 + 1*0) / (2 + 1 + 1) = 50.00
    r = composite_score({"m1": 0.65, "m2": 0.10, "m3": 0.20, "other": 0.9}, CONFIG)
    assert r.score == Decimal("50.00")
    assert (r.measures_scored, r.measures_configured, r.weight_scored) == (3, 3, Decimal(4))
    assert [m.points for m in r.measures] == [Decimal("0.5"), Decimal(1), Decimal(0)]


def test_inverse_measure_halfway_and_rounding():
    # m2: (0.275 - 0.40) / (0.15 - 0.40) = 0.5; m1 at its target: 1.
    # 100 * (2*1 + 1*0.5) / 3 = 83.333... -> 83.33
    r = composite_score({"m1": Decimal("0.80"), "m2": Decimal("0.275")}, CONFIG)
    assert r.score == Decimal("83.33")
    assert r.measures_scored == 2
    assert "m3 not scored (no rate)" in r.detail()


def test_small_measures_drop_out_and_no_measure_no_score():
    # m3 has 19 eligible (< 20): 100 * (2*0.5 + 1*1) / 3 = 66.666... -> 66.67
    r = composite_score(
        {"m1": 0.65, "m2": 0.10, "m3": 0.60}, CONFIG, eligible={"m1": 20, "m2": 50, "m3": 19}
    )
    assert r.score == Decimal("66.67")
    assert "m3 not scored (19 eligible < 20)" in r.detail()
    assert composite_score({}, CONFIG).score is None


def test_configuration_errors_name_file_and_field(tmp_path):
    bad = tmp_path / "composite.yaml"
    bad.write_text(
        "measures:\n  - {measure_id: x, weight: 1, floor: 0.9, target: 0.5}\n", encoding="utf-8"
    )
    with pytest.raises(CompositeError, match=r"composite.yaml: measures.0: .*floor must be below"):
        load_config(bad)
    bad.write_text("measures:\n  - {measure_id: x, weight: 0, floor: 0.1, target: 0.5}\n")
    with pytest.raises(CompositeError, match=r"measures.0.weight"):
        load_config(bad)
    with pytest.raises(CompositeError, match="not found"):
        load_config(tmp_path / "missing.yaml")


def test_shipped_default_scores_the_run_measures():
    c = load_config()
    ids = {m.measure_id for m in c.measures}
    assert {"breast_cancer_screening", "readmission_30d", "sdoh_screening"} <= ids
    inverse = {m.measure_id for m in c.measures if not m.higher_is_better}
    assert inverse == {"hba1c_poor_control", "readmission_30d"}


def _summary_row(measure, level, org, rate, eligible):
    row = {n: None for n in SUMMARY_SCHEMA.names}
    row.update(
        measure_id=measure,
        period="2024",
        period_start=dt.date(2024, 1, 1),
        period_end=dt.date(2024, 12, 31),
        level=level,
        organization_id=org,
        rate=rate,
        eligible=eligible,
    )
    return row


def test_stage_scores_total_and_organizations(duckdb_engine):
    rows = [
        _summary_row("m1", "total", "all", 0.65, 100),
        _summary_row("m2", "total", "all", 0.10, 100),
        _summary_row("m1", "organization", "ORG1", 0.80, 60),
        _summary_row("m2", "organization", "ORG1", 0.40, 10),  # too small: not scored
        _summary_row("m1", "clinician", "ORG1", 0.10, 60),  # clinician rows are not scored
    ]
    summary = pa.Table.from_pylist(rows, schema=SUMMARY_SCHEMA.to_pyarrow())
    out = duckdb_engine.to_arrow(quality_composite(duckdb_engine.from_arrow(summary), CONFIG))
    got = {r["level"]: r for r in out.to_pylist()}
    assert set(got) == {"total", "organization"}
    # total: 100 * (2*0.5 + 1*1) / 3 = 66.67; ORG1: m1 at target only -> 100.00
    assert got["total"]["score"] == Decimal("66.67")
    assert got["total"]["organization_id"] is None
    assert (got["organization"]["organization_id"], got["organization"]["score"]) == (
        "ORG1",
        Decimal("100.00"),
    )
    assert got["organization"]["measures_scored"] == 1
