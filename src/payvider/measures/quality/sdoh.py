"""Social drivers of health: screening rate, needs found by domain, referrals for the needs found.

The partner EHR's ``sdoh_screening`` table has one row per domain answered on a screening; patients
become payer members through ``member_patient_crosswalk``. Two measures go to ``quality_member``:

- ``sdoh_screening`` (after MIPS quality measure #487, "Screening for Social Drivers of Health"):
  adult members (18+ at the period end), enrolled in the period, with a linked EHR visit (encounter
  type office visit or wellness) in the period. Numerator: screened in the period for all five core
  domains of the CMS Accountable Health Communities HRSN tool (food, housing, transportation,
  utilities, interpersonal safety), on one screening or several.
- ``sdoh_referral`` (event level, one row per positive domain on a screening in the period, the
  HEDIS SNS-E "intervention" idea): numerator when a referral was made for that need. The care
  gaps are positive screens without a referral — the care teams' worklist.

Domain prevalence is its own table (:func:`sdoh_summary`): per period, level (total, organization)
and domain, the screenings and members screened, positive screenings and members with the need,
and referrals; domain ``any`` counts members with at least one need identified.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from payvider.measures.quality.framework import (
    SMALL_CELL,
    UNATTRIBUTED,
    MeasureSpec,
    Period,
    age_on,
    calendar_year,
    finalize,
    measure_rows,
    member_years,
)

#: The five core domains of the AHC HRSN screening tool (CMS), required by MIPS #487.
CORE_DOMAINS = ("food", "housing", "transportation", "utilities", "interpersonal_safety")
#: EHR encounter types that count as a visit for the screening denominator.
VISIT_TYPES = ("office visit", "wellness")

SCREENING = MeasureSpec(
    id="sdoh_screening",
    name="Screening for social drivers of health",
    description="Adult members seen in the partner system who were screened for the five core "
    "social-need domains in the period.",
    period="calendar year",
    denominator="members 18+ at the period end, enrolled in the period, with a linked EHR "
    "office or wellness visit in the period",
    continuous_enrollment="none (enrolled in at least one month of the period)",
    exclusions=(),
    numerator="SDOH screenings in the period answering food, housing, transportation, utilities "
    "and interpersonal safety",
    sources=("CMS MIPS quality measure #487 (2024)", "CMS AHC HRSN screening tool"),
)
REFERRAL = MeasureSpec(
    id="sdoh_referral",
    name="Referral for social needs identified",
    description="Positive SDOH screens (one per domain and screening) with a referral.",
    period="calendar year",
    denominator="domains screened positive on a screening in the period, of enrolled members",
    continuous_enrollment="none (enrolled in at least one month of the period)",
    exclusions=(),
    numerator="referral made for the need (referral_flag)",
    sources=("NCQA HEDIS Social Need Screening and Intervention (SNS-E), MY2025",),
)
SPECS = (SCREENING, REFERRAL)

SUMMARY_SCHEMA = ibis.schema(
    {
        "period": "string",
        "period_start": "date",
        "period_end": "date",
        "level": "string",
        "organization_id": "string",
        "domain": "string",
        "enrolled_members": "int64",
        "screened_members": "int64",
        "screening_rate": "float64",
        "screenings": "int64",
        "positive_screenings": "int64",
        "positive_rate": "float64",
        "members_with_need": "int64",
        "member_need_rate": "float64",
        "referrals": "int64",
        "referral_rate": "float64",
        "small_cell": "boolean",
    }
)


def linked_screenings(sdoh: ir.Table, crosswalk: ir.Table) -> ir.Table:
    """Screening rows of linked patients with the payer member id."""
    x = crosswalk.select(_x_m=crosswalk.member_id, _x_p=crosswalk.patient_id)
    j = sdoh.inner_join(x, sdoh.patient_id == x._x_p)
    return j.select(
        member_id=j._x_m,
        screening_id=j.screening_id,
        screening_date=j.screening_date,
        domain=j.domain.lower(),
        positive=j.positive_flag.fill_null(False),
        referred=j.referral_flag.fill_null(False),
    )


def _enrolled(member_months: ir.Table, p: Period, shared: bool = True) -> ir.Table:
    """Members enrolled in any month of the period, one row each, with the last month's payer.

    ``shared``: read the member-year frame the other measures read (else the member months)."""
    year = calendar_year(p.start, p.end)
    if shared and year is not None:
        # from the member-year frame: each payer's last month decides, as the months would
        y = member_years(member_months)
        y = y.filter(y.year == year)
        last = y.last_month.cast("string").concat("|", y.payer)  # unique per member: no ties
        return y.group_by("member_id").aggregate(
            payer=y.payer.argmax(last), birth_date=y.birth_date.max()
        )
    mm = member_months.filter(member_months.month.between(p.start, p.end))
    last = mm.month.cast("string").concat("|", mm.payer)  # unique per member: no ties
    return mm.group_by("member_id").aggregate(
        payer=mm.payer.argmax(last), birth_date=mm.birth_date.max()
    )


def _visited(encounter: ir.Table, crosswalk: ir.Table, p: Period) -> ir.Table:
    e = encounter.filter(
        encounter.encounter_type.lower().isin(VISIT_TYPES)
        & encounter.encounter_start_date.between(p.start, p.end)
    )
    x = crosswalk.select(_x_m=crosswalk.member_id, _x_p=crosswalk.patient_id)
    j = e.inner_join(x, e.patient_id == x._x_p)
    return j.group_by(_v_m=j._x_m).aggregate(_v_first=j.encounter_start_date.min())


def sdoh_rows(
    sdoh: ir.Table,
    encounter: ir.Table,
    crosswalk: ir.Table,
    member_months: ir.Table,
    periods: list[Period],
    attribution: ir.Table | None = None,
) -> ir.Table:
    """Member-level rows of ``sdoh_screening`` and event rows of ``sdoh_referral`` per period."""
    scr = linked_screenings(sdoh, crosswalk)
    parts = []
    for p in periods:
        enrolled = _enrolled(member_months, p)
        s = scr.filter(scr.screening_date.between(p.start, p.end))

        adults = enrolled.filter(age_on(enrolled.birth_date, p.end) >= 18)
        seen = _visited(encounter, crosswalk, p)
        den = adults.inner_join(seen, adults.member_id == seen._v_m)
        core = s.filter(s.domain.isin(CORE_DOMAINS))
        core = core.group_by(_c_m=core.member_id).aggregate(
            _c_n=core.domain.nunique(), _c_first=core.screening_date.min()
        )
        r = den.left_join(core, den.member_id == core._c_m)
        screened = r._c_n.fill_null(0) >= len(CORE_DOMAINS)
        detail = ibis.ifelse(
            r._c_n.isnull(),
            ibis.literal("not screened"),
            r._c_n.cast("string").concat(
                " of 5 core domains, first on ", r._c_first.cast("string")
            ),
        )
        rows = measure_rows(r, SCREENING.id, p, in_numerator=screened, detail=detail)
        parts.append(finalize(rows, attribution))

        pos = s.filter(s.positive)
        members = enrolled.select(_e_m=enrolled.member_id, _e_p=enrolled.payer)
        pos = pos.inner_join(members, pos.member_id == members._e_m)
        pos = pos.mutate(payer=pos._e_p)
        rows = measure_rows(
            pos,
            REFERRAL.id,
            p,
            in_numerator=pos.referred,
            event_id=pos.screening_id.concat(":", pos.domain),
            event_date=pos.screening_date,
            detail=pos.domain,
        )
        parts.append(finalize(rows, attribution))
    return ibis.union(*parts)


def _rate(num: ir.IntegerValue, den: ir.IntegerValue) -> ir.FloatingValue:
    return ibis.ifelse(den > 0, (num.cast("float64") / den.cast("float64")).round(6), None)


def sdoh_summary(
    sdoh: ir.Table,
    crosswalk: ir.Table,
    member_months: ir.Table,
    periods: list[Period],
    attribution: ir.Table | None = None,
) -> ir.Table:
    """Screenings, needs and referrals per period, level (total, organization) and domain.

    ``screening_rate`` = members screened (any domain) ÷ members enrolled in the period;
    ``positive_rate`` = positive screenings ÷ screenings answering the domain;
    ``member_need_rate`` = members with the need ÷ members screened for it;
    ``referral_rate`` = positive screenings with a referral ÷ positive screenings. Domain ``any``
    counts a screening positive when any domain is, and members with any need identified.
    """
    scr = linked_screenings(sdoh, crosswalk)
    parts = []
    for p in periods:
        # a stage of its own: nothing to share the member-year frame with
        enrolled = _enrolled(member_months, p, shared=False).select("member_id").distinct()
        s = scr.filter(scr.screening_date.between(p.start, p.end))
        s = s.semi_join(enrolled, "member_id")
        anyd = s.group_by(["member_id", "screening_id"]).aggregate(
            positive=s.positive.any(), referred=(s.positive & s.referred).any()
        )
        s = ibis.union(
            s.select("member_id", "screening_id", "domain", "positive", "referred"),
            anyd.select(
                "member_id",
                "screening_id",
                domain=ibis.literal("any"),
                positive=anyd.positive,
                referred=anyd.referred,
            ),
        )
        org = _org_of(enrolled, attribution, p)
        s = s.inner_join(org, s.member_id == org._o_m)
        e = enrolled.inner_join(org, enrolled.member_id == org._o_m)
        for level, by_org in (("total", False), ("organization", True)):
            ee = e if by_org else e.mutate(organization_id=ibis.literal("all"))
            ss = s if by_org else s.mutate(organization_id=ibis.literal("all"))
            base = ee.group_by("organization_id").aggregate(enrolled_members=ee.member_id.nunique())
            g = ss.group_by(["organization_id", "domain"]).aggregate(
                screened_members=ss.member_id.nunique(),
                screenings=ss.screening_id.nunique(),
                positive_screenings=ss.positive.cast("int64").sum(),
                members_with_need=ibis.ifelse(ss.positive, ss.member_id, None).nunique(),
                referrals=(ss.positive & ss.referred).cast("int64").sum(),
            )
            g = g.inner_join(base, "organization_id")
            g = g.mutate(
                period=ibis.literal(p.label),
                period_start=ibis.literal(p.start),
                period_end=ibis.literal(p.end),
                level=ibis.literal(level),
                screening_rate=_rate(g.screened_members, g.enrolled_members),
                positive_rate=_rate(g.positive_screenings, g.screenings),
                member_need_rate=_rate(g.members_with_need, g.screened_members),
                referral_rate=_rate(g.referrals, g.positive_screenings),
                small_cell=g.screened_members < SMALL_CELL,
            )
            parts.append(g.select(**{n: g[n].cast(t) for n, t in SUMMARY_SCHEMA.items()}))
    if not parts:
        return ibis.memtable({n: [] for n in SUMMARY_SCHEMA.names}, schema=SUMMARY_SCHEMA)
    return ibis.union(*parts)


def _org_of(members: ir.Table, attribution: ir.Table | None, p: Period) -> ir.Table:
    """(_o_m, organization_id): each member's attributed organization of the period's year."""
    if attribution is None:
        return members.select(_o_m=members.member_id, organization_id=ibis.literal(UNATTRIBUTED))
    a = attribution.filter(
        (attribution.period.cast("int64") == p.end.year) & (attribution.rule != "unattributed")
    )
    a = a.group_by(_a_m=a.member_id).aggregate(_a_org=a.organization_id.min())
    j = members.left_join(a, members.member_id == a._a_m)
    return j.select(_o_m=j.member_id, organization_id=j._a_org.fill_null(UNATTRIBUTED))
