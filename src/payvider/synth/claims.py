"""Medical claims of a block of members: events of care, their claims and lines, adjustments.

Care is generated as *events* (an office visit, an ED visit, an inpatient stay …) drawn per member
from Poisson rates that depend on age, product line, chronic conditions and frailty. Each event
produces one or more claims (a facility claim and the professionals' claims) with their lines.
Everything is arrays: there is no loop over members, events or claims.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from payvider.synth import arrowio as aio
from payvider.synth import refdata as R
from payvider.synth.config import SynthConfig
from payvider.synth.members import COMMERCIAL, MA, MEDICAID, Members, plan_index, plan_vocab
from payvider.synth.util import categorical, choice, day, rank_within, repeat_index, within_index
from payvider.synth.world import Calendar, Roster, Vocabs

INST, PROF = 0, 1
LVL_PRO, LVL_FAC, LVL_IP = 0, 1, 2

#: Event types; the EHR encounter type of each.
ETYPES = (
    ("office", "office visit"),
    ("telehealth", "telehealth"),
    ("wellness", "wellness"),
    ("specialist", "office visit"),
    ("lab", "lab"),
    ("imaging", "imaging"),
    ("ed", "emergency"),
    ("inpatient", "inpatient"),
    ("snf", "skilled nursing"),
    ("home_health", "home health"),
    ("surgery", "outpatient"),
    ("therapy", "therapy"),
    ("behavioral", "behavioral health"),
    ("infusion", "infusion"),
    ("immunization", "immunization"),
    ("screening", "outpatient"),
    ("followup", "office visit"),
)
ET = {k: i for i, (k, _) in enumerate(ETYPES)}

# Annual rates per member by age band (0-1, 2-17, 18-44, 45-64, 65-74, 75-84, 85+), before the
# product-line multiplier, the member's utilisation multiplier and utilization_scale. Calibrated
# so that the generated book matches published utilisation (see tests/synth/test_rates.py).
PCP_RATE = np.array([4.5, 1.6, 1.5, 2.3, 3.2, 3.7, 3.9])
SPEC_RATE = np.array([0.4, 0.6, 1.2, 2.2, 3.3, 3.6, 3.2])
LAB_RATE = np.array([0.3, 0.4, 1.0, 1.8, 2.6, 2.9, 2.8])
IMG_RATE = np.array([0.08, 0.12, 0.3, 0.55, 0.9, 1.05, 1.0])
ED_RATE = np.array([0.5, 0.22, 0.28, 0.22, 0.27, 0.36, 0.5])
IP_RATE = np.array([0.04, 0.015, 0.03, 0.06, 0.17, 0.27, 0.38])
SURG_RATE = np.array([0.01, 0.02, 0.06, 0.12, 0.2, 0.22, 0.14])
#: Product-line multipliers (commercial, MA, Medicaid).
LINE_PCP = np.array([1.0, 1.0, 1.12])
LINE_ED = np.array([0.72, 1.35, 2.3])
LINE_IP = np.array([1.0, 1.0, 1.4])
#: Births per woman-year aged 18-44 (CDC NVSS general fertility rate ~ 56 per 1,000; higher in
#: Medicaid, which pays for about 41 % of US births).
BIRTH_RATE = np.array([0.048, 0.0, 0.085])
TELEHEALTH_SHARE = (0.10, 0.085, 0.075)
CONDITION_DX = np.array([c[1] for c in R.CONDITIONS])
C_INDEX = {c[0]: i for i, c in enumerate(R.CONDITIONS)}


@dataclass
class Ctx:
    cfg: SynthConfig
    cal: Calendar
    roster: Roster
    V: Vocabs
    mem: Members
    rng: np.random.Generator
    leak_q: float
    scale: float = 1.0

    def poisson(self, rate: np.ndarray, lo: int | None = None, hi: int | None = None):
        """Events per member from annual ``rate`` over enrolled days; (member, day)."""
        lo = self.cal.t0 if lo is None else lo
        hi = self.cal.t1 if hi is None else hi
        days = self.mem.enrolled_between(lo, hi)
        lam = np.clip(rate, 0, None) * self.scale * days / 365.25
        counts = self.rng.poisson(lam)
        m = repeat_index(counts)
        d, ok = self.mem.sample_days(self.rng, m, lo, hi)
        return m[ok], d[ok]

    def to_partner(self, m: np.ndarray) -> np.ndarray:
        """Whether care of member ``m`` goes to the partner system (leakage routing)."""
        hp = self.mem.home_partner[m]
        p = np.where(hp, 1.0 - self.leak_q, self.cfg.partner_market_share)
        return self.rng.random(len(m)) < p

    def dx_of_condition(self, m: np.ndarray, c: np.ndarray) -> np.ndarray:
        """ICD-10-CM vocabulary index of condition column ``c`` for members ``m``."""
        codes = self.cond_dx[np.maximum(c, 0)]
        cancer = c == C_INDEX["cancer"]
        if cancer.any():
            canc = self.cancer_dx_idx[self.mem.sex[m], self.mem.cancer_dx[m]]
            codes = np.where(cancer, canc, codes)
        return codes

    def chronic_dx(self, m: np.ndarray, among: list[str] | None = None) -> np.ndarray:
        """A random chronic condition of each member as a dx index, -1 if none."""
        cond = self.mem.cond[m]
        if among is not None:
            mask = np.zeros(cond.shape[1], dtype=bool)
            mask[[C_INDEX[k] for k in among]] = True
            cond = cond & mask
        keys = self.rng.random(cond.shape) * cond
        c = np.argmax(keys, axis=1)
        has = cond.any(axis=1)
        return np.where(has, self.dx_of_condition(m, c), -1)

    def acute(self, codes: list[str], n: int) -> np.ndarray:
        ids = self.V.dx.ids(codes)
        return ids[self.rng.integers(0, len(ids), n)]

    def __post_init__(self) -> None:
        V = self.V
        self.anesthesia_of_cpt = np.full(len(V.hcpcs), -1, dtype=np.int64)
        for k, a in R.ANESTHESIA_FOR.items():
            if k in V.hcpcs.index:
                self.anesthesia_of_cpt[V.hcpcs[k]] = V.hcpcs[a]
        self.anesthesia_of_drg = np.full(len(V.drg), -1, dtype=np.int64)
        for k, a in R.ANESTHESIA_FOR.items():
            if k in V.drg.index:
                self.anesthesia_of_drg[V.drg[k]] = V.hcpcs[a]
        self.cond_dx = self.V.dx.ids(list(CONDITION_DX))
        self.drg_tables = _drg_arrays(V)
        self.cancer_dx_idx = np.array([self.V.dx.ids(list(g)) for g in R.CANCER_CODES])


_EV_FIELDS = {"m": -1, "et": -1, "start": 0, "end": 0, "prov": -1, "fac": -1, "dx": -1, "proc": -1}
_H_FIELDS = {
    "ev": -1,
    "m": -1,
    "itype": PROF,
    "start": 0,
    "end": 0,
    "adm": -1,
    "dis": -1,
    "atype": -1,
    "asrc": -1,
    "disp": -1,
    "bill": -1,
    "drg": -1,
    "billing": -1,
    "facility": -1,
    "rendering": -1,
    "pos": -1,
    "dx1": -1,
    "dxp": 0.3,
    "pcs": -1,
    "total": 0.0,
    "lvl": LVL_PRO,
    "stay": -1,
}
_L_FIELDS = {
    "h": -1,
    "hcpcs": -1,
    "rev": -1,
    "mod": -1,
    "units": 1.0,
    "ls": 0,
    "le": 0,
    "price": 0.0,
    "w": 0.0,
}


class _Acc:
    def __init__(self, fields: dict) -> None:
        self.fields = fields
        self.parts: list[dict[str, np.ndarray]] = []
        self.n = 0

    def add(self, **cols: np.ndarray | int | float) -> np.ndarray:
        n = None
        for v in cols.values():
            if isinstance(v, np.ndarray):
                n = len(v)
                break
        assert n is not None, "at least one column must be an array"
        unknown = set(cols) - set(self.fields)
        assert not unknown, unknown
        part = {}
        for k, default in self.fields.items():
            v = cols.get(k, default)
            part[k] = np.broadcast_to(np.asarray(v), (n,)) if not isinstance(v, np.ndarray) else v
        self.parts.append(part)
        ids = np.arange(self.n, self.n + n)
        self.n += n
        return ids

    def concat(self) -> dict[str, np.ndarray]:
        if not self.parts:
            return {k: np.empty(0, dtype=np.asarray(v).dtype) for k, v in self.fields.items()}
        return {k: np.concatenate([p[k] for p in self.parts]) for k in self.fields}


@dataclass
class Batch:
    ev: _Acc = field(default_factory=lambda: _Acc(_EV_FIELDS))
    hdr: _Acc = field(default_factory=lambda: _Acc(_H_FIELDS))
    ln: _Acc = field(default_factory=lambda: _Acc(_L_FIELDS))


def _pro_lines(
    ctx: Ctx, B: Batch, h: np.ndarray, codes: np.ndarray, d: np.ndarray, units=1.0, mod=-1
):
    V = ctx.V
    units = np.broadcast_to(np.asarray(units, dtype=np.float64), h.shape)
    B.ln.add(h=h, hcpcs=codes, mod=mod, units=units, ls=d, le=d, price=V.hcpcs_pro[codes] * units)


def _fac_lines(
    ctx: Ctx, B: Batch, h: np.ndarray, rev: str, codes, ls, le, units=1.0, fee: float | None = None
):
    """Institutional lines: priced by the HCPCS facility fee, or by ``fee`` per unit."""
    V = ctx.V
    n = len(h)
    units = np.broadcast_to(np.asarray(units, dtype=np.float64), (n,))
    codes = np.broadcast_to(np.asarray(codes), (n,))
    if fee is None:
        price = np.where(codes >= 0, V.hcpcs_fac[np.maximum(codes, 0)], 0.0) * units
    else:
        price = fee * units
    w = V.rev_charge[V.rev[rev]] * units * np.exp(0.3 * ctx.rng.standard_normal(n))
    B.ln.add(h=h, hcpcs=codes, rev=V.rev[rev], units=units, ls=ls, le=le, price=price, w=w)


def _em_est(ctx: Ctx, m: np.ndarray) -> np.ndarray:
    """Established-patient office E/M level (Medicare Part B utilisation, 2022)."""
    older = ctx.mem.age0[m] >= 65
    k = np.where(
        older,
        choice(ctx.rng, [0.05, 0.38, 0.46, 0.11], len(m)),
        choice(ctx.rng, [0.10, 0.47, 0.36, 0.07], len(m)),
    )
    return ctx.V.hcpcs.ids(["99212", "99213", "99214", "99215"])[k]


def _optional(
    ctx: Ctx, B: Batch, h: np.ndarray, d: np.ndarray, p: np.ndarray | float, code: str, units=1.0
):
    sel = ctx.rng.random(len(h)) < p
    if sel.any():
        c = np.full(int(sel.sum()), ctx.V.hcpcs[code])
        _pro_lines(ctx, B, h[sel], c, d[sel], units)


# --- ambulatory care ---------------------------------------------------------------------------


def office_visits(ctx: Ctx, B: Batch) -> None:
    mem, ros, V, rng = ctx.mem, ctx.roster, ctx.V, ctx.rng
    rate = PCP_RATE[mem.band] * LINE_PCP[mem.line] * mem.util**0.6
    rate = rate * np.where(mem.pcp >= 0, 1.0, 0.25)
    m, d = ctx.poisson(rate)
    n = len(m)
    loyal = (mem.pcp[m] >= 0) & (rng.random(n) < ctx.cfg.pcp_loyalty)
    tp = ctx.to_partner(m)
    child = mem.age0[m] < 18
    other = np.where(child, ros.route(rng, "pcp_child", tp), ros.route(rng, "pcp_adult", tp))
    prov = np.where(loyal, mem.pcp[m], other)
    year_i = np.clip(((d - ctx.cal.t0) // 365), 0, len(TELEHEALTH_SHARE) - 1)
    tele = rng.random(n) < np.array(TELEHEALTH_SHARE)[year_i]
    pos = np.where(tele, np.where(rng.random(n) < 0.6, V.pos["10"], V.pos["02"]), V.pos["11"])
    chronic = ctx.chronic_dx(m)
    dx = np.where((chronic >= 0) & (rng.random(n) < 0.6), chronic, ctx.acute(R.ACUTE_OFFICE_DX, n))
    et = np.where(tele, ET["telehealth"], ET["office"])
    ev = B.ev.add(m=m, et=et, start=d, end=d, prov=prov, dx=dx)
    h = B.hdr.add(
        ev=ev,
        m=m,
        itype=PROF,
        start=d,
        end=d,
        billing=ros.org[prov],
        rendering=prov,
        pos=pos,
        dx1=dx,
        dxp=0.35,
    )
    new = rng.random(n) < 0.05
    em = np.where(new, V.hcpcs.ids(["99203", "99204"])[rng.integers(0, 2, n)], _em_est(ctx, m))
    _pro_lines(ctx, B, h, em, d, mod=np.where(tele, V.mod["95"], -1))
    office = ~tele
    adult = mem.age0[m] >= 18
    _optional(ctx, B, h[office], d[office], 0.22, "36415")
    _optional(
        ctx,
        B,
        h[office & adult],
        d[office & adult],
        np.where(mem.age0[m[office & adult]] >= 45, 0.04, 0.01),
        "93000",
    )
    _optional(ctx, B, h[office], d[office], 0.05, "81001")
    kid = office & child
    _optional(ctx, B, h[kid], d[kid], 0.12, "87880")


def wellness_visits(ctx: Ctx, B: Batch) -> None:
    """Annual wellness (Medicare G0438/G0439) and preventive visits (99381-99397)."""
    mem, ros, V, rng, cal = ctx.mem, ctx.roster, ctx.V, ctx.rng, ctx.cal
    for yi, y in enumerate(cal.years):
        lo, hi = cal.year_start[y], cal.year_end[y]
        age = mem.age0 + yi
        p = np.select(
            [mem.line == MA, age < 2, age < 18, age < 65],
            [0.55, 0.85, 0.55, 0.42],
            default=0.5,
        )
        p = p * np.where(mem.pcp >= 0, 1.0, 0.3)
        enrolled = mem.enrolled_between(lo, hi) > 0
        m = np.flatnonzero(enrolled & (rng.random(mem.n) < p))
        d, ok = mem.sample_days(rng, m, lo, hi)
        m, d = m[ok], d[ok]
        n = len(m)
        a = age[m]
        tp = ctx.to_partner(m)
        child = a < 18
        other = np.where(child, ros.route(rng, "pcp_child", tp), ros.route(rng, "pcp_adult", tp))
        prov = np.where(mem.pcp[m] >= 0, mem.pcp[m], other)
        is_ma = mem.line[m] == MA
        awv = np.where(rng.random(n) < 0.12, V.hcpcs["G0438"], V.hcpcs["G0439"])
        prev = np.select(
            [a < 1, a < 5, a < 12, a < 18, a < 40, a < 65],
            V.hcpcs.ids(["99391", "99392", "99393", "99394", "99395", "99396"]).tolist(),
            default=V.hcpcs["99397"],
        )
        code = np.where(is_ma, awv, prev)
        dx = np.where(
            child,
            V.dx.ids(list(R.WELLNESS_DX_CHILD))[(rng.random(n) < 0.15).astype(int)],
            V.dx.ids(list(R.WELLNESS_DX_ADULT))[(rng.random(n) < 0.25).astype(int)],
        )
        ev = B.ev.add(m=m, et=ET["wellness"], start=d, end=d, prov=prov, dx=dx)
        h = B.hdr.add(
            ev=ev,
            m=m,
            itype=PROF,
            start=d,
            end=d,
            billing=ros.org[prov],
            rendering=prov,
            pos=V.pos["11"],
            dx1=dx,
            dxp=0.5,
        )
        _pro_lines(ctx, B, h, code, d)
        adult = ~child
        _optional(ctx, B, h[adult], d[adult], 0.35, "36415")
        _optional(ctx, B, h[adult], d[adult], np.where(a[adult] >= 40, 0.3, 0.1), "80061")
        diab = mem.cond[m, C_INDEX["diabetes"]]
        _optional(ctx, B, h[diab], d[diab], 0.5, "83036")


SPECIALTY_BASE = {
    "dermatology": 0.12,
    "ophthalmology": 0.12,
    "gastroenterology": 0.06,
    "general_surgery": 0.04,
    "orthopedics": 0.10,
    "neurology": 0.03,
    "cardiology": 0.05,
    "obgyn": 0.0,
    "endocrinology": 0.01,
    "pulmonology": 0.01,
    "nephrology": 0.005,
    "psychiatry": 0.02,
    "pain_management": 0.01,
    "oncology": 0.005,
}
SPEC_KEYS = list(SPECIALTY_BASE)


def specialist_visits(ctx: Ctx, B: Batch) -> None:
    mem, ros, V, rng = ctx.mem, ctx.roster, ctx.V, ctx.rng
    rate = SPEC_RATE[mem.band] * mem.util**0.9
    m, d = ctx.poisson(rate)
    n = len(m)
    S = len(SPEC_KEYS)
    w = np.tile(np.array([SPECIALTY_BASE[k] for k in SPEC_KEYS]), (n, 1))
    women = (mem.sex[m] == 1) & (mem.age0[m] >= 15) & (mem.age0[m] < 65)
    w[:, SPEC_KEYS.index("obgyn")] = np.where(women, 0.35, 0.0)
    cdx = np.full((n, S), -1, dtype=np.int64)
    for ci, (_k, _code, _p, _mc, _wt, spec) in enumerate(R.CONDITIONS):
        if spec not in SPEC_KEYS:
            continue
        col = SPEC_KEYS.index(spec)
        has = mem.cond[m, ci]
        w[:, col] += np.where(has, 0.6, 0.0)
        cdx[:, col] = np.where(has, ctx.dx_of_condition(m, np.full(n, ci)), cdx[:, col])
    k = categorical(rng, w)
    k = np.where(k < 0, 0, k)
    tp = ctx.to_partner(m)
    prov = np.empty(n, dtype=np.int64)
    for si, spec in enumerate(SPEC_KEYS):
        sel = np.flatnonzero(k == si)
        if len(sel):
            prov[sel] = ros.route(rng, spec, tp[sel])
    spec_dx = cdx[np.arange(n), k]
    dx = np.where(spec_dx >= 0, spec_dx, ctx.acute(R.ACUTE_OFFICE_DX, n))
    obgyn = k == SPEC_KEYS.index("obgyn")
    dx = np.where(obgyn & (spec_dx < 0), V.dx["Z3480"], dx)
    psych = k == SPEC_KEYS.index("psychiatry")
    tele = rng.random(n) < np.where(psych, 0.35, 0.05)
    pos = np.where(tele, V.pos["10"], V.pos["11"])
    ev = B.ev.add(
        m=m, et=np.where(tele, ET["telehealth"], ET["specialist"]), start=d, end=d, prov=prov, dx=dx
    )
    h = B.hdr.add(
        ev=ev,
        m=m,
        itype=PROF,
        start=d,
        end=d,
        billing=ros.org[prov],
        rendering=prov,
        pos=pos,
        dx1=dx,
        dxp=0.3,
    )
    new = rng.random(n) < 0.2
    em = np.where(new, V.hcpcs.ids(["99203", "99204"])[rng.integers(0, 2, n)], _em_est(ctx, m))
    mod = np.where(tele, V.mod["95"], -1)
    pain = k == SPEC_KEYS.index("pain_management")
    inj = pain & (rng.random(n) < 0.35) & ~tele
    mod = np.where(inj, V.mod["25"], mod)
    _pro_lines(ctx, B, h, em, d, mod=mod)
    if inj.any():
        _pro_lines(ctx, B, h[inj], np.full(int(inj.sum()), V.hcpcs["64483"]), d[inj])
    ortho = (k == SPEC_KEYS.index("orthopedics")) & ~tele
    _optional(ctx, B, h[ortho], d[ortho], 0.25, "20610")
    _optional(ctx, B, h[ortho], d[ortho], 0.3, "73562")
    card = (k == SPEC_KEYS.index("cardiology")) & ~tele
    _optional(ctx, B, h[card], d[card], 0.5, "93000")
    eye = np.flatnonzero(
        (k == SPEC_KEYS.index("ophthalmology"))
        & ~tele
        & (mem.age0[m] >= 65)
        & (rng.random(n) < 0.2)
    )
    if len(eye):
        _pro_lines(ctx, B, h[eye], np.full(len(eye), V.hcpcs["67028"]), d[eye])
        _pro_lines(ctx, B, h[eye], np.full(len(eye), V.hcpcs["J0178"]), d[eye], units=2.0)


LAB_PANEL = ("80053", "85025", "80061", "83036", "84443", "81001", "87086", "82043")


def labs(ctx: Ctx, B: Batch) -> None:
    """Laboratory: partner and competitor hospital labs bill UB-04 lines, reference labs CMS-1500."""
    mem, ros, V, rng = ctx.mem, ctx.roster, ctx.V, ctx.rng
    rate = LAB_RATE[mem.band] * mem.util**0.8
    m, d = ctx.poisson(rate)
    n = len(m)
    diab = mem.cond[m, C_INDEX["diabetes"]]
    ckd = mem.cond[m, C_INDEX["ckd"]]
    adult = mem.age0[m] >= 18
    probs = {
        "80053": np.full(n, 0.5),
        "85025": np.full(n, 0.5),
        "80061": np.where(adult, 0.3, 0.02),
        "83036": np.where(diab, 0.8, 0.05),
        "84443": np.full(n, 0.15),
        "81001": np.full(n, 0.2),
        "87086": np.full(n, 0.08),
        "82043": np.where(diab | ckd, 0.35, 0.01),
    }
    inc = np.column_stack([rng.random(n) < probs[c] for c in LAB_PANEL])
    none = ~inc.any(axis=1)
    inc[none, 1] = True
    tp = ctx.to_partner(m)
    indep = ~tp & (rng.random(n) < 0.55)
    hosp = ros.route(rng, "hospital", tp)
    lab = ros.route(rng, "lab", np.zeros(n, dtype=bool))
    billing = np.where(indep, lab, hosp)
    chronic = ctx.chronic_dx(m)
    dx = np.where(chronic >= 0, chronic, V.dx["R5383"])
    ev = B.ev.add(m=m, et=ET["lab"], start=d, end=d, prov=-1, fac=billing, dx=dx)
    h = B.hdr.add(
        ev=ev,
        m=m,
        itype=np.where(indep, PROF, INST),
        start=d,
        end=d,
        billing=billing,
        facility=np.where(indep, -1, hosp),
        pos=np.where(indep, V.pos["81"], -1),
        bill=np.where(indep, -1, V.bill["131"]),
        dx1=dx,
        dxp=0.3,
        lvl=np.where(indep, LVL_PRO, LVL_FAC),
    )
    codes = V.hcpcs.ids(list(LAB_PANEL))
    for j in range(len(LAB_PANEL)):
        sel = inc[:, j]
        pi = sel & indep
        fi = sel & ~indep
        if pi.any():
            _pro_lines(ctx, B, h[pi], np.full(int(pi.sum()), codes[j]), d[pi])
        if fi.any():
            _fac_lines(ctx, B, h[fi], "0300", codes[j], d[fi], d[fi])
    vp = (rng.random(n) < 0.7) & ~indep
    if vp.any():
        _fac_lines(ctx, B, h[vp], "0300", V.hcpcs["36415"], d[vp], d[vp])


IMAGING = (
    ("71046", "0320", 0.30),
    ("73562", "0320", 0.15),
    ("70450", "0350", 0.08),
    ("74177", "0350", 0.10),
    ("72148", "0610", 0.08),
    ("76700", "0402", 0.10),
    ("93306", "0483", 0.06),
    ("93000", "0730", 0.13),
)


def _imaging_claims(ctx: Ctx, B: Batch, m, d, code, rev, dx, et) -> None:
    """Hospital imaging (UB-04 technical + radiologist's professional read) or an imaging center."""
    ros, V, rng = ctx.roster, ctx.V, ctx.rng
    n = len(m)
    tp = ctx.to_partner(m)
    center = ~tp & (rng.random(n) < 0.5)
    hosp = ros.route(rng, "hospital", tp)
    ctr = ros.route(rng, "imaging", np.zeros(n, dtype=bool))
    rad = ros.route(rng, "radiology", tp & ~center)
    fac = np.where(center, ctr, hosp)
    ev = B.ev.add(m=m, et=et, start=d, end=d, prov=rad, fac=fac, dx=dx, proc=np.asarray(code))
    h_fac = B.hdr.add(
        ev=ev,
        m=m,
        itype=np.where(center, PROF, INST),
        start=d,
        end=d,
        billing=fac,
        facility=np.where(center, -1, hosp),
        rendering=np.where(center, rad, -1),
        pos=np.where(center, V.pos["11"], -1),
        bill=np.where(center, -1, V.bill["131"]),
        dx1=dx,
        dxp=0.2,
        lvl=np.where(center, LVL_PRO, LVL_FAC),
    )
    c = np.asarray(code)
    if center.any():
        _pro_lines(ctx, B, h_fac[center], c[center], d[center])
    hs = ~center
    if hs.any():
        for r in np.unique(rev[hs]):
            sel = hs & (rev == r)
            _fac_lines(ctx, B, h_fac[sel], V.rev.codes[r], c[sel], d[sel], d[sel])
        ev_h = ev[hs]
        hp = B.hdr.add(
            ev=ev_h,
            m=m[hs],
            itype=PROF,
            start=d[hs],
            end=d[hs],
            billing=ros.org[rad[hs]],
            rendering=rad[hs],
            facility=hosp[hs],
            pos=V.pos["22"],
            dx1=dx[hs],
            dxp=0.2,
        )
        _pro_lines(ctx, B, hp, c[hs], d[hs], mod=V.mod["26"])


def imaging(ctx: Ctx, B: Batch) -> None:
    mem, V, rng = ctx.mem, ctx.V, ctx.rng
    rate = IMG_RATE[mem.band] * mem.util**0.8
    m, d = ctx.poisson(rate)
    n = len(m)
    w = np.tile(np.array([x[2] for x in IMAGING]), (n, 1))
    hf = mem.cond[m, C_INDEX["heart_failure"]] | mem.cond[m, C_INDEX["atrial_fibrillation"]]
    w[:, 6] += np.where(hf, 0.3, 0.0)
    k = categorical(rng, w)
    code = V.hcpcs.ids([x[0] for x in IMAGING])[k]
    rev = V.rev.ids([x[1] for x in IMAGING])[k]
    chronic = ctx.chronic_dx(m)
    dx = np.where(chronic >= 0, chronic, ctx.acute(R.ACUTE_OFFICE_DX, n))
    _imaging_claims(ctx, B, m, d, code, rev, dx, ET["imaging"])


def _periodic(
    ctx: Ctx, eligible: np.ndarray, interval_days: np.ndarray, jitter: int, lookback: int
):
    """Recurring screening dates: a phase per member, then every ``interval``; window dates only.

    Returns (member, day) inside the data window and, per member, the last date before it.
    """
    cal, rng = ctx.cal, ctx.rng
    m0 = np.flatnonzero(eligible)
    iv = interval_days[m0]
    first = cal.t0 - np.floor(rng.random(len(m0)) * iv).astype(np.int64)
    span = cal.t1 - cal.t0 + 1
    k = (span // np.maximum(iv, 1)).astype(np.int64) + 2
    mm = np.repeat(m0, k)
    j = within_index(k)
    dd = np.repeat(first, k) + j * np.repeat(iv, k) + rng.integers(-jitter, jitter + 1, len(mm))
    ok = (dd >= cal.t0) & (dd <= cal.t1)
    prior = first - iv + rng.integers(0, 60, len(m0))
    prior = np.where(prior >= cal.t0 - lookback, prior, -1)
    hist_first = np.where(first < cal.t0, first, first - iv)
    return mm[ok], dd[ok], m0, hist_first, prior


def screenings(ctx: Ctx, B: Batch) -> dict:
    """Mammography and colorectal cancer screening, from each member's screening behaviour."""
    mem, ros, V, rng, cal, cfg = ctx.mem, ctx.roster, ctx.V, ctx.rng, ctx.cal, ctx.cfg
    n = mem.n
    age_mid = mem.age0 + 1
    # breast: women 40-74 (HEDIS BCS-E denominator 50-74)
    p_b = np.array(cfg.screening.breast.as_tuple())[mem.line]
    p_b = np.where(age_mid >= 50, p_b, 0.55 * p_b)
    breast = (mem.sex == 1) & (age_mid >= 40) & (age_mid <= 75) & (rng.random(n) < p_b)
    iv_b = np.where(rng.random(n) < 0.45, 365, 730)
    mb, db, *_ = _periodic(ctx, breast, iv_b, 25, 0)
    keep = mem.enrolled_on(mb, db)
    mb, db = mb[keep], db[keep]
    code = np.full(len(mb), V.hcpcs["77067"])
    rev = np.full(len(mb), V.rev["0403"])
    dx = np.full(len(mb), V.dx["Z1231"])
    _imaging_claims(ctx, B, mb, db, code, rev, dx, ET["screening"])

    # colorectal: 45-75; colonoscopy every 10 years, FIT yearly, stool DNA every 3 years
    p_c = np.array(cfg.screening.colorectal.as_tuple())[mem.line]
    p_c = np.where(age_mid >= 50, p_c, 0.4 * p_c)
    crc = (age_mid >= 45) & (age_mid <= 76) & (rng.random(n) < p_c)
    modality = choice(rng, [0.66, 0.24, 0.10], n)  # colonoscopy, FIT, stool DNA
    iv_c = np.array([3652, 365, 1095])[modality]
    mc, dc, m0, hist, _prior = _periodic(ctx, crc, iv_c, 20, 3652)
    keep = mem.enrolled_on(mc, dc)
    mc, dc = mc[keep], dc[keep]
    mod_c = modality[mc]
    colo = mod_c == 0
    if colo.any():
        mm, dd = mc[colo], dc[colo]
        cpt = np.where(
            mem.line[mm] == MA,
            V.hcpcs["G0121"],
            np.where(rng.random(len(mm)) < 0.3, V.hcpcs["45380"], V.hcpcs["45378"]),
        )
        _procedure(
            ctx,
            B,
            mm,
            dd,
            cpt,
            "gastroenterology",
            "0750",
            np.full(len(mm), V.dx["Z1211"]),
            ET["screening"],
        )
    stool = ~colo
    if stool.any():
        mm, dd = mc[stool], dc[stool]
        cpt = np.where(mod_c[stool] == 1, V.hcpcs["82274"], V.hcpcs["81528"])
        k = len(mm)
        lab = ros.route(rng, "lab", np.zeros(k, dtype=bool))
        prov = np.where(
            mem.pcp[mm] >= 0, mem.pcp[mm], ros.route(rng, "pcp_adult", ctx.to_partner(mm))
        )
        dxs = np.full(k, V.dx["Z1211"])
        ev = B.ev.add(m=mm, et=ET["lab"], start=dd, end=dd, prov=prov, fac=lab, dx=dxs, proc=cpt)
        h = B.hdr.add(
            ev=ev,
            m=mm,
            itype=PROF,
            start=dd,
            end=dd,
            billing=lab,
            pos=V.pos["81"],
            dx1=dxs,
            dxp=0.1,
        )
        _pro_lines(ctx, B, h, cpt, dd)
    # screening history before the window (what a partner EHR would hold)
    last_colo = np.full(n, -1, dtype=np.int64)
    is_colo = modality[m0] == 0
    last_colo[m0[is_colo]] = np.where(hist[is_colo] < cal.t0, hist[is_colo], -1)
    return {
        "breast_behaviour": breast,
        "crc_behaviour": crc,
        "crc_modality": modality,
        "colonoscopy_before_window": last_colo,
    }


def _procedure(ctx: Ctx, B: Batch, m, d, cpt, spec: str, rev: str, dx, et) -> np.ndarray:
    """An outpatient procedure: hospital outpatient (UB-04) or ASC, plus the proceduralist."""
    ros, V, rng = ctx.roster, ctx.V, ctx.rng
    n = len(m)
    tp = ctx.to_partner(m)
    asc = rng.random(n) < 0.4
    hosp = ros.route(rng, "hospital", tp)
    ascf = ros.route(rng, "asc", tp)
    fac = np.where(asc, ascf, hosp)
    doc = ros.route(rng, spec, tp)
    cpt = np.asarray(cpt)
    ev = B.ev.add(m=m, et=et, start=d, end=d, prov=doc, fac=fac, dx=dx, proc=cpt)
    hf = B.hdr.add(
        ev=ev,
        m=m,
        itype=np.where(asc, PROF, INST),
        start=d,
        end=d,
        billing=fac,
        facility=np.where(asc, -1, fac),
        pos=np.where(asc, V.pos["24"], -1),
        bill=np.where(asc, -1, V.bill["131"]),
        dx1=dx,
        dxp=0.4,
        lvl=LVL_FAC,
    )
    cpt = np.asarray(cpt)
    a = asc
    if a.any():
        units = np.ones(int(a.sum()))
        B.ln.add(
            h=hf[a],
            hcpcs=cpt[a],
            mod=V.mod["SG"],
            units=units,
            ls=d[a],
            le=d[a],
            price=V.hcpcs_fac[cpt[a]] * 0.6,
        )
    o = ~asc
    if o.any():
        ho, do = hf[o], d[o]
        _fac_lines(ctx, B, ho, rev, cpt[o], do, do)
        _fac_lines(ctx, B, ho, "0370", -1, do, do, fee=120.0)
        _fac_lines(ctx, B, ho, "0710", -1, do, do, fee=95.0)
        _fac_lines(ctx, B, ho, "0250", -1, do, do, fee=40.0)
        sup = rng.random(len(ho)) < 0.6
        _fac_lines(ctx, B, ho[sup], "0270", -1, do[sup], do[sup], fee=35.0)
    hp = B.hdr.add(
        ev=ev,
        m=m,
        itype=PROF,
        start=d,
        end=d,
        billing=ros.org[doc],
        rendering=doc,
        facility=fac,
        pos=np.where(asc, V.pos["24"], V.pos["22"]),
        dx1=dx,
        dxp=0.3,
    )
    _pro_lines(ctx, B, hp, cpt, d)
    anes = ctx.anesthesia_of_cpt[cpt]
    sel = np.flatnonzero((anes >= 0) & (rng.random(n) < 0.75))
    if len(sel):
        pos = np.where(asc[sel], V.pos["24"], V.pos["22"])
        _anesthesia(ctx, B, ev[sel], m[sel], d[sel], anes[sel], fac[sel], pos, dx[sel], tp[sel])
    return ev


def _anesthesia(ctx: Ctx, B: Batch, ev, m, d, code, fac, pos, dx, to_partner) -> None:
    """The anesthesiologist's claim for a procedure (modifier QK: medical direction)."""
    ros, V = ctx.roster, ctx.V
    doc = ros.route(ctx.rng, "anesthesiology", to_partner)
    h = B.hdr.add(
        ev=ev,
        m=m,
        itype=PROF,
        start=d,
        end=d,
        billing=ros.org[doc],
        rendering=doc,
        facility=fac,
        pos=pos,
        dx1=dx,
        dxp=0.2,
    )
    _pro_lines(ctx, B, h, code, d, mod=V.mod["QK"])


def _ambulance(ctx: Ctx, B: Batch, ev, m, d, hosp, dx) -> None:
    """Emergency ground transport to the hospital (base rate and loaded mileage)."""
    ros, V, rng = ctx.roster, ctx.V, ctx.rng
    k = len(m)
    supplier = ros.route(rng, "ambulance", ros.partner[hosp] & (rng.random(k) < 0.6))
    h = B.hdr.add(
        ev=ev,
        m=m,
        itype=PROF,
        start=d,
        end=d,
        billing=supplier,
        facility=hosp,
        pos=V.pos["41"],
        dx1=dx,
        dxp=0.1,
    )
    base = np.where(rng.random(k) < 0.6, V.hcpcs["A0427"], V.hcpcs["A0429"])
    _pro_lines(ctx, B, h, base, d, mod=V.mod["RH"])
    miles = rng.integers(3, 21, k).astype(float)
    _pro_lines(ctx, B, h, np.full(k, V.hcpcs["A0425"]), d, units=miles, mod=V.mod["RH"])


SURGERIES = (
    ("66984", "ophthalmology", "0360", "H2511", 0.3),
    ("29881", "orthopedics", "0360", "M1711", 0.2),
    ("49505", "general_surgery", "0360", "K4090", 0.15),
    ("47562", "general_surgery", "0360", "K8010", 0.1),
    ("45380", "gastroenterology", "0750", "K922", 0.15),
    ("64483", "pain_management", "0360", "M5450", 0.1),
)


def outpatient_surgery(ctx: Ctx, B: Batch) -> None:
    mem, V, rng = ctx.mem, ctx.V, ctx.rng
    rate = SURG_RATE[mem.band] * mem.util**0.7
    m, d = ctx.poisson(rate)
    n = len(m)
    w = np.tile(np.array([s[4] for s in SURGERIES]), (n, 1))
    w[:, 0] = np.where(mem.age0[m] >= 60, 0.6, 0.02)
    w[:, 1] += np.where(mem.cond[m, C_INDEX["osteoarthritis"]], 0.4, 0.0)
    w[:, 5] += np.where(mem.cond[m, C_INDEX["back_pain"]], 0.6, 0.0)
    k = categorical(rng, w)
    for si, (cpt, spec, rev, dxc, _w) in enumerate(SURGERIES):
        sel = k == si
        if not sel.any():
            continue
        dx = np.full(int(sel.sum()), V.dx[dxc])
        _procedure(
            ctx,
            B,
            m[sel],
            d[sel],
            np.full(int(sel.sum()), V.hcpcs[cpt]),
            spec,
            rev,
            dx,
            ET["surgery"],
        )


def _episodes(ctx: Ctx, rate: np.ndarray, visits_lo: int, visits_hi: int, gap: int):
    """Episodes of recurring visits (therapy, psychotherapy, infusion cycles)."""
    m, d0 = ctx.poisson(rate)
    k = ctx.rng.integers(visits_lo, visits_hi + 1, len(m))
    mm = np.repeat(m, k)
    j = within_index(k)
    dd = np.repeat(d0, k) + j * gap + ctx.rng.integers(0, 3, len(mm))
    ok = (dd <= ctx.cal.t1) & ctx.mem.enrolled_on(mm, dd)
    ep = np.repeat(np.arange(len(m)), k)
    return mm[ok], dd[ok], j[ok], ep[ok]


def therapy(ctx: Ctx, B: Batch) -> None:
    mem, ros, V, rng = ctx.mem, ctx.roster, ctx.V, ctx.rng
    adult = mem.age0 >= 12
    rate = (
        np.where(adult, 0.03, 0.005)
        + 0.22 * mem.cond[:, C_INDEX["back_pain"]]
        + 0.18 * mem.cond[:, C_INDEX["osteoarthritis"]]
    )
    m, d, j, ep = _episodes(ctx, rate, 5, 12, 4)
    # one therapist per episode
    uniq, first_idx = np.unique(ep, return_index=True)
    ther_e = ros.route(rng, "physical_therapy", ctx.to_partner(m[first_idx]))
    prov = ther_e[np.searchsorted(uniq, ep)]
    dx = np.where(mem.cond[m, C_INDEX["back_pain"]], V.dx["M5450"], V.dx["M170"])
    ev = B.ev.add(m=m, et=ET["therapy"], start=d, end=d, prov=prov, dx=dx)
    h = B.hdr.add(
        ev=ev,
        m=m,
        itype=PROF,
        start=d,
        end=d,
        billing=ros.org[prov],
        rendering=prov,
        pos=V.pos["11"],
        dx1=dx,
        dxp=0.2,
    )
    first = j == 0
    _pro_lines(ctx, B, h[first], np.full(int(first.sum()), V.hcpcs["97161"]), d[first])
    rest = ~first
    _pro_lines(
        ctx,
        B,
        h[rest],
        np.full(int(rest.sum()), V.hcpcs["97110"]),
        d[rest],
        units=rng.integers(2, 4, int(rest.sum())).astype(float),
    )
    _optional(ctx, B, h[rest], d[rest], 0.7, "97140")
    _optional(ctx, B, h[rest], d[rest], 0.4, "97530")


def behavioral(ctx: Ctx, B: Batch) -> None:
    mem, ros, V, rng = ctx.mem, ctx.roster, ctx.V, ctx.rng
    dep = mem.cond[:, C_INDEX["depression"]] | mem.cond[:, C_INDEX["anxiety"]]
    rate = np.where(dep, 0.45, 0.01) * np.where(mem.line == MEDICAID, 1.3, 1.0)
    m, d, j, ep = _episodes(ctx, rate, 4, 14, 7)
    n = len(m)
    uniq, first_idx = np.unique(ep, return_index=True)
    tp_e = ctx.to_partner(m[first_idx])
    ther_e = ros.route(rng, "psychology", tp_e)
    prov = ther_e[np.searchsorted(uniq, ep)]
    tele = rng.random(n) < 0.4
    dx = ctx.chronic_dx(m, ["depression", "anxiety"])
    dx = np.where(dx >= 0, dx, V.dx["F411"])
    ev = B.ev.add(
        m=m, et=np.where(tele, ET["telehealth"], ET["behavioral"]), start=d, end=d, prov=prov, dx=dx
    )
    h = B.hdr.add(
        ev=ev,
        m=m,
        itype=PROF,
        start=d,
        end=d,
        billing=ros.org[prov],
        rendering=prov,
        pos=np.where(tele, V.pos["10"], V.pos["11"]),
        dx1=dx,
        dxp=0.2,
    )
    code = np.where(
        j == 0, V.hcpcs["90791"], np.where(rng.random(n) < 0.6, V.hcpcs["90834"], V.hcpcs["90837"])
    )
    _pro_lines(ctx, B, h, code, d, mod=np.where(tele, V.mod["95"], -1))


def infusions(ctx: Ctx, B: Batch) -> None:
    """Cancer immunotherapy cycles every three weeks (hospital outpatient or oncology office)."""
    mem, ros, V, rng = ctx.mem, ctx.roster, ctx.V, ctx.rng
    cancer = mem.cond[:, C_INDEX["cancer"]]
    rate = np.where(cancer, 0.16, 0.0)
    m, d, j, ep = _episodes(ctx, rate, 4, 12, 21)
    n = len(m)
    uniq, first_idx = np.unique(ep, return_index=True)
    tp_e = ctx.to_partner(m[first_idx])
    pos_u = np.searchsorted(uniq, ep)
    hosp_e = ros.route(rng, "hospital", tp_e)
    onc_e = ros.route(rng, "oncology", tp_e)
    office_e = rng.random(len(uniq)) < 0.35
    hosp, onc, office = hosp_e[pos_u], onc_e[pos_u], office_e[pos_u]
    dx = ctx.dx_of_condition(m, np.full(n, C_INDEX["cancer"]))
    fac = np.where(office, -1, hosp)
    ev = B.ev.add(m=m, et=ET["infusion"], start=d, end=d, prov=onc, fac=fac, dx=dx)
    billing = np.where(office, ros.org[onc], hosp)
    h = B.hdr.add(
        ev=ev,
        m=m,
        itype=np.where(office, PROF, INST),
        start=d,
        end=d,
        billing=billing,
        facility=fac,
        rendering=np.where(office, onc, -1),
        pos=np.where(office, V.pos["11"], -1),
        bill=np.where(office, -1, V.bill["131"]),
        dx1=dx,
        dxp=0.3,
        lvl=np.where(office, LVL_PRO, LVL_FAC),
    )
    units = rng.integers(100, 201, n).astype(float)
    if office.any():
        _pro_lines(ctx, B, h[office], np.full(int(office.sum()), V.hcpcs["96413"]), d[office])
        _pro_lines(
            ctx,
            B,
            h[office],
            np.full(int(office.sum()), V.hcpcs["J9271"]),
            d[office],
            units=units[office],
        )
    o = ~office
    if o.any():
        _fac_lines(ctx, B, h[o], "0335", V.hcpcs["96413"], d[o], d[o])
        _fac_lines(ctx, B, h[o], "0636", V.hcpcs["J9271"], d[o], d[o], units=units[o])


def immunizations(ctx: Ctx, B: Batch) -> None:
    """Seasonal influenza vaccine (and occasional pneumococcal, zoster, Tdap) in the office."""
    mem, ros, V, rng, cal = ctx.mem, ctx.roster, ctx.V, ctx.rng, ctx.cal
    for yi, y in enumerate(cal.years):
        lo = cal.year_start[y] + 257  # mid September
        hi = cal.year_start[y] + 349  # mid December
        age = mem.age0 + yi
        p = np.select([age < 18, age < 50, age < 65], [0.52, 0.30, 0.45], default=0.70)
        enrolled = mem.enrolled_between(lo, hi) > 0
        m = np.flatnonzero(enrolled & (rng.random(mem.n) < p) & (age >= 1))
        d, ok = mem.sample_days(rng, m, lo, hi)
        m, d = m[ok], d[ok]
        n = len(m)
        a = age[m]
        tp = ctx.to_partner(m)
        other = np.where(a < 18, ros.route(rng, "pcp_child", tp), ros.route(rng, "pcp_adult", tp))
        prov = np.where((mem.pcp[m] >= 0) & (rng.random(n) < 0.85), mem.pcp[m], other)
        dx = np.full(n, V.dx["Z23"])
        ev = B.ev.add(m=m, et=ET["immunization"], start=d, end=d, prov=prov, dx=dx)
        h = B.hdr.add(
            ev=ev,
            m=m,
            itype=PROF,
            start=d,
            end=d,
            billing=ros.org[prov],
            rendering=prov,
            pos=V.pos["11"],
            dx1=dx,
            dxp=0.0,
        )
        vacc = np.where(a >= 65, V.hcpcs["90662"], V.hcpcs["90686"])
        admin = np.where(mem.line[m] == MA, V.hcpcs["G0008"], V.hcpcs["90471"])
        _pro_lines(ctx, B, h, vacc, d)
        _pro_lines(ctx, B, h, admin, d)
        older = a >= 65
        _optional(ctx, B, h[older], d[older], 0.06, "90677")
        mid = a >= 50
        _optional(ctx, B, h[mid], d[mid], 0.05, "90750")
        ad = a >= 19
        _optional(ctx, B, h[ad], d[ad], 0.03, "90715")


# --- emergency and inpatient care --------------------------------------------------------------

ED_LEVELS = ("99281", "99282", "99283", "99284", "99285")


def ed_visits(ctx: Ctx, B: Batch) -> None:
    mem, ros, V, rng = ctx.mem, ctx.roster, ctx.V, ctx.rng
    rate = ED_RATE[mem.band] * LINE_ED[mem.line] * mem.util**0.8
    m, d = ctx.poisson(rate)
    n = len(m)
    tp = ctx.to_partner(m)
    hosp = ros.route(rng, "hospital", tp)
    doc = ros.route(rng, "emergency_medicine", ros.partner[hosp])
    lvl = choice(rng, [0.03, 0.10, 0.33, 0.35, 0.19], n)
    code = V.hcpcs.ids(list(ED_LEVELS))[lvl]
    chronic = ctx.chronic_dx(m, ["copd", "asthma", "heart_failure", "diabetes", "back_pain"])
    dx = np.where((chronic >= 0) & (rng.random(n) < 0.3), chronic, ctx.acute(R.ACUTE_ED_DX, n))
    ev = B.ev.add(m=m, et=ET["ed"], start=d, end=d, prov=doc, fac=hosp, dx=dx)
    hf = B.hdr.add(
        ev=ev,
        m=m,
        itype=INST,
        start=d,
        end=d,
        billing=hosp,
        facility=hosp,
        rendering=doc,
        bill=V.bill["131"],
        dx1=dx,
        dxp=0.35,
        lvl=LVL_FAC,
    )
    _fac_lines(ctx, B, hf, "0450", code, d, d)
    for rev, cpt, p in (
        ("0300", "80053", 0.45),
        ("0300", "85025", 0.55),
        ("0320", "71046", 0.3),
        ("0350", "70450", 0.12),
    ):
        sel = rng.random(n) < p
        _fac_lines(ctx, B, hf[sel], rev, V.hcpcs[cpt], d[sel], d[sel])
    sel = rng.random(n) < 0.3
    _fac_lines(ctx, B, hf[sel], "0636", V.hcpcs["J2405"], d[sel], d[sel], units=4.0)
    sel = rng.random(n) < 0.25
    _fac_lines(ctx, B, hf[sel], "0450", V.hcpcs["96374"], d[sel], d[sel])
    sel = rng.random(n) < 0.4
    _fac_lines(ctx, B, hf[sel], "0250", -1, d[sel], d[sel], fee=35.0)
    hp = B.hdr.add(
        ev=ev,
        m=m,
        itype=PROF,
        start=d,
        end=d,
        billing=ros.org[doc],
        rendering=doc,
        facility=hosp,
        pos=V.pos["23"],
        dx1=dx,
        dxp=0.3,
    )
    _pro_lines(ctx, B, hp, code, d)
    # observation care, and arrival by ambulance (more often for the sickest)
    obs = rng.random(n) < np.where(mem.line[m] == MA, 0.12, 0.07)
    hours = rng.integers(16, 41, int(obs.sum())).astype(float)
    _fac_lines(ctx, B, hf[obs], "0762", V.hcpcs["G0378"], d[obs], d[obs] + 1, units=hours)
    p_amb = np.where(mem.line[m] == MA, 0.3, 0.14) * np.where(lvl >= 3, 1.6, 0.6)
    amb = rng.random(n) < p_amb
    if amb.any():
        _ambulance(ctx, B, ev[amb], m[amb], d[amb], hosp[amb], dx[amb])


@dataclass
class Stays:
    m: np.ndarray
    adm: np.ndarray
    dis: np.ndarray
    drg: np.ndarray  # DRG vocabulary index
    hosp: np.ndarray
    doc: np.ndarray
    disp: np.ndarray  # disposition vocabulary index
    via_ed: np.ndarray
    readmit_of: np.ndarray  # index stay (within this array) or -1
    planned_p: np.ndarray  # planted probability of a readmission after this stay

    def take(self, idx: np.ndarray) -> Stays:
        return Stays(**{k: getattr(self, k)[idx] for k in self.__dataclass_fields__})

    @staticmethod
    def concat(parts: list[Stays]) -> Stays:
        return Stays(
            **{
                k: np.concatenate([getattr(p, k) for p in parts])
                for k in Stays.__dataclass_fields__
            }
        )


def _drg_arrays(V: Vocabs):
    codes = V.drg.codes
    weight = np.array([R.DRGS[c][1] for c in codes])
    gmlos = np.array([R.DRGS[c][2] for c in codes])
    pdx = V.dx.ids([R.DRGS[c][3] for c in codes])
    pcs = np.array([V.pcs[R.DRGS[c][4]] if R.DRGS[c][4] else -1 for c in codes])
    cpt = np.array([V.hcpcs[R.DRGS[c][5]] if R.DRGS[c][5] else -1 for c in codes])
    return weight, gmlos, pdx, pcs, cpt


def _medical_drg(ctx: Ctx, m: np.ndarray) -> np.ndarray:
    """A medical DRG per admission, driven by the member's conditions."""
    mem, V, rng = ctx.mem, ctx.V, ctx.rng
    n = len(m)
    keys = list(R.DRG_BY_CONDITION)
    cond = np.column_stack([mem.cond[m, C_INDEX[k]] for k in keys])
    w = cond * np.array([3.0 if k in ("heart_failure", "copd") else 1.5 for k in keys])
    w = np.column_stack([w, np.full(n, 1.0)])
    k = categorical(rng, w)
    out = V.drg.ids(list(R.DRG_MEDICAL_GENERAL))[rng.integers(0, len(R.DRG_MEDICAL_GENERAL), n)]
    for ki, key in enumerate(keys):
        sel = k == ki
        opts = V.drg.ids(list(R.DRG_BY_CONDITION[key]))
        out[sel] = opts[rng.integers(0, len(opts), int(sel.sum()))]
    kids = mem.age0[m] < 18
    ped = V.drg.ids(list(R.DRG_PEDIATRIC))
    out[kids] = ped[rng.integers(0, len(ped), int(kids.sum()))]
    return out


def _dispositions(ctx: Ctx, m: np.ndarray, drg: np.ndarray) -> np.ndarray:
    V, rng = ctx.V, ctx.rng
    older = ctx.mem.age0[m] >= 65
    codes = V.disp.ids(["01", "06", "03", "62", "07", "02"])
    k_old = choice(rng, [0.57, 0.19, 0.18, 0.03, 0.01, 0.02], len(m))
    k_young = choice(rng, [0.82, 0.09, 0.04, 0.02, 0.02, 0.01], len(m))
    out = codes[np.where(older, k_old, k_young)]
    birth = np.isin(drg, V.drg.ids(["807", "788", "795"]))
    return np.where(birth, V.disp["01"], out)


def _new_stays(ctx: Ctx, m, adm, drg, hosp, via_ed, readmit_of) -> Stays:
    rng, ros = ctx.rng, ctx.roster
    weight, gmlos, *_ = ctx.drg_tables
    n = len(m)
    los = np.maximum(1, np.round(gmlos[drg] * np.exp(0.45 * rng.standard_normal(n) - 0.1))).astype(
        np.int64
    )
    los = np.minimum(los, 45)
    doc = ros.route(rng, "hospitalist", ros.partner[hosp])
    disp = _dispositions(ctx, m, drg)
    return Stays(
        m=m,
        adm=adm,
        dis=adm + los,
        drg=drg,
        hosp=hosp,
        doc=doc,
        disp=disp,
        via_ed=via_ed,
        readmit_of=readmit_of,
        planned_p=np.zeros(n),
    )


def _remove_overlaps(st: Stays) -> Stays:
    order = np.lexsort((st.adm, st.m))
    st = st.take(order)
    key = st.m.astype(np.int64) * (1 << 24) + (st.dis - st.dis.min() + 1 if len(st.dis) else 0)
    run = np.maximum.accumulate(key) if len(key) else key
    prev = np.concatenate([[-1], run[:-1]])
    same = (prev >> 24) == st.m
    prev_dis = (prev & ((1 << 24) - 1)) + (st.dis.min() - 1 if len(st.dis) else 0)
    keep = ~(same & (st.adm <= prev_dis))
    return st.take(np.flatnonzero(keep))


def inpatient(ctx: Ctx, B: Batch) -> Stays:
    """Inpatient stays (MS-DRG), readmissions, post-acute care and follow-up visits."""
    mem, ros, V, rng, cal, cfg = ctx.mem, ctx.roster, ctx.V, ctx.rng, ctx.cal, ctx.cfg
    weight, gmlos, pdx, pcs, cpt = ctx.drg_tables
    # medical and surgical admissions
    rate = IP_RATE[mem.band] * LINE_IP[mem.line] * mem.util
    m, d = ctx.poisson(rate)
    n = len(m)
    surgical = (rng.random(n) < 0.22) & (mem.age0[m] >= 18)
    drg = _medical_drg(ctx, m)
    sw = np.tile(np.array([1.0, 0.6, 0.5, 0.6, 0.3]), (n, 1))
    sw[:, 0] += np.where(mem.cond[m, C_INDEX["osteoarthritis"]], 2.0, 0)
    sw[:, 1] += np.where(mem.cond[m, C_INDEX["hypertension"]], 0.6, 0)
    sw[:, 2] *= np.where(mem.age0[m] >= 70, 3.0, 0.3)
    sw[:, 4] += np.where(mem.cond[m, C_INDEX["back_pain"]], 0.8, 0)
    sk = categorical(rng, sw)
    drg = np.where(surgical, V.drg.ids(list(R.DRG_SURGICAL))[sk], drg)
    via_ed = ~surgical & (rng.random(n) < 0.62)
    # births
    women = (mem.sex == 1) & (mem.age0 >= 18) & (mem.age0 <= 44)
    mb, db = ctx.poisson(np.where(women, BIRTH_RATE[mem.line], 0.0) / max(ctx.scale, 1e-9))
    drg_b = np.where(rng.random(len(mb)) < 0.32, V.drg["788"], V.drg["807"])
    m = np.concatenate([m, mb])
    d = np.concatenate([d, db])
    drg = np.concatenate([drg, drg_b])
    via_ed = np.concatenate([via_ed, np.zeros(len(mb), dtype=bool)])
    hosp = ros.route(rng, "hospital", ctx.to_partner(m))
    st = _new_stays(ctx, m, d, drg, hosp, via_ed, np.full(len(m), -1))
    # terminal admissions of members who die in hospital
    died = np.flatnonzero((mem.death >= cal.t0) & (rng.random(mem.n) < 0.4))
    if len(died):
        drg_t = V.drg.ids(["871", "291", "193"])[rng.integers(0, 3, len(died))]
        los_t = rng.integers(2, 9, len(died))
        adm_t = mem.death[died] - los_t
        ok = mem.enrolled_on(died, adm_t)
        died, adm_t, drg_t = died[ok], adm_t[ok], drg_t[ok]
        los_t = los_t[ok]
        hosp_t = ros.route(rng, "hospital", ctx.to_partner(died))
        tst = _new_stays(
            ctx, died, adm_t, drg_t, hosp_t, np.ones(len(died), dtype=bool), np.full(len(died), -1)
        )
        tst.dis = adm_t + los_t
        tst.disp[:] = V.disp["20"]
        st = Stays.concat([st, tst])
    st = st.take(np.flatnonzero(st.dis <= cal.t1))
    st = _remove_overlaps(st)
    # readmissions (two generations), with the planted program effect
    base = np.array(cfg.readmission.base_rate.as_tuple())
    start = day(cfg.readmission.program_start)
    no_index = np.isin(st.drg, V.drg.ids(["807", "788", "795"])) | np.isin(
        st.disp, V.disp.ids(["20", "02", "07"])
    )
    parts = [st]
    cur = st
    cur_no_index = no_index
    offset = 0
    for _gen in range(2):
        p = base[mem.line[cur.m]] * np.exp(0.35 * mem.frailty[cur.m] - 0.06)
        program = ros.partner[cur.hosp] & (cur.dis >= start)
        p = p * np.where(program, 1.0 - cfg.readmission.relative_reduction, 1.0)
        p = np.where(cur_no_index, 0.0, np.clip(p, 0, 0.9))
        cur.planned_p = p
        r = np.flatnonzero(rng.random(len(cur.m)) < p)
        gap = 1 + np.minimum(np.floor(rng.exponential(9.0, len(r))), 29).astype(np.int64)
        rm = cur.m[r]
        radm = cur.dis[r] + gap
        ok = (radm <= cal.t1) & mem.enrolled_on(rm, radm)
        r, rm, radm = r[ok], rm[ok], radm[ok]
        same = rng.random(len(r)) < 0.75
        rh = np.where(same, cur.hosp[r], ros.route(rng, "hospital", ctx.to_partner(rm)))
        rdrg = _medical_drg(ctx, rm)
        new = _new_stays(ctx, rm, radm, rdrg, rh, rng.random(len(r)) < 0.7, offset + r)
        keep = new.dis <= cal.t1
        new = new.take(np.flatnonzero(keep))
        offset += len(cur.m)
        parts.append(new)
        cur = new
        cur_no_index = np.isin(new.disp, V.disp.ids(["20", "02", "07"]))
    st = Stays.concat(parts)
    st = _remove_overlaps(st)
    _stay_claims(ctx, B, st)
    return st


def _stay_claims(ctx: Ctx, B: Batch, st: Stays) -> None:
    mem, ros, V, rng, cal, cfg = ctx.mem, ctx.roster, ctx.V, ctx.rng, ctx.cal, ctx.cfg
    weight, gmlos, pdx, pcs, cpt = ctx.drg_tables
    n = len(st.m)
    m, adm, dis = st.m, st.adm, st.dis
    los = dis - adm
    dx = pdx[st.drg]
    birth = np.isin(st.drg, V.drg.ids(["807", "788"]))
    surgical = cpt[st.drg] >= 0
    atype = np.where(
        st.via_ed, V.admit_type["1"], np.where(birth, V.admit_type["2"], V.admit_type["3"])
    )
    asrc = np.where(st.via_ed | birth, V.admit_src["1"], V.admit_src["2"])
    total = weight[st.drg] * R.DRG_BASE_RATE * np.exp(0.2 * rng.standard_normal(n) - 0.02)
    outlier = rng.random(n) < 0.03
    total = total * np.where(outlier, rng.uniform(2.0, 5.0, n), 1.0)
    ev = B.ev.add(m=m, et=ET["inpatient"], start=adm, end=dis, prov=st.doc, fac=st.hosp, dx=dx)
    stay_ids = np.arange(n)
    hf = B.hdr.add(
        ev=ev,
        m=m,
        itype=INST,
        start=adm,
        end=dis,
        adm=adm,
        dis=dis,
        atype=atype,
        asrc=asrc,
        disp=st.disp,
        bill=V.bill["111"],
        drg=st.drg,
        billing=st.hosp,
        facility=st.hosp,
        rendering=st.doc,
        dx1=dx,
        dxp=0.85,
        pcs=pcs[st.drg],
        total=total,
        lvl=LVL_IP,
        stay=stay_ids,
    )
    icu = (~birth) & (rng.random(n) < np.where(weight[st.drg] > 1.2, 0.35, 0.08))
    icu_days = np.where(icu, np.minimum(rng.integers(1, 4, n), los), 0)
    room_days = np.maximum(los - icu_days, 1)
    semi = rng.random(n) < 0.85
    _fac_lines(
        ctx,
        B,
        hf[semi],
        "0120",
        -1,
        adm[semi],
        dis[semi],
        units=room_days[semi].astype(float),
        fee=0.0,
    )
    _fac_lines(
        ctx,
        B,
        hf[~semi],
        "0110",
        -1,
        adm[~semi],
        dis[~semi],
        units=room_days[~semi].astype(float),
        fee=0.0,
    )
    _fac_lines(
        ctx, B, hf[icu], "0200", -1, adm[icu], dis[icu], units=icu_days[icu].astype(float), fee=0.0
    )
    _fac_lines(ctx, B, hf, "0250", -1, adm, dis, units=(1 + los).astype(float), fee=0.0)
    _fac_lines(
        ctx, B, hf, "0300", -1, adm, dis, units=(1 + rng.poisson(2.0 * los)).astype(float), fee=0.0
    )
    for rev, p in (("0320", 0.55), ("0730", 0.45), ("0270", 0.7)):
        sel = rng.random(n) < p
        _fac_lines(ctx, B, hf[sel], rev, -1, adm[sel], dis[sel], fee=0.0)
    for rev in ("0360", "0370", "0710"):
        _fac_lines(ctx, B, hf[surgical], rev, -1, adm[surgical], adm[surgical], fee=0.0)
    ed = st.via_ed
    _fac_lines(
        ctx,
        B,
        hf[ed],
        "0450",
        V.hcpcs.ids(["99284", "99285"])[rng.integers(0, 2, int(ed.sum()))],
        adm[ed],
        adm[ed],
        fee=0.0,
    )
    # attending (hospitalist) daily visits
    k = np.minimum(los + 1, 31)
    hp = B.hdr.add(
        ev=ev,
        m=m,
        itype=PROF,
        start=adm,
        end=dis,
        billing=ros.org[st.doc],
        rendering=st.doc,
        facility=st.hosp,
        pos=V.pos["21"],
        dx1=dx,
        dxp=0.5,
    )
    lh = np.repeat(hp, k)
    j = within_index(k)
    ld = np.repeat(adm, k) + j
    last = j == np.repeat(k - 1, k)
    code = np.where(
        j == 0,
        V.hcpcs.ids(["99222", "99223"])[rng.integers(0, 2, len(lh))],
        np.where(
            last,
            V.hcpcs.ids(["99238", "99239"])[rng.integers(0, 2, len(lh))],
            V.hcpcs.ids(["99232", "99233"])[(rng.random(len(lh)) < 0.3).astype(int)],
        ),
    )
    _pro_lines(ctx, B, lh, code, ld)
    # surgeon or obstetrician
    spec_of = {
        "470": "orthopedics",
        "481": "orthopedics",
        "460": "orthopedics",
        "247": "cardiology",
        "419": "general_surgery",
        "330": "general_surgery",
        "807": "obgyn",
        "788": "obgyn",
    }
    for dcode, spec in spec_of.items():
        sel = st.drg == V.drg[dcode]
        if not sel.any():
            continue
        surgeon = ros.route(rng, spec, ros.partner[st.hosp[sel]])
        hs = B.hdr.add(
            ev=ev[sel],
            m=m[sel],
            itype=PROF,
            start=adm[sel],
            end=adm[sel],
            billing=ros.org[surgeon],
            rendering=surgeon,
            facility=st.hosp[sel],
            pos=V.pos["21"],
            dx1=dx[sel],
            dxp=0.3,
        )
        _pro_lines(ctx, B, hs, cpt[st.drg[sel]], adm[sel])
        anes = ctx.anesthesia_of_drg[st.drg[sel]]
        p_an = 0.6 if dcode == "807" else 0.95
        a = np.flatnonzero((anes >= 0) & (rng.random(int(sel.sum())) < p_an))
        if len(a):
            idx = np.flatnonzero(sel)[a]
            _anesthesia(
                ctx,
                B,
                ev[idx],
                m[idx],
                adm[idx],
                anes[a],
                st.hosp[idx],
                V.pos["21"],
                dx[idx],
                ros.partner[st.hosp[idx]],
            )
    # ambulance to the hospital for a share of emergency admissions
    amb = st.via_ed & (rng.random(n) < np.where(mem.line[m] == MA, 0.5, 0.35))
    if amb.any():
        _ambulance(ctx, B, ev[amb], m[amb], adm[amb], st.hosp[amb], dx[amb])
    # post-acute: skilled nursing (disposition 03) and home health (06)
    snf = st.disp == V.disp["03"]
    if snf.any():
        sm, s0 = m[snf], dis[snf]
        days = np.clip(np.round(18 * np.exp(0.55 * rng.standard_normal(len(sm)))), 3, 100).astype(
            np.int64
        )
        s1 = np.minimum(s0 + days, cal.t1)
        dead = mem.death[sm] >= 0
        s1 = np.where(dead & (mem.death[sm] > s0), np.minimum(s1, mem.death[sm]), s1)
        days = np.maximum(s1 - s0, 1)
        fac = ros.route(rng, "snf", ctx.to_partner(sm))
        sdx = dx[snf]
        sev = B.ev.add(m=sm, et=ET["snf"], start=s0, end=s1, prov=-1, fac=fac, dx=sdx)
        sdisp = V.disp.ids(["01", "06"])[(rng.random(len(sm)) < 0.3).astype(int)]
        hs = B.hdr.add(
            ev=sev,
            m=sm,
            itype=INST,
            start=s0,
            end=s1,
            adm=s0,
            dis=s1,
            atype=V.admit_type["3"],
            asrc=V.admit_src["4"],
            disp=sdisp,
            bill=V.bill["211"],
            billing=fac,
            facility=fac,
            dx1=sdx,
            dxp=0.8,
            total=days * 560.0,
            lvl=LVL_IP,
        )
        _fac_lines(ctx, B, hs, "0120", -1, s0, s1, units=days.astype(float), fee=0.0)
        _fac_lines(ctx, B, hs, "0420", -1, s0, s1, units=np.maximum(1, days * 0.6).round(), fee=0.0)
        _fac_lines(ctx, B, hs, "0430", -1, s0, s1, units=np.maximum(1, days * 0.4).round(), fee=0.0)
        _fac_lines(ctx, B, hs, "0250", -1, s0, s1, fee=0.0)
    hh = st.disp == V.disp["06"]
    if hh.any():
        hm = m[hh]
        h0 = dis[hh] + rng.integers(1, 4, len(hm))
        h1 = np.minimum(h0 + 29, cal.t1)
        ok = h0 <= cal.t1
        hm, h0, h1 = hm[ok], h0[ok], h1[ok]
        agency = ros.route(rng, "home_health", ctx.to_partner(hm))
        hdx = dx[hh][ok]
        hev = B.ev.add(m=hm, et=ET["home_health"], start=h0, end=h1, prov=-1, fac=agency, dx=hdx)
        hh_h = B.hdr.add(
            ev=hev,
            m=hm,
            itype=INST,
            start=h0,
            end=h1,
            bill=V.bill["329"],
            billing=agency,
            facility=agency,
            dx1=hdx,
            dxp=0.6,
            lvl=LVL_PRO,
        )
        k = len(hm)
        _fac_lines(
            ctx,
            B,
            hh_h,
            "0551",
            V.hcpcs["G0299"],
            h0,
            h1,
            units=rng.integers(4, 11, k).astype(float),
        )
        sel = rng.random(k) < 0.6
        _fac_lines(
            ctx,
            B,
            hh_h[sel],
            "0421",
            V.hcpcs["G0151"],
            h0[sel],
            h1[sel],
            units=rng.integers(3, 9, int(sel.sum())).astype(float),
        )
        sel = rng.random(k) < 0.3
        _fac_lines(
            ctx,
            B,
            hh_h[sel],
            "0431",
            V.hcpcs["G0152"],
            h0[sel],
            h1[sel],
            units=rng.integers(2, 6, int(sel.sum())).astype(float),
        )
    # follow-up with primary care after discharge (planted improvement after the program)
    home = np.isin(st.disp, V.disp.ids(["01", "06"]))
    start = day(cfg.readmission.program_start)
    program = ros.partner[st.hosp] & (dis >= start)
    p7 = np.where(program, cfg.readmission.followup_7d_after, cfg.readmission.followup_7d_before)
    u = rng.random(n)
    within7 = home & (u < p7)
    later = home & ~within7 & (rng.random(n) < 0.45)
    gap = np.where(within7, rng.integers(1, 8, n), rng.integers(8, 31, n))
    f = np.flatnonzero(within7 | later)
    fd = dis[f] + gap[f]
    fm = m[f]
    ok = (fd <= cal.t1) & mem.enrolled_on(fm, fd)
    f, fd, fm = f[ok], fd[ok], fm[ok]
    prov = np.where(mem.pcp[fm] >= 0, mem.pcp[fm], ros.route(rng, "pcp_adult", ctx.to_partner(fm)))
    fdx = dx[f]
    fev = B.ev.add(m=fm, et=ET["followup"], start=fd, end=fd, prov=prov, dx=fdx)
    fh = B.hdr.add(
        ev=fev,
        m=fm,
        itype=PROF,
        start=fd,
        end=fd,
        billing=ros.org[prov],
        rendering=prov,
        pos=V.pos["11"],
        dx1=fdx,
        dxp=0.5,
    )
    g = gap[f]
    code = np.where(g <= 7, V.hcpcs["99496"], np.where(g <= 14, V.hcpcs["99495"], V.hcpcs["99214"]))
    _pro_lines(ctx, B, fh, code, fd)


# --- assembly ----------------------------------------------------------------------------------


@dataclass
class ClaimsResult:
    medical_claim: pa.Table
    diagnosis: pa.Table
    procedure: pa.Table
    events: dict[str, np.ndarray]
    stays: Stays
    stay_survives: np.ndarray
    screening: dict
    truth: dict


def generate_claims(
    cfg: SynthConfig,
    cal: Calendar,
    roster: Roster,
    V: Vocabs,
    mem: Members,
    rng: np.random.Generator,
    rng_adj: np.random.Generator,
    claim_base: int,
    leak_q: float,
) -> ClaimsResult:
    ctx = Ctx(
        cfg=cfg,
        cal=cal,
        roster=roster,
        V=V,
        mem=mem,
        rng=rng,
        leak_q=leak_q,
        scale=cfg.utilization_scale,
    )
    B = Batch()
    office_visits(ctx, B)
    wellness_visits(ctx, B)
    specialist_visits(ctx, B)
    labs(ctx, B)
    imaging(ctx, B)
    scr = screenings(ctx, B)
    outpatient_surgery(ctx, B)
    therapy(ctx, B)
    behavioral(ctx, B)
    infusions(ctx, B)
    immunizations(ctx, B)
    ed_visits(ctx, B)
    stays = inpatient(ctx, B)
    return _assemble(ctx, B, stays, scr, rng_adj, claim_base)


def _assemble(
    ctx: Ctx, B: Batch, stays: Stays, scr: dict, rng_adj: np.random.Generator, claim_base: int
) -> ClaimsResult:
    cfg, cal, ros, V, mem, rng = ctx.cfg, ctx.cal, ctx.roster, ctx.V, ctx.mem, ctx.rng
    E = B.ev.concat()
    H = B.hdr.concat()
    L = B.ln.concat()
    nh, nl = len(H["m"]), len(L["h"])
    hm = H["m"]
    line = mem.line[hm]
    # price: product-line level, provider price factor, planted trend, noise
    level = np.array([R.PRICE_LEVEL[k] for k in ("commercial", "medicare_advantage", "medicaid")])
    lvl = level[line, H["lvl"]]
    years = (H["start"] - cal.t0) / 365.25
    g = np.where(mem.home_partner[hm], cfg.partner_trend, cfg.market_trend)
    trend = (1.0 + g) ** years
    hfac = lvl * ros.price_factor[H["billing"]] * trend
    lh = L["h"]
    noise = np.exp(np.where(H["itype"][lh] == PROF, 0.12, 0.2) * rng.standard_normal(nl) - 0.01)
    allowed = L["price"] * hfac[lh] * noise
    has_total = H["total"] > 0
    if has_total.any():
        wsum = np.bincount(lh, weights=L["w"], minlength=nh)
        share = np.where(wsum[lh] > 0, L["w"] / np.where(wsum[lh] > 0, wsum[lh], 1), 0)
        allowed = np.where(has_total[lh], H["total"][lh] * hfac[lh] * share, allowed)
    allowed_c = np.maximum(aio.cents(allowed), 0)
    # charges
    ratio = np.where(H["itype"][lh] == PROF, 2.0, 3.3) * np.exp(0.15 * rng.standard_normal(nl))
    charge_c = np.maximum(aio.cents(allowed * ratio), allowed_c)
    # member cost sharing
    lline = line[lh]
    plan = mem.plan[hm][lh]
    em_codes = V.hcpcs.ids(
        ["99202", "99203", "99204", "99205", "99211", "99212", "99213", "99214", "99215"]
    )
    is_em = np.isin(L["hcpcs"], em_codes)
    ed_line = (L["rev"] == V.rev["0450"]) & np.isin(L["hcpcs"], V.hcpcs.ids(list(ED_LEVELS)))
    first_of_h = np.zeros(nl, dtype=bool)
    first_of_h[np.unique(lh, return_index=True)[1]] = True
    ip_first = (H["bill"][lh] == V.bill["111"]) & first_of_h
    copay = np.zeros(nl)
    copay = np.where((lline == COMMERCIAL) & (plan != 2) & is_em, 30.0, copay)
    copay = np.where((lline == COMMERCIAL) & (plan != 2) & ed_line, 150.0, copay)
    copay = np.where(
        (lline == MA)
        & is_em
        & ~np.isin(H["rendering"][lh], ros.pool("pcp_adult", True))
        & ~np.isin(H["rendering"][lh], ros.pool("pcp_adult", False)),
        40.0,
        copay,
    )
    copay = np.where((lline == MA) & ed_line, 90.0, copay)
    copay = np.where((lline == MA) & ip_first, 295.0, copay)
    copay_c = np.minimum(aio.cents(copay), allowed_c)
    rest = allowed_c - copay_c
    month = (L["ls"] - cal.t0) % 365
    ded_share = np.where(
        (lline == COMMERCIAL) & (plan == 2),
        np.where(month < 180, 0.55, 0.15),
        np.where((lline == COMMERCIAL) & ip_first, 0.5, 0.0),
    )
    ded_c = np.minimum(aio.cents(ded_share * rest / 100.0), rest)
    rest = rest - ded_c
    coins_rate = np.where(
        lline == COMMERCIAL,
        np.where(is_em, 0.0, 0.15),
        np.where(lline == MA, np.where(H["itype"][lh] == INST, 0.05, 0.0), 0.0),
    )
    coins_c = np.minimum(aio.cents(coins_rate * rest / 100.0), rest)
    # paid dates: heavy-tailed lag after the last date of service
    lag = np.exp(np.log(cfg.paid_lag_median_days) + cfg.paid_lag_log_sd * rng.standard_normal(nh))
    lag = np.round(lag + np.where(H["itype"] == INST, 6, 2)).astype(np.int64)
    paid = H["end"] + np.maximum(lag, 1)

    # adjustments: replacements (new claim id, adjusted_claim_id = original) and voids
    u = rng_adj.random(nh)
    rep = u < cfg.replacement_rate
    void = (u >= cfg.replacement_rate) & (u < cfg.replacement_rate + cfg.void_rate)
    factor = np.where(rep, np.exp(0.08 * rng_adj.standard_normal(nh)), 1.0)
    adj_paid = paid + 14 + np.round(rng_adj.exponential(45.0, nh)).astype(np.int64)
    claim_no = claim_base + np.arange(nh)
    rep_h = np.flatnonzero(rep)
    void_h = np.flatnonzero(void)
    # claim instances: originals, then replacements, then voids
    inst_h = np.concatenate([np.arange(nh), rep_h, void_h])
    inst_type = np.concatenate(
        [np.zeros(nh, np.int8), np.ones(len(rep_h), np.int8), np.full(len(void_h), 2, np.int8)]
    )
    inst_no = np.concatenate([claim_no, claim_base + nh + np.arange(len(rep_h) + len(void_h))])
    inst_paid = np.concatenate([paid, adj_paid[rep_h], adj_paid[void_h]])
    inst_in = inst_paid <= cal.as_of
    # lines of instances
    order = np.argsort(lh, kind="stable")
    lh_sorted = lh[order]
    first_line = np.searchsorted(lh_sorted, np.arange(nh))
    n_lines = np.bincount(lh, minlength=nh)
    cnt = n_lines[inst_h]
    li_inst = repeat_index(cnt)
    li_src = order[np.repeat(first_line[inst_h], cnt) + within_index(cnt)]
    keep = inst_in[li_inst]
    li_inst, li_src = li_inst[keep], li_src[keep]
    t = inst_type[li_inst]
    f = np.where(t == 1, factor[inst_h[li_inst]], 1.0)

    def scale(c: np.ndarray) -> np.ndarray:
        v = c[li_src]
        # a void repeats the amounts of the claim it cancels; a replacement restates them
        return np.where(t == 1, aio.cents(v * f / 100.0), v)

    a_c = scale(allowed_c)
    cp_c = np.where(t == 1, np.minimum(copay_c[li_src], a_c), scale(copay_c))
    dd_c = np.where(t == 1, np.minimum(scale(ded_c), a_c - cp_c), scale(ded_c))
    co_c = np.where(t == 1, np.minimum(scale(coins_c), a_c - cp_c - dd_c), scale(coins_c))
    lb_c = cp_c + dd_c + co_c
    pd_c = a_c - lb_c
    ch_c = scale(charge_c)
    ch_c = np.where(t == 1, np.maximum(ch_c, a_c), ch_c)

    hi = inst_h[li_inst]  # base header of each output line
    n_out = len(li_src)
    # line numbers: position within the claim instance
    ln_no = rank_within(li_inst) + 1
    adj_types = aio.vocab(["original", "replacement", "void"])
    claim_ids = aio.ids("C", inst_no[li_inst], 12)
    adj_of = aio.ids("C", claim_no[hi], 12, valid=t > 0)
    is_inst = H["itype"][hi] == INST
    cols = {
        "claim_id": claim_ids,
        "claim_line_number": aio.integers(ln_no),
        "claim_type": aio.take(
            aio.vocab(["institutional", "professional"]), H["itype"][hi].astype(np.int64)
        ),
        "adjustment_type": aio.take(adj_types, t.astype(np.int64)),
        "adjusted_claim_id": adj_of,
        "member_id": aio.ids("M", mem.gidx[hm[hi]] + 1, 9),
        "payer": aio.constant(cfg.payer, n_out),
        "plan": aio.take(plan_vocab(), plan_index(mem, hm[hi])),
        "claim_start_date": aio.dates(H["start"][hi]),
        "claim_end_date": aio.dates(H["end"][hi]),
        "claim_line_start_date": aio.dates(L["ls"][li_src]),
        "claim_line_end_date": aio.dates(L["le"][li_src]),
        "admission_date": aio.dates(H["adm"][hi], H["adm"][hi] >= 0),
        "discharge_date": aio.dates(H["dis"][hi], H["dis"][hi] >= 0),
        "admit_source_code": aio.take(V.admit_src.arrow, H["asrc"][hi]),
        "admit_type_code": aio.take(V.admit_type.arrow, H["atype"][hi]),
        "discharge_disposition_code": aio.take(V.disp.arrow, H["disp"][hi]),
        "place_of_service_code": aio.take(V.pos.arrow, np.where(is_inst, -1, H["pos"][hi])),
        "bill_type_code": aio.take(V.bill.arrow, np.where(is_inst, H["bill"][hi], -1)),
        "drg_code_type": aio.take(aio.vocab(["ms-drg"]), np.where(H["drg"][hi] >= 0, 0, -1)),
        "drg_code": aio.take(V.drg.arrow, H["drg"][hi]),
        "revenue_center_code": aio.take(V.rev.arrow, np.where(is_inst, L["rev"][li_src], -1)),
        "service_unit_quantity": aio.number(L["units"][li_src]),
        "hcpcs_code": aio.take(V.hcpcs.arrow, L["hcpcs"][li_src]),
        "hcpcs_modifier_1": aio.take(V.mod.arrow, L["mod"][li_src]),
        "rendering_npi": aio.take(ros.npi_arrow, H["rendering"][hi]),
        "rendering_tin": aio.take(ros.tin_arrow, H["rendering"][hi]),
        "billing_npi": aio.take(ros.npi_arrow, H["billing"][hi]),
        "billing_tin": aio.take(ros.tin_arrow, H["billing"][hi]),
        "facility_npi": aio.take(ros.npi_arrow, H["facility"][hi]),
        "paid_date": aio.dates(inst_paid[li_inst]),
        "paid_amount": aio.decimal(pd_c, 2),
        "allowed_amount": aio.decimal(a_c, 2),
        "charge_amount": aio.decimal(ch_c, 2),
        "coinsurance_amount": aio.decimal(co_c, 2),
        "copayment_amount": aio.decimal(cp_c, 2),
        "deductible_amount": aio.decimal(dd_c, 2),
        "member_liability_amount": aio.decimal(lb_c, 2),
        "in_network_flag": aio.booleans(ros.in_network[H["billing"][hi]]),
        "data_source": aio.constant("synthetic payer medical claims", n_out),
    }
    med = aio.build_table("medical_claim", cols, n_out)

    # diagnoses of claim instances in the file
    in_inst = np.flatnonzero(inst_in)
    dh = inst_h[in_inst]
    C = mem.cond.shape[1]
    cond = mem.cond[hm[dh]]
    include = cond & (rng.random(cond.shape) < H["dxp"][dh][:, None])
    ci, cc = np.nonzero(include)
    sec = ctx_dx_of_condition(ctx, hm[dh][ci], cc)
    not_dup = sec != H["dx1"][dh][ci]
    ci, sec = ci[not_dup], sec[not_dup]
    del C
    d_inst = np.concatenate([np.arange(len(dh)), ci])
    d_code = np.concatenate([H["dx1"][dh], sec])
    o = np.lexsort((np.concatenate([np.zeros(len(dh)), np.ones(len(ci))]), d_inst))
    d_inst, d_code = d_inst[o], d_code[o]
    seq = rank_within(d_inst) + 1
    keepd = (seq <= 12) & (d_code >= 0)
    d_inst, d_code, seq = d_inst[keepd], d_code[keepd], seq[keepd]
    ip = H["bill"][dh[d_inst]] == V.bill["111"]
    poa = np.where(ip, np.where((seq == 1) | (rng.random(len(seq)) < 0.9), 0, 1), -1)
    diag = aio.build_table(
        "medical_claim_diagnosis",
        {
            "claim_id": aio.ids("C", inst_no[in_inst][d_inst], 12),
            "diagnosis_sequence": aio.integers(seq),
            "diagnosis_code_type": aio.constant("icd-10-cm", len(seq)),
            "diagnosis_code": aio.take(V.dx.arrow, d_code),
            "present_on_admission": aio.take(aio.vocab(["Y", "N"]), poa),
        },
        len(seq),
    )
    # ICD-10-PCS procedures of the institutional claims in the file
    inst_of = in_inst[H["pcs"][inst_h[in_inst]] >= 0]
    ph = inst_h[inst_of]
    proc = aio.build_table(
        "medical_claim_procedure",
        {
            "claim_id": aio.ids("C", inst_no[inst_of], 12),
            "procedure_sequence": aio.integers(np.ones(len(inst_of), dtype=np.int64)),
            "procedure_code_type": aio.constant("icd-10-pcs", len(inst_of)),
            "procedure_code": aio.take(V.pcs.arrow, H["pcs"][ph]),
            "procedure_date": aio.dates(H["adm"][ph]),
        },
        len(inst_of),
    )

    # truth: final (ultimate) allowed per base line = replacement amount or 0 when voided
    final_c = np.where(
        void[lh], 0, np.where(rep[lh], aio.cents(allowed_c * factor[lh] / 100.0), allowed_c)
    )
    surv = ~void
    stay_survives = np.ones(len(stays.m), dtype=bool)
    st_h = H["stay"] >= 0
    stay_survives[H["stay"][st_h]] = surv[st_h]
    yr = np.clip(
        (
            np.asarray(L["ls"]).astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64)
            + 1970
        ),
        cal.years[0],
        cal.years[-1],
    )
    lm = hm[lh]
    truth = {
        "final_cents": final_c,
        "line_member": lm,
        "line_year": yr,
        "line_partner_billing": ros.partner[H["billing"][lh]],
        "lines_paid_after_as_of": int((~inst_in[np.arange(nh)][lh]).sum()),
        "allowed_paid_after_as_of_cents": int(allowed_c[~inst_in[:nh][lh]].sum()),
        "claims_original": int(inst_in[:nh].sum()),
        "claims_replacement": int(inst_in[nh : nh + len(rep_h)].sum()),
        "claims_void": int(inst_in[nh + len(rep_h) :].sum()),
        "n_claim_numbers": int(nh + len(rep_h) + len(void_h)),
    }
    events = dict(E)
    events["partner"] = np.where(
        E["fac"] >= 0, ros.partner[np.maximum(E["fac"], 0)], False
    ) | np.where(E["prov"] >= 0, ros.partner[np.maximum(E["prov"], 0)], False)
    return ClaimsResult(med, diag, proc, events, stays, stay_survives, scr, truth)


def ctx_dx_of_condition(ctx: Ctx, m: np.ndarray, c: np.ndarray) -> np.ndarray:
    return ctx.dx_of_condition(m, c)


__all__ = ["ClaimsResult", "generate_claims", "ETYPES", "MEDICAID"]
