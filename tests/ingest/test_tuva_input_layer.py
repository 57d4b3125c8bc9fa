"""The Tuva Project's synthetic input layer (not written by us; it carries deliberate data-quality
quirks) loads through the canonical reader with every row accounted for and every quirk reported.

Expected figures were counted independently from the CSV files with DuckDB SQL.
"""

from __future__ import annotations

import csv

import pyarrow.parquet as pq
import pytest

from payvider.ingest import load_batch
from tests.conftest import TUVA

pytestmark = pytest.mark.skipif(not TUVA.exists(), reason="shared Tuva data not present")


def _csv_rows(name: str) -> int:
    with open(TUVA / name, newline="", encoding="utf-8") as f:
        return sum(1 for _ in csv.DictReader(f))


@pytest.fixture(scope="module")
def tuva(tmp_path_factory):
    from payvider.engine.workspace import Workspace

    ws = Workspace(tmp_path_factory.mktemp("tuva") / "ws", create=True)
    report = load_batch(ws, TUVA)
    return ws, report


def test_every_row_accounted_for(tuva):
    _, report = tuva
    tables = {t.table: t for t in report.tables}
    expected_read = {
        "eligibility": _csv_rows("eligibility_seed.csv"),
        "medical_claim": _csv_rows("medical_claim_seed.csv"),
        "pharmacy_claim": _csv_rows("pharmacy_claim_seed.csv"),
        "lab_result": _csv_rows("lab_result_seed.csv"),
        "immunization": _csv_rows("immunization_seed.csv"),
        "provider_attribution": _csv_rows("provider_attribution_seed.csv"),
    }
    assert expected_read == {
        "eligibility": 31,
        "medical_claim": 2075,
        "pharmacy_claim": 291,
        "lab_result": 1162,
        "immunization": 17,
        "provider_attribution": 2,
    }
    for name, n in expected_read.items():
        assert tables[name].read == n
    for t in report.tables:
        assert t.read == t.loaded + t.quarantined, t
    assert tables["medical_claim"].loaded == 2075


def test_quirks_are_reported(tuva):
    _, report = tuva
    found = {(f.table, f.check): f.rows for f in report.findings}
    # paid_amount > allowed_amount: 96 medical lines, 87 pharmacy lines
    assert found[("medical_claim", "paid_exceeds_allowed")] == 96
    assert found[("pharmacy_claim", "paid_exceeds_allowed")] == 87
    # institutional lines carry no allowed_amount; 368 of them no paid_amount either
    assert found[("medical_claim", "allowed_missing")] == 500
    assert found[("medical_claim", "paid_missing")] == 368
    assert found[("medical_claim", "paid_date_missing")] == 2075
    # professional claims label their ICD-10-CM diagnoses as icd-10-pcs
    # (2,233 of the 2,450 claim diagnoses, counted once per claim and position)
    assert found[("medical_claim_diagnosis", "code_type_mislabelled")] == 2233
    assert found[("pharmacy_claim", "days_supply_missing")] == 291
    # an SDOH question (LOINC 56799-0, "What address do you live at?") stored as a lab result
    assert found[("lab_result", "result_not_numeric")] == 80
    # the eligibility file has no product_line: derived from payer_type, and said so
    assert found[("eligibility", "product_line_derived")] == 31
    assert ("eligibility", "columns_ignored") in found


def test_quarantined_diagnoses_name_their_source(tuva):
    ws, report = tuva
    rows = pq.read_table(ws.batches_dir / report.batch_id / "quarantine.parquet").to_pylist()
    # Four diagnoses on one claim carry POA indicator "0", which is not a POA value.
    poa = [r for r in rows if r["field"].startswith("diagnosis_poa_")]
    assert len(poa) == 4
    assert {r["value"] for r in poa} == {"0"}
    assert all(r["file"] == "medical_claim_seed.csv" for r in rows)
    dx = next(t for t in report.tables if t.table == "medical_claim_diagnosis")
    assert dx.quarantined == 4
