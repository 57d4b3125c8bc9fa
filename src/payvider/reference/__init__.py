"""Reference data shipped with the package (sources and versions in SOURCES.md).

Loaded from package files; nothing is downloaded at run time.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources


@cache
def read_csv(name: str) -> tuple[dict[str, str], ...]:
    """Rows of a shipped reference CSV."""
    with resources.files(__package__).joinpath(name).open(encoding="utf-8", newline="") as f:
        return tuple(csv.DictReader(f))


def primary_care_hcpcs() -> tuple[str, ...]:
    """HCPCS/CPT codes that count as primary-care services (MSSP assignment)."""
    return tuple(r["hcpcs_code"] for r in read_csv("primary_care_hcpcs.csv"))


def attribution_specialties(step: str) -> tuple[str, ...]:
    """CMS specialty codes of primary-care clinicians (``primary_care``) or step-2 specialists."""
    return tuple(
        r["cms_specialty_code"]
        for r in read_csv("attribution_specialties.csv")
        if r["attribution_step"] == step
    )


#: FQHC/RHC revenue centres whose services count as primary care (bill types 71x, 77x).
FQHC_RHC_REVENUE_CODES = ("0521", "0522", "0524", "0525", "0527", "0528")
FQHC_RHC_BILL_TYPE_PREFIXES = ("71", "77", "071", "077")
