"""Pharmacy claims: maintenance drugs, acute and chronic opioid courses (with tapers), benzodiazepines.

Every fill has a real 11-digit NDC with a known strength, quantity and days supply, so daily
morphine milligram equivalents (MME = strength x quantity / days supply x conversion factor) can
be computed from the claims alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from payvider.synth import arrowio as aio
from payvider.synth import refdata as R
from payvider.synth.config import SynthConfig
from payvider.synth.members import COMMERCIAL, MA, MEDICAID, Members, plan_index, plan_vocab
from payvider.synth.util import choice, day, repeat_index, within_index
from payvider.synth.world import Calendar, Roster, Vocabs

OUTCOMES = ("maintained", "reduced", "discontinued")


@dataclass
class Fills:
    m: np.ndarray
    date: np.ndarray
    ndc: np.ndarray  # NDC vocabulary index
    qty: np.ndarray
    ds: np.ndarray
    refill: np.ndarray
    prescriber: np.ndarray
    unit_price: np.ndarray

    @staticmethod
    def concat(parts: list[Fills]) -> Fills:
        return Fills(
            **{
                k: np.concatenate([getattr(p, k) for p in parts])
                for k in Fills.__dataclass_fields__
            }
        )


@dataclass
class PharmacyResult:
    table: pa.Table
    fills: Fills  # fills in the file (originals)
    taper: dict[str, np.ndarray]
    truth: dict


def _series(rng, m, first, interval, end, max_k=60):
    """Fill dates first, first + interval, ... up to ``end`` per member."""
    k = np.clip(np.floor((end - first) / interval).astype(np.int64) + 1, 0, max_k)
    mm = np.repeat(m, k)
    j = within_index(k)
    dd = np.repeat(first, k) + np.round(j * np.repeat(interval, k)).astype(np.int64)
    return mm, dd, j


def _prescriber(
    rng, ros: Roster, mem: Members, m: np.ndarray, partner_p: np.ndarray, pain_share: float
):
    partner = rng.random(len(m)) < partner_p
    pcp_other = ros.route(rng, "pcp_adult", partner)
    pcp = np.where(
        (mem.pcp[m] >= 0) & (ros.partner[np.maximum(mem.pcp[m], 0)] == partner),
        mem.pcp[m],
        pcp_other,
    )
    pain = ros.route(rng, "pain_management", partner)
    return np.where(rng.random(len(m)) < pain_share, pain, pcp)


def generate_pharmacy(
    cfg: SynthConfig,
    cal: Calendar,
    ros: Roster,
    V: Vocabs,
    mem: Members,
    rng: np.random.Generator,
    claim_base: int,
) -> PharmacyResult:
    parts: list[Fills] = []
    last_end = np.where(mem.s2 >= 0, mem.e2, mem.e1)
    partner_p = np.where(mem.home_partner, 0.85, cfg.partner_market_share)

    # maintenance drugs for chronic conditions
    on_p = {
        "diabetes": 0.75,
        "hypertension": 0.7,
        "hyperlipidemia": 0.6,
        "depression": 0.5,
        "back_pain": 0.25,
        "asthma": 0.45,
        "copd": 0.6,
    }
    c_index = {c[0]: i for i, c in enumerate(R.CONDITIONS)}
    for cond, (ndc, _desc, per_day, price) in R.MAINTENANCE_DRUGS.items():
        on = mem.cond[:, c_index[cond]] & (rng.random(mem.n) < on_p[cond])
        m = np.flatnonzero(on)
        inhaler = cond in ("asthma", "copd")
        ds = np.where(inhaler, 30, np.where(rng.random(len(m)) < 0.3, 90, 30))
        adher = np.clip(rng.beta(6.0, 1.4, len(m)), 0.35, 1.0)
        interval = ds / adher * np.where(inhaler, 2.0, 1.0)
        first = mem.s1[m] + np.floor(rng.random(len(m)) * np.minimum(interval, 60)).astype(np.int64)
        mm, dd, j = _series(rng, m, first, interval, last_end[m])
        ok = (dd <= cal.t1) & mem.enrolled_on(mm, dd)
        mm, dd, j = mm[ok], dd[ok], j[ok]
        ds_each = (ds[np.searchsorted(m, mm)]).astype(np.int64)
        qty = np.where(inhaler, 18.0, ds_each * per_day).astype(np.float64)
        presc = _prescriber(rng, ros, mem, mm, partner_p[mm], 0.0)
        parts.append(
            Fills(
                m=mm,
                date=dd,
                ndc=np.full(len(mm), V.ndc[ndc]),
                qty=qty,
                ds=ds_each,
                refill=np.minimum(j, 11),
                prescriber=presc,
                unit_price=np.full(len(mm), price),
            )
        )

    # acute opioid courses (after injuries, procedures, dental work)
    adult = mem.age0 >= 18
    lam = (
        np.where(adult, cfg.opioid.acute_rate, 0.01)
        * np.sqrt(mem.util)
        * mem.enrolled_days
        / 365.25
    )
    cnt = rng.poisson(lam)
    m = repeat_index(cnt)
    d, ok = mem.sample_days(rng, m, cal.t0, cal.t1)
    m, d = m[ok], d[ok]
    k = choice(rng, [0.45, 0.25, 0.10, 0.20], len(m))
    ndc = V.ndc.ids(["00406012301", "00228298111", "00228287611", "00093005801"])[k]
    ds = rng.integers(3, 8, len(m))
    per_day = rng.integers(3, 6, len(m))
    presc_role = choice(rng, [0.4, 0.3, 0.3], len(m))
    tp = rng.random(len(m)) < partner_p[m]
    presc = np.where(
        presc_role == 0,
        ros.route(rng, "emergency_medicine", tp),
        np.where(
            presc_role == 1, ros.route(rng, "orthopedics", tp), ros.route(rng, "pcp_adult", tp)
        ),
    )
    price = np.array([R.OPIOID_NDCS[V.ndc.codes[i]][5] for i in range(len(R.OPIOID_NDCS))])
    parts.append(
        Fills(
            m=m,
            date=d,
            ndc=ndc,
            qty=(ds * per_day).astype(np.float64),
            ds=ds.astype(np.int64),
            refill=np.zeros(len(m), np.int64),
            prescriber=presc,
            unit_price=price[ndc],
        )
    )

    # chronic opioid therapy, with the planted tapering program
    pain = mem.cond[:, c_index["back_pain"]] | mem.cond[:, c_index["osteoarthritis"]]
    p_cot = np.array(cfg.opioid.chronic_rate.as_tuple())[mem.line] * np.where(pain, 2.4, 0.5)
    cot = adult & (rng.random(mem.n) < p_cot)
    cm = np.flatnonzero(cot)
    nc = len(cm)
    mme0 = np.clip(
        cfg.opioid.median_mme * np.exp(cfg.opioid.mme_log_sd * rng.standard_normal(nc)), 10, 400
    )
    fam_low = choice(rng, [0.5, 0.3, 0.2], nc)  # hydrocodone/APAP, oxycodone/APAP, tramadol
    fam_mid = choice(rng, [0.5, 0.25, 0.25], nc)  # oxycodone IR, oxycodone ER, morphine ER
    fam_high = choice(rng, [0.5, 0.5], nc)  # oxycodone ER, morphine ER
    fam = np.where(
        mme0 < 50,
        np.array([0, 1, 5])[fam_low],
        np.where(mme0 <= 120, np.array([2, 3, 4])[fam_mid], np.array([3, 4])[fam_high]),
    )
    fam = np.where((fam == 5) & (mme0 > 40), 0, fam)
    managed_partner = rng.random(nc) < partner_p[cm]
    presc_c = _prescriber(rng, ros, mem, cm, managed_partner.astype(float), 0.45)
    managed_partner = ros.partner[presc_c]
    at_start = rng.random(nc) < 0.7
    first = np.where(
        at_start,
        mem.s1[cm] + rng.integers(0, 28, nc),
        mem.s1[cm]
        + np.floor(rng.random(nc) * np.maximum(last_end[cm] - mem.s1[cm], 1)).astype(np.int64),
    )
    # taper plan
    ts = day(cfg.opioid.taper_start) + rng.integers(0, 90, nc)
    te = ts + rng.integers(120, 240, nc)
    # the taper plan concerns high-dose users already on therapy in the 90 days before it starts
    high = (mme0 >= 90) & (first <= ts - 90)
    u = rng.random(nc)
    red_p = np.where(
        managed_partner, cfg.opioid.taper_reduced_share, cfg.opioid.background_reduced_share
    )
    dis_p = np.where(
        managed_partner,
        cfg.opioid.taper_discontinued_share,
        cfg.opioid.background_discontinued_share,
    )
    outcome = np.where(~high, 0, np.where(u < red_p, 1, np.where(u < red_p + dis_p, 2, 0)))
    target = np.where(
        outcome == 1, mme0 * rng.uniform(0.3, 0.65, nc), np.where(outcome == 2, 0.0, mme0)
    )
    interval = rng.uniform(28, 31.5, nc)
    mm, dd, j = _series(rng, np.arange(nc), first, interval, last_end[cm])
    ci = mm
    mm = cm[ci]
    frac = np.clip((dd - ts[ci]) / np.maximum(te[ci] - ts[ci], 1), 0, 1)
    mme_t = mme0[ci] + (target[ci] - mme0[ci]) * frac
    stop = (outcome[ci] == 2) & (dd >= te[ci])
    skip = rng.random(len(mm)) < 0.04
    ok = (dd <= cal.t1) & mem.enrolled_on(mm, dd) & ~stop & ~skip & (mme_t >= 2.0)
    mm, dd, j, ci, mme_t = mm[ok], dd[ok], j[ok], ci[ok], mme_t[ok]
    ndc_c, tabs = _dose(V, fam[ci], mme_t)
    ds_c = np.full(len(mm), 30, dtype=np.int64)
    parts.append(
        Fills(
            m=mm,
            date=dd,
            ndc=ndc_c,
            qty=(tabs * ds_c).astype(np.float64),
            ds=ds_c,
            refill=np.minimum(j, 11),
            prescriber=presc_c[ci],
            unit_price=price[ndc_c],
        )
    )

    # overlapping benzodiazepines
    bz = rng.random(nc) < cfg.opioid.benzo_overlap_share
    bm = np.flatnonzero(bz)
    span = np.maximum(last_end[cm[bm]] - first[bm], 30)
    b0 = first[bm] + np.floor(rng.random(len(bm)) * span * 0.3).astype(np.int64)
    b1 = b0 + np.floor(span * rng.uniform(0.3, 0.8, len(bm))).astype(np.int64)
    bmm, bdd, bj = _series(rng, bm, b0, np.full(len(bm), 30.0), b1)
    bmem = cm[bmm]
    ok = (bdd <= cal.t1) & mem.enrolled_on(bmem, bdd)
    bmem, bdd, bj, bmm = bmem[ok], bdd[ok], bj[ok], bmm[ok]
    bndc = V.ndc.ids(list(R.BENZO_NDCS))[rng.integers(0, 3, len(bmm))]
    btabs = rng.integers(1, 4, len(bmm))
    bprice = np.array([R.BENZO_NDCS[c][3] for c in R.BENZO_NDCS])[
        bndc - V.ndc[list(R.BENZO_NDCS)[0]]
    ]
    parts.append(
        Fills(
            m=bmem,
            date=bdd,
            ndc=bndc,
            qty=(btabs * 30).astype(np.float64),
            ds=np.full(len(bmem), 30, np.int64),
            refill=np.minimum(bj, 5),
            prescriber=presc_c[bmm],
            unit_price=bprice,
        )
    )

    F = Fills.concat(parts)
    order = np.lexsort((F.date, F.m))
    F = Fills(**{k: getattr(F, k)[order] for k in Fills.__dataclass_fields__})
    table, truth = _assemble(cfg, cal, ros, V, mem, rng, F, claim_base)
    taper = {
        "m": cm,
        "baseline_mme": mme0,
        "program": managed_partner & high,
        "high_dose": high,
        "outcome": outcome,
        "target_mme": target,
        "taper_start": ts,
        "taper_end": te,
        "prescriber": presc_c,
        "benzo": bz,
    }
    return PharmacyResult(table=table, fills=F, taper=taper, truth=truth)


def _dose(V: Vocabs, fam: np.ndarray, mme: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pick the strength and tablets per day of ``fam`` closest to a daily MME target."""
    ndc = np.zeros(len(fam), dtype=np.int64)
    tabs = np.ones(len(fam), dtype=np.int64)
    for fi, (_name, ndcs) in enumerate(R.OPIOID_FAMILIES):
        sel = np.flatnonzero(fam == fi)
        if not len(sel):
            continue
        mg = np.array([R.OPIOID_NDCS[c][1] * R.OPIOID_NDCS[c][3] for c in ndcs])  # MME per tablet
        er = R.OPIOID_NDCS[ndcs[0]][4]
        max_t = 4 if er else 6
        t = np.clip(np.round(mme[sel, None] / mg[None, :]), 1, max_t)
        err = np.abs(t * mg[None, :] - mme[sel, None]) + 0.1 * t
        best = np.argmin(err, axis=1)
        ndc[sel] = V.ndc.ids(list(ndcs))[best]
        tabs[sel] = t[np.arange(len(sel)), best].astype(np.int64)
    return ndc, tabs


def _assemble(cfg, cal, ros: Roster, V: Vocabs, mem: Members, rng, F: Fills, claim_base: int):
    n = len(F.m)
    line = mem.line[F.m]
    level = np.array([1.0, 0.95, 0.9])[line]
    allowed = F.qty * F.unit_price * level * np.exp(0.1 * rng.standard_normal(n)) + 1.75
    allowed_c = aio.cents(allowed)
    copay = np.select([line == COMMERCIAL, line == MA, line == MEDICAID], [10.0, 5.0, 1.0], 0.0)
    copay_c = np.minimum(aio.cents(copay), allowed_c)
    paid_c = allowed_c - copay_c
    charge_c = aio.cents(allowed * 1.45)
    pharm_pool = np.concatenate([ros.pool("pharmacy", True), ros.pool("pharmacy", False)])
    pharm_pool = np.unique(pharm_pool)
    member_pharmacy = pharm_pool[(mem.gidx * 2654435761 % 2**32) % len(pharm_pool)]
    pharmacy = np.where(
        rng.random(n) < 0.85, member_pharmacy[F.m], pharm_pool[rng.integers(0, len(pharm_pool), n)]
    )
    paid = F.date + rng.integers(3, 15, n)
    void = rng.random(n) < cfg.void_rate
    vh = np.flatnonzero(void)
    inst = np.concatenate([np.arange(n), vh])
    is_void = np.concatenate([np.zeros(n, bool), np.ones(len(vh), bool)])
    inst_paid = np.concatenate([paid, paid[vh] + rng.integers(1, 20, len(vh))])
    claim_no = np.concatenate([claim_base + np.arange(n), claim_base + n + np.arange(len(vh))])
    keep = inst_paid <= cal.as_of
    inst, is_void, inst_paid, claim_no = inst[keep], is_void[keep], inst_paid[keep], claim_no[keep]
    sign = 1  # a void repeats the amounts of the fill it cancels
    k = len(inst)
    cols = {
        "claim_id": aio.ids("R", claim_no, 12),
        "claim_line_number": aio.integers(np.ones(k, dtype=np.int64)),
        "adjustment_type": aio.take(aio.vocab(["original", "void"]), is_void.astype(np.int64)),
        "adjusted_claim_id": aio.ids("R", claim_base + inst, 12, valid=is_void),
        "member_id": aio.ids("M", mem.gidx[F.m[inst]] + 1, 9),
        "payer": aio.constant(cfg.payer, k),
        "plan": aio.take(plan_vocab(), plan_index(mem, F.m[inst])),
        "prescribing_provider_npi": aio.take(ros.npi_arrow, F.prescriber[inst]),
        "dispensing_provider_npi": aio.take(ros.npi_arrow, pharmacy[inst]),
        "dispensing_date": aio.dates(F.date[inst]),
        "ndc_code": aio.take(V.ndc.arrow, F.ndc[inst]),
        "quantity": aio.number(F.qty[inst]),
        "days_supply": aio.integers(F.ds[inst]),
        "refills": aio.integers(F.refill[inst]),
        "paid_date": aio.dates(inst_paid),
        "paid_amount": aio.decimal(sign * paid_c[inst], 2),
        "allowed_amount": aio.decimal(sign * allowed_c[inst], 2),
        "charge_amount": aio.decimal(sign * charge_c[inst], 2),
        "coinsurance_amount": aio.decimal(np.zeros(k, np.int64), 2),
        "copayment_amount": aio.decimal(sign * copay_c[inst], 2),
        "deductible_amount": aio.decimal(np.zeros(k, np.int64), 2),
        "in_network_flag": aio.booleans(np.ones(k, dtype=bool)),
        "data_source": aio.constant("synthetic pharmacy claims", k),
    }
    table = aio.build_table("pharmacy_claim", cols, k)
    final_c = np.where(void, 0, allowed_c)
    truth = {
        "fills": n,
        "voids_in_file": int(is_void.sum()),
        "final_cents": final_c,
        "member": F.m,
        "year": np.asarray(F.date).astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64)
        + 1970,
    }
    return table, truth
