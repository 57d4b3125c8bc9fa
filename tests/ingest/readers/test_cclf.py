"""The CCLF reader on hand-made fixture files laid out by the published record layouts.

The scenario is described in ``cclf_records.py``; every expected number below was worked out by
hand from it (amounts, which claim versions survive, diagnosis order, enrollment spans).
"""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import ibis
import pytest

from payvider.engine.workspace import Workspace
from payvider.ingest.errors import InputRejected
from payvider.ingest.readers import cclf, detect_reader, ingest_path
from payvider.marts.final_claims import resolve_adjustments
from tests.ingest.readers import cclf_records as R

from .helpers import counts, quarantine_rows, table_rows

FIXTURES = R.FIXTURES


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    ws = Workspace(tmp_path_factory.mktemp("cclf") / "ws", create=True)
    report = ingest_path(ws, FIXTURES, reader="auto")
    return ws, report


def _copy(tmp_path: Path, skip: tuple[str, ...] = ()) -> Path:
    target = tmp_path / "cclf"
    target.mkdir()
    for p in FIXTURES.iterdir():
        if not any(code in p.name for code in skip):
            shutil.copy(p, target / p.name)
    return target


def _edit(folder: Path, code: str, row: int, start: int, text: str) -> None:
    """Overwrite characters of record ``row`` (1-based) of the ``code`` file at ``start``."""
    path = folder / R.file_name(code)
    lines = path.read_text().splitlines()
    line = lines[row - 1]
    lines[row - 1] = line[: start - 1] + text + line[start - 1 + len(text) :]
    path.write_text("".join(x + "\n" for x in lines))


def _id(claim_id: str | None) -> str | None:
    """CUR_CLM_UNIQ_ID as written in the tests (the files zero-fill it to 13 digits)."""
    return claim_id.lstrip("0") if claim_id else claim_id


def _field_start(kind: str, name: str) -> int:
    return next(f.start for f in cclf.layouts()[kind] if f.name == name)


# --- files and layouts ---------------------------------------------------------------------------


def test_fixture_files_are_what_the_layout_builder_writes():
    on_disk = {p.name: p.read_text() for p in FIXTURES.iterdir()}
    assert on_disk == R.contents()


def test_layouts_are_the_published_record_lengths():
    lengths = {kind: cclf.record_length(kind) for kind in cclf.layouts()}
    assert lengths == {
        "CCLF1": 437,
        "CCLF2": 199,
        "CCLF3": 114,
        "CCLF4": 112,
        "CCLF5": 388,
        "CCLF6": 247,
        "CCLF7": 195,
        "CCLF8": 549,
        "CCLF9": 55,
        "CCLFA": 324,
        "CCLFB": 128,
    }
    # Fields are contiguous: each starts where the previous one ends.
    for kind, fields in cclf.layouts().items():
        for before, after in zip(fields, fields[1:], strict=False):
            assert after.start == before.start + before.length, (kind, after.name)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("P.A9999.ACO.ZC1Y23.D230915.T0100000", "CCLF1"),
        ("P.A9999.ACO.ZCAY23.D230915.T0100000", "CCLFA"),
        ("P.A9999.ACO.ZC5R22.D230415.T0100000", "CCLF5"),
        ("CCLF8.txt", "CCLF8"),
        ("cclfb_2024.dat", "CCLFB"),
        ("P.A9999.ACO.ZC0Y23.D230915.T0100000", "CCLF0"),
        ("medical_claim.csv", None),
        ("notes.txt", None),
    ],
)
def test_file_kind_from_name(name, kind):
    assert cclf.file_kind(name) == kind


def test_detected_as_cclf():
    assert detect_reader(FIXTURES) == "cclf"
    assert cclf.performance_year(R.file_name("ZC8")) == 2023
    assert cclf.performance_year("CCLF8.txt") is None


# --- what loads ------------------------------------------------------------------------------------


def test_every_table_reconciles(loaded):
    _ws, report = loaded
    assert report.reader == "cclf"
    assert {t.table: (t.read, t.loaded, t.quarantined) for t in report.tables} == {
        "eligibility": (3, 3, 0),
        # 1001: 3 revenue lines; 1002, 1003, 1004: 2 each; 1005: one line from its header;
        # 2001: 2 lines; 2002, 2003, 2004: 1 each; DME 3001: 1.
        "medical_claim": (16, 16, 0),
        "medical_claim_diagnosis": (13, 13, 0),
        "medical_claim_procedure": (2, 2, 0),
        "pharmacy_claim": (3, 3, 0),
        "provider": (7, 7, 0),
    }


def test_final_claims_after_adjustments(loaded):
    ws, _ = loaded
    con = ibis.duckdb.connect()
    claims = con.read_parquet(ws.table_files("medical_claim")[0])
    final = resolve_adjustments(claims)
    per_claim = (
        final.group_by("claim_id")
        .aggregate(
            lines=final.count(), paid=final.paid_amount.sum(), allowed=final.allowed_amount.sum()
        )
        .to_pyarrow()
        .to_pylist()
    )
    got = {_id(r["claim_id"]): (r["lines"], r["paid"], r["allowed"]) for r in per_claim}
    assert got == {
        # Inpatient DRG payment on the first line; allowed adds the CCLFA deductible.
        "1001": (3, Decimal("12000.00"), Decimal("13600.00")),
        # 1002 was cancelled by 1003 and replaced by 1004.
        "1004": (2, Decimal("400.00"), Decimal("400.00")),
        "1005": (1, Decimal("2100.00"), Decimal("2100.00")),
        "2001": (2, Decimal("108.00"), Decimal("140.00")),
        # 2002 was cancelled by 2003; 2004 adjusts a claim that is not in the files.
        "2004": (1, Decimal("150.00"), Decimal("190.00")),
        "3001": (1, Decimal("60.00"), Decimal("75.00")),
    }
    assert sum(v[1] for v in got.values()) == Decimal("14818.00")
    assert sum(v[2] for v in got.values()) == Decimal("16505.00")


def test_adjustment_links(loaded):
    ws, _ = loaded
    rows = table_rows(ws, "medical_claim")
    links = {_id(r["claim_id"]): (r["adjustment_type"], _id(r["adjusted_claim_id"])) for r in rows}
    assert links["1001"] == ("original", None)
    assert links["1003"] == ("void", "1002")
    assert links["1004"] == ("replacement", "1002")
    assert links["2003"] == ("void", "2002")
    assert links["2004"] == ("original", None)
    rx = {
        _id(r["claim_id"]): (r["adjustment_type"], _id(r["adjusted_claim_id"]))
        for r in table_rows(ws, "pharmacy_claim")
    }
    assert rx == {
        "4001": ("original", None),
        "4002": ("replacement", "4001"),
        "4003": ("original", None),
    }


def test_institutional_lines(loaded):
    ws, _ = loaded
    lines = {
        (_id(r["claim_id"]), r["claim_line_number"]): r
        for r in table_rows(ws, "medical_claim")
        if r["claim_type"] == "institutional"
    }
    first = lines[("1001", 1)]
    assert first["bill_type_code"] == "111"
    assert first["drg_code"] == "281" and first["drg_code_type"] == "ms-drg"
    assert first["revenue_center_code"] == "0120"
    assert str(first["admission_date"]) == "2023-02-01"
    assert str(first["discharge_date"]) == "2023-02-05"
    assert first["admit_source_code"] == "7" and first["discharge_disposition_code"] == "01"
    assert first["charge_amount"] == Decimal("45000.00")
    assert first["deductible_amount"] == Decimal("1600.00")
    assert first["facility_npi"] == R.HOSPITAL and first["rendering_npi"] == R.ATTENDING
    assert str(first["paid_date"]) == "2023-02-20"  # CLM_EFCTV_DT
    assert lines[("1001", 2)]["paid_amount"] == Decimal("0.00")
    assert lines[("1001", 2)]["charge_amount"] is None
    # Outpatient lines keep their own paid amounts; HCPCS and modifiers come through.
    assert lines[("1004", 1)]["paid_amount"] == Decimal("350.00")
    assert lines[("1004", 1)]["hcpcs_code"] == "99284"
    assert lines[("1004", 1)]["hcpcs_modifier_1"] == "25"
    assert lines[("1004", 1)]["admission_date"] is None
    # A header without revenue lines becomes one line; its MBI is the current one (CCLF9).
    assert lines[("1005", 1)]["member_id"] == R.MBI_3
    assert lines[("1005", 1)]["bill_type_code"] == "321"


def test_professional_and_dme_lines(loaded):
    ws, _ = loaded
    lines = {
        (_id(r["claim_id"]), r["claim_line_number"]): r
        for r in table_rows(ws, "medical_claim")
        if r["claim_type"] == "professional"
    }
    visit = lines[("2001", 1)]
    assert visit["place_of_service_code"] == "11"
    assert visit["hcpcs_code"] == "99214"
    assert visit["rendering_npi"] == R.PCP and visit["rendering_tin"] == R.TIN
    assert visit["member_liability_amount"] == Decimal("30.00")
    assert lines[("2004", 1)]["member_id"] == R.MBI_3
    cpap = lines[("3001", 1)]
    assert (cpap["hcpcs_code"], cpap["place_of_service_code"]) == ("E0601", "12")
    assert cpap["billing_npi"] == R.DME_SUPPLIER


def test_diagnosis_order(loaded):
    ws, _ = loaded
    by_claim: dict[str, list] = {}
    for r in sorted(
        table_rows(ws, "medical_claim_diagnosis"), key=lambda r: r["diagnosis_sequence"]
    ):
        by_claim.setdefault(_id(r["claim_id"]), []).append(
            (r["diagnosis_sequence"], r["diagnosis_code"], r["present_on_admission"])
        )
    # The principal (CCLF1 PRNCPL_DGNS_CD) comes first although CCLF4 lists it second.
    assert by_claim["1001"] == [(1, "I214", "Y"), (2, "E119", "Y"), (3, "N179", "N")]
    # No CCLF4 rows: the principal diagnosis from the header.
    assert by_claim["1002"] == [(1, "R079", None)]
    assert by_claim["1005"] == [(1, "I509", None)]
    # Part B: CLM_DGNS_1..12 in order, the blank third position skipped.
    assert by_claim["2001"] == [(1, "E119", None), (2, "I10", None), (3, "Z794", None)]


def test_procedures(loaded):
    ws, _ = loaded
    rows = sorted(table_rows(ws, "medical_claim_procedure"), key=lambda r: r["procedure_sequence"])
    assert [
        (r["procedure_sequence"], r["procedure_code"], str(r["procedure_date"])) for r in rows
    ] == [
        (1, "02703ZZ", "2023-02-02"),
        (2, "B2111ZZ", "2023-02-03"),
    ]
    assert {r["procedure_code_type"] for r in rows} == {"icd-10-pcs"}


def test_eligibility_spans(loaded):
    ws, _ = loaded
    rows = {r["member_id"]: r for r in table_rows(ws, "eligibility")}
    spans = {
        m: (str(r["enrollment_start_date"]), str(r["enrollment_end_date"])) for m, r in rows.items()
    }
    assert spans == {
        R.MBI_1: ("2023-01-01", "2023-12-31"),
        # Part B began 2023-06-01: the span starts with the later entitlement.
        R.MBI_2: ("2023-06-01", "2023-12-31"),
        # Died 2023-08-15.
        R.MBI_3: ("2023-01-01", "2023-08-15"),
    }
    mary, jose, john = rows[R.MBI_1], rows[R.MBI_2], rows[R.MBI_3]
    assert (mary["gender"], mary["race"], mary["death_date"]) == ("female", "white", None)
    assert (jose["gender"], jose["ethnicity"], jose["race"]) == ("male", "hispanic or latino", None)
    assert jose["dual_status_code"] == "02" and jose["original_reason_entitlement_code"] == "1"
    assert jose["medicare_status_code"] == "20"
    assert jose["address"] == "5 HARBOR RD APT 2" and jose["zip_code"] == "21202"
    assert str(john["death_date"]) == "2023-08-15"
    assert {r["product_line"] for r in rows.values()} == {"medicare_ffs"}
    assert {r["payer"] for r in rows.values()} == {"medicare"}


def test_pharmacy_claims(loaded):
    ws, _ = loaded
    rows = {_id(r["claim_id"]): r for r in table_rows(ws, "pharmacy_claim")}
    fill = rows["4002"]
    assert (fill["ndc_code"], fill["days_supply"], fill["quantity"]) == ("00093104801", 30, 60)
    assert fill["prescribing_provider_npi"] == R.PRESCRIBER
    assert fill["dispensing_provider_npi"] == R.PHARMACY
    assert fill["copayment_amount"] == Decimal("7.50")
    assert fill["paid_amount"] is None
    # A pharmacy identified by its NCPDP number (qualifier 07) has no NPI.
    assert rows["4003"]["dispensing_provider_npi"] is None
    assert rows["4003"]["refills"] == 2


def test_providers_from_claims(loaded):
    ws, report = loaded
    rows = {r["npi"]: r for r in table_rows(ws, "provider")}
    assert set(rows) == {
        R.PCP,
        R.INTERNIST,
        R.ATTENDING,
        R.HOSPITAL,
        R.DME_SUPPLIER,
        R.PRESCRIBER,
        R.PHARMACY,
    }
    pcp = rows[R.PCP]
    assert (pcp["cms_specialty_code"], pcp["tin"], pcp["entity_type"]) == (
        "08",
        R.TIN,
        "individual",
    )
    assert pcp["provider_name"] == f"NPI {R.PCP}"
    assert rows[R.HOSPITAL]["entity_type"] == "organization"
    assert any(f.check == "provider_names_not_in_cclf" for f in report.findings)


# --- malformed input ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    """The fixture files with four defects, loaded as one batch.

    * CCLF1 record 1 (claim 1001): CLM_FROM_DT 2023-02-30;
    * CCLF5 record 2 (claim 2001 line 2): CLM_LINE_CVRD_PD_AMT with a letter O for a zero;
    * CCLF5 record 3 (claim 2002): cut short to 300 characters, so that
    * CCLF5 record 4 (claim 2003, the cancellation of 2002) cancels a claim that is not there.
    """
    tmp = tmp_path_factory.mktemp("broken")
    folder = _copy(tmp)
    _edit(folder, "ZC1", 1, _field_start("CCLF1", "CLM_FROM_DT"), "2023-02-30")
    _edit(folder, "ZC5", 2, _field_start("CCLF5", "CLM_LINE_CVRD_PD_AMT"), "8.O0".rjust(15, "0"))
    path = folder / R.file_name("ZC5")
    lines = path.read_text().splitlines()
    lines[2] = lines[2][:300]
    path.write_text("".join(x + "\n" for x in lines))
    ws = Workspace(tmp / "ws", create=True)
    report = ingest_path(ws, folder, reader="cclf")
    quarantine = quarantine_rows(ws, report)
    return ws, report, quarantine


def _one(quarantine: list[dict], table: str, code: str, row: int) -> dict:
    (hit,) = [
        q
        for q in quarantine
        if q["table"] == table and q["file"] == R.file_name(code) and q["row"] == row
    ]
    return hit


def test_malformed_counts_reconcile(broken):
    _ws, report, _q = broken
    for t in report.tables:
        assert t.read == t.loaded + t.quarantined, t
    # Lines: 16 good ones minus 1001's three, 2001 line 2, 2002 and 2003 = 10 loaded; quarantined:
    # the CCLF1 header, its three CCLF2 lines, the bad amount, the short record, the cancellation.
    assert counts(report, "medical_claim") == (17, 10, 7)
    # 1001's three CCLF4 rows have no header; 2003's diagnosis goes with its claim.
    assert counts(report, "medical_claim_diagnosis") == (12, 8, 4)
    assert counts(report, "medical_claim_procedure") == (2, 0, 2)
    assert counts(report, "eligibility") == (3, 3, 0)


def test_short_record_names_file_and_row(broken):
    _ws, _report, q = broken
    short = _one(q, "medical_claim", "ZC5", 3)
    assert short["reason"] == (
        "record is 300 characters long; CCLF5 records are 388 (CCLF Information Packet v36 layout)"
    )


def test_non_numeric_amount_names_file_row_and_field(broken):
    _ws, _report, q = broken
    bad = _one(q, "medical_claim", "ZC5", 2)
    assert bad["field"] == "CLM_LINE_CVRD_PD_AMT"
    assert bad["value"] == "000000000008.O0"
    assert bad["reason"].startswith("CLM_LINE_CVRD_PD_AMT: not an amount")


def test_bad_date_quarantines_the_header_and_its_lines(broken):
    _ws, _report, q = broken
    header = _one(q, "medical_claim", "ZC1", 1)
    assert (header["field"], header["value"]) == ("CLM_FROM_DT", "2023-02-30")
    assert "not a date" in header["reason"]
    for row in (1, 2, 3):
        orphan = _one(q, "medical_claim", "ZC2", row)
        assert (orphan["field"], orphan["value"]) == ("CUR_CLM_UNIQ_ID", "0000000001001")
        assert "CCLF1 header is not loaded" in orphan["reason"]
    assert _one(q, "medical_claim_diagnosis", "ZC4", 1)["field"] == "CUR_CLM_UNIQ_ID"
    assert _one(q, "medical_claim_procedure", "ZC3", 2)["field"] == "CUR_CLM_UNIQ_ID"


def test_cancellation_without_original_is_quarantined(broken):
    ws, _report, q = broken
    cancel = _one(q, "medical_claim", "ZC5", 4)
    assert (cancel["field"], cancel["value"]) == ("CLM_ADJSMT_TYPE_CD", "1")
    assert "cancellation" in cancel["reason"] and "not in these files" in cancel["reason"]
    loaded = {_id(r["claim_id"]) for r in table_rows(ws, "medical_claim")}
    assert loaded == {"1002", "1003", "1004", "1005", "2001", "2004", "3001"}


def test_signed_amounts_and_null_dates(tmp_path):
    folder = _copy(tmp_path)
    start = _field_start("CCLF5", "CLM_LINE_ALOWD_CHRG_AMT")
    _edit(folder, "ZC5", 1, start, "130.00-".rjust(17))  # trailing sign
    _edit(folder, "ZC5", 2, start, "-10.00".rjust(17))
    raw = cclf.read(folder)
    lines = raw.tables["medical_claim"].to_pylist()
    allowed = {
        (_id(r["claim_id"]), r["claim_line_number"]): r["allowed_amount"]
        for r in lines
        if r["claim_type"] == "professional"
    }
    assert allowed[("2001", "1")] == "-130.00" and allowed[("2001", "2")] == "-10.00"
    # 1000-01-01 and 9999-12-31 are CCLF's "no date": no death date for the living.
    deaths = {r["member_id"]: r.get("death_date") for r in raw.tables["eligibility"].to_pylist()}
    assert deaths == {R.MBI_1: None, R.MBI_2: None, R.MBI_3: "2023-08-15"}


def test_unknown_file_is_rejected(tmp_path):
    folder = _copy(tmp_path)
    (folder / "notes.txt").write_text("hello\n")
    ws = Workspace(tmp_path / "ws", create=True)
    with pytest.raises(InputRejected) as err:
        ingest_path(ws, folder, reader="cclf")
    assert err.value.file == "notes.txt" and "not a CCLF file" in err.value.problem


def test_file_of_another_layout_is_rejected(tmp_path):
    folder = _copy(tmp_path)
    # CCLF2 records named as CCLF3: no record has CCLF3's length.
    (folder / R.file_name("ZC3")).write_text((folder / R.file_name("ZC2")).read_text())
    with pytest.raises(InputRejected) as err:
        cclf.read(folder)
    assert err.value.file == R.file_name("ZC3")
    assert "no record is 114 characters long (found 199)" in err.value.problem


def test_claim_files_alone_need_a_performance_year_only_for_cclf8(tmp_path):
    folder = _copy(tmp_path, skip=("ZC8",))
    raw = cclf.read(folder)
    assert "eligibility" not in raw.tables
    assert raw.tables["medical_claim"].num_rows == 16
    # A CCLF8 without CMS's name takes the year of the latest claim, and says so.
    shutil.copy(FIXTURES / R.file_name("ZC8"), folder / "CCLF8.txt")
    raw = cclf.read(folder)
    assert raw.tables["eligibility"].num_rows == 3
    assert any(f.check == "performance_year_from_claims" for f in raw.findings)
