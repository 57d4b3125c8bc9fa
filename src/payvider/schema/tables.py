"""Declarations of Payvider's canonical tables.

Column names follow the Tuva Project's input layer wherever a column exists there (``person_id``,
``member_id``, ``claim_id``, ``claim_line_number``, ``place_of_service_code``, ``allowed_amount`` …)
with the same meaning, so data already shaped for Tuva loads as it is. Columns Tuva does not have
(``product_line``, ``adjustment_type``, ``premium_pmpm`` …) are Payvider's own.
"""

from __future__ import annotations

from payvider.schema.model import Column, DateOrder, Table

PRODUCT_LINES = ("commercial", "medicare_advantage", "medicare_ffs", "medicaid")
ADJUSTMENT_TYPES = ("original", "replacement", "void")
GENDERS = ("male", "female", "unknown")
CLAIM_TYPES = ("institutional", "professional")
DIAGNOSIS_CODE_TYPES = ("icd-10-cm", "icd-9-cm")
PROCEDURE_CODE_TYPES = ("icd-10-pcs", "icd-9-pcs")
ENTITY_TYPES = ("individual", "organization")


def _c(name: str, type_: str, description: str, **kw) -> Column:
    return Column(name=name, type=type_, description=description, **kw)  # type: ignore[arg-type]


# --- shared column builders -------------------------------------------------------------------

_PERSON = _c("person_id", "string", "Unified person identifier (Tuva); defaults to member_id.")
_MEMBER = _c("member_id", "string", "Payer member identifier.", required=True)
_PAYER = _c("payer", "string", "Payer (health plan) name.", required=True, lowercase=True)
_PLAN = _c("plan", "string", "Plan or benefit package within the payer.")
_ADJ_TYPE = _c(
    "adjustment_type",
    "string",
    "original, replacement or void; missing means original.",
    allowed=ADJUSTMENT_TYPES,
    lowercase=True,
)
_ADJ_OF = _c(
    "adjusted_claim_id",
    "string",
    "For a replacement or void: the claim_id of the claim it adjusts.",
)
_DATA_SOURCE = _c("data_source", "string", "Name of the feed the row came from.")


def _money(name: str, description: str, required: bool = False) -> Column:
    return _c(name, "money", description, required=required)


def _npi(name: str, description: str, required: bool = False) -> Column:
    return _c(name, "string", description, required=required, code="npi")


ELIGIBILITY = Table(
    name="eligibility",
    side="payer",
    grain="one enrollment span of a member with a payer and plan",
    description="Enrollment spans with the demographics used for risk adjustment and linkage.",
    columns=(
        _PERSON,
        _MEMBER,
        _c("subscriber_id", "string", "Subscriber (policy holder) identifier."),
        _c("first_name", "string", "Member first name (PHI)."),
        _c("middle_name", "string", "Member middle name (PHI)."),
        _c("last_name", "string", "Member last name (PHI)."),
        _c("gender", "string", "Sex as recorded by the payer.", allowed=GENDERS, lowercase=True),
        _c("race", "string", "Race as recorded by the payer."),
        _c("ethnicity", "string", "Ethnicity as recorded by the payer."),
        _c("birth_date", "date", "Date of birth (PHI).", required=True),
        _c("death_date", "date", "Date of death, if known."),
        _c("enrollment_start_date", "date", "First day of the enrollment span.", required=True),
        _c("enrollment_end_date", "date", "Last day of the enrollment span.", required=True),
        _PAYER,
        _c(
            "payer_type",
            "string",
            "Tuva payer type (medicare, medicaid, commercial …).",
            lowercase=True,
        ),
        _c(
            "product_line",
            "string",
            "Line of business. When the input has no product_line column it is derived from "
            "payer_type (medicare → medicare_ffs) and the load report says so.",
            required=True,
            allowed=PRODUCT_LINES,
            lowercase=True,
        ),
        _PLAN,
        _c(
            "original_reason_entitlement_code",
            "string",
            "Medicare original reason for entitlement (0 age, 1 disability, 2 ESRD, 3 both).",
            allowed=("0", "1", "2", "3"),
        ),
        _c("dual_status_code", "string", "Medicare–Medicaid dual eligibility status code."),
        _c("medicare_status_code", "string", "Medicare status code (10 aged, 20 disabled …)."),
        _c("address", "string", "Street address (PHI)."),
        _c("city", "string", "City."),
        _c("state", "string", "State."),
        _c("zip_code", "string", "Five-digit ZIP code.", code="zip"),
        _c("phone", "string", "Phone number (PHI)."),
        _money("premium_pmpm", "Premium per member per month for the span."),
        _npi("pcp_npi", "Member-chosen primary care clinician (voluntary alignment), optional."),
        _DATA_SOURCE,
    ),
    primary_key=("member_id", "payer", "plan", "enrollment_start_date"),
    date_orders=(
        DateOrder("enrollment_start_date", "enrollment_end_date"),
        DateOrder("birth_date", "enrollment_start_date"),
        DateOrder("birth_date", "death_date"),
    ),
    aliases={"sex": "gender", "line_of_business": "product_line", "premium": "premium_pmpm"},
)

#: Wide claim-level code columns accepted in a medical_claim file (the Tuva layout). On load they
#: move to medical_claim_diagnosis and medical_claim_procedure; they are not stored on the lines.
WIDE_CODE_COUNT = 25
WIDE_DIAGNOSIS_COLUMNS = tuple(f"diagnosis_code_{i}" for i in range(1, WIDE_CODE_COUNT + 1))
WIDE_POA_COLUMNS = tuple(f"diagnosis_poa_{i}" for i in range(1, WIDE_CODE_COUNT + 1))
WIDE_PROCEDURE_COLUMNS = tuple(f"procedure_code_{i}" for i in range(1, WIDE_CODE_COUNT + 1))
WIDE_PROCEDURE_DATE_COLUMNS = tuple(f"procedure_date_{i}" for i in range(1, WIDE_CODE_COUNT + 1))
WIDE_CODE_TYPE_COLUMNS = ("diagnosis_code_type", "procedure_code_type")

MEDICAL_CLAIM = Table(
    name="medical_claim",
    side="payer",
    grain="one claim line",
    description=(
        "Institutional and professional claim lines as received, adjustments and voids included. "
        "Everything downstream uses final_medical_claim, in which adjustments are resolved."
    ),
    columns=(
        _c("claim_id", "string", "Claim identifier.", required=True),
        _c("claim_line_number", "integer", "Line number within the claim.", required=True),
        _c(
            "claim_type",
            "string",
            "institutional or professional.",
            required=True,
            allowed=CLAIM_TYPES,
            lowercase=True,
        ),
        _ADJ_TYPE,
        _ADJ_OF,
        _PERSON,
        _MEMBER,
        _PAYER,
        _PLAN,
        _c("claim_start_date", "date", "First date of service on the claim.", required=True),
        _c("claim_end_date", "date", "Last date of service on the claim."),
        _c("claim_line_start_date", "date", "First date of service on the line."),
        _c("claim_line_end_date", "date", "Last date of service on the line."),
        _c("admission_date", "date", "Inpatient admission date."),
        _c("discharge_date", "date", "Inpatient discharge date."),
        _c("admit_source_code", "string", "UB-04 point of origin (admission source) code."),
        _c("admit_type_code", "string", "UB-04 priority (type) of admission code."),
        _c("discharge_disposition_code", "string", "UB-04 patient discharge status code."),
        _c(
            "place_of_service_code",
            "string",
            "CMS place-of-service code (professional lines).",
            code="place_of_service",
        ),
        _c("bill_type_code", "string", "UB-04 type of bill (institutional).", code="bill_type"),
        _c("drg_code_type", "string", "ms-drg or apr-drg.", lowercase=True),
        _c("drg_code", "string", "Diagnosis-related group.", code="drg"),
        _c("revenue_center_code", "string", "UB-04 revenue code.", code="revenue_code"),
        _c("service_unit_quantity", "number", "Units of service."),
        _c("hcpcs_code", "string", "HCPCS Level I (CPT) or Level II code.", code="hcpcs"),
        *(_c(f"hcpcs_modifier_{i}", "string", f"HCPCS modifier {i}.") for i in range(1, 6)),
        _npi("rendering_npi", "NPI of the rendering clinician."),
        _c("rendering_tin", "string", "TIN of the rendering clinician.", code="tin"),
        _npi("billing_npi", "NPI of the billing provider."),
        _c("billing_tin", "string", "TIN of the billing provider.", code="tin"),
        _npi("facility_npi", "NPI of the facility."),
        _c("paid_date", "date", "Date the payer paid the claim."),
        _money("paid_amount", "Amount paid by the payer."),
        _money("allowed_amount", "Allowed amount (payer paid plus member liability)."),
        _money("charge_amount", "Billed charge."),
        _money("coinsurance_amount", "Member coinsurance."),
        _money("copayment_amount", "Member copayment."),
        _money("deductible_amount", "Member deductible."),
        _money("member_liability_amount", "Total member cost sharing."),
        _c("in_network_flag", "boolean", "Whether the payer treats the line as in network."),
        _DATA_SOURCE,
    ),
    primary_key=("claim_id", "claim_line_number"),
    date_orders=(
        DateOrder("claim_start_date", "claim_end_date"),
        DateOrder("claim_line_start_date", "claim_line_end_date"),
        DateOrder("admission_date", "discharge_date"),
    ),
)

MEDICAL_CLAIM_DIAGNOSIS = Table(
    name="medical_claim_diagnosis",
    side="payer",
    grain="one diagnosis on a claim",
    description=(
        "Claim diagnoses in long form, ordered (sequence 1 is principal). Filled from a "
        "medical_claim_diagnosis file or from the wide diagnosis_code_N columns of medical_claim."
    ),
    columns=(
        _c("claim_id", "string", "Claim identifier.", required=True),
        _c(
            "diagnosis_sequence",
            "integer",
            "Position of the diagnosis (1 = principal).",
            required=True,
        ),
        _c(
            "diagnosis_code_type",
            "string",
            "icd-10-cm (default) or icd-9-cm.",
            allowed=DIAGNOSIS_CODE_TYPES,
            lowercase=True,
        ),
        _c(
            "diagnosis_code",
            "string",
            "ICD-10-CM code without the dot.",
            required=True,
            code="icd10cm",
        ),
        _c(
            "present_on_admission",
            "string",
            "POA indicator (Y, N, U, W, 1).",
            allowed=("Y", "N", "U", "W", "1"),
        ),
    ),
    primary_key=("claim_id", "diagnosis_sequence"),
)

MEDICAL_CLAIM_PROCEDURE = Table(
    name="medical_claim_procedure",
    side="payer",
    grain="one ICD procedure on a claim",
    description="ICD-10-PCS procedures of institutional claims in long form.",
    columns=(
        _c("claim_id", "string", "Claim identifier.", required=True),
        _c(
            "procedure_sequence",
            "integer",
            "Position of the procedure (1 = principal).",
            required=True,
        ),
        _c(
            "procedure_code_type",
            "string",
            "icd-10-pcs (default) or icd-9-pcs.",
            allowed=PROCEDURE_CODE_TYPES,
            lowercase=True,
        ),
        _c("procedure_code", "string", "ICD-10-PCS code.", required=True, code="icd10pcs"),
        _c("procedure_date", "date", "Date of the procedure."),
    ),
    primary_key=("claim_id", "procedure_sequence"),
)

PHARMACY_CLAIM = Table(
    name="pharmacy_claim",
    side="payer",
    grain="one pharmacy claim line (a fill)",
    description="Retail and mail-order pharmacy fills, adjustments and reversals included.",
    columns=(
        _c("claim_id", "string", "Claim identifier.", required=True),
        _c("claim_line_number", "integer", "Line number within the claim.", required=True),
        _ADJ_TYPE,
        _ADJ_OF,
        _PERSON,
        _MEMBER,
        _PAYER,
        _PLAN,
        _npi("prescribing_provider_npi", "NPI of the prescriber."),
        _npi("dispensing_provider_npi", "NPI of the pharmacy."),
        _c("dispensing_date", "date", "Fill date.", required=True),
        _c("ndc_code", "string", "11-digit National Drug Code.", required=True, code="ndc"),
        _c("rxnorm_code", "string", "RxNorm concept (optional)."),
        _c("quantity", "number", "Quantity dispensed."),
        _c("days_supply", "integer", "Days supply."),
        _c("refills", "integer", "Refill number."),
        _c("paid_date", "date", "Date the payer paid the claim."),
        _money("paid_amount", "Amount paid by the payer."),
        _money("allowed_amount", "Allowed amount."),
        _money("charge_amount", "Billed charge."),
        _money("coinsurance_amount", "Member coinsurance."),
        _money("copayment_amount", "Member copayment."),
        _money("deductible_amount", "Member deductible."),
        _c("in_network_flag", "boolean", "Whether the pharmacy is in network."),
        _DATA_SOURCE,
    ),
    primary_key=("claim_id", "claim_line_number"),
)

PROVIDER = Table(
    name="provider",
    side="shared",
    grain="one clinician or organization (NPI)",
    description="The provider roster: who is who, which TIN and health system, in network or not.",
    columns=(
        _npi("npi", "National Provider Identifier.", required=True),
        _c(
            "entity_type",
            "string",
            "individual or organization.",
            required=True,
            allowed=ENTITY_TYPES,
            lowercase=True,
        ),
        _c("provider_name", "string", "Clinician or organization name.", required=True),
        _c("primary_taxonomy_code", "string", "NUCC taxonomy code."),
        _c(
            "cms_specialty_code", "string", "CMS provider specialty code (e.g. 08 family practice)."
        ),
        _c("specialty", "string", "Specialty description."),
        _c("primary_care_flag", "boolean", "Primary-care clinician (PCP, NP, PA, CNS)."),
        _c(
            "tin",
            "string",
            "Taxpayer identification number of the billing organization.",
            code="tin",
        ),
        _c("health_system", "string", "Health system the provider belongs to."),
        _c("partner_network_flag", "boolean", "Part of the partner health system's network."),
        _c("practice_zip_code", "string", "Practice ZIP code.", code="zip"),
    ),
    primary_key=("npi",),
)

MARKET_BENCHMARK = Table(
    name="market_benchmark",
    side="shared",
    grain="one region × product line × month",
    description="Regional market cost per member per month and average risk score.",
    columns=(
        _c("region", "string", "Market region.", required=True),
        _c(
            "product_line",
            "string",
            "Line of business.",
            required=True,
            allowed=PRODUCT_LINES,
            lowercase=True,
        ),
        _c("month", "date", "First day of the month.", required=True),
        _money("pmpm", "Market total cost of care per member per month.", required=True),
        _c("average_risk_score", "number", "Average risk score of the market population."),
    ),
    primary_key=("region", "product_line", "month"),
)

# --- provider (EHR) side: its own patient ids ----------------------------------------------------

_PATIENT = _c(
    "patient_id", "string", "EHR patient identifier (not the payer's member_id).", required=True
)
_ENCOUNTER = _c("encounter_id", "string", "EHR encounter identifier.")
_CODE_TYPE = _c(
    "source_code_type",
    "string",
    "Code system (icd-10-cm, snomed-ct, loinc, cpt …).",
    lowercase=True,
)

PATIENT = Table(
    name="patient",
    side="provider",
    grain="one EHR patient",
    description="Patients of the partner health system, with the demographics used for linkage.",
    columns=(
        _PATIENT,
        _PERSON,
        _c("first_name", "string", "First name (PHI)."),
        _c("last_name", "string", "Last name (PHI)."),
        _c("sex", "string", "Sex.", allowed=GENDERS, lowercase=True),
        _c("birth_date", "date", "Date of birth (PHI).", required=True),
        _c("death_date", "date", "Date of death."),
        _c("address", "string", "Street address (PHI)."),
        _c("city", "string", "City."),
        _c("state", "string", "State."),
        _c("zip_code", "string", "ZIP code.", code="zip"),
        _c("phone", "string", "Phone (PHI)."),
        _c("race", "string", "Race."),
        _c("ethnicity", "string", "Ethnicity."),
        _DATA_SOURCE,
    ),
    primary_key=("patient_id",),
    date_orders=(DateOrder("birth_date", "death_date"),),
    aliases={"gender": "sex"},
)

ENCOUNTER = Table(
    name="encounter",
    side="provider",
    grain="one EHR encounter",
    description="Visits and stays recorded in the EHR.",
    columns=(
        _c("encounter_id", "string", "EHR encounter identifier.", required=True),
        _PATIENT,
        _c(
            "encounter_type",
            "string",
            "Type (office visit, emergency, inpatient, telehealth …).",
            lowercase=True,
        ),
        _c("encounter_start_date", "date", "Start date.", required=True),
        _c("encounter_end_date", "date", "End date."),
        _npi("attending_provider_npi", "NPI of the attending clinician."),
        _npi("facility_npi", "NPI of the facility."),
        _c("primary_diagnosis_code", "string", "Primary ICD-10-CM diagnosis.", code="icd10cm"),
        _DATA_SOURCE,
    ),
    primary_key=("encounter_id",),
    date_orders=(DateOrder("encounter_start_date", "encounter_end_date"),),
)

CONDITION = Table(
    name="condition",
    side="provider",
    grain="one problem-list or encounter diagnosis entry",
    description="Conditions recorded in the EHR.",
    columns=(
        _c("condition_id", "string", "Identifier.", required=True),
        _PATIENT,
        _ENCOUNTER,
        _c("recorded_date", "date", "Date recorded.", required=True),
        _c("onset_date", "date", "Onset date."),
        _c("resolved_date", "date", "Resolution date."),
        _CODE_TYPE,
        _c("source_code", "string", "Condition code.", required=True),
        _c("status", "string", "active, resolved …", lowercase=True),
        _DATA_SOURCE,
    ),
    primary_key=("condition_id",),
    date_orders=(DateOrder("onset_date", "resolved_date"),),
)

PROCEDURE = Table(
    name="procedure",
    side="provider",
    grain="one procedure performed",
    description="Procedures recorded in the EHR (screenings among them).",
    columns=(
        _c("procedure_id", "string", "Identifier.", required=True),
        _PATIENT,
        _ENCOUNTER,
        _c("procedure_date", "date", "Date performed.", required=True),
        _CODE_TYPE,
        _c(
            "source_code",
            "string",
            "Procedure code (CPT, HCPCS, ICD-10-PCS, SNOMED CT).",
            required=True,
        ),
        _npi("practitioner_npi", "NPI of the performing clinician."),
        _DATA_SOURCE,
    ),
    primary_key=("procedure_id",),
)

OBSERVATION = Table(
    name="observation",
    side="provider",
    grain="one observation (vital sign, survey item, lab value)",
    description="Observations such as blood pressure and HbA1c, coded in LOINC.",
    columns=(
        _c("observation_id", "string", "Identifier.", required=True),
        _PATIENT,
        _ENCOUNTER,
        _c("observation_date", "date", "Date observed.", required=True),
        _CODE_TYPE,
        _c("source_code", "string", "LOINC code.", required=True),
        _c("result", "string", "Result as recorded."),
        _c("numeric_result", "number", "Numeric result, when the result is a number."),
        _c("units", "string", "Units (UCUM)."),
        _DATA_SOURCE,
    ),
    primary_key=("observation_id",),
)

LAB_RESULT = Table(
    name="lab_result",
    side="provider",
    grain="one lab result component",
    description="Laboratory results in the Tuva input-layer shape (LOINC order/component codes).",
    columns=(
        _c("lab_result_id", "string", "Identifier.", required=True),
        _PERSON,
        _PATIENT,
        _ENCOUNTER,
        _c("source_order_type", "string", "Code system of the order code.", lowercase=True),
        _c("source_order_code", "string", "Order code (LOINC)."),
        _c("source_order_description", "string", "Order description."),
        _c("source_component_type", "string", "Code system of the component code.", lowercase=True),
        _c("source_component_code", "string", "Component code (LOINC)."),
        _c("status", "string", "Result status."),
        _c("result", "string", "Result as recorded."),
        _c("result_datetime", "timestamp", "When the result was produced."),
        _c("collection_datetime", "timestamp", "When the specimen was collected."),
        _c("source_units", "string", "Units."),
        _DATA_SOURCE,
    ),
    primary_key=("lab_result_id",),
)

IMMUNIZATION = Table(
    name="immunization",
    side="provider",
    grain="one vaccine administered",
    description="Immunizations coded in CVX.",
    columns=(
        _c("immunization_id", "string", "Identifier.", required=True),
        _PERSON,
        _PATIENT,
        _ENCOUNTER,
        _CODE_TYPE,
        _c("source_code", "string", "CVX code.", required=True),
        _c("source_description", "string", "Description."),
        _c("status", "string", "completed, not-done …", lowercase=True),
        _c("occurrence_date", "date", "Date administered.", required=True),
        _DATA_SOURCE,
    ),
    primary_key=("immunization_id",),
)

MEDICATION = Table(
    name="medication",
    side="provider",
    grain="one medication order or administration",
    description="Medications prescribed or administered in the EHR.",
    columns=(
        _c("medication_id", "string", "Identifier.", required=True),
        _PATIENT,
        _ENCOUNTER,
        _c("prescribing_date", "date", "Date prescribed.", required=True),
        _c("dispensing_date", "date", "Date dispensed."),
        _c("ndc_code", "string", "NDC.", code="ndc"),
        _c("rxnorm_code", "string", "RxNorm concept."),
        _c("quantity", "number", "Quantity."),
        _c("days_supply", "integer", "Days supply."),
        _npi("practitioner_npi", "NPI of the prescriber."),
        _DATA_SOURCE,
    ),
    primary_key=("medication_id",),
)

SDOH_SCREENING = Table(
    name="sdoh_screening",
    side="provider",
    grain="one domain answered on one screening",
    description="Social-needs screening results (e.g. AHC HRSN, PRAPARE) by domain.",
    columns=(
        _c("screening_id", "string", "Identifier of the screening.", required=True),
        _PATIENT,
        _c("screening_date", "date", "Date screened.", required=True),
        _c("instrument", "string", "Screening instrument.", required=True),
        _c(
            "domain",
            "string",
            "Need domain.",
            required=True,
            allowed=(
                "food",
                "housing",
                "transportation",
                "utilities",
                "interpersonal_safety",
                "financial",
                "social_isolation",
            ),
            lowercase=True,
        ),
        _c("positive_flag", "boolean", "The screen found a need in this domain.", required=True),
        _c("referral_flag", "boolean", "A referral was made for the need."),
        _c("referral_date", "date", "Date of the referral."),
    ),
    primary_key=("screening_id", "domain"),
    date_orders=(DateOrder("screening_date", "referral_date"),),
)

SURVEY_RESPONSE = Table(
    name="survey_response",
    side="provider",
    grain="one answer to one survey item",
    description="Patient experience and engagement survey answers.",
    columns=(
        _c("response_id", "string", "Identifier of the returned survey.", required=True),
        _PATIENT,
        _c("survey_date", "date", "Date answered.", required=True),
        _c("instrument", "string", "Survey instrument (e.g. CG-CAHPS).", required=True),
        _c("item", "string", "Item identifier.", required=True),
        _c("score", "number", "Score given.", required=True),
        _c("max_score", "number", "Top of the item's scale."),
    ),
    primary_key=("response_id", "item"),
)

PROVIDER_ATTRIBUTION = Table(
    name="provider_attribution",
    side="payer",
    grain="one person × month",
    description="Attribution as supplied by the payer (Tuva input layer), for comparison with ours.",
    columns=(
        _PERSON,
        _c("patient_id", "string", "Patient identifier."),
        _c("year_month", "string", "Month as YYYYMM.", required=True, code="year_month"),
        _PAYER,
        _PLAN,
        _DATA_SOURCE,
        _npi("payer_attributed_provider", "NPI the payer attributes the person to."),
        _c("payer_attributed_provider_practice", "string", "Practice."),
        _c("payer_attributed_provider_organization", "string", "Organization."),
        _c("payer_attributed_provider_lob", "string", "Line of business."),
    ),
    primary_key=("person_id", "year_month", "payer"),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        ELIGIBILITY,
        MEDICAL_CLAIM,
        MEDICAL_CLAIM_DIAGNOSIS,
        MEDICAL_CLAIM_PROCEDURE,
        PHARMACY_CLAIM,
        PROVIDER,
        MARKET_BENCHMARK,
        PATIENT,
        ENCOUNTER,
        CONDITION,
        PROCEDURE,
        OBSERVATION,
        LAB_RESULT,
        IMMUNIZATION,
        MEDICATION,
        SDOH_SCREENING,
        SURVEY_RESPONSE,
        PROVIDER_ATTRIBUTION,
    )
}


def get_table(name: str) -> Table:
    """The declaration of canonical table ``name``."""
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"no canonical table {name!r}; known: {', '.join(sorted(TABLES))}") from None
