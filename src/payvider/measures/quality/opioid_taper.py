"""Opioid tapering outcomes: among patients on long-term high-dose opioids when a tapering
program starts, the share who reduced their dose and the share who stopped, program vs not.

Windows (``program_start`` T, ``data_end`` E, both inclusive dates):

* baseline: the 90 days before T (T - 90 .. T - 1);
* follow-up: the last 90 days of the data (E - 89 .. E).

Cohort: members 18+ at T, enrolled with one payer in every month from the baseline's first month
to E's month, on long-term opioids at baseline (>= 60 of the 90 days covered by opioid supply)
at a high dose (average daily MME on covered baseline days >= 90). Supply is counted on the days
it covers, so a fill dispensed before a window counts for its days inside it.

Outcome (exclusive): ``discontinued`` — no opioid supply in the follow-up window; ``reduced`` —
average daily MME on covered follow-up days at least 15 % below the baseline average;
``maintained`` otherwise. Program: the baseline's main prescriber (most days supplied, then the
highest NPI) is in the partner system (``provider.partner_network_flag``).
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from payvider.measures.quality.framework import (
    SMALL_CELL,
    age_on,
    continuous_enrollment,
    start_enrollment,
    wilson,
)
from payvider.measures.quality.opioids import (
    HIGH_MME,
    NANO,
    clip,
    covered_days,
    drug_fills,
    islands,
    mme_text,
)

BASELINE_DAYS = 90
FOLLOWUP_DAYS = 90
#: Baseline days covered by opioid supply that make long-term use ("most days for > 3 months").
LONG_TERM_DAYS = 60
#: Follow-up average at most this percentage of the baseline average is a reduction.
REDUCED_PCT = 85
GROUPS = ("all", "program", "no_program")

TAPER_SCHEMA = ibis.schema(
    {
        "group": "string",
        "program_start": "date",
        "baseline_start": "date",
        "baseline_end": "date",
        "followup_start": "date",
        "followup_end": "date",
        "members": "int64",
        "maintained": "int64",
        "reduced": "int64",
        "discontinued": "int64",
        "reduced_share": "float64",
        "reduced_ci_lower": "float64",
        "reduced_ci_upper": "float64",
        "discontinued_share": "float64",
        "discontinued_ci_lower": "float64",
        "discontinued_ci_upper": "float64",
        "reduced_or_discontinued_share": "float64",
        "small_cell": "boolean",
    }
)


def windows(program_start: dt.date, data_end: dt.date) -> dict[str, dt.date]:
    return {
        "program_start": program_start,
        "baseline_start": program_start - dt.timedelta(days=BASELINE_DAYS),
        "baseline_end": program_start - dt.timedelta(days=1),
        "followup_start": data_end - dt.timedelta(days=FOLLOWUP_DAYS - 1),
        "followup_end": data_end,
    }


def data_end(member_months: ir.Table) -> dt.date | None:
    """Last day of the last enrolled month (executes a one-row aggregate)."""
    last = member_months.month.max().to_pyarrow().as_py()
    if last is None:
        return None
    nxt = dt.date(last.year + last.month // 12, last.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def _window_use(fills: ir.Table, lo: dt.date, hi: dt.date, tag: str) -> ir.Table:
    op = clip(fills, lo, hi, overlapping=True)
    mme = op.group_by(["member_id", "payer"]).aggregate(mme=op._mme.sum().cast("int64"))
    use = mme.inner_join(covered_days(islands(op)), ["member_id", "payer"])
    return use.select(
        **{f"_{tag}_m": use.member_id, f"_{tag}_p": use.payer},
        **{f"_{tag}_mme": use.mme, f"_{tag}_days": use.covered},
    )


def _main_prescriber(fills: ir.Table, lo: dt.date, hi: dt.date) -> ir.Table:
    op = clip(fills, lo, hi, overlapping=True)
    by = op.group_by(["member_id", "payer", "prescriber_npi"]).aggregate(days=op._days.sum())
    rank = ibis.row_number().over(
        group_by=[by.member_id, by.payer],
        order_by=[ibis.desc(by.days), ibis.desc(by.prescriber_npi)],
    )
    top = by.mutate(_rank=rank).filter(lambda t: t._rank == 0)
    return top.select(_pr_m=top.member_id, _pr_p=top.payer, prescriber_npi=top.prescriber_npi)


def taper_members(
    final_pharmacy: ir.Table,
    member_months: ir.Table,
    program_start: dt.date,
    data_end: dt.date,
    provider: ir.Table | None = None,
) -> ir.Table:
    """One row per cohort member: member_id, payer, prescriber_npi, program, baseline and
    follow-up average MME (text) and days covered, outcome."""
    w = windows(program_start, data_end)
    fills = drug_fills(final_pharmacy)
    fills = fills.filter(fills.drug_class == "opioid")
    ce = continuous_enrollment(
        member_months, w["baseline_start"], data_end, allowed_gap_months=0, anchor=data_end
    )
    ce = ce.filter(age_on(ce.birth_date, program_start) >= 18)
    b = _window_use(fills, w["baseline_start"], w["baseline_end"], "b")
    c = ce.inner_join(b, [ce.member_id == b._b_m, ce.payer == b._b_p])
    c = c.filter((c._b_days >= LONG_TERM_DAYS) & (c._b_mme >= HIGH_MME * NANO * c._b_days))
    f = _window_use(fills, w["followup_start"], w["followup_end"], "f")
    c = c.left_join(f, [c.member_id == f._f_m, c.payer == f._f_p])
    pr = _main_prescriber(fills, w["baseline_start"], w["baseline_end"])
    c = c.inner_join(pr, [c.member_id == pr._pr_m, c.payer == pr._pr_p])
    fdays = c._f_days.fill_null(0)
    reduced = c._f_mme * c._b_days * 100 <= REDUCED_PCT * c._b_mme * fdays
    outcome = ibis.cases((fdays == 0, "discontinued"), (reduced, "reduced"), else_="maintained")
    c = c.select(
        "member_id",
        "payer",
        "prescriber_npi",
        baseline_mme=mme_text(c._b_mme, c._b_days),
        baseline_days=c._b_days,
        followup_mme=ibis.ifelse(fdays > 0, mme_text(c._f_mme, ibis.greatest(fdays, 1)), None),
        followup_days=fdays,
        outcome=outcome,
    )
    if provider is not None:
        roster = provider.group_by(_npi=provider.npi).aggregate(
            _partner=provider.partner_network_flag.fill_null(False).max()
        )
        c = c.left_join(roster, c.prescriber_npi == roster._npi)
        c = c.mutate(program=c._partner.fill_null(False)).drop("_npi", "_partner")
    else:
        c = c.mutate(program=ibis.literal(False))
    return c


def taper_summary(members: ir.Table, program_start: dt.date, data_end: dt.date) -> ir.Table:
    """Counts and shares (Wilson 95% intervals) of the outcomes: all, program, no program."""
    w = windows(program_start, data_end)
    m = members.mutate(_g=ibis.ifelse(members.program, "program", "no_program"))
    parts = []
    for grp in GROUPS:
        t = m if grp == "all" else m.filter(m._g == grp)
        parts.append(
            t.aggregate(
                members=t.count().cast("int64"),
                maintained=(t.outcome == "maintained").cast("int64").sum(),
                reduced=(t.outcome == "reduced").cast("int64").sum(),
                discontinued=(t.outcome == "discontinued").cast("int64").sum(),
            ).mutate(group=ibis.literal(grp))
        )
    g = ibis.union(*parts)
    g = g.mutate(
        maintained=g.maintained.fill_null(0),
        reduced=g.reduced.fill_null(0),
        discontinued=g.discontinued.fill_null(0),
    )
    r, r_lo, r_hi = wilson(g.reduced, g.members)
    d, d_lo, d_hi = wilson(g.discontinued, g.members)
    either, _, _ = wilson(g.reduced + g.discontinued, g.members)
    g = g.mutate(
        **{k: ibis.literal(v) for k, v in w.items()},
        reduced_share=r.round(6),
        reduced_ci_lower=r_lo.round(6),
        reduced_ci_upper=r_hi.round(6),
        discontinued_share=d.round(6),
        discontinued_ci_lower=d_lo.round(6),
        discontinued_ci_upper=d_hi.round(6),
        reduced_or_discontinued_share=either.round(6),
        small_cell=g.members < SMALL_CELL,
    )
    return g.select(**{n: g[n].cast(t) for n, t in TAPER_SCHEMA.items()})


def empty_taper() -> ir.Table:
    return ibis.memtable(pa.Table.from_pylist([], schema=TAPER_SCHEMA.to_pyarrow()))


def opioid_taper(tables: dict[str, ir.Table], program_start: dt.date | None) -> ir.Table:
    """The ``opioid_taper`` stage: empty when no program start is configured or no enrollment."""
    mm = tables["member_months"]
    start_enrollment(mm, tables.get("member_years"))
    end = data_end(mm) if program_start is not None else None
    if program_start is None or end is None or end <= program_start:
        return empty_taper()
    members = taper_members(
        tables["final_pharmacy_claim"], mm, program_start, end, tables.get("provider")
    )
    return taper_summary(members, program_start, end)
