"""The declarations are the single source: docs and Ibis schemas derive from them."""

from __future__ import annotations

from pathlib import Path

from payvider.schema import TABLES
from payvider.schema.docs import render_schema_markdown

DOCS = Path(__file__).resolve().parents[2] / "docs" / "schema.md"

TUVA_NAMES = {
    "medical_claim": [
        "claim_id",
        "claim_line_number",
        "claim_type",
        "person_id",
        "member_id",
        "payer",
        "plan",
        "claim_start_date",
        "claim_end_date",
        "admission_date",
        "discharge_date",
        "place_of_service_code",
        "bill_type_code",
        "drg_code",
        "revenue_center_code",
        "hcpcs_code",
        "hcpcs_modifier_1",
        "rendering_npi",
        "billing_npi",
        "billing_tin",
        "facility_npi",
        "paid_date",
        "paid_amount",
        "allowed_amount",
    ],
    "eligibility": [
        "person_id",
        "member_id",
        "gender",
        "birth_date",
        "enrollment_start_date",
        "enrollment_end_date",
        "payer",
        "payer_type",
        "plan",
        "dual_status_code",
        "original_reason_entitlement_code",
        "zip_code",
    ],
    "pharmacy_claim": [
        "claim_id",
        "claim_line_number",
        "member_id",
        "prescribing_provider_npi",
        "dispensing_provider_npi",
        "dispensing_date",
        "ndc_code",
        "quantity",
        "days_supply",
        "paid_amount",
        "allowed_amount",
    ],
}


def test_docs_schema_md_is_current():
    assert DOCS.read_text() == render_schema_markdown() + "\n", (
        "docs/schema.md is stale: regenerate with `payvider schema --markdown > docs/schema.md`"
    )


def test_tuva_input_layer_names_are_kept():
    for table, names in TUVA_NAMES.items():
        declared = TABLES[table].column_names
        missing = [n for n in names if n not in declared]
        assert not missing, f"{table} lacks Tuva columns {missing}"


def test_primary_keys_and_money_types():
    for table in TABLES.values():
        schema = table.ibis_schema()
        for col in table.columns:
            if col.name.endswith("_amount") or col.name in ("premium_pmpm", "pmpm"):
                assert col.type == "money", f"{table.name}.{col.name} must be exact money"
                assert str(schema[col.name]) == "decimal(18, 2)"
        assert table.primary_key
