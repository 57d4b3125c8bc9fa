"""The planted truth is consistent with the data: each effect can be recovered from the tables."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from payvider.synth import OUTPUT_TABLES, SynthConfig
from payvider.synth import refdata as R

from .conftest import effects_config
from .helpers import truth

PRIMARY_CARE_CODES = (
    "'99202','99203','99204','99205','99211','99212','99213','99214','99215',"
    "'G0438','G0439','99381','99382','99383','99384','99385','99386','99387',"
    "'99391','99392','99393','99394','99395','99396','99397','99495','99496'"
)


def _pcp_visits(db):
    """Primary-care visits per member, year and clinician, counted from final claims."""
    return f"""
        select member_id, year(claim_start_date) as year, rendering_npi as npi,
               count(distinct claim_id) as visits
        from final_claim f join provider p on p.npi = f.rendering_npi
        where p.primary_care_flag and f.claim_type = 'professional'
          and f.hcpcs_code in ({PRIMARY_CARE_CODES})
        group by all
    """


def test_true_pcp_gets_the_plurality_of_primary_care_visits(db) -> None:
    share, n = db.execute(
        f"""
        with v as ({_pcp_visits(db)}),
             top as (select member_id, year, arg_max(npi, visits) as npi, max(visits) as top,
                            sum(visits) as total,
                            count(*) filter (where visits = (select 0)) as z
                     from v group by 1, 2),
             ties as (select member_id, year from v
                      join top using (member_id, year) where v.visits = top.top
                      group by 1, 2 having count(*) > 1)
        select avg(case when t.npi = p.pcp_npi then 1 else 0 end), count(*)
        from top t join true_pcp p using (member_id, year)
        where t.total >= 2 and (member_id, year) not in (select member_id, year from ties)
        """
    ).fetchone()
    cfg = SynthConfig()
    assert n > 500
    assert share >= cfg.pcp_loyalty + 0.05  # loyalty 0.8: the plurality is the true PCP ~9 in 10


def test_true_pcp_visit_counts_agree_with_claims(db) -> None:
    agree = db.execute(
        f"""
        with v as ({_pcp_visits(db)})
        select avg(case when coalesce(v.visits, 0) = p.true_pcp_visits then 1 else 0 end)
        from true_pcp p left join v on v.member_id = p.member_id and v.year = p.year
                                   and v.npi = p.pcp_npi
        """
    ).fetchone()[0]
    assert agree >= 0.95  # voided claims and claims paid after as_of explain the rest


def test_leakage_is_recovered_from_claims(db, population: Path) -> None:
    t = truth(population)["effects"]["leakage"]
    recovered = db.execute(
        """
        with home as (select distinct member_id from true_pcp where partner_flag)
        select sum(allowed_amount) filter (where not p.partner_network_flag) / sum(allowed_amount)
        from final_claim f join home using (member_id) join provider p on p.npi = f.billing_npi
        """
    ).fetchone()[0]
    recovered = float(recovered)
    assert recovered == pytest.approx(t["realized_share"], abs=0.02)
    assert t["realized_share"] == pytest.approx(t["planted_share"], abs=0.08)


def _readmission_by_hospital(con, start: str) -> dict:
    rows = con.execute(
        f"""
        with s as (select distinct f.member_id, f.claim_id, f.admission_date as adm,
                          f.discharge_date as dis, f.drg_code,
                          f.discharge_disposition_code as disp, p.partner_network_flag as partner
                   from final_claim f join provider p on p.npi = f.billing_npi
                   where f.bill_type_code = '111'),
             o as (select *, lead(adm) over (partition by member_id order by adm) as nxt from s)
        select partner, dis >= date '{start}' as post, count(*),
               count(*) filter (where nxt - dis between 1 and 30)
        from o
        where drg_code not in ('807', '788', '795') and disp not in ('20', '02', '07')
          and dis <= date '2025-12-01'
        group by 1, 2
        """
    ).fetchall()
    return {(r[0], r[1]): (r[2], r[3]) for r in rows}


def test_readmission_reduction_is_visible(edb, effects_population: Path) -> None:
    cfg = effects_config()
    t = truth(effects_population)["effects"]["readmission"]
    r = _readmission_by_hospital(edb, cfg.readmission.program_start.isoformat())
    rate = {k: v[1] / v[0] for k, v in r.items()}
    pre, post = rate[(True, False)], rate[(True, True)]
    other_pre, other_post = rate[(False, False)], rate[(False, True)]
    # partner hospitals improve after the program, other hospitals do not
    assert post < 0.75 * pre
    assert other_post > 0.8 * other_pre
    # difference in differences close to the planted relative reduction
    did = 1 - (post / pre) / (other_post / other_pre)
    assert did == pytest.approx(cfg.readmission.relative_reduction, abs=0.25)
    # the truth's realised counts agree with what the claims show (claims paid after as_of aside)
    for (partner, is_post), (idx, readm) in r.items():
        key = f"{'partner' if partner else 'other'}_{'post' if is_post else 'pre'}"
        assert idx == pytest.approx(t["realized"][key]["index_discharges"], rel=0.03)
        assert readm / idx == pytest.approx(t["realized"][key]["rate"], abs=0.02)
    # and primary-care follow-up within 7 days rises at partner hospitals
    f = t["followup_7d"]
    assert f["partner_post"] > f["partner_pre"] + 0.1


def test_opioid_taper_outcomes_are_recovered_from_pharmacy_claims(edb, effects_population) -> None:
    """Daily MME of each fill (strength x quantity / days supply x CDC factor) before the taper
    and in the last 120 days of data classifies the planned outcome of the cohort."""
    mme = ", ".join(f"('{ndc}', {v[1] * v[3]})" for ndc, v in R.OPIOID_NDCS.items())
    edb.execute(
        f"create or replace temp table mme_per_unit as select * from (values {mme}) t(ndc, mme)"
    )
    end = SynthConfig().end_date.isoformat()
    rows = edb.execute(
        f"""
        with fills as (
            select member_id, dispensing_date as d, quantity * m.mme / days_supply as daily
            from pharmacy_claim c join mme_per_unit m on m.ndc = c.ndc_code
            where adjustment_type = 'original' and days_supply >= 28
              and claim_id not in (select adjusted_claim_id from pharmacy_claim
                                   where adjusted_claim_id is not null))
        select c.member_id, c.planned_outcome,
               (select avg(daily) from fills f where f.member_id = c.member_id
                  and f.d >= c.taper_start - 120 and f.d < c.taper_start) as base,
               (select coalesce(avg(daily), 0) from fills f where f.member_id = c.member_id
                  and f.d > date '{end}' - 120) as last
        from opioid_taper c where c.cohort and c.program
        """
    ).fetchall()
    assert len(rows) >= 25

    def classify(base: float, last: float) -> str:
        if last == 0:
            return "discontinued"
        return "reduced" if last <= 0.8 * base else "maintained"

    agree = sum(classify(float(b), float(last)) == o for _m, o, b, last in rows) / len(rows)
    assert agree >= 0.9
    n = len(rows)
    reduced = sum(1 for r in rows if r[1] == "reduced") / n
    stopped = sum(1 for r in rows if r[1] == "discontinued") / n
    cfg = effects_config()
    assert reduced == pytest.approx(cfg.opioid.taper_reduced_share, abs=0.15)
    assert stopped == pytest.approx(cfg.opioid.taper_discontinued_share, abs=0.12)
    t = truth(effects_population)["effects"]["opioid_taper"]["realized"]["program"]
    assert t["members"] == n
    assert t["reduced_share"] == pytest.approx(reduced)


def test_member_patient_links_and_their_corruption(db, population: Path) -> None:
    rows = db.execute(
        """
        with e as (select member_id, any_value(first_name) as fn, any_value(last_name) as ln,
                          any_value(birth_date) as b, arg_max(address, enrollment_start_date) as addr
                   from eligibility group by 1)
        select l.corruption, count(*),
               count(*) filter (where p.first_name = e.fn), count(*) filter (where p.last_name = e.ln),
               count(*) filter (where p.birth_date = e.b), count(*) filter (where p.address = e.addr)
        from true_links l join e using (member_id) join patient p using (patient_id)
        group by 1
        """
    ).fetchall()
    by = {r[0]: r[1:] for r in rows}
    n, fn, ln, b, addr = by["none"]
    assert n == fn == ln == b == addr
    assert by["typo_first_name"][1] == 0 and by["typo_first_name"][2] == by["typo_first_name"][0]
    assert by["typo_last_name"][2] == 0
    assert by["nickname"][1] == 0
    assert by["address_change"][4] == 0
    assert by["birth_date_error"][3] == 0
    nick = db.execute(
        """select e.first_name, p.first_name from true_links l
           join (select member_id, any_value(first_name) as first_name from eligibility group by 1) e
             using (member_id)
           join patient p using (patient_id) where l.corruption = 'nickname'"""
    ).fetchall()
    assert all(R.NICKNAMES[a] == b for a, b in nick)
    t = truth(population)["effects"]["linkage"]
    linked = db.execute("select count(*) from true_links").fetchone()[0]
    patients = db.execute("select count(*) from patient").fetchone()[0]
    assert t["linked_patients"] == linked
    assert patients == linked + t["non_member_patients"]
    assert sum(t["corruption_counts"].values()) == linked


def test_sdoh_needs_found_by_screening(db, population: Path) -> None:
    t = truth(population)["effects"]["sdoh"]
    rows = db.execute(
        "select domain, avg(case when positive_flag then 1 else 0 end) from sdoh_screening group by 1"
    ).fetchall()
    for domain, rate in rows:
        assert rate == pytest.approx(t["positive_rate_among_screened"][domain], abs=1e-6)
        # screening is independent of needs: positives ~ prevalence (plus ~3 % false positives)
        assert rate == pytest.approx(
            t["realized_prevalence_linked_patients"][domain] + 0.02, abs=0.05
        )
    for domain, p in t["planted_prevalence"].items():
        assert t["realized_prevalence_all_members"][domain] == pytest.approx(p, abs=0.03)


def test_cost_trend_is_planted_in_unit_prices(db) -> None:
    cfg = SynthConfig()
    rows = db.execute(
        """
        with home as (select distinct member_id, partner_flag from true_pcp)
        select h.partner_flag, year(claim_start_date) as y, avg(allowed_amount)
        from final_claim f join home h using (member_id) join member_line l using (member_id)
        where l.product_line = 'commercial' and f.hcpcs_code in ('99213', '99214')
          and f.adjustment_type = 'original'
        group by 1, 2
        """
    ).fetchall()
    avg = {(r[0], r[1]): float(r[2]) for r in rows}
    other = (avg[(False, 2025)] / avg[(False, 2023)]) ** 0.5 - 1
    partner = (avg[(True, 2025)] / avg[(True, 2023)]) ** 0.5 - 1
    assert other == pytest.approx(cfg.market_trend, abs=0.02)
    assert partner == pytest.approx(cfg.partner_trend, abs=0.02)
    assert (other - partner) * 100 == pytest.approx(6.0, abs=2.5)


def test_recent_months_are_incomplete(db, population: Path) -> None:
    cfg = SynthConfig()
    lag = db.execute(
        """select quantile_cont(paid_date - claim_end_date, 0.5),
                  quantile_cont(paid_date - claim_end_date, 0.95), max(paid_date)
           from medical_claim where adjustment_type = 'original'"""
    ).fetchone()
    assert 10 <= lag[0] <= 40 and lag[1] >= 60  # heavy tail
    assert lag[2] <= cfg.as_of_date
    t = truth(population)["effects"]["claims_completion"]
    assert t["lines_paid_after_as_of"] > 0


def test_truth_json_records_the_run(population: Path) -> None:
    t = truth(population)
    assert t["seed"] == 11 and t["members"] == 4_000
    assert SynthConfig.model_validate(t["config"]) == SynthConfig()
    for table in OUTPUT_TABLES:
        assert t["counts"][table] == pq.read_metadata(population / f"{table}.parquet").num_rows
    effects = t["effects"]
    assert effects["cost_trend"]["points_below_market"] == pytest.approx(6.0)
    assert set(effects) >= {
        "cost_trend",
        "leakage",
        "readmission",
        "opioid_taper",
        "sdoh",
        "pcp",
        "linkage",
    }
    assert (
        dt.date.fromisoformat(effects["readmission"]["program_start"])
        == SynthConfig().readmission.program_start
    )
