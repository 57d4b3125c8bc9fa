"""High-cost claimant truncation: each member-year's allowed dollars capped for settlement.

Shared-savings and shared-risk contracts cap a member's annual cost (at a dollar amount or at a
percentile of member-years) so that a few catastrophic cases do not decide the result; the excess
above the cap leaves both the benchmark and the performance-year cost.
"""

from __future__ import annotations

from decimal import Decimal

import ibis
import ibis.expr.types as ir

MONEY_TYPE = "decimal(18, 2)"


def _percentile_fraction(percentile: Decimal | float | str | int) -> tuple[int, int]:
    p = Decimal(str(percentile))
    if not Decimal(0) < p <= Decimal(100):
        raise ValueError(f"percentile must be in (0, 100], not {percentile}")
    num, den = (p / 100).as_integer_ratio()
    return num, den


def truncate_high_cost(
    final_claims: ir.Table,
    cap: Decimal | int | str | None = None,
    percentile: Decimal | float | str | None = None,
    member_months: ir.Table | None = None,
    member_years: ir.Table | None = None,
) -> ir.Table:
    """Per member-year allowed, capped at a fixed amount or at a percentile of member-years.

    Settlement contracts cap each member's annual cost so that a few catastrophic cases do not
    decide the result. Years are calendar years of the claim's first date of service. The cap is
    either ``cap`` (dollars) or ``percentile`` of member-year totals of the same payer and year,
    nearest-rank (the smallest total at or above which ``percentile`` % of member-years fall); with
    ``member_months``, enrolled member-years without claims count at zero in that distribution and
    appear in the output. Amounts are exact decimals: truncated + excess = allowed, per row.
    ``member_years`` (the run's member-years table, made from the same ``member_months``) gives
    the member-years and their month counts without grouping the member months again.
    """
    if (cap is None) == (percentile is None):
        raise ValueError("give exactly one of cap or percentile")
    c = final_claims
    totals = c.group_by(
        member_id=c.member_id, payer=c.payer, year=c.claim_start_date.year().cast("int64")
    ).aggregate(allowed_amount=c.allowed_amount.sum().cast(MONEY_TYPE))
    if member_months is not None:
        if member_years is not None:
            y = member_years
            years = y.select(
                mm_member_id=y.member_id,
                mm_payer=y.payer,
                mm_year=y.year.cast("int64"),
                member_months=y.member_months.cast("int64"),
            )
        else:
            mm = member_months
            years = mm.group_by(
                mm_member_id=mm.member_id,
                mm_payer=mm.payer,
                mm_year=mm.month.year().cast("int64"),
            ).aggregate(member_months=mm.count().cast("int64"))  # one row per member month
        joined = years.outer_join(
            totals,
            (years.mm_member_id == totals.member_id)
            & (years.mm_payer == totals.payer)
            & (years.mm_year == totals.year),
        )
        totals = joined.select(
            member_id=joined.member_id.fill_null(joined.mm_member_id),
            payer=joined.payer.fill_null(joined.mm_payer),
            year=joined.year.fill_null(joined.mm_year),
            member_months=joined.member_months.fill_null(0),
            allowed_amount=joined.allowed_amount.fill_null(0).cast(MONEY_TYPE),
        )
    if cap is not None:
        amount = Decimal(str(cap))
        if amount < 0:
            raise ValueError("cap must not be negative")
        point = ibis.literal(amount, type=MONEY_TYPE)
        capped = totals.mutate(truncation_point=point)
    else:
        num, den = _percentile_fraction(percentile)
        group = ["payer", "year"]
        ranked = totals.mutate(
            _rank=ibis.row_number().over(
                ibis.window(group_by=group, order_by=["allowed_amount", "member_id"])
            )
            + 1,
            _n=totals.count().over(ibis.window(group_by=group)),
        )
        # nearest rank: k = ceil(p × n), in integers so no engine rounds differently
        ranked = ranked.mutate(_k=(ranked._n * num + den - 1) // den)
        at_k = ibis.ifelse(
            ranked._rank == ranked._k, ranked.allowed_amount, ibis.null().cast(MONEY_TYPE)
        )
        capped = ranked.mutate(truncation_point=at_k.max().over(ibis.window(group_by=group)))
    over = capped.allowed_amount > capped.truncation_point
    truncated = ibis.ifelse(over, capped.truncation_point, capped.allowed_amount).cast(MONEY_TYPE)
    out = capped.mutate(
        truncation_point=capped.truncation_point.cast(MONEY_TYPE),
        truncated_allowed_amount=truncated,
        excess_allowed_amount=(capped.allowed_amount - truncated).cast(MONEY_TYPE),
        truncated=over,
    )
    keep = ["member_id", "payer", "year"]
    keep += ["member_months"] if member_months is not None else []
    keep += [
        "allowed_amount",
        "truncation_point",
        "truncated_allowed_amount",
        "excess_allowed_amount",
        "truncated",
    ]
    return out.select(keep)
