"""The Synthea CSV reader on a real Synthea export (11 patients, Massachusetts, seed 1714182814995).

Every expected number below was counted by hand from the CSV files (``awk``/``grep`` over
``payer_transitions.csv``, ``claims.csv`` and ``claims_transactions.csv``), not from the reader.
"""

from __future__ import annotations

import csv
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from payvider.engine.workspace import Workspace
from payvider.ingest.errors import InputRejected
from payvider.ingest.readers import detect_reader, ingest_path, synthea
from tests.conftest import SHARED_DATA

from .helpers import counts, quarantine_rows, table_rows

CSV = SHARED_DATA / "synthea-sample" / "csv"
pytestmark = pytest.mark.skipif(not CSV.is_dir(), reason="shared Synthea sample not present")

TEMIKA = "b37f7960-7e9e-f3f7-f891-79ae4f632406"
MEDICARE = "a735bf55-83e9-331a-899d-a82a60b9f60c"


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    ws = Workspace(tmp_path_factory.mktemp("synthea") / "ws", create=True)
    report = ingest_path(ws, CSV, reader="synthea")
    return ws, report


def test_detected_as_synthea():
    assert detect_reader(CSV) == "synthea"
    assert detect_reader(CSV.parent) == "synthea"  # the export root with its csv/ folder


def test_every_table_reconciles(loaded):
    _ws, report = loaded
    assert report.reader == "synthea"
    for t in report.tables:
        assert t.read == t.loaded + t.quarantined, t
    # Files the reader has no canonical table for are listed, not silently skipped.
    assert report.ignored_files == [
        "allergies.csv",
        "careplans.csv",
        "devices.csv",
        "imaging_studies.csv",
        "supplies.csv",
    ]


def test_ehr_side_counts(loaded):
    _ws, report = loaded
    # One canonical row per CSV record (wc -l minus the header).
    assert counts(report, "patient") == (11, 11, 0)
    assert counts(report, "encounter") == (388, 388, 0)
    assert counts(report, "condition") == (273, 273, 0)
    assert counts(report, "procedure") == (889, 889, 0)
    assert counts(report, "observation") == (3626, 3626, 0)
    assert counts(report, "immunization") == (129, 129, 0)
    assert counts(report, "medication") == (173, 173, 0)
    # 47 providers.csv rows + 47 organizations.csv rows.
    assert counts(report, "provider") == (94, 94, 0)


def test_eligibility_spans_from_payer_transitions(loaded):
    ws, report = loaded
    # payer_transitions.csv has 128 spans; 5 are with NO_INSURANCE (payer e03e23c9…), which is
    # not enrollment: 123 spans.
    assert counts(report, "eligibility") == (123, 123, 0)
    finding = next(f for f in report.findings if f.check == "not_enrolled")
    assert finding.rows == 5
    spans = sorted(
        (r for r in table_rows(ws, "eligibility") if r["member_id"] == TEMIKA),
        key=lambda r: r["enrollment_start_date"],
    )
    first = spans[0]
    # START_DATE 2013-03-22T18:34:30Z, END_DATE 2014-03-21T18:34:30Z: the span ends the day before
    # the next one starts.
    assert str(first["enrollment_start_date"]) == "2013-03-22"
    assert str(first["enrollment_end_date"]) == "2014-03-20"
    assert first["payer"] == "medicaid"
    assert first["product_line"] == "medicaid"
    assert first["gender"] == "female"
    assert str(first["birth_date"]) == "2011-03-18"
    assert first["state"] == "MA"
    assert first["zip_code"] == "02081"


def test_claim_lines_are_charge_rows(loaded):
    _ws, report = loaded
    # claims_transactions.csv has 1579 CHARGE rows: 173 bill medications (pharmacy_claim), 1406
    # are medical lines, of which 4 belong to the 3 claims with no primary insurance (self-pay).
    med = counts(report, "medical_claim")
    rx = counts(report, "pharmacy_claim")
    assert med[0] + rx[0] == 1579
    assert med == (1406, 1402, 4)
    # Synthea codes fills in RxNorm only: pharmacy_claim needs an NDC, so every fill is
    # quarantined (the prescriptions are loaded into medication).
    assert rx == (173, 0, 173)


def test_allowed_and_paid_of_a_claim_with_a_secondary_payer(loaded):
    ws, _report = loaded
    # Claim fb1e68d2…: CHARGE 142.58; PAYMENT ECHECK 114.06 (Medicare); TRANSFEROUT/TRANSFERIN
    # 28.52 to the secondary payer (TRANSFERTYPE 2), which pays it by ECHECK.
    lines = [r for r in table_rows(ws, "medical_claim") if r["claim_id"].startswith("fb1e68d2")]
    assert len(lines) == 1
    line = lines[0]
    assert line["claim_line_number"] == 1
    assert line["payer"] == "medicare"
    assert line["member_id"] == "0432d0f1-d9c8-da30-9750-39bfe10c0cd9"
    assert line["charge_amount"] == Decimal("142.58")
    assert line["allowed_amount"] == Decimal("142.58")  # no ADJUSTMENT rows
    assert line["paid_amount"] == Decimal("114.06")  # the primary payer only
    assert line["copayment_amount"] == Decimal("0.00")
    assert line["member_liability_amount"] == Decimal("28.52")  # 142.58 - 114.06
    # Encounter 3d570a8c… is ambulatory: a professional claim in an office.
    assert line["claim_type"] == "professional"
    assert line["place_of_service_code"] == "11"
    assert str(line["claim_start_date"]) == "1997-10-21"


def test_copay_and_two_lines(loaded):
    ws, _report = loaded
    # Claim cfbd9b80… (Medicaid): line 1 CHARGE 85.55, COPAY 50.00, ECHECK 35.55;
    # line 2 CHARGE 2635.03, ECHECK 2635.03.
    lines = sorted(
        (r for r in table_rows(ws, "medical_claim") if r["claim_id"].startswith("cfbd9b80")),
        key=lambda r: r["claim_line_number"],
    )
    got = [
        (
            r["claim_line_number"],
            r["allowed_amount"],
            r["paid_amount"],
            r["copayment_amount"],
            r["member_liability_amount"],
        )
        for r in lines
    ]
    assert got == [
        (1, Decimal("85.55"), Decimal("35.55"), Decimal("50.00"), Decimal("50.00")),
        (2, Decimal("2635.03"), Decimal("2635.03"), Decimal("0.00"), Decimal("0.00")),
    ]


def test_vaccine_lines_with_epoch_end_date_load(loaded):
    ws, report = loaded
    # Synthea writes TODATE 1970-01-01 on vaccine lines: the line ends on its FROMDATE rather than
    # failing the date-order rule.
    finding = next(f for f in report.findings if f.check == "epoch_to_date")
    assert finding.rows == 516  # awk: claims_transactions rows whose TODATE < FROMDATE
    claim = [r for r in table_rows(ws, "medical_claim") if r["claim_id"].startswith("4d42ae75")]
    flu = [r for r in claim if str(r["claim_line_end_date"]) == "2015-02-20"]
    assert len(flu) == len(claim)


def test_quarantine_reasons_are_clear(loaded):
    ws, report = loaded
    rows = quarantine_rows(ws, report)
    self_pay = [r for r in rows if r["table"] == "medical_claim"]
    assert len(self_pay) == 4
    assert {r["reason"] for r in self_pay} == {
        "self-pay claim (no insurance): not a payer claim line"
    }
    assert {r["file"] for r in self_pay} == {"claims_transactions.csv"}
    dx = [r for r in rows if r["table"] == "medical_claim_diagnosis"]
    assert len(dx) == 224
    # Claim fb1e68d2… lists SNOMED 419199007 (allergy to substance) first: no ICD-10-CM mapping.
    example = next(r for r in dx if r["value"] == "419199007")
    assert example["file"] == "claims.csv"
    assert example["field"].startswith("DIAGNOSIS")
    assert "no ICD-10-CM mapping" in example["reason"]
    rx = [r for r in rows if r["table"] == "pharmacy_claim"]
    assert {r["field"] for r in rx} == {"ndc_code"}
    assert {r["reason"] for r in rx} == {"required field is missing"}


def test_claim_diagnoses_are_mapped_to_icd10cm(loaded):
    ws, report = loaded
    # 548 non-empty DIAGNOSISn values on the 555 insured medical claims with lines; 59 repeat a
    # code already on the claim; of the 489 distinct (claim, code) pairs 265 map.
    assert counts(report, "medical_claim_diagnosis") == (489, 265, 224)
    rows = table_rows(ws, "medical_claim_diagnosis")
    first = [r for r in rows if r["claim_id"] == "34adf0cb-891e-1278-1687-a85bc7fa1633"]
    # SNOMED 195662009 acute viral pharyngitis → ICD-10-CM J02.8 (listed twice on the claim).
    assert [(r["diagnosis_sequence"], r["diagnosis_code"]) for r in first] == [(1, "J028")]


def test_patient_demographics(loaded):
    ws, _report = loaded
    p = next(r for r in table_rows(ws, "patient") if r["patient_id"] == TEMIKA)
    assert (p["first_name"], p["last_name"], p["sex"]) == ("Temika453", "Wuckert783", "female")
    assert (p["city"], p["state"], p["zip_code"]) == ("Walpole", "MA", "02081")
    assert (p["race"], p["ethnicity"]) == ("white", "not hispanic or latino")


def _copy(tmp_path: Path, names: tuple[str, ...]) -> Path:
    folder = tmp_path / "export"
    folder.mkdir()
    for name in names:
        shutil.copyfile(CSV / name, folder / name)
    return folder


def test_missing_required_column_rejects_naming_the_file(tmp_path):
    folder = _copy(tmp_path, ("patients.csv", "payer_transitions.csv", "payers.csv"))
    path = folder / "patients.csv"
    rows = list(csv.reader(path.open(newline="")))
    drop = rows[0].index("BIRTHDATE")
    with path.open("w", newline="") as f:
        csv.writer(f).writerows([r[:drop] + r[drop + 1 :] for r in rows])
    with pytest.raises(InputRejected) as err:
        synthea.read(folder)
    assert err.value.file == "patients.csv"
    assert "BIRTHDATE" in err.value.problem


def test_not_a_synthea_folder(tmp_path):
    with pytest.raises(InputRejected, match="not a Synthea CSV export"):
        synthea.read(tmp_path)


def test_bad_date_is_quarantined_with_file_and_row(tmp_path):
    folder = _copy(tmp_path, ("patients.csv", "payer_transitions.csv", "payers.csv"))
    path = folder / "payer_transitions.csv"
    lines = path.read_text().splitlines()
    # Row 2: a span with a start date that is not a date.
    lines[2] = lines[2].replace("2014-03-21T18:34:30Z", "not-a-date", 1)
    path.write_text("\n".join(lines) + "\n")
    ws = Workspace(tmp_path / "ws", create=True)
    report = ingest_path(ws, folder, reader="synthea")
    assert counts(report, "eligibility") == (123, 122, 1)
    bad = quarantine_rows(ws, report)
    # One row quarantined; its start is not a date, so its end (the day before END_DATE, which
    # must not precede the start) is reported as well.
    assert {(r["file"], r["row"]) for r in bad} == {("payer_transitions.csv", 2)}
    start = next(r for r in bad if r["field"] == "enrollment_start_date")
    assert start["value"] == "not-a-date"
    assert "not a date" in start["reason"]
