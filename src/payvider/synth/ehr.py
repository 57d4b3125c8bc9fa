"""The partner health system's EHR: its own patient ids, demographics with realistic errors,
encounters, conditions, procedures, observations, immunizations, medications, SDOH screenings and
patient-experience surveys.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from payvider.synth import arrowio as aio
from payvider.synth import refdata as R
from payvider.synth.claims import ET, ETYPES
from payvider.synth.config import SynthConfig
from payvider.synth.members import Members, Names, address, phones
from payvider.synth.pharmacy import Fills
from payvider.synth.util import age_at, choice, years_of
from payvider.synth.world import Calendar, Roster, Vocabs

#: Patient ids are a bijection of a global person index, so they look unrelated to member ids.
_PID_PRIME = 9_999_999_967
_PID_MULT = 7_919_317
_PID_ADD = 1_234_567_891
CORRUPTIONS = (
    "typo_first_name",
    "typo_last_name",
    "nickname",
    "address_change",
    "last_name_change",
    "birth_date_error",
    "none",
)
OFFICE_TYPES = (ET["office"], ET["wellness"], ET["specialist"], ET["followup"])
SOURCE = "north star health ehr"


def patient_ids(index: np.ndarray) -> pa.Array:
    return aio.ids(
        "MRN", (np.asarray(index, dtype=np.int64) * _PID_MULT + _PID_ADD) % _PID_PRIME, 10
    )


@dataclass
class EhrResult:
    tables: dict[str, pa.Table]
    links: pa.Table
    truth: dict


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = np.asarray(days, dtype="int64").astype("datetime64[D]")
    y = d.astype("datetime64[Y]")
    m = d.astype("datetime64[M]")
    return (
        y.astype(np.int64) + 1970,
        (m - y.astype("datetime64[M]")).astype(np.int64) + 1,
        (d - m.astype("datetime64[D]")).astype(np.int64) + 1,
    )


def _from_ymd(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    months = (y - 1970) * 12 + (m - 1)
    return months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) + d - 1


def generate_ehr(
    cfg: SynthConfig,
    cal: Calendar,
    ros: Roster,
    V: Vocabs,
    names: Names,
    mem: Members,
    events: dict[str, np.ndarray],
    fills: Fills,
    screening: dict,
    rng: np.random.Generator,
    rng_link: np.random.Generator,
    block: int,
    total_members: int,
    id_base: int,
) -> EhrResult:
    n = mem.n
    ev_partner = events["partner"]
    has_event = np.zeros(n, dtype=bool)
    has_event[events["m"][ev_partner]] = True
    fill_partner = ros.partner[fills.prescriber]
    has_fill = np.zeros(n, dtype=bool)
    has_fill[fills.m[fill_partner]] = True
    is_patient = has_event | has_fill | mem.home_partner
    pm = np.flatnonzero(is_patient)
    npat = len(pm)
    row_of = np.full(n, -1, dtype=np.int64)
    row_of[pm] = np.arange(npat)

    # --- demographics with the planted corruption --------------------------------------------
    L = cfg.linkage
    probs = [
        L.typo_first_name,
        L.typo_last_name,
        L.nickname,
        L.address_change,
        L.last_name_change,
        L.birth_date_error,
    ]
    probs.append(max(0.0, 1.0 - sum(probs)))
    kind = choice(rng_link, probs, npat)
    first = mem.first[pm].copy()
    last = mem.last[pm].copy()
    house, street, zip_idx = mem.house[pm].copy(), mem.street[pm].copy(), mem.zip_idx[pm].copy()
    phone = mem.phone[pm].copy()
    birth = mem.birth[pm].copy()
    nick = names.nick[first]
    kind = np.where((kind == 2) & (nick < 0), 0, kind)  # no nickname known: a typo instead
    kind = np.where((kind == 4) & (mem.sex[pm] == 0), 1, kind)  # surname changes: women (marriage)
    k3 = rng_link.integers(0, 3, npat)
    first = np.where(kind == 0, names.first_typo[first, k3], first)
    first = np.where(kind == 2, nick, first)
    last = np.where(kind == 1, names.last_typo[last, k3], last)
    last = np.where(kind == 4, rng_link.integers(0, names.n_last, npat), last)
    moved = kind == 3
    house = np.where(moved, rng_link.integers(100, 20000, npat), house)
    street = np.where(moved, rng_link.integers(0, names.n_streets, npat), street)
    zip_idx = np.where(
        moved & (rng_link.random(npat) < 0.6), rng_link.integers(0, len(R.ZIPS), npat), zip_idx
    )
    phone = np.where(
        moved & (rng_link.random(npat) < 0.5),
        names.area[zip_idx] * 10**7 + rng_link.integers(2_000_000, 9_999_999, npat),
        phone,
    )
    y, mo, dd = _ymd(birth)
    swap = (kind == 5) & (dd <= 12) & (dd != mo)
    bd_err = np.where(
        swap, _from_ymd(y, dd, mo), birth + np.where(rng_link.random(npat) < 0.5, 1, -1)
    )
    birth = np.where(kind == 5, bd_err, birth)
    phone_ok = rng_link.random(npat) >= 0.08

    # non-member patients: household members of linked patients and unrelated people
    n_other = int(round(L.non_member_patient_ratio * npat))
    house_hold = rng_link.random(n_other) < L.household_share
    src = (
        pm[rng_link.integers(0, max(npat, 1), n_other)]
        if npat
        else np.zeros(n_other, dtype=np.int64)
    )
    o_sex = (rng_link.random(n_other) < 0.52).astype(np.int8)
    o_first = np.where(
        o_sex == 1,
        names.n_male + rng_link.integers(0, names.n_first - names.n_male, n_other),
        rng_link.integers(0, names.n_male, n_other),
    )
    o_age = np.where(
        rng_link.random(n_other) < 0.25,
        rng_link.integers(0, 18, n_other),
        rng_link.integers(18, 90, n_other),
    )
    o_birth = cal.t0 - o_age * 365 - rng_link.integers(0, 365, n_other)
    o_last = np.where(house_hold, mem.last[src], rng_link.integers(0, names.n_last, n_other))
    o_house = np.where(house_hold, mem.house[src], rng_link.integers(100, 20000, n_other))
    o_street = np.where(house_hold, mem.street[src], rng_link.integers(0, names.n_streets, n_other))
    o_zip = np.where(house_hold, mem.zip_idx[src], rng_link.integers(0, len(R.ZIPS), n_other))
    o_phone = np.where(
        house_hold,
        mem.phone[src],
        names.area[o_zip] * 10**7 + rng_link.integers(2_000_000, 9_999_999, n_other),
    )
    o_race = np.where(house_hold, mem.race[src], choice(rng_link, names.race_p, n_other))
    o_hisp = np.where(house_hold, mem.hispanic[src], rng_link.random(n_other) < R.HISPANIC_SHARE)
    cap = max(1, int(np.ceil(L.non_member_patient_ratio * cfg.block_size)) + 1)
    o_index = total_members + block * cap + np.arange(n_other)

    all_idx = np.concatenate([mem.gidx[pm], o_index])
    pid = patient_ids(all_idx)
    N = npat + n_other
    pdeath = np.concatenate([mem.death[pm], np.full(n_other, -1)])
    patient = aio.build_table(
        "patient",
        {
            "patient_id": pid,
            "first_name": aio.take(names.first, np.concatenate([first, o_first])),
            "last_name": aio.take(names.last, np.concatenate([last, o_last])),
            "sex": aio.take(
                aio.vocab(["male", "female"]), np.concatenate([mem.sex[pm], o_sex]).astype(np.int64)
            ),
            "birth_date": aio.dates(np.concatenate([birth, o_birth])),
            "death_date": aio.dates(np.maximum(pdeath, 0), pdeath >= 0),
            "address": address(
                names, np.concatenate([house, o_house]), np.concatenate([street, o_street])
            ),
            "city": aio.take(names.city, np.concatenate([zip_idx, o_zip])),
            "state": aio.constant("MN", N),
            "zip_code": aio.take(names.zip, np.concatenate([zip_idx, o_zip])),
            "phone": phones(
                np.concatenate([phone, o_phone]), np.concatenate([phone_ok, np.ones(n_other, bool)])
            ),
            "race": aio.take(names.race, np.concatenate([mem.race[pm], o_race])),
            "ethnicity": aio.take(
                names.ethnicity, np.where(np.concatenate([mem.hispanic[pm], o_hisp]), 0, 1)
            ),
            "data_source": aio.constant(SOURCE, N),
        },
        N,
    )
    links = pa.table(
        {
            "member_id": aio.ids("M", mem.gidx[pm] + 1, 9),
            "patient_id": pid.slice(0, npat),
            "corruption": aio.take(aio.vocab(CORRUPTIONS), kind),
        }
    )

    # --- encounters -------------------------------------------------------------------------
    e_sel = np.flatnonzero(ev_partner)
    em = events["m"][e_sel]
    e_pid_idx = row_of[em]
    et = events["et"][e_sel]
    e_start, e_end = events["start"][e_sel], events["end"][e_sel]
    # non-member patients' office visits
    o_lam = np.where(o_age >= 65, 4.0, 2.2) * (cal.t1 - cal.t0 + 1) / 365.25
    o_cnt = rng.poisson(o_lam * 0.6)
    o_m = np.repeat(np.arange(n_other), o_cnt)
    o_d = cal.t0 + rng.integers(0, cal.t1 - cal.t0 + 1, len(o_m))
    o_prov = ros.route(rng, "pcp_adult", np.ones(len(o_m), dtype=bool))
    enc_pat = np.concatenate([e_pid_idx, npat + o_m])
    enc_type = np.concatenate([et, np.full(len(o_m), ET["office"])])
    enc_start = np.concatenate([e_start, o_d])
    enc_end = np.concatenate([e_end, o_d])
    enc_prov = np.concatenate([events["prov"][e_sel], o_prov])
    enc_fac = np.concatenate([events["fac"][e_sel], np.full(len(o_m), -1)])
    o_dx = V.dx.ids(R.ACUTE_OFFICE_DX)[rng.integers(0, len(R.ACUTE_OFFICE_DX), len(o_m))]
    enc_dx = np.concatenate([events["dx"][e_sel], o_dx])
    ne = len(enc_pat)
    enc_no = id_base + np.arange(ne)
    etype_vocab = aio.vocab([t for _, t in ETYPES])
    encounter = aio.build_table(
        "encounter",
        {
            "encounter_id": aio.ids("ENC", enc_no, 12),
            "patient_id": pid.take(pa.array(enc_pat)),
            "encounter_type": aio.take(etype_vocab, enc_type),
            "encounter_start_date": aio.dates(enc_start),
            "encounter_end_date": aio.dates(enc_end),
            "attending_provider_npi": aio.take(ros.npi_arrow, enc_prov),
            "facility_npi": aio.take(ros.npi_arrow, enc_fac),
            "primary_diagnosis_code": aio.take(V.dx.arrow, enc_dx),
            "data_source": aio.constant(SOURCE, ne),
        },
        ne,
    )
    enc_ids = encounter.column("encounter_id").combine_chunks()

    # first partner encounter per linked patient
    first_seen = np.full(npat, cal.t0, dtype=np.int64)
    if len(e_pid_idx):
        o = np.lexsort((e_start, e_pid_idx))
        starts = np.r_[True, e_pid_idx[o][1:] != e_pid_idx[o][:-1]]
        first_seen[e_pid_idx[o][starts]] = e_start[o][starts]

    # --- conditions ---------------------------------------------------------------------------
    cond = mem.cond[pm] & (rng.random((npat, mem.cond.shape[1])) < 0.92)
    pi, ci = np.nonzero(cond)
    cdx = V.dx.ids([c[1] for c in R.CONDITIONS])[ci]
    canc = ci == [c[0] for c in R.CONDITIONS].index("cancer")
    cancer_codes = np.array([V.dx.ids(list(g)) for g in R.CANCER_CODES])
    cdx = np.where(canc, cancer_codes[mem.sex[pm[pi]], mem.cancer_dx[pm[pi]]], cdx)
    rec = first_seen[pi]
    onset = rec - rng.integers(30, 365 * 6, len(pi))
    onset = np.maximum(onset, mem.birth[pm[pi]])
    # acute problems of ED visits, resolved
    ed = np.flatnonzero(enc_type[: len(e_sel)] == ET["ed"])
    a_p = enc_pat[ed]
    a_dx = enc_dx[ed]
    a_start = enc_start[ed]
    a_res = a_start + rng.integers(5, 40, len(ed))
    nc = len(pi) + len(ed)
    condition = aio.build_table(
        "condition",
        {
            "condition_id": aio.ids("CON", id_base + np.arange(nc), 12),
            "patient_id": pid.take(pa.array(np.concatenate([pi, a_p]))),
            "encounter_id": aio.take(enc_ids, np.concatenate([np.full(len(pi), -1), ed])),
            "recorded_date": aio.dates(np.concatenate([rec, a_start])),
            "onset_date": aio.dates(np.concatenate([onset, a_start])),
            "resolved_date": aio.dates(
                np.concatenate([np.zeros(len(pi), np.int64), a_res]),
                np.concatenate([np.zeros(len(pi), bool), np.ones(len(ed), bool)]),
            ),
            "source_code_type": aio.constant("icd-10-cm", nc),
            "source_code": aio.take(V.dx.arrow, np.concatenate([cdx, a_dx])),
            "status": aio.take(
                aio.vocab(["active", "resolved"]),
                np.concatenate([np.zeros(len(pi), np.int64), np.ones(len(ed), np.int64)]),
            ),
            "data_source": aio.constant(SOURCE, nc),
        },
        nc,
    )

    # --- observations: blood pressure, HbA1c, BMI ----------------------------------------------
    c_htn = [c[0] for c in R.CONDITIONS].index("hypertension")
    c_dm = [c[0] for c in R.CONDITIONS].index("diabetes")
    c_ob = [c[0] for c in R.CONDITIONS].index("obesity")
    all_htn = np.concatenate([mem.cond[pm, c_htn], rng.random(n_other) < 0.3])
    all_dm = np.concatenate([mem.cond[pm, c_dm], rng.random(n_other) < 0.1])
    all_ob = np.concatenate([mem.cond[pm, c_ob], rng.random(n_other) < 0.12])
    all_birth = np.concatenate([mem.birth[pm], o_birth])
    sbp_mu = np.where(all_htn, 134.0, 119.0) + rng.normal(0, np.where(all_htn, 12.0, 9.0), N)
    a1c_mu = np.where(
        all_dm,
        np.exp(np.log(7.3) + 0.16 * rng.standard_normal(N)),
        5.4 + 0.3 * rng.standard_normal(N),
    )
    bmi_mu = np.where(all_ob, 35.0, 26.5) + rng.normal(0, 3.5, N)
    office = np.isin(enc_type, OFFICE_TYPES)
    adult = age_at(all_birth[enc_pat], enc_start) >= 18
    bp_e = np.flatnonzero(office & adult & (rng.random(ne) < 0.9))
    sbp = np.clip(sbp_mu[enc_pat[bp_e]] + rng.normal(0, 7, len(bp_e)), 85, 220).round()
    dbp = np.clip(0.45 * sbp + 20 + rng.normal(0, 6, len(bp_e)), 45, 130).round()
    is_lab = enc_type == ET["lab"]
    a1c_e = np.flatnonzero(
        (all_dm[enc_pat] & ((office & (rng.random(ne) < 0.45)) | is_lab))
        | ((enc_type == ET["wellness"]) & (rng.random(ne) < 0.15))
    )
    a1c = np.clip(a1c_mu[enc_pat[a1c_e]] + rng.normal(0, 0.3, len(a1c_e)), 4.0, 15.0).round(1)
    bmi_e = np.flatnonzero((enc_type == ET["wellness"]) & adult)
    bmi = np.clip(bmi_mu[enc_pat[bmi_e]] + rng.normal(0, 0.8, len(bmi_e)), 15, 70).round(1)
    ob_enc = np.concatenate([bp_e, bp_e, a1c_e, bmi_e])
    ob_val = np.concatenate([sbp, dbp, a1c, bmi])
    ob_kind = np.concatenate(
        [
            np.zeros(len(bp_e), np.int64),
            np.ones(len(bp_e), np.int64),
            np.full(len(a1c_e), 2),
            np.full(len(bmi_e), 3),
        ]
    )
    o = np.lexsort((ob_kind, ob_enc))
    ob_enc, ob_val, ob_kind = ob_enc[o], ob_val[o], ob_kind[o]
    loinc = aio.vocab([R.LOINC[k][0] for k in ("systolic", "diastolic", "hba1c", "bmi")])
    units = aio.vocab([R.LOINC[k][1] for k in ("systolic", "diastolic", "hba1c", "bmi")])
    no = len(ob_enc)
    integer_kind = ob_kind < 2
    result = pa.array(np.where(integer_kind, np.round(ob_val), ob_val)).cast(pa.string())
    result = pc.if_else(
        pa.array(integer_kind),
        pa.array(np.round(ob_val).astype(np.int64)).cast(pa.string()),
        result,
    )
    observation = aio.build_table(
        "observation",
        {
            "observation_id": aio.ids("OBS", id_base + np.arange(no), 12),
            "patient_id": pid.take(pa.array(enc_pat[ob_enc])),
            "encounter_id": enc_ids.take(pa.array(ob_enc)),
            "observation_date": aio.dates(enc_start[ob_enc]),
            "source_code_type": aio.constant("loinc", no),
            "source_code": aio.take(loinc, ob_kind),
            "result": result,
            "numeric_result": aio.number(ob_val),
            "units": aio.take(units, ob_kind),
            "data_source": aio.constant(SOURCE, no),
        },
        no,
    )

    # --- procedures: performed in the system, and screening history before the window --------
    proc_e = np.flatnonzero(events["proc"][e_sel] >= 0)
    p_code = events["proc"][e_sel][proc_e]
    # screening history: done in the system, or reported from outside and recorded
    hist_m = np.flatnonzero(
        (screening["colonoscopy_before_window"][pm] >= 0)
        & (mem.home_partner[pm] | (rng.random(npat) < 0.8))
    )
    hist_d = screening["colonoscopy_before_window"][pm][hist_m]
    npc = len(proc_e) + len(hist_m)
    codes = np.concatenate([p_code, np.full(len(hist_m), V.hcpcs["45378"])])
    hcpcs_level2 = np.array([c[0].isalpha() for c in V.hcpcs.codes])
    ctype = np.where(hcpcs_level2[codes], 1, 0)
    prac = np.concatenate(
        [enc_prov[proc_e], ros.route(rng, "gastroenterology", np.ones(len(hist_m), dtype=bool))]
    )
    procedure = aio.build_table(
        "procedure",
        {
            "procedure_id": aio.ids("PRC", id_base + np.arange(npc), 12),
            "patient_id": pid.take(pa.array(np.concatenate([enc_pat[proc_e], hist_m]))),
            "encounter_id": aio.take(enc_ids, np.concatenate([proc_e, np.full(len(hist_m), -1)])),
            "procedure_date": aio.dates(np.concatenate([enc_start[proc_e], hist_d])),
            "source_code_type": aio.take(aio.vocab(["cpt", "hcpcs"]), ctype),
            "source_code": aio.take(V.hcpcs.arrow, codes),
            "practitioner_npi": aio.take(ros.npi_arrow, prac),
            "data_source": aio.constant(SOURCE, npc),
        },
        npc,
    )

    # --- immunizations: this season's influenza vaccines, and history --------------------------
    imm_e = np.flatnonzero(enc_type[: len(e_sel)] == ET["immunization"])
    age_e = age_at(mem.birth[em[imm_e]], enc_start[imm_e])
    cvx_keys = list(R.CVX)
    cvx_vocab = aio.vocab([R.CVX[k][0] for k in cvx_keys])
    cvx_desc = aio.vocab([R.CVX[k][1] for k in cvx_keys])
    flu = np.where(age_e >= 65, cvx_keys.index("flu_high_dose"), cvx_keys.index("flu"))
    age0 = mem.age0[pm]
    hist_rows = []
    for key, lo_age, hi_age, p in (
        ("pcv20", 65, 120, 0.35),
        ("ppsv23", 65, 120, 0.25),
        ("zoster", 50, 120, 0.35),
        ("tdap", 19, 120, 0.5),
        ("covid", 6, 120, 0.45),
        ("dtap", 2, 17, 0.9),
        ("mmr", 2, 17, 0.9),
        ("hpv", 11, 26, 0.5),
    ):
        sel = np.flatnonzero((age0 >= lo_age) & (age0 <= hi_age) & (rng.random(npat) < p))
        when = cal.t0 - rng.integers(30, 365 * 5, len(sel))
        when = np.maximum(when, mem.birth[pm[sel]] + 60)
        hist_rows.append((sel, np.full(len(sel), cvx_keys.index(key)), when))
    h_p = np.concatenate([r[0] for r in hist_rows])
    h_c = np.concatenate([r[1] for r in hist_rows])
    h_d = np.concatenate([r[2] for r in hist_rows])
    ni = len(imm_e) + len(h_p)
    imm_code = np.concatenate([flu, h_c])
    immunization = aio.build_table(
        "immunization",
        {
            "immunization_id": aio.ids("IMM", id_base + np.arange(ni), 12),
            "patient_id": pid.take(pa.array(np.concatenate([enc_pat[imm_e], h_p]))),
            "encounter_id": aio.take(enc_ids, np.concatenate([imm_e, np.full(len(h_p), -1)])),
            "source_code_type": aio.constant("cvx", ni),
            "source_code": aio.take(cvx_vocab, imm_code),
            "source_description": aio.take(cvx_desc, imm_code),
            "status": aio.constant("completed", ni),
            "occurrence_date": aio.dates(np.concatenate([enc_start[imm_e], h_d])),
            "data_source": aio.constant(SOURCE, ni),
        },
        ni,
    )

    # --- medications: prescriptions written in the system ------------------------------------
    fsel = np.flatnonzero(fill_partner & (row_of[fills.m] >= 0))
    unfilled = fsel[rng.random(len(fsel)) < 0.08]
    med_src = np.concatenate([fsel, unfilled])
    filled = np.concatenate([np.ones(len(fsel), bool), np.zeros(len(unfilled), bool)])
    pres_date = fills.date[med_src] - rng.integers(0, 4, len(med_src))
    pres_date = np.where(filled, pres_date, fills.date[med_src] + rng.integers(1, 20, len(med_src)))
    nm = len(med_src)
    medication = aio.build_table(
        "medication",
        {
            "medication_id": aio.ids("MED", id_base + np.arange(nm), 12),
            "patient_id": pid.take(pa.array(row_of[fills.m[med_src]])),
            "prescribing_date": aio.dates(pres_date),
            "dispensing_date": aio.dates(fills.date[med_src], filled),
            "ndc_code": aio.take(V.ndc.arrow, fills.ndc[med_src]),
            "quantity": aio.number(fills.qty[med_src]),
            "days_supply": aio.integers(fills.ds[med_src]),
            "practitioner_npi": aio.take(ros.npi_arrow, fills.prescriber[med_src]),
            "data_source": aio.constant(SOURCE, nm),
        },
        nm,
    )

    # --- SDOH screenings at office visits ------------------------------------------------------
    lin_office = np.flatnonzero(np.isin(et, OFFICE_TYPES))
    yrs = years_of(e_start[lin_office])
    key = e_pid_idx[lin_office] * 10_000 + yrs
    o = np.lexsort((e_start[lin_office], key))
    key_s = key[o]
    firsts = o[np.r_[True, key_s[1:] != key_s[:-1]]]
    fy_pat = e_pid_idx[lin_office][firsts]
    fy_year = yrs[firsts]
    fy_date = e_start[lin_office][firsts]
    yi = np.clip(fy_year - cal.years[0], 0, len(cfg.sdoh.screening_rate_by_year) - 1)
    rate = np.array(cfg.sdoh.screening_rate_by_year)[yi]
    scr = np.flatnonzero(rng.random(len(fy_pat)) < rate)
    s_pat, s_date = fy_pat[scr], fy_date[scr]
    ns = len(scr)
    D = len(R.SDOH_DOMAINS)
    s_need = mem.needs[pm[s_pat]]
    flip = rng.random((ns, D)) < 0.03
    positive = s_need ^ flip
    referral = positive & (rng.random((ns, D)) < cfg.sdoh.referral_rate)
    ref_date = s_date[:, None] + rng.integers(0, 15, (ns, D))
    sdoh = aio.build_table(
        "sdoh_screening",
        {
            "screening_id": aio.ids("SDH", np.repeat(id_base + np.arange(ns), D), 12),
            "patient_id": pid.take(pa.array(np.repeat(s_pat, D))),
            "screening_date": aio.dates(np.repeat(s_date, D)),
            "instrument": aio.constant("AHC HRSN", ns * D),
            "domain": aio.take(aio.vocab(list(R.SDOH_DOMAINS)), np.tile(np.arange(D), ns)),
            "positive_flag": aio.booleans(positive.ravel()),
            "referral_flag": aio.booleans(referral.ravel()),
            "referral_date": aio.dates(ref_date.ravel(), referral.ravel()),
        },
        ns * D,
    )

    # --- patient-experience surveys after office visits -----------------------------------------
    resp = np.flatnonzero(rng.random(len(fy_pat)) < 0.12)
    r_pat = fy_pat[resp]
    r_date = np.minimum(fy_date[resp] + rng.integers(14, 46, len(resp)), cal.as_of)
    nr = len(resp)
    items = R.SURVEY_ITEMS
    K = len(items)
    sat = rng.standard_normal(nr)
    scores = np.empty((nr, K))
    for k, (_item, top) in enumerate(items):
        z = sat + 0.6 * rng.standard_normal(nr)
        if top == 10:
            scores[:, k] = np.clip(np.round(9.0 + 1.3 * z), 0, 10)
        else:
            scores[:, k] = np.clip(np.round(3.55 + 0.65 * z), 1, 4)
    survey = aio.build_table(
        "survey_response",
        {
            "response_id": aio.ids("SRV", np.repeat(id_base + np.arange(nr), K), 12),
            "patient_id": pid.take(pa.array(np.repeat(r_pat, K))),
            "survey_date": aio.dates(np.repeat(r_date, K)),
            "instrument": aio.constant("CG-CAHPS", nr * K),
            "item": aio.take(aio.vocab([i for i, _ in items]), np.tile(np.arange(K), nr)),
            "score": aio.number(scores.ravel()),
            "max_score": aio.number(np.tile(np.array([t for _, t in items], dtype=float), nr)),
        },
        nr * K,
    )

    truth = {
        "linked_patients": npat,
        "non_member_patients": n_other,
        "household_patients": int(house_hold.sum()),
        "corruption_counts": np.bincount(kind, minlength=len(CORRUPTIONS)),
        "sdoh_screened": ns,
        "sdoh_positive": positive.sum(axis=0),
        "sdoh_needs_linked": mem.needs[pm].sum(axis=0),
        "sdoh_needs_all": mem.needs.sum(axis=0),
        "members": n,
    }
    return EhrResult(
        tables={
            "patient": patient,
            "encounter": encounter,
            "condition": condition,
            "procedure": procedure,
            "observation": observation,
            "immunization": immunization,
            "medication": medication,
            "sdoh_screening": sdoh,
            "survey_response": survey,
        },
        links=links,
        truth=truth,
    )
