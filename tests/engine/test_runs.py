"""Runs: outputs and manifest, the same results on both engines, and a failed run that leaves
the previous good run untouched."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from payvider import pipeline
from payvider.engine.runs import list_runs, run_pipeline
from payvider.engine.workspace import WorkspaceError
from payvider.ingest import load_batch
from tests.conftest import FIXTURES


@pytest.fixture
def loaded(workspace, canonical_dir):
    load_batch(workspace, canonical_dir)
    return workspace


def _sorted_rows(path, keys):
    return sorted(pq.read_table(path).to_pylist(), key=lambda r: tuple(str(r[k]) for k in keys))


def test_run_writes_outputs_and_manifest(loaded):
    result = run_pipeline(loaded)
    manifest = json.loads((result.path / "manifest.json").read_text())
    assert manifest["engine"] == "duckdb"
    assert manifest["outputs"]["final_medical_claim"]["rows"] == 4
    assert manifest["outputs"]["member_months"]["rows"] == 35
    params = manifest["parameters"]
    assert (params["member_month_rule"], params["as_of"]) == ("any_day", None)
    assert params["attribution"]["rules"] == [
        "voluntary_alignment",
        "step1_primary_care",
        "step2_specialist",
    ]
    [batch] = manifest["input_batches"]
    assert set(batch["files"]) == {
        "eligibility.parquet",
        "medical_claim.parquet",
        "medical_claim_diagnosis.parquet",
    }
    for name in manifest["outputs"]:
        assert (result.path / f"{name}.parquet").exists()
    assert [r["run_id"] for r in list_runs(loaded)] == [result.run_id]


def test_runs_are_listed_oldest_first(loaded):
    first = run_pipeline(loaded)
    second = run_pipeline(loaded)
    assert [r["run_id"] for r in list_runs(loaded)] == [first.run_id, second.run_id]
    assert loaded.latest_run() == second.path


def test_failed_run_leaves_previous_run_untouched(loaded, monkeypatch):
    good = run_pipeline(loaded)
    before = {p.name: p.read_bytes() for p in good.path.iterdir()}

    def broken(tables, params):
        raise RuntimeError("stage failed")

    stages = list(pipeline.STAGES)
    stages.append(pipeline.Stage("broken", (), "fails", broken))
    monkeypatch.setattr("payvider.engine.runs.STAGES", tuple(stages))
    with pytest.raises(RuntimeError, match="stage failed"):
        run_pipeline(loaded)
    assert loaded.run_ids() == [good.run_id]
    assert {p.name: p.read_bytes() for p in good.path.iterdir()} == before
    assert [p.name for p in loaded.runs_dir.iterdir()] == [good.run_id]  # no temporary folder left


def test_run_without_batches_is_refused(workspace):
    with pytest.raises(WorkspaceError, match="no loaded batches"):
        run_pipeline(workspace)


@pytest.mark.spark
def test_spark_and_duckdb_runs_are_identical(workspace, spark_engine):
    """Every stage's output, row for row, on the attribution fixture (voids, ties, all rules)."""
    load_batch(workspace, FIXTURES / "attribution")
    duck = run_pipeline(workspace, "duckdb")
    spark = run_pipeline(workspace, "spark")
    keys = {
        "final_medical_claim": ["claim_id", "claim_line_number"],
        "final_pharmacy_claim": ["claim_id", "claim_line_number"],
        "member_months": ["member_id", "payer", "month"],
        "member_years": ["member_id", "payer", "year"],
        "attribution": ["period", "member_id", "payer"],
        "membership": ["month", "product_line"],
        "attribution_churn": ["period", "status", "partner_before", "partner_after"],
        "member_patient_crosswalk": ["member_id", "patient_id"],
        "link_review_queue": ["member_id", "patient_id"],
        "risk_score": ["member_id", "payer", "year", "model"],
        "claims_enriched": ["claim_id", "claim_line_number"],
        "inpatient_stays": ["encounter_id"],
        "member_month_cost": [
            "member_id",
            "payer",
            "month",
            "service_category",
            "in_partner_system",
        ],
        "cost_pmpm": ["month", "product_line", "organization_id", "service_category"],
        "scope_pmpm": ["scope", "month", "service_category"],
        "member_year_cost": ["member_id", "payer", "year"],
        "cost_reconciliation": ["status", "service_category_1"],
        "utilization": ["year", "product_line", "organization_id"],
        "leakage": ["year", "dimension", "value"],
        "leakage_destinations": ["year", "rank"],
        "cost_trend": ["scope", "year"],
        "lag_triangle": ["payer", "product_line", "incurred_month", "lag_months"],
        "completion_factors": ["payer", "product_line", "incurred_month"],
        "high_cost_truncation": ["member_id", "payer", "year"],
        "quality_member": ["measure_id", "period", "member_id", "payer", "event_id"],
        "quality_summary": ["measure_id", "period", "level", "organization_id", "clinician_npi"],
        "quality_care_gaps": ["measure_id", "period", "member_id", "payer", "event_id"],
        "care_worklist": ["worklist", "member_id", "payer", "measure_id", "event_date", "reason"],
        "sdoh_summary": ["period", "level", "organization_id", "domain"],
        "experience_summary": ["period", "level", "organization_id", "instrument", "item"],
        "quality_composite": ["period", "level", "organization_id"],
        "opioid_taper": ["group"],
        "provider_segmentation": ["organization_id"],
    }
    assert set(keys) == set(duck.manifest["outputs"]), "add new stages to this parity test"
    for name, key in keys.items():
        assert _sorted_rows(duck.path / f"{name}.parquet", key) == _sorted_rows(
            spark.path / f"{name}.parquet", key
        ), name
    assert duck.manifest["outputs"]["attribution"]["rows"] == 10
