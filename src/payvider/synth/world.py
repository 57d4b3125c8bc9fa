"""The fixed part of the world: calendar, code vocabularies and the provider roster."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from payvider.synth import arrowio as aio
from payvider.synth import refdata as R
from payvider.synth.config import SynthConfig
from payvider.synth.util import day, luhn_npi_check, rng_for


class Vocab:
    """A list of codes with a code -> index map and its Arrow array."""

    def __init__(self, codes: list[str] | tuple[str, ...]) -> None:
        seen: dict[str, int] = {}
        for c in codes:
            if c not in seen:
                seen[c] = len(seen)
        self.codes = list(seen)
        self.index = seen
        self.arrow = aio.vocab(self.codes)

    def __getitem__(self, code: str) -> int:
        return self.index[code]

    def ids(self, codes: list[str] | tuple[str, ...]) -> np.ndarray:
        return np.array([self.index[c] for c in codes], dtype=np.int32)

    def __len__(self) -> int:
        return len(self.codes)


def _all_dx() -> list[str]:
    codes = [c[1] for c in R.CONDITIONS]
    for group in R.CANCER_CODES:
        codes += list(group)
    codes += R.ACUTE_OFFICE_DX + R.ACUTE_ED_DX
    codes += list(R.WELLNESS_DX_ADULT + R.WELLNESS_DX_CHILD + R.PSYCH_DX)
    codes += [v[3] for v in R.DRGS.values()]
    codes += ["Z1231", "Z1211", "Z23", "Z5112", "G8929", "Z79891", "Z3480", "Z370", "Z09"]
    codes += [
        "H2511",
        "K4090",
        "E1165",
        "I5023",
        "I5033",
        "J441",
        "J45901",
        "N179",
        "I2510",
        "M1711",
    ]
    return codes


@dataclass
class Vocabs:
    hcpcs: Vocab = field(default_factory=lambda: Vocab(list(R.HCPCS_PRICES)))
    rev: Vocab = field(default_factory=lambda: Vocab(list(R.REVENUE_CHARGES)))
    pos: Vocab = field(
        default_factory=lambda: Vocab(
            ["11", "21", "22", "23", "24", "81", "02", "10", "12", "31", "41"]
        )
    )
    bill: Vocab = field(default_factory=lambda: Vocab(["111", "131", "211", "329"]))
    drg: Vocab = field(default_factory=lambda: Vocab(list(R.DRGS)))
    dx: Vocab = field(default_factory=lambda: Vocab(_all_dx()))
    pcs: Vocab = field(default_factory=lambda: Vocab([v[4] for v in R.DRGS.values() if v[4]]))
    mod: Vocab = field(default_factory=lambda: Vocab(["95", "26", "25", "SG", "RH", "QK"]))
    disp: Vocab = field(default_factory=lambda: Vocab(["01", "02", "03", "06", "07", "20", "62"]))
    admit_type: Vocab = field(default_factory=lambda: Vocab(["1", "2", "3", "4"]))
    admit_src: Vocab = field(default_factory=lambda: Vocab(["1", "2", "4", "5"]))
    ndc: Vocab = field(
        default_factory=lambda: Vocab(
            list(R.OPIOID_NDCS) + list(R.BENZO_NDCS) + [v[0] for v in R.MAINTENANCE_DRUGS.values()]
        )
    )

    def __post_init__(self) -> None:
        self.hcpcs_pro = np.array(
            [R.HCPCS_PRICES[c][0] for c in self.hcpcs.codes], dtype=np.float64
        )
        self.hcpcs_fac = np.array(
            [R.HCPCS_PRICES[c][1] for c in self.hcpcs.codes], dtype=np.float64
        )
        self.rev_charge = np.array([R.REVENUE_CHARGES[c] for c in self.rev.codes], dtype=np.float64)


class Calendar:
    """Day numbers of the data window, its months and years."""

    def __init__(self, cfg: SynthConfig) -> None:
        self.t0 = day(cfg.start_date)
        self.t1 = day(cfg.end_date)
        self.as_of = day(cfg.as_of_date)
        m0 = np.datetime64(cfg.start_date, "M")
        m1 = np.datetime64(cfg.end_date, "M")
        months = np.arange(m0, m1 + 1)
        self.month_start = months.astype("datetime64[D]").astype(np.int64)
        self.month_end = (months + 1).astype("datetime64[D]").astype(np.int64) - 1
        self.n_months = len(months)
        self.years = cfg.years
        self.year_start = {y: day(type(cfg.start_date)(y, 1, 1)) for y in self.years}
        self.year_end = {y: day(type(cfg.start_date)(y, 12, 31)) for y in self.years}


# --- roster -----------------------------------------------------------------------------------

PARTNER = 0  # system index of the partner health system; competitors 1..k; independents -1


@dataclass
class Roster:
    npi: np.ndarray  # int64 10-digit NPIs
    is_org: np.ndarray
    kind: list[str]  # specialty key (clinicians) or organisation kind
    name: list[str]
    system: np.ndarray  # PARTNER, 1..k, or -1
    tin: np.ndarray  # int64 9-digit
    org: np.ndarray  # billing organisation (roster index) of a clinician; self for orgs
    zip_idx: np.ndarray
    in_network: np.ndarray
    price_factor: np.ndarray
    system_names: list[str]
    pools: dict[tuple[str, bool], np.ndarray]  # (role, partner?) -> roster indices
    npi_arrow: pa.Array = field(init=False)
    tin_arrow: pa.Array = field(init=False)

    def __post_init__(self) -> None:
        self.npi_arrow = aio.digits(self.npi, 10)
        self.tin_arrow = aio.digits(self.tin, 9)
        self.partner = self.system == PARTNER

    def pool(self, role: str, partner: bool) -> np.ndarray:
        return self.pools[(role, partner)]

    def route(self, rng: np.random.Generator, role: str, to_partner: np.ndarray) -> np.ndarray:
        """One provider of ``role`` per event: from the partner pool where ``to_partner``."""
        n = len(to_partner)
        pp, po = self.pool(role, True), self.pool(role, False)
        a = pp[rng.integers(0, len(pp), n)]
        b = po[rng.integers(0, len(po), n)]
        return np.where(to_partner, a, b)

    def table(self) -> pa.Table:
        n = len(self.npi)
        spec = [R.SPECIALTIES.get(k) or R.ORG_KINDS[k] for k in self.kind]
        primary = np.array(
            [bool(R.SPECIALTIES[k][3]) if k in R.SPECIALTIES else False for k in self.kind]
        )
        cms = [s[0] for s in spec]
        desc = [s[1] for s in spec]
        tax = [s[2] for s in spec]
        sys_names = [self.system_names[s] if s >= 0 else None for s in self.system]
        zips = [R.ZIPS[i][0] for i in self.zip_idx]
        cols = {
            "npi": self.npi_arrow,
            "entity_type": pa.array(
                np.where(self.is_org, "organization", "individual").tolist(), pa.string()
            ),
            "provider_name": pa.array(self.name, pa.string()),
            "primary_taxonomy_code": pa.array(tax, pa.string()),
            "cms_specialty_code": pa.array(cms, pa.string()),
            "specialty": pa.array(desc, pa.string()),
            "primary_care_flag": pa.array(primary & ~self.is_org),
            "tin": self.tin_arrow,
            "health_system": pa.array(sys_names, pa.string()),
            "partner_network_flag": pa.array(self.system == PARTNER),
            "practice_zip_code": pa.array(zips, pa.string()),
        }
        return aio.build_table("provider", cols, n)


def build_roster(cfg: SynthConfig, members: int, seed: int) -> Roster:
    """The provider roster: partner system, competitors and independents, sized to the book."""
    rng = rng_for(seed, "roster")
    systems = [cfg.partner_system, *cfg.competitor_systems]
    n_comp = len(cfg.competitor_systems)
    n_pcp = max(30, round(members / cfg.members_per_pcp))
    pcp_mix_total = sum(v for k, v in R.CLINICIAN_MIX.items() if R.SPECIALTIES[k][3])

    kinds: list[str] = []
    sys_of: list[int] = []
    is_org: list[bool] = []
    names: list[str] = []
    org_of: list[int] = []  # filled later for clinicians
    tin_key: list[tuple] = []

    n_cities = len(R.ZIPS)

    def add(kind: str, system: int, org: bool, name: str, tkey: tuple) -> int:
        kinds.append(kind)
        sys_of.append(system)
        is_org.append(org)
        names.append(name)
        org_of.append(-1)
        tin_key.append(tkey)
        return len(kinds) - 1

    def system_label(s: int) -> str:
        return systems[s] if s >= 0 else "Independent"

    # facilities of the systems
    facility_count = {
        "hospital": 3,
        "snf": 1,
        "home_health": 1,
        "asc": 1,
        "pharmacy": 2,
        "ambulance": 1,
    }
    clinics: dict[int, list[int]] = {s: [] for s in range(-1, n_comp + 1)}
    city_perm = rng.permutation(n_cities)
    ci = 0
    for s in range(n_comp + 1):
        for kind, cnt in facility_count.items():
            cnt = cnt if s == PARTNER or kind != "hospital" else 2
            for _ in range(cnt):
                city = R.ZIPS[int(city_perm[ci % n_cities])][1]
                ci += 1
                label = {
                    "hospital": f"{systems[s]} {city} Hospital",
                    "snf": f"{systems[s]} {city} Transitional Care",
                    "home_health": f"{systems[s]} Home Care",
                    "asc": f"{systems[s]} {city} Surgery Center",
                    "pharmacy": f"{systems[s]} Pharmacy {city}",
                    "ambulance": f"{systems[s]} Ambulance",
                }[kind]
                add(kind, s, True, label, ("sys", s, "facility"))
        n_clin = max(3, round(n_pcp * (cfg.partner_pcp_share if s == PARTNER else 0.3) / 8))
        for _ in range(n_clin):
            city = R.ZIPS[int(city_perm[ci % n_cities])][1]
            ci += 1
            clinics[s].append(
                add("clinic", s, True, f"{systems[s]} Clinic {city}", ("sys", s, "group"))
            )
    pain_clinic = add(
        "pain_clinic", PARTNER, True, f"{cfg.partner_system} Pain Clinic", ("sys", 0, "group")
    )

    # independent facilities, each its own TIN
    indep = {
        "hospital": 1,
        "snf": 3 + members // 150_000,
        "home_health": 2 + members // 300_000,
        "lab": 2,
        "imaging": 3 + members // 300_000,
        "asc": 1 + members // 500_000,
        "pharmacy": 12 + members // 25_000,
        "ambulance": 2 + members // 250_000,
    }
    for kind, cnt in indep.items():
        for k in range(cnt):
            city = R.ZIPS[int(rng.integers(0, n_cities))][1]
            label = {
                "hospital": f"{city} Community Hospital",
                "snf": f"{city} Care Center",
                "home_health": f"{city} Home Health",
                "lab": ("Midwest Reference Laboratory", "Upper Lakes Clinical Lab")[k % 2],
                "imaging": f"{city} Imaging Center",
                "asc": f"{city} Surgery Center",
                "pharmacy": f"Northland Pharmacy #{100 + k}",
                "ambulance": f"{city} Ambulance Service",
            }[kind]
            i = add(kind, -1, True, label, ("ind", kind, k))
            del i

    # clinicians
    first_all = R.MALE_FIRST + R.FEMALE_FIRST
    clinician_idx: list[int] = []
    for spec, share in R.CLINICIAN_MIX.items():
        primary = R.SPECIALTIES[spec][3]
        if primary:
            count = max(4, round(n_pcp * share / pcp_mix_total))
        else:
            count = max(4, round(n_pcp * share))
        p_partner = cfg.partner_pcp_share if primary else 0.36
        p_comp = 0.34 if primary else 0.40
        u = rng.random(count)
        sys_draw = np.where(
            u < p_partner,
            PARTNER,
            np.where(u < p_partner + p_comp, 1 + rng.integers(0, max(n_comp, 1), count), -1),
        )
        sys_draw[0] = PARTNER
        if count > 1:
            sys_draw[1] = 1 if n_comp else -1
        if count > 2:
            sys_draw[2] = -1
        if n_comp == 0:
            sys_draw = np.where(sys_draw > 0, -1, sys_draw)
        cred = R.SPECIALTIES[spec][4]
        for s in sys_draw:
            fn = first_all[int(rng.integers(0, len(first_all)))]
            ln = R.LAST_NAMES[int(rng.integers(0, len(R.LAST_NAMES)))]
            clinician_idx.append(add(spec, int(s), False, f"{fn} {ln} {cred}", ("pending",)))

    # billing organisations of clinicians
    indep_group: list[int] = []
    for i in clinician_idx:
        s = sys_of[i]
        if kinds[i] == "pain_management" and s == PARTNER:
            org_of[i] = pain_clinic
            tin_key[i] = ("sys", PARTNER, "group")
        elif s >= 0:
            org = clinics[s][int(rng.integers(0, len(clinics[s])))]
            org_of[i] = org
            tin_key[i] = ("sys", s, "group")
        else:
            # independents practise in small groups of up to five
            if not indep_group or rng.random() < 0.3:
                ln = R.LAST_NAMES[int(rng.integers(0, len(R.LAST_NAMES)))]
                city = R.ZIPS[int(rng.integers(0, n_cities))][1]
                label = f"{ln} {city} Medical Associates"
                g = add("clinic", -1, True, label, ("indgrp", len(indep_group)))
                indep_group.append(g)
            org_of[i] = indep_group[-1]
            tin_key[i] = tin_key[indep_group[-1]]
    for i, o in enumerate(org_of):
        if o < 0:
            org_of[i] = i

    n = len(kinds)
    # NPIs: 1xxxxxxxx for individuals, 2xxxxxxxx for organisations, Luhn check digit
    base8 = rng.choice(10**8, size=n, replace=False).astype(np.int64)
    lead = np.where(np.array(is_org), 2, 1).astype(np.int64)
    base9 = lead * 10**8 + base8
    npi = base9 * 10 + luhn_npi_check(base9)
    # TINs: one per key, 9 digits, Minnesota IRS prefix 41
    keys = sorted(set(tin_key), key=str)
    tin_vals = 41 * 10**7 + rng.choice(10**7, size=len(keys), replace=False).astype(np.int64)
    tin_map = {k: int(t) for k, t in zip(keys, tin_vals, strict=True)}
    tin = np.array([tin_map[k] for k in tin_key], dtype=np.int64)
    system = np.array(sys_of, dtype=np.int64)
    zip_idx = rng.integers(0, n_cities, n)
    in_network = np.where(system >= 0, True, rng.random(n) < 0.93)
    price_factor = np.exp(0.10 * rng.standard_normal(n))
    price_factor[system == PARTNER] *= 1.04

    kind_arr = np.array(kinds)
    org_arr = np.array(org_of, dtype=np.int64)
    partner = system == PARTNER
    pools: dict[tuple[str, bool], np.ndarray] = {}
    roles = set(kinds) | {"pcp_adult", "pcp_child"}
    for role in roles:
        if role == "pcp_adult":
            m = np.isin(
                kind_arr,
                [
                    "family_medicine",
                    "internal_medicine",
                    "nurse_practitioner",
                    "physician_assistant",
                    "geriatrics",
                ],
            )
        elif role == "pcp_child":
            m = np.isin(kind_arr, ["pediatrics", "family_medicine"])
        else:
            m = kind_arr == role
        for flag in (True, False):
            sel = np.flatnonzero(m & (partner == flag))
            if len(sel) == 0:
                sel = np.flatnonzero(m)
            pools[(role, flag)] = sel
    del system_label
    return Roster(
        npi=npi,
        is_org=np.array(is_org),
        kind=kinds,
        name=names,
        system=system,
        tin=tin,
        org=org_arr,
        zip_idx=zip_idx,
        in_network=in_network,
        price_factor=price_factor,
        system_names=systems,
        pools=pools,
    )
