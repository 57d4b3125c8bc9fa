"""The FHIR R4 reader: Synthea bundles, CARIN Blue Button NDJSON, and broken input.

The NDJSON fixtures in ``tests/fixtures/fhir`` were written by hand following the CARIN BB
profiles (inpatient institutional, professional and pharmacy ExplanationOfBenefit); the numbers
asserted on them are read off those files. The Synthea counts were taken from the bundles.
"""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from payvider.engine.workspace import Workspace
from payvider.ingest.errors import InputRejected
from payvider.ingest.readers import detect_reader, fhir, ingest_path
from tests.conftest import FIXTURES, SHARED_DATA

from .helpers import quarantine_rows

NDJSON = FIXTURES / "fhir"
BUNDLES = SHARED_DATA / "synthea-sample" / "fhir"
TEMIKA = "Temika453_Wuckert783_b37f7960-7e9e-f3f7-f891-79ae4f632406.json"
needs_bundles = pytest.mark.skipif(not BUNDLES.is_dir(), reason="shared Synthea sample not present")


def _load(tmp_path: Path, folder: Path):
    ws = Workspace(tmp_path / "ws", create=True)
    return ws, ingest_path(ws, folder, reader="fhir")


def _rows(ws: Workspace, table: str) -> list[dict]:
    return pq.read_table(ws.table_files(table)[0]).to_pylist()


def _counts(report) -> dict[str, tuple[int, int, int]]:
    out = {}
    for t in report.tables:
        assert t.read == t.loaded + t.quarantined, t
        out[t.table] = (t.read, t.loaded, t.quarantined)
    return out


@pytest.fixture(scope="module")
def carin(tmp_path_factory):
    return _load(tmp_path_factory.mktemp("carin"), NDJSON)


def test_detected_as_fhir():
    assert detect_reader(NDJSON) == "fhir"


def test_carin_counts_reconcile(carin):
    _ws, report = carin
    assert _counts(report) == {
        "eligibility": (2, 1, 1),
        "medical_claim": (3, 3, 0),  # 2 inpatient lines + 1 professional line
        "medical_claim_diagnosis": (3, 3, 0),
        "medical_claim_procedure": (1, 1, 0),
        "pharmacy_claim": (1, 1, 0),
        "provider": (4, 4, 0),  # 1 practitioner + 3 provider organizations (not the payer)
        "patient": (2, 2, 0),
        "encounter": (2, 1, 1),
        "condition": (1, 1, 0),
        "observation": (3, 3, 0),  # blood pressure: 2 components; HbA1c: 1
    }


def test_missing_patient_is_quarantined_with_the_reference(carin):
    ws, report = carin
    got = {
        (r["table"], r["file"], r["row"], r["field"], r["value"])
        for r in quarantine_rows(ws, report)
    }
    assert got == {
        ("eligibility", "Coverage.ndjson", 2, "member_id", "pat-404"),
        ("encounter", "Encounter.ndjson", 2, "patient_id", "pat-404"),
    }
    reasons = {r["reason"] for r in quarantine_rows(ws, report)}
    assert "subject Patient/pat-404 is not in the export" in reasons


def test_inpatient_institutional_eob(carin):
    ws, _report = carin
    lines = sorted(
        (r for r in _rows(ws, "medical_claim") if r["claim_id"] == "CLM-INP-1"),
        key=lambda r: r["claim_line_number"],
    )
    room, implant = lines
    assert room["claim_type"] == "institutional"
    assert room["bill_type_code"] == "111"
    assert room["drg_code"] == "470"
    assert (room["admit_source_code"], room["admit_type_code"]) == ("1", "3")
    assert room["discharge_disposition_code"] == "01"
    assert (str(room["admission_date"]), str(room["discharge_date"])) == (
        "2024-03-01",
        "2024-03-05",
    )
    assert room["revenue_center_code"] == "0120"
    assert room["charge_amount"] == Decimal("20000.00")
    assert room["allowed_amount"] == Decimal("15000.00")
    assert room["paid_amount"] == Decimal("13500.00")
    assert room["deductible_amount"] == Decimal("1000.00")
    assert room["coinsurance_amount"] == Decimal("500.00")
    assert room["member_liability_amount"] == Decimal("1500.00")
    assert str(room["paid_date"]) == "2024-03-20"
    assert room["in_network_flag"] is True
    assert room["payer"] == "acme health plan"  # insurer → Organization/payer-1's name
    assert (room["billing_npi"], room["facility_npi"]) == ("1234567893", "1234567893")
    assert room["rendering_npi"] == "1245319599"  # the attending on the care team
    assert implant["hcpcs_code"] == "27447"
    assert (implant["allowed_amount"], implant["paid_amount"]) == (
        Decimal("6000.00"),
        Decimal("6000.00"),
    )
    dx = sorted(
        (r for r in _rows(ws, "medical_claim_diagnosis") if r["claim_id"] == "CLM-INP-1"),
        key=lambda r: r["diagnosis_sequence"],
    )
    assert [(r["diagnosis_code"], r["present_on_admission"]) for r in dx] == [
        ("M1711", "Y"),
        ("I10", "N"),
    ]
    (proc,) = _rows(ws, "medical_claim_procedure")
    assert (proc["procedure_code"], str(proc["procedure_date"])) == ("0SRD0JZ", "2024-03-02")


def test_professional_eob(carin):
    ws, _report = carin
    (line,) = [r for r in _rows(ws, "medical_claim") if r["claim_id"] == "CLM-PRO-1"]
    assert line["claim_type"] == "professional"
    assert (line["hcpcs_code"], line["hcpcs_modifier_1"]) == ("99213", "25")
    assert line["place_of_service_code"] == "11"
    assert line["rendering_npi"] == "1245319599"
    assert line["billing_npi"] == "1987654328"
    # submitted 150, eligible 100, paid to provider 80, copay 20: liability = copay.
    assert (line["allowed_amount"], line["paid_amount"]) == (Decimal("100.00"), Decimal("80.00"))
    assert line["copayment_amount"] == line["member_liability_amount"] == Decimal("20.00")


def test_pharmacy_eob(carin):
    ws, _report = carin
    (fill,) = _rows(ws, "pharmacy_claim")
    assert fill["claim_id"] == "CLM-RX-1"
    assert fill["ndc_code"] == "00093721401"
    assert str(fill["dispensing_date"]) == "2024-04-12"
    assert (fill["days_supply"], fill["refills"]) == (30, 0)
    assert fill["quantity"] == 30
    assert fill["prescribing_provider_npi"] == "1245319599"
    assert fill["dispensing_provider_npi"] == "1555123458"
    assert (fill["allowed_amount"], fill["paid_amount"], fill["copayment_amount"]) == (
        Decimal("30.00"),
        Decimal("20.00"),
        Decimal("10.00"),
    )


def test_coverage_and_demographics(carin):
    ws, _report = carin
    (span,) = _rows(ws, "eligibility")
    assert span["member_id"] == "pat-1"
    assert span["subscriber_id"] == "SUB-1"
    assert (str(span["enrollment_start_date"]), str(span["enrollment_end_date"])) == (
        "2024-01-01",
        "2024-12-31",
    )
    assert span["product_line"] == "medicare_advantage"  # SOPT 111 Medicare HMO
    assert span["plan"] == "Gold HMO"
    # Demographics come from the beneficiary's Patient.
    assert (span["first_name"], span["last_name"], span["gender"]) == ("Ada", "Lovelace", "female")
    assert str(span["birth_date"]) == "1950-12-10"
    assert (span["state"], span["zip_code"]) == ("MN", "55401")
    assert (span["race"], span["ethnicity"]) == ("white", "not hispanic or latino")


def test_patients_providers_and_observations(carin):
    ws, _report = carin
    patients = {r["patient_id"]: r for r in _rows(ws, "patient")}
    assert patients["pat-2"]["sex"] == "unknown"  # administrative gender "other"
    assert patients["pat-2"]["state"] == "MN"  # "Minnesota"
    assert str(patients["pat-2"]["death_date"]) == "2024-02-01"
    osler = next(r for r in _rows(ws, "provider") if r["npi"] == "1245319599")
    assert (osler["cms_specialty_code"], osler["primary_care_flag"]) == ("08", True)
    obs = {r["source_code"]: r for r in _rows(ws, "observation")}
    assert obs["8480-6"]["numeric_result"] == 128
    assert obs["8462-4"]["numeric_result"] == 82
    assert obs["4548-4"]["numeric_result"] == Decimal("7.2")
    (enc,) = _rows(ws, "encounter")
    assert enc["encounter_type"] == "inpatient"
    assert enc["primary_diagnosis_code"] == "M179"  # SNOMED 239873007 via the shipped map


# --- broken input (the reader alone: validation is covered above) -------------------------------


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "export"
    shutil.copytree(NDJSON, folder)
    return folder


def _raw_counts(batch) -> dict[str, tuple[int, int, int]]:
    """(read, rows handed to validation, quarantined by the reader) per table; they reconcile."""
    out = {}
    for name, table in batch.tables.items():
        bad = sum(1 for m in batch.malformed if m["table"] == name)
        assert batch.rows_read[name] == table.num_rows + bad, name
        out[name] = (batch.rows_read[name], table.num_rows, bad)
    return out


def test_broken_json_line_is_quarantined_with_its_line(tmp_path):
    folder = _copy(tmp_path)
    with (folder / "Patient.ndjson").open("a") as f:
        f.write('{"resourceType": "Patient", "id": "pat-3", "birthDate": \n')
    batch = fhir.read(folder)
    assert _raw_counts(batch)["patient"] == (3, 2, 1)
    (bad,) = [m for m in batch.malformed if m["table"] == "patient"]
    assert (bad["file"], bad["row"]) == ("Patient.ndjson", 3)
    assert bad["reason"].startswith("not valid JSON")
    assert "line 3" in bad["reason"]


def test_unknown_resource_type_is_reported(tmp_path):
    folder = _copy(tmp_path)
    (folder / "Other.ndjson").write_text(
        '{"resourceType": "Basic", "id": "b1"}\n{"resourceType": "Basic", "id": "b2"}\n'
        '{"id": "no-type"}\n'
    )
    batch = fhir.read(folder)
    finding = next(f for f in batch.findings if f.check == "resources_not_mapped")
    assert finding.rows == 2
    assert "Basic 2" in finding.detail
    # A record that is not a resource, in a file not named after a type, counts against no
    # table: it is reported with its file and line.
    unread = next(f for f in batch.findings if f.check == "records_not_read")
    assert unread.rows == 1
    assert "Other.ndjson line 3: not a FHIR resource (no resourceType)" in unread.detail


def test_claim_diagnosis_pointing_at_a_missing_condition(tmp_path):
    folder = _copy(tmp_path)
    eobs = [json.loads(line) for line in (folder / "ExplanationOfBenefit.ndjson").open()]
    eobs[1]["diagnosis"] = [
        {"sequence": 1, "diagnosisReference": {"reference": "Condition/cond-1"}},
        {"sequence": 2, "diagnosisReference": {"reference": "Condition/gone"}},
    ]
    (folder / "ExplanationOfBenefit.ndjson").write_text("".join(json.dumps(e) + "\n" for e in eobs))
    batch = fhir.read(folder)
    assert _raw_counts(batch)["medical_claim_diagnosis"] == (4, 3, 1)
    dx = batch.tables["medical_claim_diagnosis"].to_pylist()
    codes = {
        r["diagnosis_sequence"]: r["diagnosis_code"] for r in dx if r["claim_id"] == "CLM-PRO-1"
    }
    assert codes == {"1": "E119"}  # Condition cond-1 is SNOMED 44054006 → E11.9
    (bad,) = [m for m in batch.malformed if m["table"] == "medical_claim_diagnosis"]
    assert bad["reason"] == "diagnosisReference Condition/gone is not in the export"
    assert (bad["file"], bad["row"]) == ("ExplanationOfBenefit.ndjson", 2)


def test_broken_bundle_names_file_and_line(tmp_path, monkeypatch):
    (tmp_path / "in").mkdir()
    path = tmp_path / "in" / "bundle.json"
    path.write_text(
        '{"resourceType": "Bundle",\n "entry": [\n  {"resource": {"resourceType": }}\n]}'
    )
    for streaming in (fhir._ijson, None):
        monkeypatch.setattr(fhir, "_ijson", streaming)
        with pytest.raises(InputRejected) as err:
            fhir.read(tmp_path / "in")
        assert err.value.file == "bundle.json"
        assert "line 3" in err.value.problem


def test_no_fhir_files(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(InputRejected, match="no FHIR"):
        fhir.read(tmp_path)


# --- Synthea bundles --------------------------------------------------------------------------


@needs_bundles
def test_synthea_patient_bundle(tmp_path, monkeypatch):
    folder = tmp_path / "one"
    folder.mkdir()
    shutil.copyfile(BUNDLES / TEMIKA, folder / TEMIKA)
    batch = fhir.read(folder)
    # Temika's bundle: 1 Patient, 23 Encounters, 25 Conditions, 20 Procedures, 20 Immunizations,
    # 7 MedicationRequests, 156 Observations (13 blood pressures with 2 components and no value
    # of their own: 143 + 26 = 169 rows), 30 ExplanationOfBenefit (23 medical, 7 pharmacy). The
    # medical EOBs have 95 items, 25 of which only repeat a diagnosis: 70 lines.
    counts = _raw_counts(batch)
    assert counts["patient"] == (1, 1, 0)
    assert counts["encounter"] == (23, 23, 0)
    assert counts["condition"] == (25, 25, 0)
    assert counts["procedure"] == (20, 20, 0)
    assert counts["immunization"] == (20, 20, 0)
    assert counts["medication"] == (7, 7, 0)
    assert counts["observation"] == (169, 169, 0)
    assert counts["medical_claim"] == (70, 70, 0)
    assert counts["pharmacy_claim"] == (7, 7, 0)
    assert "eligibility" not in counts  # no Coverage resources in Synthea bundles
    assert next(f for f in batch.findings if f.check == "no_coverage").rows == 30
    assert next(f for f in batch.findings if f.check == "diagnosis_items_skipped").rows == 25
    # Synthea's pharmacy EOBs carry RxNorm codes only: no NDC (validation quarantines them).
    rx = batch.tables["pharmacy_claim"].to_pylist()
    assert {r["ndc_code"] for r in rx} == {None}
    assert "308192" in {r["rxnorm_code"] for r in rx}  # amoxicillin 500 MG
    # EOB for claim cfbd9b80… (throat culture, 2015-01-12): the procedure line is adjudicated
    # with submitted = allowed 2635.03, provider paid 2108.024 and coinsurance 527.006
    # (Synthea's 80/20 split; validation rounds to cents).
    lines = batch.tables["medical_claim"].to_pylist()
    (line,) = [
        r for r in lines if r["claim_id"].startswith("cfbd9b80") and r["charge_amount"] is not None
    ]
    assert Decimal(line["allowed_amount"]) == Decimal("2635.03")
    assert round(Decimal(line["paid_amount"]), 2) == Decimal("2108.02")
    assert round(Decimal(line["coinsurance_amount"]), 2) == Decimal("527.01")
    assert line["member_id"] == "b37f7960-7e9e-f3f7-f891-79ae4f632406"
    # Streaming the bundle (ijson) and loading it whole give the same rows.
    if fhir._ijson is not None:
        monkeypatch.setattr(fhir, "_ijson", None)
        whole = fhir.read(folder)
        for name, table in batch.tables.items():
            assert _canonical_order(whole.tables[name]) == _canonical_order(table), name


def _canonical_order(table) -> list[tuple]:
    """Rows in a canonical order (references are resolved by a parallel join)."""
    return sorted(tuple(str(v) for v in r.values()) for r in table.to_pylist())


@needs_bundles
def test_synthea_export_with_directories():
    batch = fhir.read(BUNDLES)
    counts = _raw_counts(batch)
    # 47 Practitioners + 47 Organizations in the hospital/practitioner bundles.
    assert counts["provider"] == (94, 94, 0)
    assert counts["patient"] == (2, 2, 0)
    # Organizations get the NPI the Synthea CSV reader derives from the same id; Synthea's
    # practitioner NPIs are well formed and kept.
    from payvider.ingest.readers._common import derived_npi

    npis = set(batch.tables["provider"].column("npi").to_pylist())
    assert derived_npi("74ab949d-17ac-3309-83a0-13b4405c66aa", "organization") in npis
    assert "9999984591" in npis
