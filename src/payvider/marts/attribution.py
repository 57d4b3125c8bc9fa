"""Attribution: which organization and clinician each member is attributed to, and why.

The method follows the Medicare Shared Savings Program (42 CFR 425.402), with its settings in
:class:`~payvider.marts.attribution_rules.AttributionRules`:

1. voluntary alignment: the member's chosen PCP (``eligibility.pcp_npi`` on a span in the
   performance year) when the clinician is on the roster;
2. step 1: plurality of allowed charges (or visits) for primary-care services furnished by
   primary-care clinicians, summed per organization (billing TIN or health system);
3. step 2: the same over specialists, for members with no primary-care-clinician services.

Ties go to the organization with the most recent qualifying service, then the lowest id. Every
eligible member gets a row: attributed ones with the rule, the winning and runner-up shares, and the
clinician with the plurality inside the winning organization; the rest as ``unattributed``.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from payvider.marts.attribution_rules import AttributionRules
from payvider.reference import (
    FQHC_RHC_BILL_TYPE_PREFIXES,
    FQHC_RHC_REVENUE_CODES,
    attribution_specialties,
    primary_care_hcpcs,
)

KEY = ["period", "member_id", "payer"]
VALUE_TYPE = "decimal(18, 2)"
RULE_STEPS = {"voluntary_alignment": 0, "step1_primary_care": 1, "step2_specialist": 2}


def attribution_periods(years: list[int], rules: AttributionRules) -> ir.Table:
    """Performance periods with their look-back windows."""
    span_years = rules.lookback_months // 12
    rows = []
    for year in sorted(set(years)):
        if rules.mode == "retrospective":
            window_start, window_end = dt.date(year - span_years + 1, 1, 1), dt.date(year, 12, 31)
        else:
            window_start, window_end = dt.date(year - span_years, 1, 1), dt.date(year - 1, 12, 31)
        rows.append(
            {
                "period": year,
                "period_start": dt.date(year, 1, 1),
                "period_end": dt.date(year, 12, 31),
                "window_start": window_start,
                "window_end": window_end,
            }
        )
    return ibis.memtable(
        rows,
        schema={
            "period": "int64",
            "period_start": "date",
            "period_end": "date",
            "window_start": "date",
            "window_end": "date",
        },
    )


def _roster(providers: ir.Table, rules: AttributionRules) -> ir.Table:
    """Roster rows with the clinician's attribution class and organization."""
    pcp = attribution_specialties("primary_care")
    specialists = attribution_specialties("specialist")
    p = providers
    clinician_class = ibis.cases(
        (p.primary_care_flag.fill_null(False) | p.cms_specialty_code.isin(pcp), "pcp"),
        (p.cms_specialty_code.isin(specialists), "specialist"),
        else_=ibis.null().cast("string"),
    )
    org = p.tin if rules.organization_level == "tin" else p.health_system.fill_null(p.tin)
    return p.select(
        r_npi=p.npi,
        r_class=clinician_class,
        r_org=org,
        r_tin=p.tin,
        r_health_system=p.health_system,
        r_partner=p.partner_network_flag.fill_null(False),
    )


def organizations(providers: ir.Table, rules: AttributionRules) -> ir.Table:
    """One row per organization: its health system and whether it is in the partner network."""
    r = _roster(providers, rules).filter(lambda t: t.r_org.notnull())
    return r.group_by(organization_id=r.r_org).aggregate(
        org_health_system=r.r_health_system.max(),
        partner_flag=r.r_partner.max(),
    )


def eligible_members(
    member_months: ir.Table, periods: ir.Table, rules: AttributionRules
) -> ir.Table:
    """Members enrolled at least ``min_enrolled_months`` in the performance year."""
    mm = member_months
    if rules.product_lines:
        mm = mm.filter(mm.product_line.isin(rules.product_lines))
    j = mm.inner_join(
        periods, (mm.month >= periods.period_start) & (mm.month <= periods.period_end)
    )
    months = j.group_by(["period", "member_id", "payer"]).aggregate(
        eligible_months=j.count(),
        product_line=j.product_line.argmax(j.month),
    )
    return months.filter(months.eligible_months >= max(rules.min_enrolled_months, 1))


def qualifying_services(
    claims: ir.Table, providers: ir.Table, periods: ir.Table, rules: AttributionRules
) -> ir.Table:
    """Primary-care service lines in each period's window, with clinician class and organization."""
    c = claims
    service_date = c.claim_line_start_date.fill_null(c.claim_start_date)
    bill_type = c.bill_type_code.fill_null("")
    fqhc = ibis.or_(
        *[bill_type.startswith(p) for p in FQHC_RHC_BILL_TYPE_PREFIXES]
    ) & c.revenue_center_code.isin(FQHC_RHC_REVENUE_CODES)
    lines = c.filter(c.hcpcs_code.isin(primary_care_hcpcs()) | fqhc).select(
        member_id=c.member_id,
        payer=c.payer,
        claim_id=c.claim_id,
        service_date=service_date,
        npi=c.rendering_npi,
        billing_tin=c.billing_tin,
        allowed=c.allowed_amount.fill_null(0),
        fqhc=fqhc,
    )
    roster = _roster(providers, rules)
    lines = lines.left_join(roster, lines.npi == roster.r_npi)
    clinician_class = ibis.ifelse(lines.fqhc, "pcp", lines.r_class)
    if rules.organization_level == "tin":
        org = lines.billing_tin.fill_null(lines.r_tin)
    else:
        org = lines.r_health_system.fill_null(lines.billing_tin).fill_null(lines.r_tin)
    lines = lines.select(
        "member_id",
        "payer",
        "claim_id",
        "service_date",
        "npi",
        "allowed",
        clinician_class=clinician_class,
        organization_id=org,
    ).filter(lambda t: t.clinician_class.notnull() & t.organization_id.notnull())
    in_window = lines.inner_join(
        periods,
        (lines.service_date >= periods.window_start) & (lines.service_date <= periods.window_end),
    )
    return in_window.select(
        "period",
        "member_id",
        "payer",
        "claim_id",
        "service_date",
        "npi",
        "allowed",
        "clinician_class",
        "organization_id",
    )


def _value(t: ir.Table, basis: str) -> ir.Value:
    if basis == "allowed":
        return t.allowed.sum().cast(VALUE_TYPE)
    visit = t.claim_id.concat("|", t.service_date.cast("string"))
    return visit.nunique().cast(VALUE_TYPE)


def _plurality(services: ir.Table, clinician_class: str, rules: AttributionRules) -> ir.Table:
    """Winner and runner-up organization per member for one clinician class."""
    s = services.filter(services.clinician_class == clinician_class)
    per_org = s.group_by([*KEY, "organization_id"]).aggregate(
        value=_value(s, rules.basis),
        last_service=s.service_date.max(),
        services=s.count(),
    )
    order = [per_org.value.desc(), per_org.last_service.desc(), per_org.organization_id.asc()]
    ranked = per_org.mutate(
        rank=ibis.row_number().over(group_by=[per_org[k] for k in KEY], order_by=order),
        total_value=per_org.value.sum().over(group_by=[per_org[k] for k in KEY]),
        total_services=per_org.services.sum().over(group_by=[per_org[k] for k in KEY]),
    )
    winner = ranked.filter(ranked["rank"] == 0)
    runner = ranked.filter(ranked["rank"] == 1).select(
        *KEY, runner_up_organization=ranked.organization_id, runner_up_value=ranked.value
    )
    # The clinician with the plurality inside the winning organization (same tie-break).
    per_npi = s.group_by([*KEY, "organization_id", "npi"]).aggregate(
        value=_value(s, rules.basis), last_service=s.service_date.max()
    )
    npi_rank = per_npi.mutate(
        rank=ibis.row_number().over(
            group_by=[per_npi[k] for k in [*KEY, "organization_id"]],
            order_by=[per_npi.value.desc(), per_npi.last_service.desc(), per_npi.npi.asc()],
        )
    )
    top_npi = npi_rank.filter(npi_rank["rank"] == 0).select(
        *KEY, "organization_id", clinician_npi=npi_rank.npi
    )
    out = winner.left_join(runner, KEY).left_join(top_npi, [*KEY, "organization_id"])
    return out.select(
        *KEY,
        "organization_id",
        "clinician_npi",
        winning_value=out.value.cast(VALUE_TYPE),
        total_value=out.total_value.cast(VALUE_TYPE),
        runner_up_organization=out.runner_up_organization,
        runner_up_value=out.runner_up_value.cast(VALUE_TYPE),
        qualifying_services=out.total_services.cast("int64"),
        last_service_date=out.last_service,
    )


def _voluntary_alignment(
    eligibility: ir.Table, providers: ir.Table, periods: ir.Table, rules: AttributionRules
) -> ir.Table:
    """The chosen PCP on the member's latest span in the performance year, if on the roster."""
    e = eligibility.filter(eligibility.pcp_npi.notnull())
    j = e.inner_join(
        periods,
        (e.enrollment_start_date <= periods.period_end)
        & (e.enrollment_end_date >= periods.period_start),
    )
    latest = j.group_by(KEY).aggregate(clinician_npi=j.pcp_npi.argmax(j.enrollment_start_date))
    roster = _roster(providers, rules)
    va = latest.inner_join(roster, latest.clinician_npi == roster.r_npi).filter(
        lambda t: t.r_org.notnull()
    )
    return va.select(*KEY, "clinician_npi", organization_id=va.r_org)


def attribute_members(
    claims: ir.Table,
    eligibility: ir.Table,
    member_months: ir.Table,
    providers: ir.Table,
    years: list[int],
    rules: AttributionRules | None = None,
) -> ir.Table:
    """One row per eligible member and performance year: the attribution and its explanation."""
    rules = rules or AttributionRules()
    periods = attribution_periods(rules.periods or years, rules)
    eligible = eligible_members(member_months, periods, rules)
    services = qualifying_services(claims, providers, periods, rules)
    null_value = ibis.null().cast(VALUE_TYPE)

    candidates = []
    for priority, rule in enumerate(rules.rules):
        if rule == "voluntary_alignment":
            va = _voluntary_alignment(eligibility, providers, periods, rules)
            cand = va.select(
                *KEY,
                "organization_id",
                "clinician_npi",
                winning_value=null_value,
                total_value=null_value,
                runner_up_organization=ibis.null().cast("string"),
                runner_up_value=null_value,
                qualifying_services=ibis.null().cast("int64"),
                last_service_date=ibis.null().cast("date"),
            )
        elif rule == "step1_primary_care":
            cand = _plurality(services, "pcp", rules)
        else:
            cand = _plurality(services, "specialist", rules)
            with_pcp = services.filter(services.clinician_class == "pcp").select(*KEY).distinct()
            cand = cand.anti_join(with_pcp, KEY)
        candidates.append(
            cand.mutate(
                rule=ibis.literal(rule),
                step=ibis.literal(RULE_STEPS[rule], "int64"),
                _priority=ibis.literal(priority, "int64"),
            )
        )
    union = ibis.union(*candidates, distinct=False)
    first = union.mutate(
        _rank=ibis.row_number().over(group_by=[union[k] for k in KEY], order_by=union._priority)
    )
    chosen = first.filter(first._rank == 0).drop("_rank", "_priority")

    result = eligible.left_join(chosen, KEY)
    orgs = organizations(providers, rules)
    result = result.left_join(orgs, result.organization_id == orgs.organization_id)
    result = result.inner_join(periods, "period")

    def share(value: ir.Value) -> ir.Value:
        return ibis.ifelse(
            result.total_value > 0,
            (value.cast("float64") / result.total_value.cast("float64")).round(6),
            ibis.null().cast("float64"),
        )

    attributed = result.rule.notnull()
    return result.select(
        period=result.period,
        period_start=result.period_start,
        period_end=result.period_end,
        window_start=result.window_start,
        window_end=result.window_end,
        member_id=result.member_id,
        payer=result.payer,
        product_line=result.product_line,
        eligible_months=result.eligible_months.cast("int64"),
        rule=result.rule.fill_null("unattributed"),
        step=result.step,
        organization_id=result.organization_id,
        health_system=result.org_health_system,
        partner_flag=ibis.ifelse(attributed, result.partner_flag.fill_null(False), False),
        clinician_npi=result.clinician_npi,
        basis=ibis.literal(rules.basis),
        winning_value=result.winning_value,
        total_value=result.total_value,
        winning_share=share(result.winning_value),
        runner_up_organization=result.runner_up_organization,
        runner_up_value=result.runner_up_value,
        runner_up_share=share(result.runner_up_value),
        qualifying_services=result.qualifying_services,
        last_service_date=result.last_service_date,
    )
