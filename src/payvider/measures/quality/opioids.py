"""Opioid measures from final pharmacy fills: high dosage (average MME >= 90) and concurrent
opioid + benzodiazepine use, in the style of HEDIS HDO and COB.

A fill's drug, strength and MME conversion factor come from the shipped NDC list
(``reference/opioid_benzodiazepine_ndc.csv``; factors: CDC, ``mme_conversion_factors.csv``).
MME of a fill = strength per unit x quantity x conversion factor, spread evenly over its days
supply. All MME arithmetic is on integers (nano-MME: 1e-9 MME) so that the boundary at exactly
90 is decided identically on DuckDB and Spark; magnitudes stay below 2^53 so both engines'
integer division is exact.

Denominator (both measures), per calendar year: members 18+ at the period start, continuously
enrolled in it, with >= 2 opioid fills on different dates in the period and >= 15 days covered
by opioid supply within the period. Exclusions: malignant neoplasm, sickle-cell disease or
palliative care (diagnosis in the period); hospice is applied to every measure by the stage.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from functools import cache

import ibis
import ibis.expr.types as ir

from payvider.measures.quality.framework import (
    MeasureSpec,
    Period,
    age_on,
    code_in,
    continuous_enrollment,
    finalize,
    in_value_set,
    measure_rows,
)
from payvider.reference import read_csv

NDC_FILE = "opioid_benzodiazepine_ndc.csv"
FACTOR_FILE = "mme_conversion_factors.csv"
#: Average daily MME at or above which the dosage is high.
HIGH_MME = 90
#: Days of opioid + benzodiazepine overlap that make concurrent use.
OVERLAP_DAYS = 30
MIN_FILLS = 2
MIN_COVERED_DAYS = 15
#: Quantities above this many units (x 1,000) make a fill invalid: keeps integer MME exact.
MAX_QUANTITY_MILLI = 10_000_000
NANO = 10**9
DRUG_CLASSES = ("opioid", "benzodiazepine")

_COMMON = dict(
    period="calendar year; a fill counts in the period of its dispensing date, its supply is "
    "cut at the period end",
    denominator="members 18+ at the period start with >= 2 opioid fills on different dates and "
    ">= 15 days covered by opioids in the period",
    continuous_enrollment="the period, at most one missing month, enrolled in the last month",
    exclusions=(
        "malignant_neoplasm: ICD-10-CM C00-C96 in the period",
        "sickle_cell_disease: D57 (not trait D57.3) in the period",
        "palliative_care: Z51.5 in the period",
        "hospice: hospice claims or codes in the period",
    ),
    value_sets=("malignant_neoplasm", "sickle_cell_disease", "palliative_care", "hospice"),
    inverse=True,
    sources=("final_pharmacy_claim", "reference/opioid_benzodiazepine_ndc.csv"),
)
HIGH_DOSAGE = MeasureSpec(
    id="opioid_high_dosage",
    name="Opioids at high dosage",
    description="Members on opioids whose average daily MME over the treatment period is 90 "
    "or more (lower is better).",
    numerator="average daily MME >= 90 over the treatment period: from the first opioid fill "
    "of the period to the last day of supply (capped at the period end); total MME of the "
    "period's fills (supply after the period end cut) / days of the treatment period",
    **_COMMON,
)
CONCURRENT = MeasureSpec(
    id="opioid_benzodiazepine_concurrent",
    name="Concurrent opioids and benzodiazepines",
    description="Members on opioids who also filled benzodiazepines, with 30 or more days of "
    "overlapping supply (lower is better).",
    numerator=">= 2 benzodiazepine fills on different dates in the period and >= 30 days "
    "covered by both an opioid and a benzodiazepine in the period",
    **_COMMON,
)
SPECS = (HIGH_DOSAGE, CONCURRENT)
#: Diagnoses in the period that exclude a member, in the order that names the reason.
EXCLUDING_DX = ("malignant_neoplasm", "sickle_cell_disease", "palliative_care")


class ReferenceError_(ValueError):
    """A shipped or user-supplied reference file with a bad row."""


def _scaled(value: str, where: str) -> int:
    """A decimal string as an exact integer number of thousandths."""
    try:
        d = Decimal(value)
    except InvalidOperation:
        raise ReferenceError_(f"{where}: {value!r} is not a number") from None
    milli = d * 1000
    if d <= 0 or milli != milli.to_integral_value():
        raise ReferenceError_(f"{where}: {value!r} must be positive with at most 3 decimals")
    return int(milli)


def parse_ndc_reference(
    rows: tuple[dict[str, str], ...],
    factors: tuple[dict[str, str], ...],
    name: str = NDC_FILE,
) -> tuple[dict, ...]:
    """Validated NDC rows: ndc, drug_class, ingredient, strength_milli, factor_milli.

    An opioid's factor must equal its ingredient's CDC factor; errors name file, row and field.
    """
    by_ingredient = {r["ingredient"]: r["mme_conversion_factor"] for r in factors}
    out, seen = [], set()
    for i, r in enumerate(rows, start=2):  # row 1 is the header

        def where(field: str, i: int = i) -> str:
            return f"{name} row {i}, field {field}"

        ndc = (r.get("ndc") or "").strip()
        if len(ndc) != 11 or not ndc.isdigit():
            raise ReferenceError_(f"{where('ndc')}: {ndc!r} is not an 11-digit NDC")
        if ndc in seen:
            raise ReferenceError_(f"{where('ndc')}: {ndc} is listed twice")
        seen.add(ndc)
        cls = (r.get("drug_class") or "").strip()
        if cls not in DRUG_CLASSES:
            raise ReferenceError_(f"{where('drug_class')}: {cls!r} not in {DRUG_CLASSES}")
        strength = _scaled(r.get("strength_per_unit") or "", where("strength_per_unit"))
        factor = 0
        if cls == "opioid":
            ing = (r.get("ingredient") or "").strip()
            if ing not in by_ingredient:
                raise ReferenceError_(f"{where('ingredient')}: no CDC factor for {ing!r}")
            factor = _scaled(r.get("mme_conversion_factor") or "", where("mme_conversion_factor"))
            if factor != _scaled(by_ingredient[ing], f"{FACTOR_FILE} ({ing})"):
                raise ReferenceError_(
                    f"{where('mme_conversion_factor')}: {r['mme_conversion_factor']} differs "
                    f"from the CDC factor of {ing} ({by_ingredient[ing]})"
                )
        out.append(
            {
                "ndc": ndc,
                "drug_class": cls,
                "ingredient": (r.get("ingredient") or "").strip(),
                "strength_milli": strength,
                "factor_milli": factor,
            }
        )
    return tuple(out)


@cache
def ndc_reference() -> tuple[dict, ...]:
    """The shipped NDC list, validated."""
    return parse_ndc_reference(read_csv(NDC_FILE), read_csv(FACTOR_FILE))


def drug_reference() -> ir.Table:
    rows = ndc_reference()
    return ibis.memtable(
        {k: [r[k] for r in rows] for k in rows[0]},
        schema={
            "ndc": "string",
            "drug_class": "string",
            "ingredient": "string",
            "strength_milli": "int64",
            "factor_milli": "int64",
        },
    )


def drug_fills(final_pharmacy: ir.Table) -> ir.Table:
    """Opioid and benzodiazepine fills with their supply interval and MME.

    Columns: member_id, payer, drug_class, fill_date, days_supply, supply_end (last day of
    supply), prescriber_npi, mme_nano (whole fill; 0 for benzodiazepines). Fills without a
    positive days supply or quantity cannot be measured and are left out.
    """
    ref = drug_reference()
    ref = ref.select(
        _r_ndc=ref.ndc,
        drug_class=ref.drug_class,
        _strength=ref.strength_milli,
        _factor=ref.factor_milli,
    )
    rx = final_pharmacy
    ndc = rx.ndc_code.replace("-", "").strip()
    j = rx.inner_join(ref, ndc == ref._r_ndc)
    ds = j.days_supply.cast("int64")
    qty = (j.quantity.cast("decimal(18, 4)") * 1000).round(0).cast("int64")
    j = j.mutate(_ds=ds, _qty=qty).filter(
        lambda t: (t._ds > 0) & (t._qty > 0) & (t._qty <= MAX_QUANTITY_MILLI)
    )
    return j.select(
        "member_id",
        "payer",
        "drug_class",
        fill_date=j.dispensing_date,
        days_supply=j._ds,
        supply_end=j.dispensing_date + (j._ds - 1).as_interval("D"),
        prescriber_npi=j.prescribing_provider_npi,
        mme_nano=j._strength * j._factor * j._qty,
    )


def prorated_mme(mme_nano: ir.IntegerValue, days: ir.IntegerValue, days_supply) -> ir.IntegerValue:
    """floor(mme_nano x days / days_supply), exactly, without intermediates above 2^53."""
    return (mme_nano // days_supply) * days + ((mme_nano % days_supply) * days) // days_supply


def clip(fills: ir.Table, lo: dt.date, hi: dt.date, overlapping: bool = False) -> ir.Table:
    """Fills dispensed in [lo, hi] (``overlapping``: fills whose supply overlaps it) with their
    supply cut to the window: adds ``_s``, ``_e``, ``_days`` (days of supply inside the
    window) and ``_mme`` (their nano-MME)."""
    if overlapping:
        f = fills.filter((fills.fill_date <= hi) & (fills.supply_end >= lo))
        s = ibis.greatest(f.fill_date, ibis.literal(lo))
    else:
        f = fills.filter(fills.fill_date.between(lo, hi))
        s = f.fill_date
    e = ibis.least(f.supply_end, ibis.literal(hi))
    days = (e.delta(s, unit="day") + 1).cast("int64")
    return f.mutate(_s=s, _e=e, _days=days, _mme=prorated_mme(f.mme_nano, days, f.days_supply))


def islands(spans: ir.Table) -> ir.Table:
    """Overlapping or adjacent supply intervals (``_s``..``_e``) of a member merged:
    member_id, payer, s, e."""
    key = [spans.member_id, spans.payer]
    order = [spans._s, spans._e]
    t = spans.mutate(_run=spans._e.max().over(ibis.cumulative_window(group_by=key, order_by=order)))
    prev = t._run.lag().over(ibis.window(group_by=[t.member_id, t.payer], order_by=[t._s, t._e]))
    new = ibis.ifelse(prev.isnull() | (t._s > prev + ibis.interval(days=1)), 1, 0)
    t = t.mutate(_new=new)
    t = t.mutate(
        _isl=t._new.sum().over(
            ibis.cumulative_window(group_by=[t.member_id, t.payer], order_by=[t._s, t._e])
        )
    )
    return t.group_by(["member_id", "payer", "_isl"]).aggregate(s=t._s.min(), e=t._e.max())


def covered_days(isl: ir.Table) -> ir.Table:
    """member_id, payer, covered (days in the union of the intervals)."""
    return isl.group_by(["member_id", "payer"]).aggregate(
        covered=(isl.e.delta(isl.s, unit="day") + 1).sum().cast("int64")
    )


def overlap_days(a: ir.Table, b: ir.Table) -> ir.Table:
    """member_id, payer, overlap: days covered by both sets of merged intervals."""
    bb = b.select(_b_m=b.member_id, _b_p=b.payer, _b_s=b.s, _b_e=b.e)
    j = a.inner_join(
        bb,
        [a.member_id == bb._b_m, a.payer == bb._b_p, a.s <= bb._b_e, bb._b_s <= a.e],
    )
    days = ibis.least(j.e, j._b_e).delta(ibis.greatest(j.s, j._b_s), unit="day") + 1
    return j.group_by(["member_id", "payer"]).aggregate(overlap=days.sum().cast("int64"))


def mme_text(mme_nano: ir.IntegerValue, days: ir.IntegerValue) -> ir.StringValue:
    """Average daily MME with two decimals, formatted identically on both engines."""
    centi = mme_nano // (days * (NANO // 100))
    cents = (centi % 100).cast("string")
    return (centi // 100).cast("string").concat(".", ibis.ifelse(centi % 100 < 10, "0", ""), cents)


def opioid_use(fills: ir.Table, p: Period) -> ir.Table:
    """Per member with opioid fills in the period: fill dates, covered days, treatment days,
    nano-MME of the treatment period (``_o_`` columns, keyed ``_o_m``/``_o_p``)."""
    op = clip(fills.filter(fills.drug_class == "opioid"), p.start, p.end)
    per = op.group_by(["member_id", "payer"]).aggregate(
        fill_dates=op.fill_date.nunique().cast("int64"),
        ipsd=op.fill_date.min(),
        last_day=op._e.max(),
        mme=op._mme.sum().cast("int64"),
    )
    cov = covered_days(islands(op))
    per = per.inner_join(cov, ["member_id", "payer"])
    return per.select(
        _o_m=per.member_id,
        _o_p=per.payer,
        _fill_dates=per.fill_dates,
        _covered=per.covered,
        _treatment_days=(per.last_day.delta(per.ipsd, unit="day") + 1).cast("int64"),
        _mme=per.mme,
    )


def _excluded_dx(evidence: ir.Table | None, p: Period) -> ir.Table | None:
    if evidence is None:
        return None
    ev = in_value_set(evidence, *EXCLUDING_DX)
    ev = ev.filter(ev.event_date.between(p.start, p.end))
    if "code_type" in ev.columns:
        ev = ev.filter(ev.code_type == "diagnosis")
    if "value_set" not in ev.columns:
        ev = ev.mutate(value_set=ibis.cases(*[(code_in(ev.code, n), n) for n in EXCLUDING_DX]))
    # A code's reason is the first of its value sets; a member's, the least of its codes'.
    rank = ibis.cases(*[(ev.value_set == n, i) for i, n in enumerate(EXCLUDING_DX)])
    by_code = ev.group_by(["member_id", "code"]).aggregate(_rank=rank.min())
    reason = ibis.cases(*[(by_code._rank == i, n) for i, n in enumerate(EXCLUDING_DX)])
    return by_code.group_by(_x_m=by_code.member_id).aggregate(_x_reason=reason.min())


def opioid_rows(
    final_pharmacy: ir.Table,
    member_months: ir.Table,
    periods: list[Period],
    evidence: ir.Table | None = None,
    attribution: ir.Table | None = None,
) -> ir.Table:
    """Member-level rows of the high-dosage and concurrent-benzodiazepine measures."""
    fills = drug_fills(final_pharmacy)
    parts = []
    for p in periods:
        ce = continuous_enrollment(member_months, p.start, p.end)
        ce = ce.filter(age_on(ce.birth_date, p.start) >= 18)
        use = opioid_use(fills, p)
        r = ce.inner_join(use, [ce.member_id == use._o_m, ce.payer == use._o_p])
        r = r.filter((r._fill_dates >= MIN_FILLS) & (r._covered >= MIN_COVERED_DAYS))
        bz = clip(fills.filter(fills.drug_class == "benzodiazepine"), p.start, p.end)
        bz_dates = bz.group_by(_bd_m="member_id", _bd_p="payer").aggregate(
            _bz_dates=bz.fill_date.nunique().cast("int64")
        )
        op = clip(fills.filter(fills.drug_class == "opioid"), p.start, p.end)
        ov = overlap_days(islands(op), islands(bz))
        ov = ov.select(_ov_m=ov.member_id, _ov_p=ov.payer, _overlap=ov.overlap)
        r = r.left_join(bz_dates, [r.member_id == bz_dates._bd_m, r.payer == bz_dates._bd_p])
        r = r.left_join(ov, [r.member_id == ov._ov_m, r.payer == ov._ov_p])
        x = _excluded_dx(evidence, p)
        if x is not None:
            r = r.left_join(x, r.member_id == x._x_m)
            reason = r._x_reason
        else:
            reason = None
        r = r.select(*[c for c in r.columns])
        high = r._mme >= HIGH_MME * NANO * r._treatment_days
        avg = mme_text(r._mme, r._treatment_days)
        parts.append(
            measure_rows(
                r,
                HIGH_DOSAGE.id,
                p,
                in_numerator=high,
                exclusion_reason=reason,
                detail=ibis.literal("average MME ").concat(
                    avg, " over ", r._treatment_days.cast("string"), " days"
                ),
            )
        )
        overlap = r._overlap.fill_null(0)
        concurrent = (r._bz_dates.fill_null(0) >= MIN_FILLS) & (overlap >= OVERLAP_DAYS)
        parts.append(
            measure_rows(
                r,
                CONCURRENT.id,
                p,
                in_numerator=concurrent,
                exclusion_reason=reason,
                detail=ibis.literal("overlap ").concat(overlap.cast("string"), " days"),
            )
        )
    return finalize(ibis.union(*parts), attribution)
