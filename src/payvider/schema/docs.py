"""Render ``docs/schema.md`` from the table declarations (a test fails when the file is stale)."""

from __future__ import annotations

from payvider.ingest.codes import FORMAT_DESCRIPTIONS
from payvider.schema.tables import TABLES, WIDE_CODE_COUNT

_TYPE_WORDS = {
    "string": "text",
    "date": "date",
    "money": "decimal(18,2)",
    "integer": "integer",
    "number": "decimal(18,4)",
    "boolean": "boolean",
    "timestamp": "timestamp",
}


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def render_schema_markdown() -> str:
    """The canonical data model as Markdown."""
    lines = [
        "# Canonical tables",
        "",
        "<!-- Generated from src/payvider/schema/tables.py by `payvider schema --markdown`. "
        "Do not edit by hand. -->",
        "",
        "Every reader produces these tables and everything downstream reads only them. Column names",
        "follow the Tuva Project input layer where the column exists there, so Tuva-shaped data loads",
        "as it is. A file belongs to a table when its name is the table's name, or starts with it",
        "followed by `_`, `-` or `.` (`medical_claim_2024-01.csv`, `eligibility_seed.csv`).",
        "",
        "Validation (rows failing any rule go to the batch's quarantine with file, row, field, value",
        "and reason): required fields present; values convert to the declared type; allowed values;",
        "code formats; dates between 1900-01-01 and a year after the load date, birth dates not in the",
        "future; date order rules; unique primary keys; a void must find the claim it voids.",
        "",
        f"A `medical_claim` file may carry the Tuva wide layout `diagnosis_code_1..{WIDE_CODE_COUNT}`,",
        f"`diagnosis_poa_1..{WIDE_CODE_COUNT}`, `diagnosis_code_type`, "
        f"`procedure_code_1..{WIDE_CODE_COUNT}`, `procedure_date_1..{WIDE_CODE_COUNT}` and",
        "`procedure_code_type`: on load these become rows of `medical_claim_diagnosis` and",
        "`medical_claim_procedure`, taken once per claim from its lowest line.",
        "",
        "## Contents",
        "",
    ]
    for name, table in TABLES.items():
        lines.append(f"- [`{name}`](#{name.replace('_', '_')}) ({table.side}): {table.grain}")
    lines.append("")
    for name, table in TABLES.items():
        lines += [
            f"## {name}",
            "",
            table.description,
            "",
            f"- Side: {table.side}",
            f"- Grain: {table.grain}",
            f"- Primary key: {', '.join(f'`{k}`' for k in table.primary_key)}",
        ]
        for rule in table.date_orders:
            lines.append(f"- Rule: `{rule.end}` is not before `{rule.start}`")
        if table.aliases:
            alias_text = ", ".join(f"`{a}` → `{c}`" for a, c in sorted(table.aliases.items()))
            lines.append(f"- Accepted column aliases: {alias_text}")
        lines += [
            "",
            "| column | type | required | rule | description |",
            "|---|---|---|---|---|",
        ]
        for col in table.columns:
            rule = ""
            if col.allowed:
                rule = "one of " + ", ".join(f"`{v}`" for v in col.allowed)
            elif col.code:
                rule = FORMAT_DESCRIPTIONS[col.code]
            lines.append(
                f"| `{col.name}` | {_TYPE_WORDS[col.type]} | {'yes' if col.required else ''} | "
                f"{_escape(rule)} | {_escape(col.description)} |"
            )
        lines.append("")
    return "\n".join(lines)
