"""Generate a synthetic population: canonical tables in ``out/`` and planted truth in ``out/truth/``."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from time import perf_counter
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from payvider.synth import arrowio as aio
from payvider.synth import refdata as R
from payvider.synth.claims import ET, Stays, generate_claims
from payvider.synth.config import BOOK_LINES, SynthConfig
from payvider.synth.ehr import CORRUPTIONS, generate_ehr
from payvider.synth.members import Members, Names, build_members, eligibility
from payvider.synth.pharmacy import OUTCOMES, generate_pharmacy
from payvider.synth.util import day, rng_for
from payvider.synth.world import PARTNER, Calendar, Roster, Vocabs, build_roster

#: Tables written to ``out/``, in this order.
OUTPUT_TABLES = (
    "eligibility",
    "medical_claim",
    "medical_claim_diagnosis",
    "medical_claim_procedure",
    "pharmacy_claim",
    "provider",
    "market_benchmark",
    "patient",
    "encounter",
    "condition",
    "procedure",
    "observation",
    "immunization",
    "medication",
    "sdoh_screening",
    "survey_response",
)
#: Identifier space reserved per block (claims, encounters …), so ids never collide.
ID_SPACE = 100_000_000
#: Share of the spend of partner-PCP members that is not routed (visits to the true PCP itself,
#: same-hospital readmissions …); turns the planted leakage share into a per-event routing
#: probability. Calibrated on 100,000-member runs.
_PCP_SPEND_SHARE = 0.10

GROUPS = ("partner_pcp", "other_pcp", "no_pcp")

TRUE_PCP_SCHEMA = pa.schema(
    [
        ("member_id", pa.string()),
        ("year", pa.int64()),
        ("pcp_npi", pa.string()),
        ("pcp_tin", pa.string()),
        ("health_system", pa.string()),
        ("partner_flag", pa.bool_()),
        ("true_pcp_visits", pa.int64()),
        ("primary_care_visits", pa.int64()),
    ]
)
TRUE_LINKS_SCHEMA = pa.schema(
    [("member_id", pa.string()), ("patient_id", pa.string()), ("corruption", pa.string())]
)
TAPER_SCHEMA = pa.schema(
    [
        ("member_id", pa.string()),
        ("baseline_mme", pa.decimal128(18, 4)),
        ("high_dose", pa.bool_()),
        ("cohort", pa.bool_()),
        ("program", pa.bool_()),
        ("planned_outcome", pa.string()),
        ("target_mme", pa.decimal128(18, 4)),
        ("taper_start", pa.date32()),
        ("taper_end", pa.date32()),
        ("prescriber_npi", pa.string()),
        ("benzodiazepine_overlap", pa.bool_()),
    ]
)


def market_benchmark(cfg: SynthConfig, cal: Calendar, seed: int) -> pa.Table:
    """Regional market PMPM per product line and month, growing at the market trend."""
    rng = rng_for(seed, "benchmark")
    months = cal.month_start
    t = np.arange(len(months)) / 12.0
    rows_line, rows_month, rows_pmpm, rows_risk = [], [], [], []
    base = cfg.benchmark_pmpm.as_tuple()
    risk = cfg.benchmark_risk_score.as_tuple()
    season = 1 + 0.025 * np.cos(2 * np.pi * (np.arange(len(months)) % 12) / 12)
    for li in range(len(BOOK_LINES)):
        pmpm = (
            base[li]
            * (1 + cfg.market_trend) ** t
            * season
            * (1 + 0.004 * rng.standard_normal(len(t)))
        )
        rs = risk[li] * (1 + 0.008 * t) + 0.002 * rng.standard_normal(len(t))
        rows_line.append(np.full(len(t), li))
        rows_month.append(months)
        rows_pmpm.append(pmpm)
        rows_risk.append(rs)
    n = len(t) * len(BOOK_LINES)
    return aio.build_table(
        "market_benchmark",
        {
            "region": aio.constant(cfg.region, n),
            "product_line": aio.take(aio.vocab(BOOK_LINES), np.concatenate(rows_line)),
            "month": aio.dates(np.concatenate(rows_month)),
            "pmpm": aio.money(np.concatenate(rows_pmpm)),
            "average_risk_score": aio.number(np.round(np.concatenate(rows_risk), 4)),
        },
        n,
    )


class _Truth:
    """Accumulates the realised size of every planted effect across blocks."""

    def __init__(self, cfg: SynthConfig, cal: Calendar) -> None:
        self.cfg = cfg
        self.cal = cal
        Y = len(cal.years)
        self.allowed = np.zeros((3, Y), dtype=np.int64)  # group x year, cents (final, ultimate)
        self.mm = np.zeros((3, Y), dtype=np.int64)
        self.allowed_line = np.zeros((3, Y), dtype=np.int64)  # product line x year
        self.mm_line = np.zeros((3, Y), dtype=np.int64)
        self.rx_allowed = np.zeros((3, Y), dtype=np.int64)
        self.leak = np.zeros(
            (Y, 2), dtype=np.int64
        )  # partner-PCP members: year x (outside, inside)
        self.readmit = np.zeros((2, 2, 2), dtype=np.int64)  # partner hosp x post x (index, readmit)
        self.followup = np.zeros((2, 2, 2), dtype=np.int64)
        self.taper = np.zeros((2, 3), dtype=np.int64)  # program x outcome (cohort)
        self.taper_all = np.zeros((2, 3), dtype=np.int64)
        self.counts: dict[str, int] = {}
        self.corruption = np.zeros(len(CORRUPTIONS), dtype=np.int64)
        self.sdoh_needs_all = np.zeros(len(R.SDOH_DOMAINS), dtype=np.int64)
        self.sdoh_needs_linked = np.zeros(len(R.SDOH_DOMAINS), dtype=np.int64)
        self.sdoh_positive = np.zeros(len(R.SDOH_DOMAINS), dtype=np.int64)
        self.members_total = 0
        self.members_with_pcp = 0
        self.members_partner_pcp = 0
        self.linked = 0

    def add(self, key: str, value: int) -> None:
        self.counts[key] = self.counts.get(key, 0) + int(value)


def _group(mem: Members) -> np.ndarray:
    return np.where(mem.home_partner, 0, np.where(mem.pcp >= 0, 1, 2))


def _readmissions(cal: Calendar, ros: Roster, V: Vocabs, st: Stays, surv: np.ndarray, start: int):
    """Index discharges and 30-day readmissions among surviving stays."""
    st = st.take(np.flatnonzero(surv))
    o = np.lexsort((st.adm, st.m))
    st = st.take(o)
    n = len(st.m)
    nxt_same = np.zeros(n, dtype=bool)
    gap = np.full(n, 10**6)
    if n > 1:
        nxt_same[:-1] = st.m[1:] == st.m[:-1]
        gap[:-1] = st.adm[1:] - st.dis[:-1]
    excluded = np.isin(st.drg, V.drg.ids(["807", "788", "795"])) | np.isin(
        st.disp, V.disp.ids(["20", "02", "07"])
    )
    eligible = ~excluded & (st.dis <= cal.t1 - 30)
    readm = eligible & nxt_same & (gap >= 1) & (gap <= 30)
    hp = ros.partner[st.hosp].astype(int)
    post = (st.dis >= start).astype(int)
    out = np.zeros((2, 2, 2), dtype=np.int64)
    np.add.at(out, (hp[eligible], post[eligible], 0), 1)
    np.add.at(out, (hp[readm], post[readm], 1), 1)
    return out


def generate_population(
    out: Path | str,
    members: int = 10_000,
    seed: int = 42,
    config: SynthConfig | None = None,
    fmt: Literal["parquet", "csv"] = "parquet",
    progress: Callable[[str, float], None] | None = None,
) -> dict:
    """Write a synthetic payer book and partner EHR for ``members`` members into ``out``.

    One file per canonical table (``<table>.parquet`` or ``<table>.csv``) and the planted truth in
    ``out/truth/``. Output is identical for the same ``seed`` and ``config``. Returns a summary with
    rows per table and elapsed seconds.
    """
    t_start = perf_counter()
    if members < 1:
        raise ValueError("members must be at least 1")
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"fmt must be 'parquet' or 'csv', not {fmt!r}")
    cfg = config or SynthConfig()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    truth_dir = out / "truth"
    truth_dir.mkdir(exist_ok=True)
    report = progress or (lambda stage, fraction: None)

    cal = Calendar(cfg)
    V = Vocabs()
    names = Names()
    roster = build_roster(cfg, members, seed)
    leak_q = min(1.0, cfg.leakage / (1.0 - _PCP_SPEND_SHARE))
    T = _Truth(cfg, cal)
    sink = aio.Sink(out, OUTPUT_TABLES, fmt)
    pcp_w = pq.ParquetWriter(truth_dir / "true_pcp.parquet", TRUE_PCP_SCHEMA)
    link_w = pq.ParquetWriter(truth_dir / "true_links.parquet", TRUE_LINKS_SCHEMA)
    taper_w = pq.ParquetWriter(truth_dir / "opioid_taper.parquet", TAPER_SCHEMA)
    try:
        sink.put("provider", roster.table())
        sink.put("market_benchmark", market_benchmark(cfg, cal, seed))
        n_blocks = math.ceil(members / cfg.block_size)
        report("generate", 0.0)
        for b in range(n_blocks):
            start = b * cfg.block_size
            n = min(cfg.block_size, members - start)
            _block(
                cfg,
                cal,
                roster,
                V,
                names,
                seed,
                b,
                start,
                n,
                members,
                leak_q,
                sink,
                T,
                pcp_w,
                link_w,
                taper_w,
            )
            report("generate", (b + 1) / n_blocks)
        rows = sink.close()
    except BaseException:
        sink.abort()
        raise
    finally:
        pcp_w.close()
        link_w.close()
        taper_w.close()
    truth = _truth_json(cfg, cal, roster, T, seed, members, rows)
    (truth_dir / "truth.json").write_text(json.dumps(truth, indent=2, sort_keys=False) + "\n")
    seconds = perf_counter() - t_start
    report("done", 1.0)
    return {
        "out": str(out),
        "members": members,
        "seed": seed,
        "format": fmt,
        "rows": rows,
        "claim_lines": rows["medical_claim"],
        "seconds": round(seconds, 3),
        "truth": str(truth_dir / "truth.json"),
    }


def _block(
    cfg,
    cal,
    roster,
    V,
    names,
    seed,
    b,
    start,
    n,
    members_total,
    leak_q,
    sink,
    T,
    pcp_w,
    link_w,
    taper_w,
):
    mem = build_members(cfg, cal, roster, names, seed, b, start, n)
    elig, info = eligibility(cfg, cal, mem, names, roster)
    sink.put("eligibility", elig)
    cr = generate_claims(
        cfg,
        cal,
        roster,
        V,
        mem,
        rng_for(seed, "claims", b),
        rng_for(seed, "adjust", b),
        b * ID_SPACE + 1,
        leak_q,
    )
    sink.put("medical_claim", cr.medical_claim)
    sink.put("medical_claim_diagnosis", cr.diagnosis)
    sink.put("medical_claim_procedure", cr.procedure)
    ph = generate_pharmacy(cfg, cal, roster, V, mem, rng_for(seed, "pharmacy", b), b * ID_SPACE + 1)
    sink.put("pharmacy_claim", ph.table)
    ehr = generate_ehr(
        cfg,
        cal,
        roster,
        V,
        names,
        mem,
        cr.events,
        ph.fills,
        cr.screening,
        rng_for(seed, "ehr", b),
        rng_for(seed, "linkage", b),
        b,
        members_total,
        b * ID_SPACE + 1,
    )
    for name, tbl in ehr.tables.items():
        sink.put(name, tbl)
    link_w.write_table(ehr.links.cast(TRUE_LINKS_SCHEMA))

    # --- truth ------------------------------------------------------------------------------
    y0 = cal.years[0]
    Y = len(cal.years)
    grp = _group(mem)
    rm, ry, months = info["rows_member"], info["year"], info["months"]
    yi = np.clip(ry - y0, 0, Y - 1)
    np.add.at(T.mm, (grp[rm], yi), months)
    np.add.at(T.mm_line, (mem.line[rm], yi), months)
    tr = cr.truth
    lm, ly = tr["line_member"], np.clip(tr["line_year"] - y0, 0, Y - 1)
    np.add.at(T.allowed, (grp[lm], ly), tr["final_cents"])
    np.add.at(T.allowed_line, (mem.line[lm], ly), tr["final_cents"])
    hp = mem.home_partner[lm]
    np.add.at(T.leak, (ly[hp], tr["line_partner_billing"][hp].astype(int)), tr["final_cents"][hp])
    px = ph.truth
    np.add.at(
        T.rx_allowed,
        (mem.line[px["member"]], np.clip(px["year"] - y0, 0, Y - 1)),
        px["final_cents"],
    )
    T.readmit += _readmissions(
        cal, roster, V, cr.stays, cr.stay_survives, day(cfg.readmission.program_start)
    )
    for k in (
        "lines_paid_after_as_of",
        "allowed_paid_after_as_of_cents",
        "claims_original",
        "claims_replacement",
        "claims_void",
    ):
        T.add(k, tr[k])
    T.add("pharmacy_fills", px["fills"])
    T.add("pharmacy_voids", px["voids_in_file"])
    T.members_total += n
    T.members_with_pcp += int((mem.pcp >= 0).sum())
    T.members_partner_pcp += int(mem.home_partner.sum())

    # follow-up within 7 days after discharge home, by partner hospital and program period
    ev = cr.events
    st = cr.stays.take(np.flatnonzero(cr.stay_survives))
    home = np.isin(st.disp, V.disp.ids(["01", "06"])) & (st.dis <= cal.t1 - 30)
    fu = ev["et"] == ET["followup"]
    key_fu = ev["m"][fu] * 100_000 + ev["start"][fu]
    key_fu.sort()
    s_m, s_dis = st.m[home], st.dis[home]
    lo = np.searchsorted(key_fu, s_m * 100_000 + s_dis + 1)
    hi = np.searchsorted(key_fu, s_m * 100_000 + s_dis + 7, side="right")
    got = hi > lo
    hpp = roster.partner[st.hosp[home]].astype(int)
    post = (s_dis >= day(cfg.readmission.program_start)).astype(int)
    np.add.at(T.followup, (hpp, post, 0), 1)
    np.add.at(T.followup, (hpp[got], post[got], 1), 1)

    # true PCP per member-year, with visit counts
    pcp_kinds = np.array(
        [R.SPECIALTIES.get(k, (None, None, None, False))[3] for k in roster.kind], dtype=bool
    )
    pcv = np.isin(ev["et"], [ET["office"], ET["telehealth"], ET["wellness"], ET["followup"]]) & (
        ev["prov"] >= 0
    )
    pcv &= pcp_kinds[np.maximum(ev["prov"], 0)]
    vm, vy = (
        ev["m"][pcv],
        np.clip(
            ev["start"][pcv].astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64)
            + 1970
            - y0,
            0,
            Y - 1,
        ),
    )
    total_v = np.zeros((n, Y), dtype=np.int64)
    true_v = np.zeros((n, Y), dtype=np.int64)
    np.add.at(total_v, (vm, vy), 1)
    to_true = ev["prov"][pcv] == mem.pcp[vm]
    np.add.at(true_v, (vm[to_true], vy[to_true]), 1)
    rows_m, rows_y = [], []
    for k, y in enumerate(cal.years):
        sel = np.flatnonzero(
            (mem.pcp >= 0) & (mem.enrolled_between(cal.year_start[y], cal.year_end[y]) > 0)
        )
        rows_m.append(sel)
        rows_y.append(np.full(len(sel), k))
    tm = np.concatenate(rows_m)
    ty = np.concatenate(rows_y)
    o = np.lexsort((ty, tm))
    tm, ty = tm[o], ty[o]
    p = mem.pcp[tm]
    sysn = aio.vocab(roster.system_names)
    tbl = pa.table(
        {
            "member_id": aio.ids("M", mem.gidx[tm] + 1, 9),
            "year": aio.integers(ty + y0),
            "pcp_npi": roster.npi_arrow.take(pa.array(p)),
            "pcp_tin": roster.tin_arrow.take(pa.array(p)),
            "health_system": aio.take(sysn, roster.system[p]),
            "partner_flag": aio.booleans(roster.system[p] == PARTNER),
            "true_pcp_visits": aio.integers(true_v[tm, ty]),
            "primary_care_visits": aio.integers(total_v[tm, ty]),
        },
        schema=TRUE_PCP_SCHEMA,
    )
    pcp_w.write_table(tbl)

    # opioid taper cohort
    tp = ph.taper
    cm = tp["m"]
    t0 = tp["taper_start"] - 90
    cont = mem.enrolled_between(t0, cal.t1, cm) == (cal.t1 - t0 + 1)
    hi = tp["high_dose"]
    np.add.at(T.taper, (tp["program"][hi & cont].astype(int), tp["outcome"][hi & cont]), 1)
    np.add.at(T.taper_all, (tp["program"][hi].astype(int), tp["outcome"][hi]), 1)
    taper_tbl = pa.table(
        {
            "member_id": aio.ids("M", mem.gidx[cm] + 1, 9),
            "baseline_mme": aio.number(np.round(tp["baseline_mme"], 4)),
            "high_dose": aio.booleans(hi),
            "cohort": aio.booleans(hi & cont),
            "program": aio.booleans(tp["program"]),
            "planned_outcome": aio.take(aio.vocab(OUTCOMES), np.where(hi, tp["outcome"], 0)),
            "target_mme": aio.number(np.round(tp["target_mme"], 4)),
            "taper_start": aio.dates(tp["taper_start"]),
            "taper_end": aio.dates(tp["taper_end"]),
            "prescriber_npi": roster.npi_arrow.take(pa.array(tp["prescriber"])),
            "benzodiazepine_overlap": aio.booleans(tp["benzo"]),
        },
        schema=TAPER_SCHEMA,
    )
    taper_w.write_table(taper_tbl)

    et = ehr.truth
    T.linked += et["linked_patients"]
    T.add("non_member_patients", et["non_member_patients"])
    T.add("household_patients", et["household_patients"])
    T.corruption += et["corruption_counts"]
    T.sdoh_needs_all += et["sdoh_needs_all"]
    T.sdoh_needs_linked += et["sdoh_needs_linked"]
    T.sdoh_positive += et["sdoh_positive"]
    T.add("sdoh_screenings", et["sdoh_screened"])


def _rate(num: float, den: float) -> float | None:
    return round(num / den, 6) if den else None


def _truth_json(
    cfg: SynthConfig, cal: Calendar, roster: Roster, T: _Truth, seed: int, members: int, rows: dict
) -> dict:
    from payvider import __version__ as version

    years = [str(y) for y in cal.years]
    pmpm = {
        g: {y: _rate(T.allowed[gi, k] / 100, T.mm[gi, k]) for k, y in enumerate(years)}
        for gi, g in enumerate(GROUPS)
    }
    pmpm_line = {
        ln: {y: _rate(T.allowed_line[li, k] / 100, T.mm_line[li, k]) for k, y in enumerate(years)}
        for li, ln in enumerate(BOOK_LINES)
    }
    rx_pmpm = {
        ln: {y: _rate(T.rx_allowed[li, k] / 100, T.mm_line[li, k]) for k, y in enumerate(years)}
        for li, ln in enumerate(BOOK_LINES)
    }

    def growth(series: dict) -> float | None:
        vals = [series[y] for y in years if series[y]]
        if len(vals) < 2:
            return None
        return round((vals[-1] / vals[0]) ** (1 / (len(vals) - 1)) - 1, 6)

    leak_total = T.leak.sum(axis=0)
    r = T.readmit
    f = T.followup
    domains = list(R.SDOH_DOMAINS)
    effects = {
        "cost_trend": {
            "market_annual_trend": cfg.market_trend,
            "partner_annual_trend": cfg.partner_trend,
            "points_below_market": round((cfg.market_trend - cfg.partner_trend) * 100, 6),
            "applies_to": "medical allowed amounts of members whose true PCP is in the partner system; "
            "everyone else and the market benchmark follow the market trend",
            "realized_pmpm_by_group_and_year": pmpm,
            "realized_annual_growth": {g: growth(pmpm[g]) for g in GROUPS},
            "note": "PMPM = ultimate medical allowed (after voids and replacements, including claims "
            "paid after as_of_date) per member month",
        },
        "leakage": {
            "planted_share": cfg.leakage,
            "realized_share": _rate(leak_total[0], leak_total.sum()),
            "realized_share_by_year": {
                y: _rate(T.leak[k, 0], T.leak[k].sum()) for k, y in enumerate(years)
            },
            "definition": "share of ultimate medical allowed of members whose true PCP is in the "
            "partner system billed by providers outside the partner system (billing NPI)",
        },
        "readmission": {
            "program_start": cfg.readmission.program_start.isoformat(),
            "planted_relative_reduction": cfg.readmission.relative_reduction,
            "applies_to": "discharges from partner-system hospitals on or after program_start",
            "planted_base_rate": cfg.readmission.base_rate.model_dump(),
            "realized": {
                f"{'partner' if h else 'other'}_{'post' if p else 'pre'}": {
                    "index_discharges": int(r[h, p, 0]),
                    "readmissions_30d": int(r[h, p, 1]),
                    "rate": _rate(r[h, p, 1], r[h, p, 0]),
                }
                for h in (1, 0)
                for p in (0, 1)
            },
            "definition": "all-cause: an admission 1-30 days after an eligible discharge of the same "
            "member; excluded: deliveries, newborns, deaths, transfers, left against advice, and "
            "discharges in the last 30 days of the window",
            "followup_7d": {
                f"{'partner' if h else 'other'}_{'post' if p else 'pre'}": _rate(
                    f[h, p, 1], f[h, p, 0]
                )
                for h in (1, 0)
                for p in (0, 1)
            },
        },
        "opioid_taper": {
            "taper_start": cfg.opioid.taper_start.isoformat(),
            "planted_reduced_share": cfg.opioid.taper_reduced_share,
            "planted_discontinued_share": cfg.opioid.taper_discontinued_share,
            "background_reduced_share": cfg.opioid.background_reduced_share,
            "background_discontinued_share": cfg.opioid.background_discontinued_share,
            "cohort": "chronic opioid users with baseline daily MME >= 90, on therapy in the 90 days "
            "before their taper start and continuously enrolled from then to end_date (the "
            "'cohort' column of truth/opioid_taper.parquet); program = prescriber in the partner "
            "system",
            "realized": {
                ("program" if pgm else "no_program"): {
                    "members": int(T.taper[pgm].sum()),
                    **{o: int(T.taper[pgm, k]) for k, o in enumerate(OUTCOMES)},
                    "reduced_share": _rate(T.taper[pgm, 1], T.taper[pgm].sum()),
                    "discontinued_share": _rate(T.taper[pgm, 2], T.taper[pgm].sum()),
                }
                for pgm in (1, 0)
            },
            "per_member_table": "truth/opioid_taper.parquet",
        },
        "sdoh": {
            "planted_prevalence": cfg.sdoh.prevalence,
            "realized_prevalence_all_members": {
                d: _rate(T.sdoh_needs_all[k], T.members_total) for k, d in enumerate(domains)
            },
            "realized_prevalence_linked_patients": {
                d: _rate(T.sdoh_needs_linked[k], T.linked) for k, d in enumerate(domains)
            },
            "screenings": T.counts.get("sdoh_screenings", 0),
            "positive_rate_among_screened": {
                d: _rate(T.sdoh_positive[k], T.counts.get("sdoh_screenings", 0))
                for k, d in enumerate(domains)
            },
            "screening_rate_by_year": dict(
                zip(years, cfg.sdoh.screening_rate_by_year, strict=False)
            ),
            "referral_rate": cfg.sdoh.referral_rate,
        },
        "pcp": {
            "pcp_loyalty": cfg.pcp_loyalty,
            "members_with_true_pcp": T.members_with_pcp,
            "members_with_partner_pcp": T.members_partner_pcp,
            "per_member_table": "truth/true_pcp.parquet",
        },
        "linkage": {
            "linked_patients": T.linked,
            "non_member_patients": T.counts.get("non_member_patients", 0),
            "household_patients": T.counts.get("household_patients", 0),
            "corruption_counts": {c: int(T.corruption[k]) for k, c in enumerate(CORRUPTIONS)},
            "per_link_table": "truth/true_links.parquet",
        },
        "claims_completion": {
            "as_of_date": cfg.as_of_date.isoformat(),
            "lines_paid_after_as_of": T.counts.get("lines_paid_after_as_of", 0),
            "allowed_paid_after_as_of": round(
                T.counts.get("allowed_paid_after_as_of_cents", 0) / 100, 2
            ),
        },
        "pmpm_by_product_line": {"medical": pmpm_line, "pharmacy": rx_pmpm},
    }
    return {
        "generator": "payvider.synth",
        "version": version,
        "seed": seed,
        "members": members,
        "counts": {
            **{t: int(rows[t]) for t in OUTPUT_TABLES},
            "claims_original": T.counts.get("claims_original", 0),
            "claims_replacement": T.counts.get("claims_replacement", 0),
            "claims_void": T.counts.get("claims_void", 0),
            "pharmacy_fills": T.counts.get("pharmacy_fills", 0),
            "pharmacy_voids": T.counts.get("pharmacy_voids", 0),
            "providers": len(roster.npi),
        },
        "effects": effects,
        "config": cfg.model_dump(mode="json"),
    }
