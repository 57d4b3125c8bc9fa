"""Care-management worklists: whom the joint clinical teams should call, and why.

One table, one row per member and reason, for the latest year of the run:

- ``high_risk``: risk score in the top share of members (``high_risk_percentile``);
- ``rising_risk``: risk score up by at least ``rising_risk_increase`` on the year before;
- ``discharge_no_followup``: a home discharge in the last ``discharge_lookback_days`` without a
  visit within 7 days (rows of the ``followup_7d`` measure);
- ``care_gap``: the other open care gaps of the year's quality measures;
- ``sdoh_no_referral``: a screen with a positive social-needs domain and no referral for it;
- ``high_mme_opioid``: members in the numerator of the opioid high-dosage measure;
- ``steerable_leakage``: partner-attributed members whose elective care went out of the partner
  system although the partner system offers the same service in their 3-digit zip area, with the
  in-system alternative that does most of that work there.

Every row carries ``reason``, a sentence a nurse can read, and ``priority`` (1 = first to call)
within its list. Lists whose inputs are missing from the run (no EHR screening data, no opioid
measure) are left out; the others still build.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import ibis
import ibis.expr.types as ir
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

from payvider.measures.quality.framework import MeasureSpec
from payvider.schema.tables import SDOH_SCREENING

WORKLISTS = (
    "high_risk",
    "rising_risk",
    "discharge_no_followup",
    "care_gap",
    "sdoh_no_referral",
    "high_mme_opioid",
    "steerable_leakage",
)

#: Measures whose gaps are not calls to make (outcomes) or have a list of their own.
_NOT_CARE_GAPS = ("readmission_30d", "followup_7d", "followup_30d")
_HIGH_MME_MEASURE = "opioid_high_dosage"

COLUMNS = {
    "worklist": "string",
    "year": "int64",
    "member_id": "string",
    "payer": "string",
    "organization_id": "string",
    "health_system": "string",
    "partner_flag": "boolean",
    "clinician_npi": "string",
    "priority": "int64",
    "reason": "string",
    "event_date": "date",
    "measure_id": "string",
    "amount": "decimal(18, 2)",
    "alternative_npi": "string",
    "alternative_name": "string",
}


class WorklistSettings(BaseModel):
    """Thresholds of the worklists; recorded in the run manifest with the other parameters."""

    model_config = ConfigDict(extra="forbid")

    #: Members whose risk score is above this percentile of the year's members are high risk.
    high_risk_percentile: float = Field(95.0, gt=0, lt=100)
    #: Increase of the risk score on the year before that makes a member rising risk.
    rising_risk_increase: float = Field(0.5, gt=0)
    #: Discharges this many days before the as-of date, or later, are on the follow-up list.
    discharge_lookback_days: int = Field(90, ge=1)
    #: Elective service categories whose out-of-system use counts as steerable.
    steerable_categories: tuple[str, ...] = (
        "office_specialist",
        "outpatient_surgery",
        "outpatient_imaging",
        "outpatient_lab",
        "infusion",
        "professional_imaging",
    )
    #: Professional categories are matched on the clinician's specialty, the others on the category.
    steerable_professional_categories: tuple[str, ...] = (
        "office_specialist",
        "professional_imaging",
    )
    #: Out-of-system allowed dollars per member and service below which a row is not worth a call.
    steerable_min_allowed: Decimal = Field(Decimal("250"), ge=0)


def _money_text(x: ir.DecimalValue) -> ir.StringValue:
    return "$" + x.cast("decimal(18, 2)").cast("string")


def _score_text(x: ir.FloatingValue) -> ir.StringValue:
    return x.round(2).cast("decimal(10, 2)").cast("string")


def _directory(provider: ir.Table) -> ir.Table:
    """Name and 3-digit practice zip per NPI: one row per NPI even when the provider file was
    loaded in more than one batch."""
    return provider.group_by(_p_npi=provider.npi).aggregate(
        _p_name=provider.provider_name.min(), _p_zip3=provider.practice_zip_code[:3].min()
    )


def _latest_attribution(attribution: ir.Table, year: int) -> ir.Table:
    a = attribution.filter(attribution.period == year)
    return a.select(
        _a_member=a.member_id,
        _a_payer=a.payer,
        organization_id=a.organization_id,
        health_system=a.health_system,
        partner_flag=a.partner_flag,
        clinician_npi=a.clinician_npi,
    )


def _finish(rows: ir.Table, worklist: str, year: int, attribution: ir.Table, order) -> ir.Table:
    """Attach attribution, rank by ``order`` and select the worklist columns."""
    a = _latest_attribution(attribution, year)
    j = rows.left_join(a, [rows.member_id == a._a_member, rows.payer == a._a_payer])
    null = {
        k: ibis.null().cast(v)
        for k, v in COLUMNS.items()
        if k not in ("worklist", "year", "priority") and k not in j.columns
    }
    j = j.mutate(worklist=ibis.literal(worklist), year=ibis.literal(year, "int64"), **null)
    j = j.mutate(
        priority=(ibis.row_number().over(order_by=[*order(j), j.member_id, j.measure_id]) + 1).cast(
            "int64"
        )
    )
    return j.select(*[j[k].cast(v).name(k) for k, v in COLUMNS.items()])


def high_risk(risk: ir.Table, year: int, attribution: ir.Table, s: WorklistSettings) -> ir.Table:
    r = risk.filter(risk.year == year)
    r = r.mutate(_share=ibis.cume_dist().over(order_by=r.risk_score))
    r = r.filter(r._share > s.high_risk_percentile / 100)
    r = r.mutate(
        event_date=ibis.date(year, 12, 31),
        reason="risk score "
        + _score_text(r.risk_score)
        + " ("
        + r.model
        + ", top "
        + ibis.literal(f"{100 - s.high_risk_percentile:g}")
        + "% of members in "
        + ibis.literal(str(year))
        + "), "
        + r.hcc_count.cast("string")
        + " HCCs",
    )
    return _finish(r, "high_risk", year, attribution, lambda j: [ibis.desc(j.risk_score)])


def rising_risk(risk: ir.Table, year: int, attribution: ir.Table, s: WorklistSettings) -> ir.Table:
    now = risk.filter(risk.year == year)
    before = risk.filter(risk.year == year - 1)
    before = before.select(_b_member=before.member_id, _b_payer=before.payer, _b=before.risk_score)
    r = now.join(before, [now.member_id == before._b_member, now.payer == before._b_payer])
    r = r.mutate(_rise=r.risk_score - r._b)
    r = r.filter(r._rise >= s.rising_risk_increase)
    r = r.mutate(
        event_date=ibis.date(year, 12, 31),
        reason="risk score rose from "
        + _score_text(r._b)
        + " to "
        + _score_text(r.risk_score)
        + " ("
        + r.model
        + ", "
        + ibis.literal(f"{year - 1} to {year}")
        + ")",
    )
    return _finish(r, "rising_risk", year, attribution, lambda j: [ibis.desc(j._rise)])


def discharges_without_followup(
    quality_member: ir.Table,
    stays: ir.Table,
    provider: ir.Table | None,
    as_of: dt.date,
    year: int,
    attribution: ir.Table,
    s: WorklistSettings,
) -> ir.Table:
    """Home discharges of the lookback whose 7 days have passed without a visit.

    Read from the ``followup_7d`` measure's rows, including discharges of the period's last 30
    days, which the measure excludes (their 30-day window is not over) but a care team must see."""
    since = as_of - dt.timedelta(days=s.discharge_lookback_days)
    q = quality_member
    g = q.filter(
        (q.measure_id == "followup_7d")
        & (q.period == str(year))
        & q.in_denominator
        & (~q.excluded | (q.exclusion_reason == "discharge_in_last_30_days"))
        & ~q.in_numerator
        & (q.event_date > since)
        & (q.event_date <= as_of - dt.timedelta(days=7))
    )
    st = stays.select(
        _s_id=stays.encounter_id,
        _s_npi=stays.provider_npi,
        _s_system=stays.health_system,
        _s_admit=stays.admission_date,
    )
    r = g.left_join(st, g.event_id == st._s_id)
    names = ibis.null().cast("string")
    if provider is not None:
        p = _directory(provider)
        r = r.left_join(p, r._s_npi == p._p_npi)
        names = r._p_name
    where = ibis.coalesce(r._s_system, names, ibis.literal("NPI ") + r._s_npi)
    r = r.mutate(
        reason="discharged "
        + r.event_date.cast("string")
        + " from "
        + where
        + " (admitted "
        + r._s_admit.cast("string")
        + "), no visit within 7 days",
    )
    return _finish(
        r, "discharge_no_followup", year, attribution, lambda j: [ibis.desc(j.event_date)]
    )


def open_care_gaps(
    gaps: ir.Table, year: int, attribution: ir.Table, specs: tuple[MeasureSpec, ...]
) -> ir.Table:
    g = gaps.filter((gaps.period == str(year)) & ~gaps.measure_id.isin(_NOT_CARE_GAPS))
    names = {s.id: s.name for s in specs}
    name = g.measure_id.cases(*names.items(), else_=g.measure_id) if names else g.measure_id
    per_member = g.group_by([g.member_id, g.payer]).aggregate(_gaps=g.count())
    per_member = per_member.rename(_g_member="member_id", _g_payer="payer")
    r = g.join(per_member, [g.member_id == per_member._g_member, g.payer == per_member._g_payer])
    r = r.mutate(
        reason="open care gap: "
        + name
        + " ("
        + r.period
        + ")"
        + ibis.ifelse(r.detail.isnull(), ibis.literal(""), "; " + r.detail),
    )
    return _finish(r, "care_gap", year, attribution, lambda j: [ibis.desc(j._gaps), j.measure_id])


def sdoh_without_referral(
    screening: ir.Table, crosswalk: ir.Table, year: int, attribution: ir.Table
) -> ir.Table:
    """Positive screens of the year with at least one positive domain not referred."""
    sc = screening.filter(screening.screening_date.year() == year)
    unmet = sc.positive_flag & ~sc.referral_flag.fill_null(False)
    domains = next(c.allowed for c in SDOH_SCREENING.columns if c.name == "domain")
    per = sc.group_by([sc.screening_id, sc.patient_id, sc.screening_date]).aggregate(
        _unmet=unmet.cast("int64").sum(),
        **{f"_d_{d}": (unmet & (sc.domain == d)).any() for d in domains},
    )
    per = per.filter(per._unmet > 0)
    listed = ibis.literal("")
    for d in domains:
        listed = listed + ibis.ifelse(per[f"_d_{d}"], ibis.literal(d + " "), ibis.literal(""))
    x = crosswalk.select(_x_member=crosswalk.member_id, _x_patient=crosswalk.patient_id)
    r = per.join(x, per.patient_id == x._x_patient)
    r = r.mutate(
        member_id=r._x_member,
        event_date=r.screening_date,
        reason="positive social-needs screen on "
        + r.screening_date.cast("string")
        + " without referral: "
        + listed.strip().replace(" ", ", "),
    )
    # Members are keyed by member id alone in the crosswalk: take the payer from attribution.
    a = attribution.filter(attribution.period == year)
    a = a.select(_p_member=a.member_id, payer=a.payer).distinct()
    r = r.left_join(a, r.member_id == a._p_member)
    return _finish(r, "sdoh_no_referral", year, attribution, lambda j: [ibis.desc(j.event_date)])


def high_mme_opioid(quality_member: ir.Table, year: int, attribution: ir.Table) -> ir.Table:
    q = quality_member
    q = q.filter(
        (q.measure_id == _HIGH_MME_MEASURE)
        & (q.period == str(year))
        & q.in_denominator
        & ~q.excluded
        & q.in_numerator
    )
    q = q.mutate(
        measure_id=q.measure_id,
        reason="opioid high dosage (average daily MME of 90 or more) in "
        + q.period
        + ibis.ifelse(q.detail.isnull(), ibis.literal(""), "; " + q.detail),
    )
    return _finish(q, "high_mme_opioid", year, attribution, lambda j: [ibis.desc(j.event_date)])


def steerable_leakage(
    claims: ir.Table,
    provider: ir.Table,
    eligibility: ir.Table,
    year: int,
    attribution: ir.Table,
    s: WorklistSettings,
) -> ir.Table:
    cats = list(s.steerable_categories)
    prof = list(s.steerable_professional_categories)
    c = claims.filter(claims.service_category.isin(cats))
    is_prof = c.service_category.isin(prof)
    c = c.mutate(
        _service=ibis.ifelse(is_prof, c.specialty, c.service_category),
        _npi=ibis.ifelse(is_prof, c.rendering_npi, c.provider_npi),
    )
    c = c.filter(c._service.notnull())

    # Supply: in-system providers of each service, by the 3-digit zip of their practice.
    p = _directory(provider)
    supply = c.filter(c.in_partner_system & c._npi.notnull())
    supply = supply.group_by([supply._service, supply._npi]).aggregate(_lines=supply.count())
    supply = supply.join(p, supply._npi == p._p_npi).filter(lambda t: t._p_zip3.notnull())
    supply = supply.mutate(
        _rank=ibis.row_number().over(
            group_by=[supply._service, supply._p_zip3],
            order_by=[ibis.desc(supply._lines), supply._npi],
        )
    )
    supply = supply.filter(supply._rank == 0).select(
        _alt_service="_service",
        _alt_zip3="_p_zip3",
        alternative_npi="_npi",
        alternative_name="_p_name",
    )

    # Demand: out-of-system use of partner-attributed members in the year.
    a = attribution.filter((attribution.period == year) & attribution.partner_flag)
    a = a.select(_m=a.member_id, _py=a.payer)
    d = c.filter((c.year == year) & ~c.in_partner_system)
    d = d.join(a, [d.member_id == a._m, d.payer == a._py])
    d = d.mutate(_dest=ibis.coalesce(d.health_system, d.provider_name, ibis.literal("unknown")))
    by_dest = d.group_by([d.member_id, d.payer, d._service, d._dest]).aggregate(
        _allowed=d.allowed_amount.sum(), _lines=d.count(), _last=d.service_date.max()
    )
    by_dest = by_dest.mutate(
        _rank=ibis.row_number().over(
            group_by=[by_dest.member_id, by_dest.payer, by_dest._service],
            order_by=[ibis.desc(by_dest._allowed), by_dest._dest],
        )
    )
    m = by_dest.group_by([by_dest.member_id, by_dest.payer, by_dest._service]).aggregate(
        amount=by_dest._allowed.sum(),
        _lines=by_dest._lines.sum(),
        event_date=by_dest._last.max(),
        _top=by_dest._dest.min(where=by_dest._rank == 0),
    )
    m = m.filter(m.amount >= s.steerable_min_allowed)

    # The member's 3-digit zip: of the enrollment span that ends last.
    e = eligibility.select(
        _e_member=eligibility.member_id,
        _e_payer=eligibility.payer,
        _e_zip3=eligibility.zip_code[:3],
        _e_end=eligibility.enrollment_end_date,
    )
    e = e.mutate(
        _r=ibis.row_number().over(
            group_by=[e._e_member, e._e_payer], order_by=[ibis.desc(e._e_end), e._e_zip3]
        )
    ).filter(lambda t: t._r == 0)
    m = m.join(e, [m.member_id == e._e_member, m.payer == e._e_payer])
    r = m.join(supply, [m._service == supply._alt_service, m._e_zip3 == supply._alt_zip3])
    r = r.mutate(
        reason=_money_text(r.amount)
        + " out of system for "
        + r._service.replace("_", " ")
        + " in "
        + ibis.literal(str(year))
        + " ("
        + r._lines.cast("string")
        + " lines, mostly "
        + r._top
        + "); in system nearby: "
        + r.alternative_name
        + " (NPI "
        + r.alternative_npi
        + ")",
    )
    return _finish(r, "steerable_leakage", year, attribution, lambda j: [ibis.desc(j.amount)])


def care_worklist(
    tables: dict[str, ir.Table],
    year: int,
    as_of: dt.date,
    settings: WorklistSettings,
    specs: tuple[MeasureSpec, ...],
    risk_model: str,
) -> ir.Table:
    """All worklists of ``year`` whose inputs are in ``tables``, stacked."""
    attribution = tables["attribution"]
    parts: list[ir.Table] = []
    risk = tables.get("risk_score")
    if risk is not None:
        risk = risk.filter(risk.model == risk_model)
        parts.append(high_risk(risk, year, attribution, settings))
        parts.append(rising_risk(risk, year, attribution, settings))
    gaps = tables.get("quality_care_gaps")
    qm = tables.get("quality_member")
    if qm is not None and tables.get("inpatient_stays") is not None:
        parts.append(
            discharges_without_followup(
                qm,
                tables["inpatient_stays"],
                tables.get("provider"),
                as_of,
                year,
                attribution,
                settings,
            )
        )
    if gaps is not None:
        parts.append(open_care_gaps(gaps, year, attribution, specs))
    if (
        tables.get("sdoh_screening") is not None
        and tables.get("member_patient_crosswalk") is not None
    ):
        parts.append(
            sdoh_without_referral(
                tables["sdoh_screening"], tables["member_patient_crosswalk"], year, attribution
            )
        )
    if qm is not None:
        parts.append(high_mme_opioid(qm, year, attribution))
    claims = tables.get("claims_enriched")
    if claims is not None and tables.get("provider") is not None:
        parts.append(
            steerable_leakage(
                claims, tables["provider"], tables["eligibility"], year, attribution, settings
            )
        )
    if not parts:
        return empty_worklist()
    return ibis.union(*parts)


def empty_worklist() -> ir.Table:
    return ibis.memtable(pa.Table.from_pylist([], schema=ibis.schema(COLUMNS).to_pyarrow()))
