"""The metrics behind the three seed factors, one row per attributed organization.

All metrics are of the latest year with attribution (year Y), from the run's tables:

Size and brand
  ``attributed_lives``      members attributed to the organization in Y (member_year_cost);
  ``market_spend_share``    their allowed dollars ÷ the whole book's allowed dollars in Y;
  ``service_breadth``       distinct service categories billed under the organization's TIN in Y.
Cost-management capability (lower is better; each is a ratio to the whole book, credibility-
weighted toward 1 so a handful of members cannot look efficient by chance:
``Z × ratio + (1 − Z) × 1`` with ``Z = min(1, √(lives ÷ 1,082))``, the limited-fluctuation
full-credibility standard of 1,082 expected claims, 90% probability within ±5%)
  ``risk_adjusted_pmpm_ratio``  (medical allowed PMPM ÷ mean CMS-HCC score) of the organization's
                                members ÷ the same for the book;
  ``utilization_ratio``     (acute admissions + ED visits) per 1,000 member months ÷ the book's;
  ``trend_ratio``           PMPM growth from the first year to Y ÷ the book's PMPM growth.
Disposition toward value-based reimbursement
  ``value_based_share``     share of attributed lives in a value-based contract: the run knows
                            one, the partnership (attribution ``partner_flag``);
  ``quality_composite``     mean over the organization's measures in Y (cells of 11 or more) of
                            the rate, or 1 − rate for measures where lower is better
                            (readmissions, HbA1c poor control); null without measures;
  ``linkage_rate``          share of attributed members linked to an EHR patient
                            (member_patient_crosswalk): data-sharing readiness.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from payvider.marts.arith import count_sum, money_sum, ratio

UNATTRIBUTED = "unattributed"
#: Quality measures where a lower rate is better.
LOWER_IS_BETTER = ("readmission_30d", "hba1c_poor_control")
RISK = "decimal(18, 6)"
#: Lives for full credibility of a cost ratio (limited fluctuation: 1,082 = (1.645 / 0.05)²).
FULL_CREDIBILITY = 1082


def credible(value: ir.FloatingValue, lives: ir.IntegerValue) -> ir.FloatingValue:
    """A ratio to the book blended toward 1 by the credibility of ``lives``."""
    z = ibis.least((lives.cast("float64") / FULL_CREDIBILITY).sqrt(), 1.0)
    return z * value + (1 - z)


def organization_metrics(
    member_year_cost: ir.Table,
    claims_enriched: ir.Table,
    utilization: ir.Table,
    risk_score: ir.Table | None,
    quality_summary: ir.Table | None,
    crosswalk: ir.Table,
    risk_model: str = "V28",
) -> ir.Table:
    """One row per organization with attributed members in the latest year: the nine metrics."""
    myc = member_year_cost
    year = myc.year.max()
    first = myc.year.min()
    latest = myc.filter(myc.year == year)
    if risk_score is not None:
        r = risk_score.filter(risk_score.model == risk_model)
        r = r.select("member_id", "payer", "year", _risk=r.risk_score.cast(RISK))
        scored = myc.left_join(r, ["member_id", "payer", "year"]).select(*myc.columns, "_risk")
    else:
        scored = myc.mutate(_risk=ibis.literal(1).cast(RISK))
    scored = scored.mutate(
        _risk_mm=scored._risk.fill_null(ibis.literal(1).cast(RISK)) * scored.member_months
    )
    # per organization and year; the book (every member) per year
    by_org_year = scored.group_by(["organization_id", "year"]).aggregate(
        lives=scored.count().cast("int64"),
        months=count_sum(scored.member_months),
        allowed=money_sum(scored.allowed_amount),
        medical=money_sum(scored.medical_allowed_amount),
        risk_mm=scored._risk_mm.sum().cast("decimal(38, 6)"),
    )
    book_year = scored.group_by("year").aggregate(
        b_months=count_sum(scored.member_months),
        b_allowed=money_sum(scored.allowed_amount),
        b_medical=money_sum(scored.medical_allowed_amount),
        b_risk_mm=scored._risk_mm.sum().cast("decimal(38, 6)"),
    )
    j = by_org_year.inner_join(book_year, "year")
    j = j.mutate(
        pmpm=ratio(j.medical, j.months),
        b_pmpm=ratio(j.b_medical, j.b_months),
        ra_pmpm=ratio(j.medical, j.risk_mm),  # medical ÷ Σ risk × months = PMPM ÷ mean risk
        b_ra_pmpm=ratio(j.b_medical, j.b_risk_mm),
    )
    cur = j.filter(j.year == year)
    start = j.filter(j.year == first).select("organization_id", _pmpm0=j.pmpm, _b_pmpm0=j.b_pmpm)
    cur = cur.left_join(start, "organization_id").select(*cur.columns, "_pmpm0", "_b_pmpm0")
    org = cur.filter(cur.organization_id.notnull() & (cur.organization_id != UNATTRIBUTED))
    org = org.select(
        "organization_id",
        year=org.year,
        attributed_lives=org.lives,
        market_spend_share=ratio(org.allowed, org.b_allowed),
        risk_adjusted_pmpm_ratio=ratio(org.ra_pmpm, org.b_ra_pmpm),
        trend_ratio=ratio(ratio(org.pmpm, org._pmpm0), ratio(org.b_pmpm, org._b_pmpm0)),
    )

    # breadth: distinct service categories billed under the organization's TIN in Y
    c = claims_enriched
    breadth = (
        c.filter(c.year == c.year.max())
        .group_by(organization_id=c.provider_tin)
        .aggregate(service_breadth=c.service_category.nunique().cast("int64"))
    )

    # utilization: (admissions + ED visits) per 1,000 member months against the book
    u = utilization.filter(utilization.year == utilization.year.max())
    u_org = u.group_by("organization_id").aggregate(
        _events=count_sum(u.acute_admissions + u.ed_visits), _mm=count_sum(u.member_months)
    )
    u_book = u.aggregate(
        _b_events=count_sum(u.acute_admissions + u.ed_visits), _b_mm=count_sum(u.member_months)
    )
    u_org = u_org.cross_join(u_book)
    u_org = u_org.select(
        "organization_id",
        utilization_ratio=ratio(
            ratio(u_org._events, u_org._mm), ratio(u_org._b_events, u_org._b_mm)
        ),
    )

    # disposition: value-based lives and EHR linkage of the organization's members in Y
    x = crosswalk.select(_linked_member=crosswalk.member_id).distinct()
    lv = latest.left_join(x, latest.member_id == x._linked_member)
    disp = lv.group_by("organization_id").aggregate(
        value_based_share=ratio(
            count_sum(ibis.ifelse(lv.partner_flag.fill_null(False), 1, 0)), lv.count()
        ),
        linkage_rate=ratio(count_sum(ibis.ifelse(lv._linked_member.notnull(), 1, 0)), lv.count()),
    )

    out = (
        org.left_join(breadth, "organization_id")
        .select(*org.columns, "service_breadth")
        .left_join(u_org, "organization_id")
        .select(*org.columns, "service_breadth", "utilization_ratio")
        .left_join(disp, "organization_id")
        .select(
            *org.columns,
            "service_breadth",
            "utilization_ratio",
            "value_based_share",
            "linkage_rate",
        )
    )
    out = out.mutate(
        service_breadth=out.service_breadth.fill_null(0),
        risk_adjusted_pmpm_ratio=credible(out.risk_adjusted_pmpm_ratio, out.attributed_lives),
        utilization_ratio=credible(out.utilization_ratio, out.attributed_lives),
        trend_ratio=credible(out.trend_ratio, out.attributed_lives),
    )

    if quality_summary is not None:
        q = quality_summary
        q = q.filter(
            (q.level == "organization")
            & ~q.small_cell.fill_null(True)
            & q.rate.notnull()
            & (q.period == year.cast("string"))
        )
        good = ibis.ifelse(q.measure_id.isin(LOWER_IS_BETTER), 1 - q.rate, q.rate)
        q = q.mutate(_good=good.cast("decimal(18, 6)"))
        qc = q.group_by("organization_id").aggregate(
            _q_sum=q._good.sum().cast("decimal(38, 6)"), _q_n=q.count().cast("int64")
        )
        qc = qc.select("organization_id", quality_composite=ratio(qc._q_sum, qc._q_n))
        out = out.left_join(qc, "organization_id").select(*out.columns, "quality_composite")
    else:
        out = out.mutate(quality_composite=ibis.null().cast("float64"))
    return out
