"""Breast and colorectal cancer screening (claims or EHR evidence, HEDIS-style look-backs).

Breast: women 50–74 at the end of the period, continuously enrolled in it, with a mammogram in
the period or the 15 months before; bilateral mastectomy on or before the period end excludes.
Colorectal: members 45–75 with colonoscopy in the period or the 9 years before, flexible
sigmoidoscopy or CT colonography in the period or the 4 years before, stool DNA with FIT in the
period or the 2 years before, or FOBT/FIT in the period; colorectal cancer or total colectomy
excludes.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from payvider.measures.quality.framework import (
    MeasureSpec,
    Period,
    age_on,
    continuous_enrollment,
    finalize,
    in_value_set,
    measure_rows,
)

BREAST = MeasureSpec(
    id="breast_cancer_screening",
    name="Breast cancer screening",
    description="Women 50-74 with a mammogram in the period or the 15 months before.",
    period="calendar year; look-back from the 1st of the month 15 months before the period",
    denominator="women aged 50-74 at the period end",
    continuous_enrollment="the period, at most one missing month, enrolled in the last month",
    exclusions=("bilateral_mastectomy: on or before the period end (claims or EHR)",),
    numerator="mammography (CPT/HCPCS, claims or EHR procedure) in the look-back",
    value_sets=("mammography", "bilateral_mastectomy"),
)
COLORECTAL = MeasureSpec(
    id="colorectal_cancer_screening",
    name="Colorectal cancer screening",
    description="Members 45-75 with an up-to-date colorectal cancer screening.",
    period="calendar year with test-specific look-backs",
    denominator="members aged 45-75 at the period end",
    continuous_enrollment="the period, at most one missing month, enrolled in the last month",
    exclusions=("colorectal_cancer_or_colectomy: on or before the period end",),
    numerator="colonoscopy (period + 9 prior years), flexible sigmoidoscopy or CT colonography "
    "(period + 4), FIT-DNA (period + 2), FOBT/FIT (period)",
    value_sets=(
        "colonoscopy",
        "flexible_sigmoidoscopy",
        "ct_colonography",
        "fit_dna",
        "fobt",
        "colorectal_cancer",
        "total_colectomy",
    ),
)


def months_before(d: dt.date, months: int) -> dt.date:
    m = d.year * 12 + d.month - 1 - months
    return dt.date(m // 12, m % 12 + 1, 1)


def _years_before(d: dt.date, years: int) -> dt.date:
    return dt.date(d.year - years, 1, 1)


def _hits(ev: ir.Table, names: tuple[str, ...], lo: dt.date, hi: dt.date, tag: str) -> ir.Table:
    e = in_value_set(ev, *names)
    e = e.filter(e.event_date.between(lo, hi))
    return e.group_by(_h_m=e.member_id).aggregate(**{f"_{tag}": e.event_date.max()})


def _rows(
    spec: MeasureSpec,
    base: ir.Table,
    p: Period,
    excluded_by: ir.Table,
    numer: list[tuple[str, ir.Table]],
    exclusion_reason: str,
) -> ir.Table:
    x = excluded_by.select(_ex_m=excluded_by._h_m)
    r = base.left_join(x, base.member_id == x._ex_m)
    for tag, t in numer:
        t = t.rename({f"_m_{tag}": "_h_m"})
        r = r.left_join(t, r.member_id == t[f"_m_{tag}"])
    r = r.select(*r.columns)
    hit = ibis.literal(False)
    detail = ibis.null().cast("string")
    for tag, _ in numer:
        d = r[f"_{tag}"]
        detail = ibis.ifelse(
            detail.isnull() & d.notnull(), ibis.literal(f"{tag} ").concat(d.cast("string")), detail
        )
        hit = hit | d.notnull()
    reason = ibis.ifelse(r._ex_m.notnull(), exclusion_reason, ibis.null().cast("string"))
    return measure_rows(r, spec.id, p, in_numerator=hit, exclusion_reason=reason, detail=detail)


def screening_rows(
    evidence: ir.Table,
    member_months: ir.Table,
    periods: list[Period],
    attribution: ir.Table | None = None,
) -> ir.Table:
    """Member-level rows of breast and colorectal cancer screening for each period."""
    parts = []
    ev = evidence
    for p in periods:
        ce = continuous_enrollment(member_months, p.start, p.end)
        age = age_on(ce.birth_date, p.end)
        women = ce.filter(ce.gender.lower().isin(("female", "f")) & age.between(50, 74))
        mast = _hits(ev, ("bilateral_mastectomy",), dt.date(1900, 1, 1), p.end, "x")
        mammo = _hits(ev, ("mammography",), months_before(p.start, 15), p.end, "mammography")
        parts.append(
            finalize(
                _rows(BREAST, women, p, mast, [("mammography", mammo)], "bilateral_mastectomy"),
                attribution,
            )
        )

        adults = ce.filter(age.between(45, 75))
        crc = _hits(
            ev,
            ("colorectal_cancer", "total_colectomy"),
            dt.date(1900, 1, 1),
            p.end,
            "x",
        )
        tests = [
            ("colonoscopy", _years_before(p.start, 9)),
            ("flexible_sigmoidoscopy", _years_before(p.start, 4)),
            ("ct_colonography", _years_before(p.start, 4)),
            ("fit_dna", _years_before(p.start, 2)),
            ("fobt", p.start),
        ]
        numer = [(vs, _hits(ev, (vs,), lo, p.end, vs)) for vs, lo in tests]
        parts.append(
            finalize(
                _rows(COLORECTAL, adults, p, crc, numer, "colorectal_cancer_or_colectomy"),
                attribution,
            )
        )
    return ibis.union(*parts)
