"""The quality-measure framework: declarations, member-level rows, summaries and care gaps.

A measure declares what it counts (denominator, exclusions, numerator, measurement period, value
sets) in a :class:`MeasureSpec`, and computes one member-level table with the columns of
:data:`MEMBER_SCHEMA`: one row per member (or per event, e.g. an index discharge) and period.
Everything after that is shared: the summary with counts, rate and Wilson 95% interval per
attributed organization, and the care-gap list. Rates are computed from integer counts so both
engines give identical figures.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache

import ibis
import ibis.expr.datatypes as dt_
import ibis.expr.types as ir

from payvider.engine.backends import materialize
from payvider.marts.member_years import member_years as marts_member_years
from payvider.reference import read_csv

#: z of a two-sided 95% interval.
Z95 = 1.959963984540054
#: Aggregates with fewer members than this are flagged (small-cell suppression of PHI).
SMALL_CELL = 11
UNATTRIBUTED = "unattributed"

MEMBER_SCHEMA = ibis.schema(
    {
        "measure_id": "string",
        "period": "string",
        "period_start": "date",
        "period_end": "date",
        "member_id": "string",
        "payer": "string",
        "event_id": "string",
        "event_date": "date",
        "in_denominator": "boolean",
        "excluded": "boolean",
        "exclusion_reason": "string",
        "in_numerator": "boolean",
        "expected": "float64",
        "detail": "string",
        "organization_id": "string",
        "clinician_npi": "string",
        "events": "int64",
        "exposure_months": "int64",
    }
)


@dataclass(frozen=True)
class Period:
    """A measurement period (inclusive dates); attribution is looked up for ``end.year``."""

    label: str
    start: dt.date
    end: dt.date

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(str(year), dt.date(year, 1, 1), dt.date(year, 12, 31))


@dataclass(frozen=True)
class MeasureSpec:
    """What a measure counts; documentation and summaries read it, rows follow it."""

    id: str
    name: str
    description: str
    period: str
    denominator: str
    continuous_enrollment: str
    exclusions: tuple[str, ...]
    numerator: str
    value_sets: tuple[str, ...] = ()
    #: True when a numerator hit is the bad outcome (readmission, poor control).
    inverse: bool = False
    #: Whether members in the denominator form a care-gap list (False for outcome measures).
    care_gaps: bool = True
    sources: tuple[str, ...] = field(default_factory=tuple)
    #: ``proportion``: numerator rows over eligible rows (Wilson interval). ``per_1000``: a
    #: utilization rate, the rows' ``events`` per 1,000 member-years of ``exposure_months``
    #: (Poisson interval, Byar's approximation).
    kind: str = "proportion"


KINDS = ("proportion", "per_1000")
UNITS = {"proportion": "proportion", "per_1000": "per 1,000 member-years"}


#: Exact type in which expected events are added up (rows carry them rounded to 9 places).
EXPECTED_SUM = "decimal(18, 9)"


@cache
def value_set(name: str, system: str | None = None) -> tuple[str, ...]:
    """Codes of a shipped value set (``reference/quality_value_sets.csv``), optionally one system."""
    codes = tuple(
        r["code"]
        for r in read_csv("quality_value_sets.csv")
        if r["value_set"] == name and (system is None or r["code_system"] == system)
    )
    if not codes:
        raise KeyError(f"no codes in value set {name!r} (system {system!r})")
    return codes


@cache
def value_set_prefixes() -> frozenset[str]:
    """The first three characters (or the whole code, when shorter) of every code of every
    shipped value set, normalised like coded evidence: upper case, no dots."""
    return frozenset(
        r["code"].upper().replace(".", "").strip()[:3] for r in read_csv("quality_value_sets.csv")
    )


def code_in(col: ir.StringValue, name: str, system: str | None = None) -> ir.BooleanValue:
    """Whether a code (dots removed, upper case) is in a value set; prefix sets match by prefix."""
    code = col.upper().replace(".", "")
    codes = value_set(name, system)
    systems = {
        r["code_system"] for r in read_csv("quality_value_sets.csv") if r["value_set"] == name
    }
    if (
        system is None
        and any(s.endswith("-prefix") for s in systems)
        or (system or "").endswith("-prefix")
    ):
        # One lookup per prefix length rather than one startswith per code: the same rows,
        # a hash probe each instead of dozens of string comparisons on every evidence row.
        by_length: dict[int, list[str]] = {}
        for c in codes:
            by_length.setdefault(len(c), []).append(c)
        cond = ibis.literal(False)
        for n, group in sorted(by_length.items()):
            cond = cond | code.substr(0, n).isin(sorted(group))
        return cond
    return code.isin(codes)


@cache
def _is_prefix_set(name: str, system: str | None = None) -> bool:
    if system is not None:
        return system.endswith("-prefix")
    systems = {
        r["code_system"] for r in read_csv("quality_value_sets.csv") if r["value_set"] == name
    }
    return any(s.endswith("-prefix") for s in systems)


@cache
def value_set_keys() -> tuple[tuple[str, str, int], ...]:
    """(value set, code, prefix length) of every shipped value set as :func:`code_in` without a
    system matches it: length 0 for a code matched whole. A prefix covered by a shorter prefix
    of its set is left out (it matches nothing more), so a code matches a set at most once."""
    names = dict.fromkeys(r["value_set"] for r in read_csv("quality_value_sets.csv"))
    out = []
    for name in names:
        codes = sorted(set(value_set(name)), key=lambda c: (len(c), c))
        if not _is_prefix_set(name):
            out += [(name, c, 0) for c in codes]
            continue
        kept: list[str] = []
        for c in codes:
            if not any(c.startswith(k) for k in kept):
                kept.append(c)
        out += [(name, c, len(c)) for c in kept]
    return tuple(out)


#: Characters of a code that pick its candidate value-set keys (see :func:`tag_value_sets`).
_HEAD = 3


def tag_value_sets(rows: ir.Table, code: str = "code") -> ir.Table:
    """Rows whose ``code`` (upper case, dots removed) is in a shipped value set, with the set in
    a ``value_set`` column: one row per row and value set it is in (none when in none).

    Measures then pick their rows with :func:`in_value_set`, a comparison of short strings,
    instead of testing every row against each value set they read."""
    keys = value_set_keys()
    # Candidates by a key's head, then each checked: a hash join with a short list per row
    # rather than a value-set test per measure. The head is the key's shortest prefix that is
    # itself a key shorter than HEAD (e.g. C0 of malignant neoplasms), else its first HEAD
    # characters; a code's head is found the same way, so a key matches only codes of its head.
    short = sorted({c for _, c, _ in keys if len(c) < _HEAD}, key=lambda c: (len(c), c))

    def head(c: str) -> str:
        return next((h for h in short if c.startswith(h)), c[:_HEAD])

    m = ibis.memtable(
        {
            "_vs_first": [head(c) for _, c, _ in keys],
            "_vs_name": [v for v, _, _ in keys],
            "_vs_code": [c for _, c, _ in keys],
            "_vs_len": [n for _, _, n in keys],
        },
        schema={
            "_vs_first": "string",
            "_vs_name": "string",
            "_vs_code": "string",
            "_vs_len": "int64",
        },
    )
    t = rows.mutate(_vs_norm=rows[code].upper().replace(".", ""))
    norm = t._vs_norm
    by_length: dict[int, list[str]] = {}
    for h in short:
        by_length.setdefault(len(h), []).append(h)
    first = (
        ibis.cases(
            *[
                (norm.substr(0, n).isin(hs), norm.substr(0, n))
                for n, hs in sorted(by_length.items())
            ],
            else_=norm.substr(0, _HEAD),
        )
        if short
        else norm.substr(0, _HEAD)
    )
    j = t.inner_join(m, first == m._vs_first)
    j = j.filter(
        ibis.ifelse(
            j._vs_len == 0, j._vs_norm == j._vs_code, j._vs_norm.substr(0, j._vs_len) == j._vs_code
        )
    )
    return j.select(*rows.columns, value_set=j._vs_name)


def in_value_set(rows: ir.Table, *names: str, code: str = "code") -> ir.Table:
    """Rows whose ``code`` is in one of the value sets ``names`` (as :func:`code_in` without a
    system). Rows tagged by :func:`tag_value_sets` are picked by their tag (a row in several of
    the sets is then there once per set)."""
    if "value_set" in rows.columns:
        return rows.filter(rows.value_set.isin(names))
    cond = ibis.literal(False)
    for name in names:
        cond = cond | code_in(rows[code], name)
    return rows.filter(cond)


def age_on(birth_date: ir.DateValue, on: dt.date | ir.DateValue) -> ir.IntegerValue:
    """Whole years of age on a date (birthday counted on the day itself)."""
    on = ibis.literal(on) if isinstance(on, dt.date) else on
    years = on.year() - birth_date.year()
    before_birthday = (on.month() < birth_date.month()) | (
        (on.month() == birth_date.month()) & (on.day() < birth_date.day())
    )
    return (years - ibis.ifelse(before_birthday, 1, 0)).cast("int64")


def months_between(start: dt.date, end: dt.date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month + 1


def calendar_year(start: dt.date, end: dt.date) -> int | None:
    """The year when ``start``..``end`` is exactly one calendar year, else None."""
    if start == dt.date(start.year, 1, 1) and end == dt.date(start.year, 12, 31):
        return start.year
    return None


def member_years(member_months: ir.Table) -> ir.Table:
    """One row per member, payer and calendar year with enrollment: the shared frame every
    measure's denominator reads instead of scanning the member months again.

    Columns: member_id, payer, year, months (enrolled months in the year), month_mask (bit
    ``m - 1`` set when enrolled in month ``m``), last_month, gender and birth_date (the largest
    of the year's months): :mod:`payvider.marts.member_years`, computed once per member-months
    table and kept by the engine (or the run's ``member_years`` table, see
    :func:`start_enrollment`).
    """
    key = ("years", member_months.op())
    if key not in _ENROLLED:
        _ENROLLED[key] = materialize(_frame(marts_member_years(member_months)))
    return _ENROLLED[key]


def start_enrollment(member_months: ir.Table, years: ir.Table | None = None) -> None:
    """Begin a stage's enrollment checks: forget what an earlier stage kept, and take the run's
    ``member_years`` table (computed from ``member_months``), when given, as the frame of
    :func:`member_years` instead of grouping the months again."""
    forget_enrollment()
    if years is not None:
        # kept by the engine: every measure reads it, quicker to read than Parquet
        _ENROLLED[("years", member_months.op())] = materialize(_frame(years))


def _frame(years: ir.Table) -> ir.Table:
    return years.select(
        "member_id",
        "payer",
        "year",
        months=years.member_months,
        month_mask=years.month_mask,
        last_month=years.last_month,
        gender=years.gender,
        birth_date=years.birth_date,
    )


def enrolled_in_month(mask: ir.IntegerValue, day: ir.DateValue) -> ir.BooleanValue:
    """Whether a :func:`member_years` ``month_mask`` (of ``day``'s year) has ``day``'s month."""
    bit = ibis.literal(1, "int64") << (day.month() - 1).cast("int64")
    return ((mask & bit) != 0).fill_null(False)


def continuous_enrollment(
    member_months: ir.Table,
    start: dt.date,
    end: dt.date,
    allowed_gap_months: int = 1,
    anchor: dt.date | None = None,
) -> ir.Table:
    """Members continuously enrolled from ``start`` to ``end`` with one payer.

    HEDIS allows one gap of up to 45 days in a year; on the monthly grain of ``member_months``
    that is at most ``allowed_gap_months`` missing months, and the member must be enrolled in the
    month of the anchor date (default: the end). Returns member_id, payer, gender, birth_date.

    Read off the member-year frame: a calendar year directly, any other window by counting the
    month bits of its years that fall in the window. Sex and birth date are then the largest of
    the window's member-years (which may hold months outside a window that starts or ends within
    a year).
    """
    first = dt.date(start.year, start.month, 1)
    last = dt.date(end.year, end.month, 1)
    anchor = anchor or end
    anchor_month = dt.date(anchor.year, anchor.month, 1)
    need = months_between(first, last) - allowed_gap_months
    year = calendar_year(start, end)
    if year is not None and anchor_month.year == year:
        # a calendar year: read off the shared member-year frame
        y = member_years(member_months)
        bit = 1 << (anchor_month.month - 1)
        y = y.filter((y.year == year) & (y.months >= need) & ((y.month_mask & bit) != 0))
        return y.select("member_id", "payer", "gender", "birth_date")
    key = (member_months.op(), first, last, allowed_gap_months, anchor_month)
    if key in _ENROLLED:
        return _ENROLLED[key]
    y = member_years(member_months)
    y = y.filter(y.year.between(first.year, last.year))
    # the window's months of each year as a mask, and the enrolled ones among them
    window = ibis.cases(
        *[(y.year == yr, _window_mask(first, last, yr)) for yr in range(first.year, last.year + 1)],
        else_=0,
    )
    inside = y.month_mask & window.cast("int64")
    y = y.mutate(_in=inside).filter(lambda t: t._in != 0)
    months = sum(((y._in & (1 << b)) != 0).cast("int64") for b in range(12))
    anchored = ibis.literal(first <= anchor_month <= last) & (y.year == anchor_month.year)
    anchored = anchored & ((y.month_mask & (1 << (anchor_month.month - 1))) != 0)
    g = y.group_by(["member_id", "payer"]).aggregate(
        months=months.sum(),
        anchored=anchored.any(),
        gender=y.gender.max(),
        birth_date=y.birth_date.max(),
    )
    g = g.filter((g.months >= need) & g.anchored)
    # Several measures ask for the same period: computed once per run and kept by the engine.
    _ENROLLED[key] = materialize(g.select("member_id", "payer", "gender", "birth_date"))
    return _ENROLLED[key]


def _window_mask(first: dt.date, last: dt.date, year: int) -> int:
    """Bits (``m - 1`` for month ``m``) of the months of ``year`` from ``first`` to ``last``."""
    lo = first.month if year == first.year else 1
    hi = last.month if year == last.year else 12
    return sum(1 << (m - 1) for m in range(lo, hi + 1))


#: Kept intermediates (member-year frames, continuous-enrollment populations, tagged evidence)
#: by the table they were computed from.
_ENROLLED: dict[tuple, ir.Table] = {}


def forget_enrollment() -> None:
    """Drop the kept member-year frames and populations (a new run brings new member months)."""
    _ENROLLED.clear()


def measure_rows(
    r: ir.Table,
    measure_id: str,
    period: Period,
    *,
    in_numerator: ir.BooleanValue,
    exclusion_reason: ir.StringValue | None = None,
    event_id: ir.StringValue | None = None,
    event_date: ir.DateValue | None = None,
    detail: ir.StringValue | None = None,
) -> ir.Table:
    """Denominator rows of one measure and period: ``r`` (one row per member or event) with the
    measure's columns. A row is excluded when ``exclusion_reason`` is not null; a member-level
    measure (no ``event_id``) dates its rows at the period end."""
    none = ibis.null().cast("string")
    reason = none if exclusion_reason is None else exclusion_reason
    return r.mutate(
        measure_id=ibis.literal(measure_id),
        period=ibis.literal(period.label),
        period_start=ibis.literal(period.start),
        period_end=ibis.literal(period.end),
        event_id=none if event_id is None else event_id,
        event_date=ibis.literal(period.end) if event_date is None else event_date,
        in_denominator=ibis.literal(True),
        excluded=reason.notnull(),
        exclusion_reason=reason,
        in_numerator=in_numerator,
        detail=none if detail is None else detail,
    )


def finalize(rows: ir.Table, attribution: ir.Table | None) -> ir.Table:
    """Rows in :data:`MEMBER_SCHEMA` order and types, with the attributed organization and clinician.

    Attribution is the member's attribution in the period's year (``period_end``);
    members without one are ``unattributed``.
    """
    for name, typ in MEMBER_SCHEMA.items():
        if name not in rows.columns and name not in ("organization_id", "clinician_npi"):
            rows = rows.mutate(**{name: ibis.null().cast(typ)})
    rows = rows.mutate(_year=rows.period_end.year().cast("int64"))
    if attribution is not None:
        a = attribution.select(
            _a_member=attribution.member_id,
            _a_payer=attribution.payer,
            _a_year=attribution.period.cast("int64"),
            _a_org=attribution.organization_id,
            _a_npi=attribution.clinician_npi,
        )
        rows = rows.left_join(
            a,
            [rows.member_id == a._a_member, rows.payer == a._a_payer, rows._year == a._a_year],
        )
        org = rows._a_org.fill_null(UNATTRIBUTED)
        npi = rows._a_npi
    else:
        org = ibis.literal(UNATTRIBUTED)
        npi = ibis.null().cast("string")
    out = rows.mutate(organization_id=org, clinician_npi=npi)
    return out.select(**{name: out[name].cast(typ) for name, typ in MEMBER_SCHEMA.items()})


def empty_rows() -> ir.Table:
    """A member-level table with no rows (a measure without its inputs)."""
    return ibis.memtable({name: [] for name in MEMBER_SCHEMA.names}, schema=MEMBER_SCHEMA)


def wilson(numerator: ir.IntegerValue, denominator: ir.IntegerValue, z: float = Z95):
    """Wilson score interval (lower, upper) of numerator/denominator; null when denominator is 0."""
    n = denominator.cast("float64")
    x = numerator.cast("float64")
    z2 = z * z
    p = x / n
    centre = (x + z2 / 2) / (n + z2)
    half = (z / (n + z2)) * ((x * (n - x) / n) + z2 / 4).sqrt()
    ok = denominator > 0
    lower = ibis.ifelse(ok, ibis.greatest(centre - half, 0.0), ibis.null().cast("float64"))
    upper = ibis.ifelse(ok, ibis.least(centre + half, 1.0), ibis.null().cast("float64"))
    rate = ibis.ifelse(ok, p, ibis.null().cast("float64"))
    return rate, lower, upper


SUMMARY_SCHEMA = ibis.schema(
    {
        "measure_id": "string",
        "period": "string",
        "period_start": "date",
        "period_end": "date",
        "level": "string",
        "organization_id": "string",
        "clinician_npi": "string",
        "members": "int64",
        "denominator": "int64",
        "exclusions": "int64",
        "eligible": "int64",
        "numerator": "int64",
        "rate": "float64",
        "ci_lower": "float64",
        "ci_upper": "float64",
        "expected": "float64",
        "expected_rate": "float64",
        "oe_ratio": "float64",
        "care_gaps": "int64",
        "small_cell": "boolean",
        "unit": "string",
        "member_months": "int64",
    }
)


def byar(events: ir.IntegerValue, z: float = Z95):
    """Byar's approximation of the exact Poisson 95% interval (lower, upper) of an event count."""
    x = ibis.greatest(events, 1).cast("float64")  # no division by zero on either engine
    x1 = events.cast("float64") + 1
    lower = ibis.ifelse(
        events > 0, x * (1 - 1 / (9 * x) - z / (3 * x.sqrt())) ** 3, ibis.literal(0.0)
    )
    upper = x1 * (1 - 1 / (9 * x1) + z / (3 * x1.sqrt())) ** 3
    return lower, upper


def _gap(rows: ir.Table, specs: tuple[MeasureSpec, ...]) -> ir.BooleanValue:
    normal = tuple(s.id for s in specs if s.care_gaps and not s.inverse) or ("",)
    inverse = tuple(s.id for s in specs if s.care_gaps and s.inverse) or ("",)
    return (rows.measure_id.isin(normal) & ~rows.in_numerator) | (
        rows.measure_id.isin(inverse) & rows.in_numerator
    )


def _summarise(
    rows: ir.Table, keys: list[str], level: str, specs: tuple[MeasureSpec, ...]
) -> ir.Table:
    eligible = rows.in_denominator & ~rows.excluded
    per_1000 = rows.measure_id.isin(tuple(s.id for s in specs if s.kind == "per_1000") or ("",))
    hit = ibis.ifelse(
        per_1000, rows.events.fill_null(0), (eligible & rows.in_numerator).cast("int64")
    )
    hit = ibis.ifelse(eligible, hit, 0)
    gap = eligible & _gap(rows, specs)
    base = ["measure_id", "period", "period_start", "period_end"]
    g = rows.group_by(base + keys).aggregate(
        members=rows.member_id.nunique().cast("int64"),
        denominator=rows.in_denominator.cast("int64").sum(),
        exclusions=(rows.in_denominator & rows.excluded).cast("int64").sum(),
        eligible=eligible.cast("int64").sum(),
        numerator=hit.cast("int64").sum(),
        # exact decimal sum of the rows' expected (rounded to 9 places each), so that neither the
        # order of the rows nor the engine can move the rounding at the 6th place
        expected=ibis.ifelse(
            eligible, rows.expected.cast(EXPECTED_SUM), ibis.null().cast(EXPECTED_SUM)
        ).sum(),
        care_gaps=gap.cast("int64").sum(),
        member_months=ibis.ifelse(eligible, rows.exposure_months, 0).sum().cast("int64"),
        _per_1000=per_1000.any(),
    )
    rate, lower, upper = wilson(g.numerator, g.eligible)
    # utilization measures: events per 1,000 member-years, Poisson interval of the count
    years = ibis.greatest(g.member_months, 1).cast("float64") / 12000.0
    u_ok = g._per_1000 & (g.member_months > 0)
    p_lo, p_hi = byar(g.numerator)
    null = ibis.null().cast("float64")
    rate = ibis.ifelse(
        g._per_1000, ibis.ifelse(u_ok, g.numerator.cast("float64") / years, null), rate
    )
    lower = ibis.ifelse(g._per_1000, ibis.ifelse(u_ok, p_lo / years, null), lower)
    upper = ibis.ifelse(g._per_1000, ibis.ifelse(u_ok, p_hi / years, null), upper)
    expected = g.expected.round(6).cast("float64")
    exp_rate = ibis.ifelse(g.eligible > 0, expected / g.eligible.cast("float64"), None)
    oe = ibis.ifelse(expected > 0, rate / exp_rate, ibis.null().cast("float64"))
    g = g.mutate(
        level=ibis.literal(level),
        organization_id=g.organization_id if "organization_id" in keys else ibis.literal("all"),
        clinician_npi=g.clinician_npi if "clinician_npi" in keys else ibis.null().cast("string"),
        rate=rate.round(6),
        ci_lower=lower.round(6),
        ci_upper=upper.round(6),
        expected=expected,
        expected_rate=exp_rate.round(6),
        oe_ratio=oe.round(6),
        small_cell=g.eligible < SMALL_CELL,
        unit=ibis.ifelse(g._per_1000, UNITS["per_1000"], UNITS["proportion"]),
        member_months=ibis.ifelse(g._per_1000, g.member_months, ibis.null().cast("int64")),
    )
    return g.select(**{n: g[n].cast(t) for n, t in SUMMARY_SCHEMA.items()})


def summarize(rows: ir.Table, specs: tuple[MeasureSpec, ...] | None = None) -> ir.Table:
    """Counts, rate and Wilson 95% interval per measure and period: in total, by attributed
    organization and by attributed clinician (``level`` says which).

    ``denominator`` counts rows in the eligible population, ``exclusions`` those excluded,
    ``eligible`` the rest (the rate's denominator); ``numerator`` counts eligible rows in the
    numerator. ``expected`` (risk-adjusted measures) sums the rows' expected probabilities.
    ``small_cell`` flags cells under 11 that reports must suppress.
    """
    specs = specs or ()
    parts = [
        _summarise(rows, [], "total", specs),
        _summarise(rows, ["organization_id"], "organization", specs),
        _summarise(
            rows.filter(rows.clinician_npi.notnull()),
            ["organization_id", "clinician_npi"],
            "clinician",
            specs,
        ),
    ]
    return ibis.union(*parts)


def care_gaps(rows: ir.Table, specs: tuple[MeasureSpec, ...]) -> ir.Table:
    """Members in a measure's eligible denominator who are not (yet) in its numerator, or — for
    inverse measures — who are (e.g. HbA1c poorly controlled): the care teams' worklist."""
    out = rows.filter(rows.in_denominator & ~rows.excluded & _gap(rows, specs))
    return out.select(
        "measure_id",
        "period",
        "member_id",
        "payer",
        "event_id",
        "event_date",
        "detail",
        "organization_id",
        "clinician_npi",
    )


def null_str() -> ir.StringValue:
    return ibis.null().cast(dt_.string)
