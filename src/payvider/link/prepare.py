"""Linkage records: one row per member and per patient with normalised demographics.

Both sides get the same columns, so comparisons and blocking rules read the same names on the
left and the right. Normalisation is deliberately simple and symmetric (lower case, letters only
in names, digits only in phones, five-digit ZIP codes) so that what differs between the two sides
is what the records say, not how they were typed.
"""

from __future__ import annotations

from functools import cache

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from payvider.reference import read_csv

#: Columns of a linkage record (both sides).
RECORD_COLUMNS = (
    "unique_id",
    "person_id",
    "first_name",
    "first_name_alts",
    "last_name",
    "birth_date",
    "birth_year",
    "sex",
    "zip",
    "address",
    "phone",
)


@cache
def nickname_pairs() -> pa.Table:
    """The shipped nickname table in both directions (``name`` ↔ ``nickname``)."""
    rows = read_csv("nicknames.csv")
    a = [r["name"] for r in rows]
    b = [r["nickname"] for r in rows]
    return pa.table({"name": a + b, "alt": b + a})


def _alts() -> ir.Table:
    pairs = ibis.memtable(nickname_pairs())
    return pairs.group_by(alt_name=pairs.name).aggregate(first_name_alts=pairs.alt.collect())


def _name(col: ir.StringValue) -> ir.StringValue:
    out = col.lower().re_replace(r"[^a-z]", "")
    return (out.length() > 0).ifelse(out, ibis.null("string"))


def _text(col: ir.StringValue) -> ir.StringValue:
    out = col.lower().re_replace(r"[^a-z0-9 ]", " ").re_replace(r" +", " ").strip()
    return (out.length() > 0).ifelse(out, ibis.null("string"))


def _zip(col: ir.StringValue) -> ir.StringValue:
    digits = col.re_replace(r"[^0-9]", "")
    return (digits.length() >= 5).ifelse(digits.substr(0, 5), ibis.null("string"))


def _phone(col: ir.StringValue) -> ir.StringValue:
    digits = col.re_replace(r"[^0-9]", "")
    ten = (digits.length() == 11).ifelse(digits.substr(1, 10), digits)
    return (ten.length() == 10).ifelse(ten, ibis.null("string"))


def _sex(col: ir.StringValue) -> ir.StringValue:
    s = col.lower().strip()
    return (
        ibis.cases(
            (s.isin(["male", "m"]), "male"),
            (s.isin(["female", "f"]), "female"),
            else_=ibis.null("string"),
        )
    ).cast("string")


def _records(t: ir.Table, uid: ir.StringValue, sex: ir.StringValue) -> ir.Table:
    rec = t.select(
        unique_id=uid,
        person_id=t.person_id.strip(),
        first_name=_name(t.first_name),
        last_name=_name(t.last_name),
        birth_date=t.birth_date,
        birth_year=t.birth_date.year().cast("int32"),
        sex=_sex(sex),
        zip=_zip(t.zip_code),
        address=_text(t.address),
        phone=_phone(t.phone),
    )
    alts = _alts()
    rec = rec.left_join(alts, rec.first_name == alts.alt_name).drop("alt_name")
    return rec.select(*RECORD_COLUMNS)


def latest_spans(eligibility: ir.Table) -> ir.Table:
    """One row per member: the raw demographics of the member's latest enrollment span.

    Spans are ordered by end date, then start date, then payer and plan, so the choice is
    deterministic when two spans end on the same day.
    """
    w = ibis.window(
        group_by=eligibility.member_id,
        order_by=[
            eligibility.enrollment_end_date.desc(),
            eligibility.enrollment_start_date.desc(),
            eligibility.payer.desc(),
            eligibility.plan.desc(),
        ],
    )
    latest = eligibility.mutate(_rn=ibis.row_number().over(w)).filter(lambda t: t._rn == 0)
    return latest.select(
        "member_id",
        "person_id",
        "first_name",
        "last_name",
        sex=latest.gender,
        birth_date=latest.birth_date,
        zip_code=latest.zip_code,
        address=latest.address,
        phone=latest.phone,
    )


def patient_demographics(patient: ir.Table) -> ir.Table:
    """The patient columns linkage reads."""
    return patient.select(
        "patient_id",
        "person_id",
        "first_name",
        "last_name",
        "sex",
        "birth_date",
        "zip_code",
        "address",
        "phone",
    )


def member_records(members: ir.Table) -> ir.Table:
    """Linkage records of members (from :func:`latest_spans`)."""
    return _records(members, members.member_id, members.sex)


def patient_records(patients: ir.Table) -> ir.Table:
    """Linkage records of patients (from :func:`patient_demographics`)."""
    return _records(patients, patients.patient_id, patients.sex)
