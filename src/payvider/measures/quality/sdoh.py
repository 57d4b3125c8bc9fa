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

from payvider.engine.backends import materialize
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


def _enrolled(member_months: ir.Table, p: Period) -> ir.Table:
    """Members enrolled in any month of the period, one row each, with the last month's payer.

    A calendar year reads the member-year frame the other measures read."""
    year = calendar_year(p.start, p.end)
    if year is not None:
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


def _visited(encounter: ir.Table, crosswalk: ir.Table, periods: list[Period]) -> ir.Table:
    """(_v_m, _v_p): linked members with an office or wellness visit in period number ``_v_p``,
    for all periods in one pass over the encounters."""
    e = encounter.filter(encounter.encounter_type.lower().isin(VISIT_TYPES))
    e = e.select("patient_id", "encounter_start_date")
    e = _in_periods(e, e.encounter_start_date, periods)
    x = crosswalk.select(_x_m=crosswalk.member_id, _x_p=crosswalk.patient_id)
    j = e.inner_join(x, e.patient_id == x._x_p)
    return j.select(_v_m=j._x_m, _v_p=j._p).distinct()


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
    visited = _visited(encounter, crosswalk, periods)
    parts = []
    for i, p in enumerate(periods):
        enrolled = _enrolled(member_months, p)
        s = scr.filter(scr.screening_date.between(p.start, p.end))

        adults = enrolled.filter(age_on(enrolled.birth_date, p.end) >= 18)
        seen = visited.filter(visited._v_p == i)
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
    member_years: ir.Table | None = None,
) -> ir.Table:
    """Screenings, needs and referrals per period, level (total, organization) and domain.

    ``screening_rate`` = members screened (any domain) ÷ members enrolled in the period;
    ``positive_rate`` = positive screenings ÷ screenings answering the domain;
    ``member_need_rate`` = members with the need ÷ members screened for it;
    ``referral_rate`` = positive screenings with a referral ÷ positive screenings. Domain ``any``
    counts a screening positive when any domain is, and members with any need identified.

    All periods are computed together, each row carrying its period's number (``_p``).
    ``member_years`` (the run's table of that name, from ``member_months``) spares a pass over
    the member months when the periods are calendar years.
    """
    if not periods:
        return ibis.memtable({n: [] for n in SUMMARY_SCHEMA.names}, schema=SUMMARY_SCHEMA)
    enrolled = _period_members(member_months, periods, member_years)
    scr = linked_screenings(sdoh, crosswalk)
    s = _in_periods(scr, scr.screening_date, periods)
    e = materialize(_with_org(enrolled, attribution, periods))  # one row per member and period
    # the join keeps the enrolled members' screenings and brings their organization
    org = e.select(_o_m=e.member_id, _o_p=e._p, _o_org=e.organization_id)
    s = s.inner_join(org, [s.member_id == org._o_m, s._p == org._o_p])
    s = s.mutate(organization_id=s._o_org).drop("_o_m", "_o_p", "_o_org")
    keys = ["_p", "organization_id", "member_id", "screening_id"]
    anyd = s.group_by(keys).aggregate(
        positive=s.positive.any(), referred=(s.positive & s.referred).any()
    )
    cols = [*keys, "domain", "positive", "referred"]
    s = ibis.union(
        s.select(*cols),
        anyd.mutate(domain=ibis.literal("any")).select(*cols),
    )
    s = materialize(s)
    labels = ibis.memtable(
        {
            "_l_p": list(range(len(periods))),
            "period": [p.label for p in periods],
            "period_start": [p.start for p in periods],
            "period_end": [p.end for p in periods],
        },
        schema={"_l_p": "int64", "period": "string", "period_start": "date", "period_end": "date"},
    )
    # Each member has one organization per period (``_with_org``), so the members counted by
    # organization add up to the total; a screening may be linked to two member ids, so
    # screenings are counted afresh for the total.
    by_org = s.group_by(["_p", "organization_id", "domain"]).aggregate(
        screened_members=s.member_id.nunique(),
        screenings=s.screening_id.nunique(),
        positive_screenings=s.positive.cast("int64").sum(),
        members_with_need=ibis.ifelse(s.positive, s.member_id, None).nunique(),
        referrals=(s.positive & s.referred).cast("int64").sum(),
    )
    by_org = materialize(by_org)
    total = by_org.group_by(["_p", "domain"]).aggregate(
        organization_id=ibis.literal("all"),
        screened_members=by_org.screened_members.sum(),
        positive_screenings=by_org.positive_screenings.sum(),
        members_with_need=by_org.members_with_need.sum(),
        referrals=by_org.referrals.sum(),
    )
    screenings = s.group_by(["_p", "domain"]).aggregate(screenings=s.screening_id.nunique())
    total = total.inner_join(screenings, ["_p", "domain"])
    parts = []
    for level, g in (("total", total), ("organization", by_org)):
        ee = e if level == "organization" else e.mutate(organization_id=ibis.literal("all"))
        # e has one row per member and period
        base = ee.group_by(["_p", "organization_id"]).aggregate(enrolled_members=ee.count())
        g = g.inner_join(base, ["_p", "organization_id"])
        g = g.inner_join(labels, g._p == labels._l_p)
        g = g.mutate(
            level=ibis.literal(level),
            screening_rate=_rate(g.screened_members, g.enrolled_members),
            positive_rate=_rate(g.positive_screenings, g.screenings),
            member_need_rate=_rate(g.members_with_need, g.screened_members),
            referral_rate=_rate(g.referrals, g.positive_screenings),
            small_cell=g.screened_members < SMALL_CELL,
        )
        parts.append(g.select(**{n: g[n].cast(t) for n, t in SUMMARY_SCHEMA.items()}))
    return ibis.union(*parts)


def _period_number(day: ir.DateValue, periods: list[Period]) -> ir.IntegerValue | None:
    """The number of the period of calendar year ``day`` falls in, when every period is one
    calendar year (null outside them); None otherwise."""
    years = [calendar_year(p.start, p.end) for p in periods]
    if any(y is None for y in years) or len(set(years)) < len(years):
        return None
    year = day.year().cast("int64")
    return ibis.cases(*[(year == y, i) for i, y in enumerate(years)], else_=None).cast("int64")


def _in_periods(rows: ir.Table, day: ir.DateValue, periods: list[Period]) -> ir.Table:
    """``rows`` dated ``day`` within a period, with the period's number ``_p`` (a row in
    several overlapping periods is there once for each)."""
    number = _period_number(day, periods)
    if number is not None:
        out = rows.mutate(_p=number)
        return out.filter(out._p.notnull())
    return ibis.union(
        *[
            rows.filter(day.between(p.start, p.end)).mutate(_p=ibis.literal(i, "int64"))
            for i, p in enumerate(periods)
        ]
    )


def _period_members(
    member_months: ir.Table, periods: list[Period], member_years: ir.Table | None = None
) -> ir.Table:
    """(member_id, _p): members enrolled in any month of period number ``_p``. Only who was
    enrolled matters here, not with which payer; calendar-year periods take one pass over the
    member months, or over ``member_years`` when given."""
    mm = member_months.select("member_id", "month")
    if _period_number(mm.month, periods) is not None:
        # distinct member-years first: the period of a year is then looked up per member-year
        if member_years is not None:
            y = member_years.select("member_id", _d=member_years.year.cast("int64")).distinct()
        else:
            y = mm.select("member_id", _d=mm.month.year().cast("int64")).distinct()
        y = y.mutate(_d=ibis.date(y._d, 1, 1))
        return _in_periods(y, y._d, periods).select("member_id", "_p")
    return _in_periods(mm, mm.month, periods).select("member_id", "_p").distinct()


def _with_org(members: ir.Table, attribution: ir.Table | None, periods: list[Period]) -> ir.Table:
    """(member_id, _p, organization_id): each member's attributed organization in the year its
    period ends (the smallest id when several), else ``unattributed``."""
    if attribution is None:
        return members.mutate(organization_id=ibis.literal(UNATTRIBUTED))
    years = ibis.memtable(
        {"_y_p": list(range(len(periods))), "_y_year": [p.end.year for p in periods]},
        schema={"_y_p": "int64", "_y_year": "int64"},
    )
    a = attribution.filter(attribution.rule != "unattributed")
    a = a.group_by(_a_m=a.member_id, _a_y=a.period.cast("int64")).aggregate(
        _a_org=a.organization_id.min()
    )
    m = members.inner_join(years, members._p == years._y_p)
    j = m.left_join(a, [m.member_id == a._a_m, m._y_year == a._a_y])
    return j.select("member_id", "_p", organization_id=j._a_org.fill_null(UNATTRIBUTED))
