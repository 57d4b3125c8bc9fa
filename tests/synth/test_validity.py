"""Every generated row is valid against the canonical declarations (types, required, allowed,
code formats, date order, primary keys), checked directly from ``payvider.schema``."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from payvider.ingest import codes
from payvider.schema import get_table
from payvider.synth import OUTPUT_TABLES, SynthConfig
from payvider.synth.util import npi_is_valid

EXPECTED_TYPES = {
    "string": pa.string(),
    "date": pa.date32(),
    "money": pa.decimal128(18, 2),
    "number": pa.decimal128(18, 4),
    "integer": pa.int64(),
    "boolean": pa.bool_(),
    "timestamp": pa.timestamp("us"),
}
FORMATS = {
    "tin": codes.TIN,
    "icd10cm": codes.ICD10CM,
    "icd10pcs": codes.ICD10PCS,
    "hcpcs": codes.HCPCS,
    "ndc": codes.NDC11,
    "zip": codes.ZIP,
    "bill_type": codes.BILL_TYPE,
    "revenue_code": codes.REVENUE_CODE,
    "place_of_service": codes.PLACE_OF_SERVICE,
    "drg": codes.DRG,
    "loinc": codes.LOINC,
    "cvx": codes.CVX,
    "year_month": codes.YEAR_MONTH,
}


def _read(folder: Path, table: str) -> pa.Table:
    return pq.read_table(folder / f"{table}.parquet")


@pytest.mark.parametrize("table", OUTPUT_TABLES)
def test_columns_and_types_match_the_declaration(population: Path, table: str) -> None:
    decl = get_table(table)
    got = pq.read_schema(population / f"{table}.parquet")
    assert got.names == decl.column_names
    for col in decl.columns:
        assert got.field(col.name).type == EXPECTED_TYPES[col.type], (table, col.name)


@pytest.mark.parametrize("table", OUTPUT_TABLES)
def test_rows_pass_the_declared_checks(population: Path, table: str) -> None:
    decl = get_table(table)
    t = _read(population, table)
    assert t.num_rows > 0, f"{table} is empty"
    for col in decl.columns:
        arr = t.column(col.name)
        if col.required:
            assert arr.null_count == 0, f"{table}.{col.name}: required but null"
        values = arr.drop_null()
        if not len(values):
            continue
        if col.allowed:
            v = pc.utf8_lower(values) if col.lowercase else values
            bad = pc.invert(pc.is_in(v, value_set=pa.array(col.allowed)))
            assert not pc.any(bad).as_py(), f"{table}.{col.name}: values outside {col.allowed}"
        if col.code == "npi":
            uniq = pc.unique(values).to_pylist()
            assert all(npi_is_valid(x) for x in uniq), f"{table}.{col.name}: invalid NPI"
            assert all(codes.luhn_npi_check_digit(x[:9]) == int(x[9]) for x in uniq)
        elif col.code:
            pattern = FORMATS[col.code]
            ok = pc.match_substring_regex(values, pattern)
            bad = pc.filter(values, pc.invert(ok)).unique().to_pylist()[:5]
            assert not bad, f"{table}.{col.name}: not {col.code}: {bad}"
    for rule in decl.date_orders:
        a, b = t.column(rule.start), t.column(rule.end)
        both = pc.and_(pc.is_valid(a), pc.is_valid(b))
        late = pc.filter(pc.less(b, a), both)
        assert pc.sum(pc.cast(late, pa.int64())).as_py() in (0, None), f"{table}: {rule}"


@pytest.mark.parametrize("table", OUTPUT_TABLES)
def test_primary_keys_are_unique(db, table: str) -> None:
    key = ", ".join(get_table(table).primary_key)
    dups = db.execute(
        f"select count(*) from (select {key} from {table} group by all having count(*) > 1)"
    ).fetchone()[0]
    assert dups == 0


def test_claims_are_within_the_window_and_paid_by_as_of(db) -> None:
    cfg = SynthConfig()
    lo, hi, paid_max, first_paid_gap = db.execute(
        """select min(claim_start_date), max(claim_start_date), max(paid_date),
                  min(paid_date - claim_end_date) from medical_claim"""
    ).fetchone()
    assert lo >= cfg.start_date and hi <= cfg.end_date
    assert paid_max <= cfg.as_of_date
    assert first_paid_gap >= 1


def test_amounts_add_up(db) -> None:
    bad = db.execute(
        """select count(*) from medical_claim
           where paid_amount + member_liability_amount <> allowed_amount
              or coinsurance_amount + copayment_amount + deductible_amount
                 <> member_liability_amount
              or allowed_amount < 0 or paid_amount < 0 or charge_amount < allowed_amount"""
    ).fetchone()[0]
    assert bad == 0


def test_adjustments_name_an_original_in_the_file(db) -> None:
    rows = db.execute(
        """select adjustment_type, count(distinct claim_id) as claims,
                  count(distinct claim_id) filter (where adjusted_claim_id in
                      (select claim_id from medical_claim where adjustment_type = 'original'))
           from medical_claim group by 1"""
    ).fetchall()
    by = {r[0]: r for r in rows}
    assert set(by) == {"original", "replacement", "void"}
    for kind in ("replacement", "void"):
        assert by[kind][1] == by[kind][2], f"{kind} claims must name an original claim"
    share = (by["replacement"][1] + by["void"][1]) / by["original"][1]
    assert 0.02 <= share <= 0.045  # about 3 % of claims adjusted or voided
    # a replacement carries a new claim id and the original's lines
    same_id = db.execute(
        "select count(*) from medical_claim where adjusted_claim_id = claim_id"
    ).fetchone()[0]
    assert same_id == 0


def test_claim_npis_are_on_the_roster(db) -> None:
    missing = db.execute(
        """select count(*) from (
             select billing_npi as npi from medical_claim union
             select rendering_npi from medical_claim union
             select facility_npi from medical_claim union
             select prescribing_provider_npi from pharmacy_claim union
             select dispensing_provider_npi from pharmacy_claim)
           where npi is not null and npi not in (select npi from provider)"""
    ).fetchone()[0]
    assert missing == 0


def test_institutional_and_professional_lines_are_coded_as_such(db) -> None:
    rows = db.execute(
        """select claim_type,
                  count(*) filter (where bill_type_code is null),
                  count(*) filter (where place_of_service_code is null),
                  count(*) filter (where revenue_center_code is null)
           from medical_claim group by 1 order by 1"""
    ).fetchall()
    inst, prof = rows
    assert inst[0] == "institutional" and inst[1] == 0 and inst[2] == inst[2] and inst[3] == 0
    assert prof[0] == "professional" and prof[2] == 0
    # inpatient claims carry admission/discharge dates, an MS-DRG and room-and-board lines
    ip = db.execute(
        """select count(distinct claim_id),
                  count(distinct claim_id) filter (where drg_code is not null
                      and admission_date is not null and discharge_date is not null
                      and discharge_disposition_code is not null),
                  count(distinct claim_id) filter (where revenue_center_code between '0100' and '0219')
           from medical_claim where bill_type_code = '111'"""
    ).fetchone()
    assert ip[0] > 0 and ip[0] == ip[1] == ip[2]


def test_the_book_has_the_expected_shape(db, population: Path) -> None:
    lines = {r[0] for r in db.execute("select distinct product_line from eligibility").fetchall()}
    assert lines == {"commercial", "medicare_advantage", "medicaid"}
    # one partner health system with hospitals, PCP clinics, specialists and a pain clinic
    sysrows = db.execute(
        """select health_system, bool_or(specialty = 'hospital'), bool_or(primary_care_flag),
                  bool_or(specialty = 'pain clinic'), bool_or(partner_network_flag)
           from provider where health_system is not null group by 1"""
    ).fetchall()
    partner = [r for r in sysrows if r[4]]
    assert len(partner) == 1 and partner[0][1] and partner[0][2] and partner[0][3]
    assert len(sysrows) >= 2
    # telehealth lines: POS 02/10 with modifier 95
    tele = db.execute(
        """select count(*), count(*) filter (where hcpcs_modifier_1 = '95')
           from medical_claim where place_of_service_code in ('02', '10')
           and hcpcs_code between '99202' and '99215'"""
    ).fetchone()
    assert tele[0] > 0 and tele[0] == tele[1]
    # annual wellness visits for Medicare Advantage
    assert (
        db.execute(
            "select count(*) from medical_claim where hcpcs_code in ('G0438','G0439')"
        ).fetchone()[0]
        > 0
    )
    # real opioid NDCs, with days supply
    opioids = db.execute(
        "select count(*) from pharmacy_claim where ndc_code in ('00228287611','00406012301','00172216360')"
    ).fetchone()[0]
    assert opioids > 0
    # EHR patient ids are not member ids
    shared = "select count(*) from patient where patient_id in (select member_id from eligibility)"
    assert db.execute(shared).fetchone()[0] == 0
    assert re.match(r"^MRN\d{10}$", db.execute("select min(patient_id) from patient").fetchone()[0])
    births = np.array(db.execute("select birth_date from eligibility").fetchnumpy()["birth_date"])
    assert births.min() > np.datetime64(dt.date(1920, 1, 1))
