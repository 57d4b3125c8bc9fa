"""Claims completion: paid-date lag triangles, chain-ladder completion factors, IBNR.

Recent months of claims are incomplete: claims incurred in them are still being paid. A lag triangle
shows how each incurred month's dollars arrive by months of lag (paid month − incurred month); the
chain-ladder method turns the pattern of older, better-developed months into development factors
and completes recent months with them (the completed amount includes an estimate of claims incurred
but not yet reported, IBNR). See docs/completion.md for the method and a worked example.

The hot path (claim lines into triangle cells, member months into months) is Ibis and runs on any
engine. The triangle itself is small (segments × months × lags): the factor arithmetic runs on it in
Python with exact decimals, so both engines give identical factors from identical cell sums.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Literal

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from payvider.marts.month_lookup import can_look_up_months, month_attributes

MONEY_TYPE = "decimal(18, 2)"
MONEY_ARROW = pa.decimal128(18, 2)
FACTOR_ARROW = pa.decimal128(18, 6)
#: as-of date of a triangle without any claim (its result is empty).
EPOCH = dt.date(1970, 1, 31)
FACTOR_PLACES = Decimal("0.000001")
CENTS = Decimal("0.01")
ONE = Decimal(1)
IncurredDate = Literal["claim_start_date", "claim_line_start_date"]
AMOUNTS = ("paid", "allowed")


# --------------------------------------------------------------------------------------------
# lag triangle (Ibis)


def _month_index(d: ir.DateValue) -> ir.IntegerValue:
    return d.year().cast("int64") * 12 + d.month().cast("int64") - 1


def _month_from_index(i: ir.IntegerValue) -> ir.DateValue:
    return ibis.date((i // 12).cast("int32"), (i % 12 + 1).cast("int32"), 1)


def _segment_columns(table_columns: Sequence[str]) -> list[str]:
    return ["payer"] + (["product_line"] if "product_line" in table_columns else [])


def claim_payments(claims: ir.Table, incurred: ir.DateValue | None = None) -> ir.Table:
    """Each claim line as payments dated when paid: what the payer's books showed at any date.

    A live (non-void) line is a payment at its paid date. When a replacement or void adjusts its
    claim, the line is reversed (negative amounts) at the paid date of the first such adjustment;
    the replacement is a payment of its own. Summed up to any date this gives exactly the final
    claims as of that date, so older incurred months develop in the triangle as they were really
    known, and adjusted dollars are not moved to the adjustment's later lag. On claims whose
    adjustments are already resolved there is nothing to reverse, and every line is one payment.
    """
    c = claims
    incurred = c.claim_start_date if incurred is None else incurred
    base = c.mutate(
        _incurred_index=_month_index(incurred),
        _adjustment=c.adjustment_type.fill_null("original"),
    )
    live = base.filter(base._adjustment != "void")
    payments = live.select(
        member_id=live.member_id,
        payer=live.payer,
        incurred_index=live._incurred_index,
        paid_date=live.paid_date,
        allowed_amount=live.allowed_amount.cast(MONEY_TYPE),
        paid_amount=live.paid_amount.cast(MONEY_TYPE),
        reversal=ibis.literal(False),
    )
    adjustments = base.filter((base._adjustment != "original") & base.adjusted_claim_id.notnull())
    superseded = adjustments.group_by(superseded_claim_id=adjustments.adjusted_claim_id).aggregate(
        superseded_on=adjustments.paid_date.min()
    )
    rev = live.inner_join(superseded, live.claim_id == superseded.superseded_claim_id)
    reversals = rev.select(
        member_id=rev.member_id,
        payer=rev.payer,
        incurred_index=rev._incurred_index,
        paid_date=rev.superseded_on,
        allowed_amount=(-rev.allowed_amount).cast(MONEY_TYPE),
        paid_amount=(-rev.paid_amount).cast(MONEY_TYPE),
        reversal=ibis.literal(True),
    )
    return payments.union(reversals)


def lag_triangle(
    claims: ir.Table,
    member_months: ir.Table | None = None,
    by_product_line: bool = False,
    incurred_date: IncurredDate = "claim_start_date",
    member_years: ir.Table | None = None,
) -> ir.Table:
    """Allowed and paid dollars by payer × incurred month × lag months, with running totals.

    ``claims`` is best the medical claims as received (``medical_claim``): adjustments then count
    when they were paid (see :func:`claim_payments`) and the triangle shows each month as it was
    known at every past date. Final claims (``final_medical_claim``) work too, but date a replaced
    claim's dollars at the replacement's payment and drop voided claims from history, which makes
    recent months look less complete than they are.
    The incurred month is the month of ``incurred_date`` (the claim's first date of service by
    default, so all lines of a claim develop together; ``claim_line_start_date`` falls back to the
    claim's date where a line has none). Lag months = paid month − incurred month; a payment dated
    before its month of service counts at lag 0. Lines without a paid date are kept in their own
    row per incurred month with ``lag_months`` null and null running totals, so they are counted
    and reported rather than dropped. ``by_product_line`` needs ``member_months`` and takes the
    member's product line in the incurred month (null when not enrolled then), looked up in
    ``member_years`` when given (:func:`payvider.marts.month_lookup.month_attributes`).
    """
    c = claims
    if incurred_date == "claim_line_start_date":
        incurred = c.claim_line_start_date.fill_null(c.claim_start_date)
    elif incurred_date == "claim_start_date":
        incurred = c.claim_start_date
    else:
        raise ValueError(
            f"unknown incurred date {incurred_date!r}; use claim_start_date or "
            "claim_line_start_date"
        )
    lines = claim_payments(c, incurred)
    # greatest() skips nulls on some engines; an unpaid line must keep a null lag
    raw_lag = _month_index(lines.paid_date) - lines.incurred_index
    lines = lines.mutate(lag_months=ibis.ifelse(raw_lag < 0, 0, raw_lag))
    keys = ["payer"]
    if by_product_line:
        if member_months is None:
            raise ValueError("by_product_line needs member_months (the member's product line)")
        keys.append("product_line")
    if by_product_line and can_look_up_months(member_years):
        lines = lines.mutate(_incurred_month=_month_from_index(lines.incurred_index))
        j = month_attributes(
            lines, member_years, member_months, None, ("product_line",), "_incurred_month"
        )
        lines = j.drop("enrolled", "_incurred_month")
    elif by_product_line:
        # one row per member, payer and month (the member_months stage guarantees it)
        mm = member_months.select(
            mm_member_id=member_months.member_id,
            mm_payer=member_months.payer,
            mm_index=_month_index(member_months.month),
            product_line=member_months.product_line,
        )
        lines = lines.left_join(
            mm,
            (lines.member_id == mm.mm_member_id)
            & (lines.payer == mm.mm_payer)
            & (lines.incurred_index == mm.mm_index),
        ).drop("mm_member_id", "mm_payer", "mm_index")
    cells = lines.group_by([*keys, "incurred_index", "lag_months"]).aggregate(
        claim_lines=(~lines.reversal).cast("int64").sum(),
        reversed_lines=lines.reversal.cast("int64").sum(),
        allowed_amount=lines.allowed_amount.sum().cast(MONEY_TYPE),
        paid_amount=lines.paid_amount.sum().cast(MONEY_TYPE),
        latest_paid_date=lines.paid_date.max(),
    )
    cells = cells.mutate(incurred_month=_month_from_index(cells.incurred_index))
    # One window over all rows of an incurred month; the unpaid row (null lag) adds nothing to the
    # running totals wherever an engine sorts it, and gets none itself.
    window = ibis.cumulative_window(group_by=[*keys, "incurred_index"], order_by=cells.lag_months)
    unpaid = cells.lag_months.isnull()
    zero = ibis.literal(0).cast(MONEY_TYPE)
    none = ibis.null().cast(MONEY_TYPE)

    def running(amount: ir.DecimalColumn) -> ir.DecimalValue:
        total = ibis.ifelse(unpaid, zero, amount).sum().over(window).cast(MONEY_TYPE)
        return ibis.ifelse(unpaid, none, total)

    out = cells.select(
        *keys,
        "incurred_month",
        lag_months=cells.lag_months.cast("int64"),
        claim_lines=cells.claim_lines.cast("int64"),
        reversed_lines=cells.reversed_lines.cast("int64"),
        allowed_amount=cells.allowed_amount,
        paid_amount=cells.paid_amount,
        cumulative_allowed_amount=running(cells.allowed_amount),
        cumulative_paid_amount=running(cells.paid_amount),
        latest_paid_date=cells.latest_paid_date,
    )
    return out


# --------------------------------------------------------------------------------------------
# chain ladder (on the executed triangle)


def _to_arrow(table: ir.Table | pa.Table) -> pa.Table:
    return table if isinstance(table, pa.Table) else table.to_pyarrow()


def _index(d: dt.date) -> int:
    return d.year * 12 + d.month - 1


def _month(i: int) -> dt.date:
    return dt.date(i // 12, i % 12 + 1, 1)


def _is_month_end(d: dt.date) -> bool:
    return (d + dt.timedelta(days=1)).day == 1


def _q(value: Decimal, places: Decimal = FACTOR_PLACES) -> Decimal:
    return value.quantize(places, rounding=ROUND_HALF_EVEN)


class _Triangle:
    """The executed triangle: cells per segment, and the month the data is paid through."""

    def __init__(self, triangle: ir.Table | pa.Table, as_of: dt.date | None) -> None:
        t = _to_arrow(triangle)
        self.keys = _segment_columns(t.column_names)
        rows = t.to_pylist()
        latest = max(
            (r["latest_paid_date"] for r in rows if r["lag_months"] is not None), default=None
        )
        if as_of is None:
            as_of = latest
        if as_of is None:
            # nothing paid yet (or no claims): every line is in the unpaid bucket and every
            # factor is 1, as of the end of the latest incurred month
            incurred = [r["incurred_month"] for r in rows if r["incurred_month"] is not None]
            as_of = _month(_index(max(incurred)) + 1) - dt.timedelta(days=1) if incurred else EPOCH
        self.as_of = as_of
        self.latest_paid_date = latest
        # A paid month is fully observed when it ended by as_of, or when as_of is on or after the
        # last payment in the data (nothing later in the month was received).
        full = _is_month_end(as_of) or (latest is not None and as_of >= latest)
        self.paid_through = _index(as_of) - (0 if full else 1)
        # cells[segment][incurred index] = {lag: (paid, allowed)}; unpaid[segment][i] = (n, allowed)
        self.cells: dict[tuple, dict[int, dict[int, tuple[Decimal, Decimal]]]] = defaultdict(
            lambda: defaultdict(dict)
        )
        self.unpaid: dict[tuple, dict[int, tuple[int, Decimal, Decimal]]] = defaultdict(dict)
        self.later: dict[tuple, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        for r in rows:
            seg = tuple(r[k] for k in self.keys)
            i = _index(r["incurred_month"])
            if i > self.paid_through:
                continue
            if r["lag_months"] is None:
                self.unpaid[seg][i] = (
                    r["claim_lines"],
                    r["paid_amount"] or Decimal(0),
                    r["allowed_amount"] or Decimal(0),
                )
                continue
            lag = r["lag_months"]
            if i + lag > self.paid_through:
                self.later[seg][i] += r["claim_lines"]
                continue
            self.cells[seg][i][lag] = (
                r["paid_amount"] or Decimal(0),
                r["allowed_amount"] or Decimal(0),
            )
        for seg in self.unpaid:
            self.cells[seg]  # a segment with unpaid lines only still gets rows

    def segments(self) -> list[tuple]:
        return sorted(self.cells, key=lambda s: tuple((v is None, v or "") for v in s))

    def cumulative(self, seg: tuple, which: int) -> dict[int, list[Decimal]]:
        """Per incurred month: cumulative amounts at ages 0..(paid through − month)."""
        out = {}
        for i, lags in self.cells[seg].items():
            run, total = [], Decimal(0)
            for lag in range(self.paid_through - i + 1):
                total += lags.get(lag, (Decimal(0), Decimal(0)))[which]
                run.append(total)
            out[i] = run
        return out


def _factors(
    cum: dict[int, list[Decimal]], paid_through: int, months_of_experience: int
) -> tuple[list[Decimal], list[int]]:
    """Age-to-age factors f[j] (age j → j+1), volume-weighted over the most recent months."""
    if not cum:
        return [], []
    oldest = min(cum)
    max_age = paid_through - oldest
    factors, used = [], []
    for j in range(max_age):
        # incurred months observed at age j+1, newest first
        months = sorted((i for i in cum if i + j + 1 <= paid_through), reverse=True)
        months = months[:months_of_experience]
        num = sum((cum[i][j + 1] for i in months), Decimal(0))
        den = sum((cum[i][j] for i in months), Decimal(0))
        factors.append(_q(num / den) if den > 0 and num > 0 else ONE)
        used.append(len(months))
    return factors, used


def _cumulative_factors(factors: list[Decimal]) -> list[Decimal]:
    """Cumulative development factor to ultimate at each age 0..len(factors)."""
    out = [ONE]
    for f in reversed(factors):
        out.append(_q(out[-1] * f))
    return list(reversed(out))


def _completion(cdf: Decimal) -> Decimal:
    return _q(ONE / cdf)


def development_factors(
    triangle: ir.Table | pa.Table,
    as_of: dt.date | None = None,
    months_of_experience: int = 12,
) -> pa.Table:
    """Chain-ladder factors per segment and age: the development pattern itself.

    One row per segment × age (months since the incurred month): the age-to-age factor to the next
    age, the cumulative factor to ultimate and the completion factor (1 / cumulative), for paid
    and allowed dollars, with the number of incurred months behind each age-to-age factor.
    """
    if months_of_experience < 1:
        raise ValueError("months_of_experience must be at least 1")
    tri = _Triangle(triangle, as_of)
    cols: dict[str, list] = defaultdict(list)
    for seg in tri.segments():
        per = {}
        for k, name in enumerate(AMOUNTS):
            f, used = _factors(tri.cumulative(seg, k), tri.paid_through, months_of_experience)
            per[name] = (f, _cumulative_factors(f), used)
        n_ages = len(per["paid"][1])
        for age in range(n_ages):
            for key, value in zip(tri.keys, seg, strict=True):
                cols[key].append(value)
            cols["age_months"].append(age)
            cols["experience_months"].append(
                per["paid"][2][age] if age < len(per["paid"][2]) else 0
            )
            for name in AMOUNTS:
                f, cdf, _ = per[name]
                cols[f"{name}_development_factor"].append(f[age] if age < len(f) else ONE)
                cols[f"{name}_cumulative_factor"].append(cdf[age])
                cols[f"{name}_completion_factor"].append(_completion(cdf[age]))
    schema = [*(pa.field(k, pa.string()) for k in tri.keys)]
    schema += [pa.field("age_months", pa.int64()), pa.field("experience_months", pa.int64())]
    for name in AMOUNTS:
        schema += [
            pa.field(f"{name}_development_factor", FACTOR_ARROW),
            pa.field(f"{name}_cumulative_factor", FACTOR_ARROW),
            pa.field(f"{name}_completion_factor", FACTOR_ARROW),
        ]
    return pa.table({f.name: cols[f.name] for f in schema}, schema=pa.schema(schema))


def completion_factors(
    triangle: ir.Table | pa.Table,
    as_of: dt.date | None = None,
    months_of_experience: int = 12,
) -> pa.Table:
    """Completion factor, reported, completed (ultimate) and IBNR per segment × incurred month.

    ``as_of`` defaults to the latest paid date in the triangle. Only paid months fully observed by
    ``as_of`` are used, for the factors and for the reported amounts alike; the age of an incurred
    month is the number of paid months after it observed so far. Factors are volume-weighted over
    the most recent ``months_of_experience`` incurred months that reach each age, and kept to six
    decimals (exact decimal arithmetic, so every engine gives the same factors).
    """
    if months_of_experience < 1:
        raise ValueError("months_of_experience must be at least 1")
    tri = _Triangle(triangle, as_of)
    cols: dict[str, list] = defaultdict(list)
    for seg in tri.segments():
        cum = {name: tri.cumulative(seg, k) for k, name in enumerate(AMOUNTS)}
        pattern = {}
        for name in AMOUNTS:
            f, _ = _factors(cum[name], tri.paid_through, months_of_experience)
            pattern[name] = (f, _cumulative_factors(f))
        months = sorted(set(cum["paid"]) | set(tri.unpaid[seg]))
        for i in months:
            age = tri.paid_through - i
            for key, value in zip(tri.keys, seg, strict=True):
                cols[key].append(value)
            cols["incurred_month"].append(_month(i))
            cols["age_months"].append(age)
            for name in AMOUNTS:
                f, cdf = pattern[name]
                run = cum[name].get(i)
                reported = run[-1] if run else Decimal(0)
                factor = _completion(cdf[age]) if age < len(cdf) else ONE
                completed = _q(reported / factor, CENTS) if factor > 0 else reported
                cols[f"{name}_development_factor"].append(f[age] if age < len(f) else ONE)
                cols[f"{name}_completion_factor"].append(factor)
                cols[f"reported_{name}"].append(_q(reported, CENTS))
                cols[f"completed_{name}"].append(completed)
                cols[f"ibnr_{name}"].append(completed - _q(reported, CENTS))
            n_unpaid, _, unpaid_allowed = tri.unpaid[seg].get(i, (0, Decimal(0), Decimal(0)))
            cols["unpaid_claim_lines"].append(n_unpaid)
            cols["unpaid_allowed_amount"].append(_q(unpaid_allowed, CENTS))
            cols["lines_paid_after_as_of"].append(tri.later[seg].get(i, 0))
    schema = [pa.field(k, pa.string()) for k in tri.keys]
    schema += [pa.field("incurred_month", pa.date32()), pa.field("age_months", pa.int64())]
    for name in AMOUNTS:
        schema += [
            pa.field(f"{name}_development_factor", FACTOR_ARROW),
            pa.field(f"{name}_completion_factor", FACTOR_ARROW),
            pa.field(f"reported_{name}", MONEY_ARROW),
            pa.field(f"completed_{name}", MONEY_ARROW),
            pa.field(f"ibnr_{name}", MONEY_ARROW),
        ]
    schema += [
        pa.field("unpaid_claim_lines", pa.int64()),
        pa.field("unpaid_allowed_amount", MONEY_ARROW),
        pa.field("lines_paid_after_as_of", pa.int64()),
    ]
    result = pa.table({f.name: cols[f.name] for f in schema}, schema=pa.schema(schema))
    return result.append_column(
        "as_of_date", pa.array([tri.as_of] * result.num_rows, type=pa.date32())
    )


def member_months_by_month(member_months: ir.Table, by_product_line: bool = False) -> ir.Table:
    """Member months per payer (× product line) × month: the PMPM denominator (``member_months``
    has one row per member, payer and month, so rows are counted)."""
    keys = ["payer", "month"] + (["product_line"] if by_product_line else [])
    mm = member_months
    return mm.group_by(keys).aggregate(member_months=mm.count().cast("int64"))


def completed_costs(
    triangle: ir.Table | pa.Table,
    member_months: ir.Table | None = None,
    as_of: dt.date | None = None,
    months_of_experience: int = 12,
) -> ir.Table:
    """The run's ``completion_factors`` table: completion per incurred month, with PMPMs.

    Adds ``member_months`` and reported and completed allowed and paid PMPM when member months are
    given (grouped like the triangle: by product line when it has one). Returns an in-memory Ibis
    table, so it can be written by any engine like the other marts.
    """
    result = completion_factors(triangle, as_of, months_of_experience)
    keys = _segment_columns(result.column_names)
    if member_months is not None:
        counts = _to_arrow(member_months_by_month(member_months, "product_line" in keys))
        by = {(*(r[k] for k in keys), r["month"]): r["member_months"] for r in counts.to_pylist()}
        mm = [
            by.get((*(r[k] for k in keys), r["incurred_month"]), 0)
            for r in result.select([*keys, "incurred_month"]).to_pylist()
        ]
        result = result.append_column("member_months", pa.array(mm, type=pa.int64()))
        for col in ("reported_allowed", "completed_allowed", "reported_paid", "completed_paid"):
            values = result[col].to_pylist()
            pmpm = [_q(v / n, CENTS) if n else None for v, n in zip(values, mm, strict=True)]
            result = result.append_column(f"{col}_pmpm", pa.array(pmpm, type=MONEY_ARROW))
    return ibis.memtable(result)
