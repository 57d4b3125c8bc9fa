"""Code-format checks as Ibis expressions.

Each checker takes a string column (already trimmed and upper-cased where the format wants it) and
returns a boolean expression that is true when the value is well formed. Formats only: a shipped
value set decides later whether a well-formed code means something to a given measure.
"""

from __future__ import annotations

from collections.abc import Callable

import ibis
import ibis.expr.types as ir

# ICD-10-CM: a letter, a digit, then an alphanumeric; up to four more characters; no dot.
# The letter U is reserved for special purposes (U07.1 COVID-19) and is valid.
ICD10CM = r"^[A-Z][0-9][0-9A-Z][0-9A-Z]{0,4}$"
# ICD-10-PCS: exactly seven characters from digits and letters other than I and O.
ICD10PCS = r"^[0-9A-HJ-NP-Z]{7}$"
# HCPCS Level I (CPT: five digits, or four digits + F/T/U/M for category II/III codes and PLA)
# and Level II (a letter A–V followed by four digits).
HCPCS = r"^([0-9]{4}[0-9FTUM]|[A-V][0-9]{4})$"
NDC11 = r"^[0-9]{11}$"
ZIP = r"^[0-9]{5}$"
TIN = r"^[0-9]{9}$"
# UB-04 type of bill: facility type, classification, frequency (digit or letter); the leading
# zero is optional, as in the Tuva layout.
BILL_TYPE = r"^0?[0-9]{2}[0-9A-Z]$"
REVENUE_CODE = r"^[0-9]{4}$"
PLACE_OF_SERVICE = r"^[0-9]{2}$"
DRG = r"^[0-9]{3}$"
LOINC = r"^[0-9]{1,7}-[0-9]$"
CVX = r"^[0-9]{1,3}$"
YEAR_MONTH = r"^(19|20)[0-9]{2}(0[1-9]|1[0-2])$"

#: How each code format is described in error messages.
FORMAT_DESCRIPTIONS: dict[str, str] = {
    "npi": "10 digits with a valid check digit",
    "tin": "9 digits",
    "icd10cm": "an ICD-10-CM code (letter, digit, alphanumeric, up to 4 more; no dot)",
    "icd10pcs": "an ICD-10-PCS code (7 characters)",
    "hcpcs": "a HCPCS/CPT code (5 characters)",
    "ndc": "an 11-digit NDC",
    "zip": "a 5-digit ZIP code",
    "bill_type": "a 3-character type of bill",
    "revenue_code": "a 4-digit revenue code",
    "place_of_service": "a 2-digit place-of-service code",
    "drg": "a 3-digit DRG",
    "loinc": "a LOINC code (digits-check digit)",
    "cvx": "a CVX code (1-3 digits)",
    "year_month": "a month as YYYYMM",
}


def npi_is_valid(col: ir.StringValue) -> ir.BooleanValue:
    """NPI: ten digits whose last is the Luhn check digit of ``80840`` + the first nine.

    The prefix 80840 contributes a constant 24 to the Luhn sum (CMS, "Requirements for
    Constructing the NPI Check Digit").
    """
    digits = [col.substr(i, 1).cast("int64") for i in range(10)]
    total = ibis.literal(24)
    for pos, d in enumerate(digits[:9]):
        if pos % 2 == 0:  # doubled: positions 1,3,5,7,9 counted from the left of nine digits
            doubled = d * 2
            total = total + ibis.ifelse(doubled > 9, doubled - 9, doubled)
        else:
            total = total + d
    check = (10 - total % 10) % 10
    return col.re_search(r"^[0-9]{10}$") & (check == digits[9])


def _regex(pattern: str) -> Callable[[ir.StringValue], ir.BooleanValue]:
    def check(col: ir.StringValue) -> ir.BooleanValue:
        return col.re_search(pattern)

    return check


CHECKERS: dict[str, Callable[[ir.StringValue], ir.BooleanValue]] = {
    "npi": npi_is_valid,
    "tin": _regex(TIN),
    "icd10cm": _regex(ICD10CM),
    "icd10pcs": _regex(ICD10PCS),
    "hcpcs": _regex(HCPCS),
    "ndc": _regex(NDC11),
    "zip": _regex(ZIP),
    "bill_type": _regex(BILL_TYPE),
    "revenue_code": _regex(REVENUE_CODE),
    "place_of_service": _regex(PLACE_OF_SERVICE),
    "drg": _regex(DRG),
    "loinc": _regex(LOINC),
    "cvx": _regex(CVX),
    "year_month": _regex(YEAR_MONTH),
}


def normalize_code(col: ir.StringValue, code: str) -> ir.StringValue:
    """Normalise a code before checking it: trim, upper-case, drop dots and hyphens where the
    format does not use them (``E11.9`` → ``E119``, ``0002-3227-30`` stays for NDC handling)."""
    out = col.strip().upper()
    if code in ("icd10cm", "icd10pcs"):
        out = out.replace(".", "")
    if code == "ndc":
        out = out.replace("-", "")
    if code == "zip":
        out = out.substr(0, 5)
    return out


def luhn_npi_check_digit(first_nine: str) -> int:
    """Check digit for an NPI's first nine digits (used by tests and the generator)."""
    total = 24
    for pos, ch in enumerate(first_nine):
        d = int(ch)
        if pos % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10
