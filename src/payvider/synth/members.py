"""A block of members: demographics, enrollment spans, chronic conditions and behaviours."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from payvider.synth import arrowio as aio
from payvider.synth import refdata as R
from payvider.synth.config import BOOK_LINES, SynthConfig
from payvider.synth.util import age_at, choice, rng_for
from payvider.synth.world import PARTNER, Calendar, Roster

COMMERCIAL, MA, MEDICAID = 0, 1, 2

#: Age distribution of each product line: (min age, max age, share). Sources: KFF Health
#: Insurance Coverage of the Total Population by age (2022), CMS MA enrollment by age, MACPAC
#: Medicaid enrollment by eligibility group.
AGE_MIX = (
    (
        (0, 1, 0.02),
        (2, 17, 0.20),
        (18, 25, 0.11),
        (26, 34, 0.14),
        (35, 44, 0.16),
        (45, 54, 0.17),
        (55, 64, 0.20),
    ),
    (
        (30, 64, 0.10),
        (65, 69, 0.24),
        (70, 74, 0.24),
        (75, 79, 0.18),
        (80, 84, 0.12),
        (85, 99, 0.12),
    ),
    ((0, 1, 0.04), (2, 18, 0.38), (19, 34, 0.24), (35, 49, 0.15), (50, 64, 0.12), (65, 90, 0.07)),
)
FEMALE_SHARE = (0.51, 0.56, 0.56)
PLANS = (
    ("commercial-ppo", "commercial-hmo", "commercial-hdhp"),
    ("medicare-advantage-hmo", "medicare-advantage-ppo"),
    ("medicaid-pmap", "medicaid-mncare"),
)
PLAN_MIX = ((0.45, 0.30, 0.25), (0.6, 0.4), (0.8, 0.2))
PAYER_TYPE = ("commercial", "medicare advantage", "medicaid")
#: Annual mortality by age band (CDC NCHS life tables, rounded).
MORTALITY = (0.004, 0.0002, 0.001, 0.005, 0.018, 0.045, 0.13)


_PLAN_NAMES = [p for ps in PLANS for p in ps]
_PLAN_OFFSET = np.cumsum([0] + [len(ps) for ps in PLANS])[:-1]


def plan_vocab() -> pa.Array:
    """All plan names, in the order plan_index numbers them."""
    return aio.vocab(_PLAN_NAMES)


def plan_index(mem: Members, m: np.ndarray) -> np.ndarray:
    """Index into plan_vocab() of the plan of members ``m``."""
    return _PLAN_OFFSET[mem.line[m]] + mem.plan[m]


class Names:
    """First and last name vocabularies, with nicknames and typo variants for the EHR side."""

    def __init__(self) -> None:
        rng = np.random.default_rng(20240531)  # fixed: the vocabulary is reference data
        self.n_male = len(R.MALE_FIRST)
        base_first = list(R.MALE_FIRST) + list(R.FEMALE_FIRST)
        base_last = list(R.LAST_NAMES)
        self.n_first = len(base_first)
        self.n_last = len(base_last)
        first = list(base_first)
        nick = np.full(self.n_first, -1, dtype=np.int64)
        for i, nm in enumerate(base_first):
            if nm in R.NICKNAMES:
                nick[i] = len(first)
                first.append(R.NICKNAMES[nm])
        self.nick = nick
        self.first_typo = np.empty((self.n_first, 3), dtype=np.int64)
        for i, nm in enumerate(base_first):
            for k, v in enumerate(_typos(nm, rng)):
                self.first_typo[i, k] = len(first)
                first.append(v)
        last = list(base_last)
        self.last_typo = np.empty((self.n_last, 3), dtype=np.int64)
        for i, nm in enumerate(base_last):
            for k, v in enumerate(_typos(nm, rng)):
                self.last_typo[i, k] = len(last)
                last.append(v)
        self.first = aio.vocab(first)
        self.last = aio.vocab(last)
        self.initials = aio.vocab([chr(c) for c in range(ord("A"), ord("Z") + 1)])
        self.streets = aio.vocab([f"{s} {x}" for s in R.STREETS for x in R.STREET_SUFFIX])
        self.n_streets = len(R.STREETS) * len(R.STREET_SUFFIX)
        self.zip = aio.vocab([z[0] for z in R.ZIPS])
        self.city = aio.vocab([z[1] for z in R.ZIPS])
        self.area = np.array([int(z[2]) for z in R.ZIPS], dtype=np.int64)
        self.race = aio.vocab([r[0] for r in R.RACES])
        self.race_p = [r[1] for r in R.RACES]
        self.ethnicity = aio.vocab(["hispanic or latino", "not hispanic or latino"])


def _typos(name: str, rng: np.random.Generator) -> list[str]:
    """Three misspellings: adjacent swap, dropped letter, doubled or replaced letter."""
    s = name
    out = []
    n = len(s)
    i = int(rng.integers(1, max(2, n - 1)))
    if n >= 3 and s[i] != s[i - 1]:
        out.append(s[: i - 1] + s[i] + s[i - 1] + s[i + 1 :])
    else:
        out.append(s + s[-1])
    j = int(rng.integers(1, n)) if n > 2 else 1
    out.append(s[:j] + s[j + 1 :] if n > 3 else s + "e")
    k = int(rng.integers(1, n)) if n > 1 else 0
    vowels = "aeiou"
    repl = vowels[(vowels.find(s[k].lower()) + 1) % 5] if s[k].lower() in vowels else s[k] + s[k]
    out.append(s[:k] + repl + s[k + 1 :])
    return [o if o != s else s + "h" for o in out]


@dataclass
class Members:
    n: int
    gidx: np.ndarray
    line: np.ndarray
    plan: np.ndarray
    sex: np.ndarray  # 1 female
    birth: np.ndarray
    age0: np.ndarray
    band: np.ndarray
    first: np.ndarray
    middle: np.ndarray
    last: np.ndarray
    house: np.ndarray
    street: np.ndarray
    zip_idx: np.ndarray
    phone: np.ndarray
    race: np.ndarray
    hispanic: np.ndarray
    cond: np.ndarray  # (n, C) bool
    cancer_dx: np.ndarray  # index into CANCER codes by sex
    frailty: np.ndarray
    util: np.ndarray
    pcp: np.ndarray  # roster index or -1
    home_partner: np.ndarray
    s1: np.ndarray
    e1: np.ndarray
    s2: np.ndarray
    e2: np.ndarray
    death: np.ndarray  # day or -1
    needs: np.ndarray  # (n, 7) bool SDOH needs
    voluntary_pcp: np.ndarray

    @property
    def enrolled_days(self) -> np.ndarray:
        d = self.e1 - self.s1 + 1
        return d + np.where(self.s2 >= 0, self.e2 - self.s2 + 1, 0)

    def enrolled_between(
        self, lo: int | np.ndarray, hi: int | np.ndarray, m: np.ndarray | None = None
    ) -> np.ndarray:
        """Enrolled days within [lo, hi] of each member (or of members ``m``)."""
        s1, e1, s2, e2 = (
            (self.s1, self.e1, self.s2, self.e2)
            if m is None
            else (self.s1[m], self.e1[m], self.s2[m], self.e2[m])
        )
        a = np.clip(np.minimum(e1, hi) - np.maximum(s1, lo) + 1, 0, None)
        b = np.where(s2 >= 0, np.clip(np.minimum(e2, hi) - np.maximum(s2, lo) + 1, 0, None), 0)
        return a + b

    def enrolled_on(self, m: np.ndarray, d: np.ndarray) -> np.ndarray:
        ok = (d >= self.s1[m]) & (d <= self.e1[m])
        ok |= (self.s2[m] >= 0) & (d >= self.s2[m]) & (d <= self.e2[m])
        return ok

    def sample_days(
        self, rng: np.random.Generator, m: np.ndarray, lo: int | np.ndarray, hi: int | np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """A uniform enrolled day of member ``m`` within [lo, hi]; ok False where there is none."""
        lo = np.broadcast_to(np.asarray(lo, dtype=np.int64), m.shape)
        hi = np.broadcast_to(np.asarray(hi, dtype=np.int64), m.shape)
        a0 = np.maximum(self.s1[m], lo)
        a1 = np.minimum(self.e1[m], hi)
        la = np.clip(a1 - a0 + 1, 0, None)
        has2 = self.s2[m] >= 0
        b0 = np.maximum(self.s2[m], lo)
        b1 = np.minimum(self.e2[m], hi)
        lb = np.where(has2, np.clip(b1 - b0 + 1, 0, None), 0)
        tot = la + lb
        off = np.floor(rng.random(len(m)) * tot).astype(np.int64)
        d = np.where(off < la, a0 + off, b0 + off - la)
        return d, tot > 0


def age_band(age: np.ndarray) -> np.ndarray:
    return np.searchsorted(np.array(R.AGE_BAND_EDGES), age, side="right")


def build_members(
    cfg: SynthConfig,
    cal: Calendar,
    roster: Roster,
    names: Names,
    seed: int,
    block: int,
    start: int,
    n: int,
) -> Members:
    """Members ``start`` .. ``start + n - 1`` (global indices), deterministic per block."""
    rng = rng_for(seed, "members", block)
    gidx = np.arange(start, start + n, dtype=np.int64)
    line = choice(rng, cfg.product_mix.as_tuple(), n).astype(np.int8)

    # age and sex
    age0 = np.zeros(n, dtype=np.int64)
    for li in range(3):
        sel = np.flatnonzero(line == li)
        mix = AGE_MIX[li]
        k = choice(rng, [m[2] for m in mix], len(sel))
        lo = np.array([m[0] for m in mix])[k]
        hi = np.array([m[1] for m in mix])[k]
        age0[sel] = lo + np.floor(rng.random(len(sel)) * (hi - lo + 1)).astype(np.int64)
    birth = cal.t0 - age0 * 365 - np.floor(rng.random(n) * 365).astype(np.int64) - age0 // 4
    age0 = age_at(birth, cal.t0)
    band = age_band(age0)
    fem_p = np.array(FEMALE_SHARE)[line]
    fem_p = np.where(age0 < 18, 0.49, fem_p)
    sex = (rng.random(n) < fem_p).astype(np.int8)
    plan = np.zeros(n, dtype=np.int8)
    for li in range(3):
        sel = line == li
        plan[sel] = choice(rng, PLAN_MIX[li], int(sel.sum()))

    # names and address
    first = np.where(
        sex == 1,
        names.n_male + rng.integers(0, names.n_first - names.n_male, n),
        rng.integers(0, names.n_male, n),
    )
    middle = np.where(rng.random(n) < 0.7, rng.integers(0, 26, n), -1)
    last = rng.integers(0, names.n_last, n)
    house = rng.integers(100, 20000, n)
    street = rng.integers(0, names.n_streets, n)
    zip_idx = rng.integers(0, len(R.ZIPS), n)
    phone = names.area[zip_idx] * 10**7 + rng.integers(2_000_000, 9_999_999, n)
    race = choice(rng, names.race_p, n)
    hispanic = rng.random(n) < R.HISPANIC_SHARE

    # frailty and chronic conditions
    frailty = rng.standard_normal(n)
    C = len(R.CONDITIONS)
    cond = np.zeros((n, C), dtype=bool)
    util = np.exp(0.35 * frailty - 0.06)
    line_cond_mult = np.where(line == MEDICAID, 1.0, np.where(line == COMMERCIAL, 0.9, 1.0))
    for c, (_key, _code, prev, mcaid, weight, _spec) in enumerate(R.CONDITIONS):
        p = np.array(prev)[band] * line_cond_mult * np.where(line == MEDICAID, mcaid, 1.0)
        p = np.clip(p, 1e-6, 0.95)
        logit = np.log(p / (1 - p)) + 0.8 * frailty - 0.3
        has = rng.random(n) < 1 / (1 + np.exp(-logit))
        cond[:, c] = has
        util *= np.where(has, weight, 1.0)
    cancer_dx = rng.integers(0, 3, n)
    # the multiplier redistributes use within an age band and product line (mean 1 there), so
    # the base rates keep their meaning whatever the condition mix
    util = np.minimum(util, 12.0)
    grp = line.astype(np.int64) * 8 + band
    mean = np.bincount(grp, weights=util, minlength=24) / np.maximum(
        np.bincount(grp, minlength=24), 1
    )
    util = util / np.where(mean[grp] > 0, mean[grp], 1.0)

    # enrollment: month-granular spans within the window, churn, gaps and deaths
    rngE = rng_for(seed, "enrollment", block)
    M = cal.n_months
    years = M / 12.0
    churn = np.array(cfg.churn.as_tuple())[line]
    p_start = 1.0 / (1.0 + churn * years)
    s1m = np.where(rngE.random(n) < p_start, 0, rngE.integers(1, M, n))
    h = 1 - (1 - churn) ** (1 / 12)
    dur = rngE.geometric(h)
    e1m = np.minimum(s1m + dur - 1, M - 1)
    mort = np.array(MORTALITY)[band]
    hm = 1 - (1 - np.clip(mort, 0, 0.9)) ** (1 / 12)
    dm = s1m + rngE.geometric(hm) - 1
    dead = dm <= e1m
    e1m = np.where(dead, dm, e1m)
    death = np.where(
        dead,
        cal.month_start[np.minimum(dm, M - 1)] + np.floor(rngE.random(n) * 28).astype(np.int64),
        -1,
    )
    reenroll = np.array(cfg.reenroll.as_tuple())[line]
    back = (~dead) & (e1m < M - 1) & (rngE.random(n) < reenroll)
    gap = 1 + rngE.geometric(0.35, n)
    s2m = e1m + 1 + gap
    back &= s2m <= M - 1
    e2m = np.minimum(s2m + rngE.geometric(h) - 1, M - 1)
    s1 = cal.month_start[s1m]
    e1 = np.where(dead, death, cal.month_end[e1m])
    s2 = np.where(back, cal.month_start[np.minimum(s2m, M - 1)], -1)
    e2 = np.where(back, cal.month_end[np.minimum(e2m, M - 1)], -1)

    # the true primary-care relationship
    no_pcp_p = cfg.no_pcp_share * np.where(line == MA, 0.5, 1.0) * np.where(age0 < 18, 0.6, 1.0)
    has_pcp = rng.random(n) >= no_pcp_p
    to_partner = rng.random(n) < cfg.partner_pcp_share
    child = age0 < 18
    pcp = np.full(n, -1, dtype=np.int64)
    for role, sel in (("pcp_child", child), ("pcp_adult", ~child)):
        idx = np.flatnonzero(sel & has_pcp)
        pcp[idx] = roster.route(rng, role, to_partner[idx])
    home_partner = (pcp >= 0) & (roster.system[np.maximum(pcp, 0)] == PARTNER)
    voluntary = np.where((line == MA) & (pcp >= 0) & (rng.random(n) < 0.25), pcp, -1)

    # social needs: persistent member-level needs, more common in Medicaid
    mult = np.array(cfg.sdoh.line_multiplier.as_tuple())
    mix = np.array(cfg.product_mix.as_tuple())
    norm = float((mult * mix).sum()) or 1.0
    needs = np.zeros((n, len(R.SDOH_DOMAINS)), dtype=bool)
    for k, dom in enumerate(R.SDOH_DOMAINS):
        p = cfg.sdoh.prevalence.get(dom, 0.0) * mult[line] / norm
        needs[:, k] = rng.random(n) < np.clip(p * np.exp(0.25 * frailty - 0.03), 0, 0.95)

    return Members(
        n=n,
        gidx=gidx,
        line=line,
        plan=plan,
        sex=sex,
        birth=birth,
        age0=age0,
        band=band,
        first=first,
        middle=middle,
        last=last,
        house=house,
        street=street,
        zip_idx=zip_idx,
        phone=phone,
        race=race,
        hispanic=hispanic,
        cond=cond,
        cancer_dx=cancer_dx,
        frailty=frailty,
        util=util,
        pcp=pcp,
        home_partner=home_partner,
        s1=s1,
        e1=e1,
        s2=s2,
        e2=e2,
        death=death,
        needs=needs,
        voluntary_pcp=voluntary,
    )


def member_ids(mem: Members, idx: np.ndarray | None = None) -> pa.Array:
    g = mem.gidx if idx is None else mem.gidx[idx]
    return aio.ids("M", g + 1, 9)


def address(names: Names, house: np.ndarray, street: np.ndarray) -> pa.Array:
    return pc.binary_join_element_wise(
        pa.array(house.astype(np.int64)).cast(pa.string()), aio.take(names.streets, street), " "
    )


def phones(numbers: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Phone numbers as 612-555-0134."""
    s = aio.digits(numbers, 10, valid)
    return pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(s, 0, 3),
        pc.utf8_slice_codeunits(s, 3, 6),
        pc.utf8_slice_codeunits(s, 6, 10),
        "-",
    )


def eligibility(
    cfg: SynthConfig, cal: Calendar, mem: Members, names: Names, roster: Roster
) -> tuple[pa.Table, dict]:
    """Eligibility rows (spans split at plan-year boundaries) and member months for the truth."""
    # spans: (member, start, end)
    has2 = mem.s2 >= 0
    sm = np.concatenate([np.arange(mem.n), np.flatnonzero(has2)])
    ss = np.concatenate([mem.s1, mem.s2[has2]])
    se = np.concatenate([mem.e1, mem.e2[has2]])
    # the span of a member who died ends on the date of death
    se_elig = se.copy()
    se_elig = np.minimum(se_elig, cal.t1)
    y0 = np.array([cal.years[0]])[0]
    ys = ss.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    ye = se_elig.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    cnt = ye - ys + 1
    rm = np.repeat(sm, cnt)
    rstart_span = np.repeat(ss, cnt)
    rend_span = np.repeat(se_elig, cnt)
    ry = np.repeat(ys, cnt) + (np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt))
    ystart = (ry - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
    yend = (ry - 1970 + 1).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64) - 1
    rs = np.maximum(rstart_span, ystart)
    re = np.minimum(rend_span, yend)
    n = len(rm)
    line = mem.line[rm]
    age = mem.age0[rm] + (ry - y0)
    base = np.array(cfg.premium_pmpm.as_tuple())[line]
    age_f = np.select(
        [line == COMMERCIAL, line == MEDICAID],
        [
            np.interp(age, [0, 18, 24, 34, 44, 54, 64], [0.55, 0.55, 0.75, 0.88, 1.0, 1.38, 1.95]),
            np.interp(age, [0, 18, 19, 64, 65, 100], [0.55, 0.55, 1.25, 1.4, 2.4, 2.6]),
        ],
        default=1.0 + 0.12 * mem.frailty[rm],
    )
    premium = base * age_f * (1 + cfg.premium_trend) ** (ry - y0)
    m = rm
    elig_death = np.where(mem.death[m] >= 0, mem.death[m], 0)
    ma = line == MA
    disabled = ma & (mem.age0[m] < 65)
    orec = np.where(ma, np.where(disabled, 1, 0), -1)
    mcaid_aged = (line == MEDICAID) & (mem.age0[m] >= 65)
    dual = np.where(mcaid_aged, 0, -1)
    status = np.where(ma, np.where(disabled, 1, 0), -1)
    cols = {
        "member_id": member_ids(mem, m),
        "subscriber_id": aio.ids("S", mem.gidx[m] + 1, 9),
        "first_name": aio.take(names.first, mem.first[m]),
        "middle_name": aio.take(names.initials, mem.middle[m]),
        "last_name": aio.take(names.last, mem.last[m]),
        "gender": aio.take(aio.vocab(["male", "female"]), mem.sex[m].astype(np.int64)),
        "race": aio.take(names.race, mem.race[m]),
        "ethnicity": aio.take(names.ethnicity, np.where(mem.hispanic[m], 0, 1)),
        "birth_date": aio.dates(mem.birth[m]),
        "death_date": aio.dates(elig_death, mem.death[m] >= 0),
        "enrollment_start_date": aio.dates(rs),
        "enrollment_end_date": aio.dates(re),
        "payer": aio.constant(cfg.payer, n),
        "payer_type": aio.take(aio.vocab(PAYER_TYPE), line.astype(np.int64)),
        "product_line": aio.take(aio.vocab(BOOK_LINES), line.astype(np.int64)),
        "plan": aio.take(plan_vocab(), plan_index(mem, rm)),
        "original_reason_entitlement_code": aio.take(aio.vocab(["0", "1"]), orec),
        "dual_status_code": aio.take(aio.vocab(["02"]), dual),
        "medicare_status_code": aio.take(aio.vocab(["10", "20"]), status),
        "address": address(names, mem.house[m], mem.street[m]),
        "city": aio.take(names.city, mem.zip_idx[m]),
        "state": aio.constant("MN", n),
        "zip_code": aio.take(names.zip, mem.zip_idx[m]),
        "phone": phones(mem.phone[m]),
        "premium_pmpm": aio.money(premium),
        "pcp_npi": aio.take(roster.npi_arrow, mem.voluntary_pcp[m]),
        "data_source": aio.constant("synthetic payer eligibility", n),
    }
    tbl = aio.build_table("eligibility", cols, n)
    # member months by (member, month) for the truth: months touched by a row
    mm_start = rs.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    mm_end = re.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    info = {"rows_member": rm, "year": ry, "months": mm_end - mm_start + 1}
    return tbl, info
