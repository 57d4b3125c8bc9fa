"""Utilisation and quality rates of the default book fall within published ranges.

Ranges are wide enough for a 4,000-member book's sampling noise and the spread between
published sources; each cites where its centre comes from.
"""

from __future__ import annotations

import pytest


def _per_1000(db) -> dict[str, tuple[float, float, float]]:
    rows = db.execute(
        """
        with mm as (select product_line, count(*) as mm
                    from (select distinct member_id, product_line, month from member_months)
                    group by 1),
             c as (select f.*, l.product_line from final_claim f join member_line l using (member_id))
        select product_line,
               12000.0 * count(distinct claim_id) filter (where bill_type_code = '111') / mm,
               12000.0 * count(distinct claim_id)
                   filter (where bill_type_code = '131' and revenue_center_code = '0450') / mm,
               avg(discharge_date - admission_date) filter (where bill_type_code = '111')
        from c join mm using (product_line) group by product_line, mm
        """
    ).fetchall()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


# HCCI Health Care Cost and Utilization Report (2021): ~50 inpatient admissions per 1,000
# commercially insured; KFF / MedPAC (2023 data book): ~250 per 1,000 Medicare Advantage
# enrollees (FFS ~270); MACPAC / HCUP: ~80-110 per 1,000 Medicaid enrollees, births included.
ADMITS = {"commercial": (35, 75), "medicare_advantage": (180, 320), "medicaid": (55, 130)}
# HCCI (2021): ~170 ER visits per 1,000 commercial; MedPAC: ~400-550 per 1,000 Medicare
# beneficiaries; MACPAC / CDC NHAMCS: ~500-900 per 1,000 Medicaid enrollees.
ED = {"commercial": (120, 250), "medicare_advantage": (300, 600), "medicaid": (400, 900)}


@pytest.mark.parametrize("line", sorted(ADMITS))
def test_inpatient_admissions_per_1000(db, line: str) -> None:
    lo, hi = ADMITS[line]
    assert lo <= _per_1000(db)[line][0] <= hi


@pytest.mark.parametrize("line", sorted(ED))
def test_ed_visits_per_1000(db, line: str) -> None:
    lo, hi = ED[line]
    assert lo <= _per_1000(db)[line][1] <= hi


def test_average_length_of_stay(db) -> None:
    # HCUP National Inpatient Sample (2019): mean length of stay 4.6 days.
    for line, (_a, _e, los) in _per_1000(db).items():
        assert 2.5 <= los <= 6.5, line


def _readmissions(db) -> dict:
    rows = db.execute(
        """
        with s as (select distinct member_id, claim_id, admission_date as adm,
                          discharge_date as dis, drg_code, discharge_disposition_code as disp
                   from final_claim where bill_type_code = '111'),
             o as (select *, lead(adm) over (partition by member_id order by adm) as nxt from s)
        select coalesce(l.product_line, 'all'), count(*),
               count(*) filter (where nxt - dis between 1 and 30)
        from o join member_line l using (member_id)
        where drg_code not in ('807', '788', '795') and disp not in ('20', '02', '07')
          and dis <= date '2025-12-01'
        group by rollup (l.product_line)
        """
    ).fetchall()
    return {r[0]: r[2] / r[1] for r in rows}


def test_30_day_readmission_rates(db) -> None:
    # HCUP Statistical Brief #248 (2016): all-cause 30-day readmissions 14.0 % overall;
    # Medicare 17.1 %, Medicaid 14.7 %, private insurance 8.7 %.
    r = _readmissions(db)
    assert 0.10 <= r["all"] <= 0.20
    assert 0.04 <= r["commercial"] <= 0.14
    assert 0.12 <= r["medicare_advantage"] <= 0.23


def test_breast_cancer_screening_rate(db) -> None:
    # NCQA State of Healthcare Quality, HEDIS MY2022 BCS-E: ~71 % commercial, ~70 % Medicare
    # Advantage. Women 52-74, enrolled Oct 1 2023 - Dec 31 2025, a mammogram in that window.
    rate = db.execute(
        """
        with e as (select member_id, min(enrollment_start_date) as s, max(enrollment_end_date) as e,
                          any_value(gender) as g, any_value(birth_date) as b,
                          any_value(product_line) as pl
                   from eligibility group by 1),
             den as (select * from e
                     where g = 'female' and pl in ('commercial', 'medicare_advantage')
                       and date_diff('year', b, date '2025-12-31') between 52 and 74
                       and s <= date '2023-10-01' and e >= date '2025-12-31'),
             num as (select distinct member_id from final_claim
                     where hcpcs_code = '77067'
                       and claim_start_date between date '2023-10-01' and date '2025-12-31')
        select avg(case when num.member_id is not null then 1 else 0 end)
        from den left join num using (member_id)
        """
    ).fetchone()[0]
    assert 0.60 <= rate <= 0.82


def test_colorectal_cancer_screening_rate_with_ehr_history(db) -> None:
    # NCQA HEDIS MY2022 COL-E: ~58 % commercial (ages 45-75), ~70 % Medicare. Claims cover three
    # years; the partner EHR holds earlier colonoscopies (10-year look-back) of its patients.
    rate = db.execute(
        """
        with e as (select member_id, min(enrollment_start_date) as s, max(enrollment_end_date) as e,
                          any_value(birth_date) as b from eligibility group by 1),
             den as (select e.*, l.patient_id from e join true_links l using (member_id)
                     where date_diff('year', b, date '2025-12-31') between 46 and 75
                       and s <= date '2024-01-01' and e >= date '2025-12-31'),
             claims as (select distinct member_id from final_claim
                        where hcpcs_code in ('45378', '45380', 'G0121', '81528')
                           or (hcpcs_code = '82274' and claim_start_date >= date '2025-01-01')),
             ehr as (select distinct patient_id from procedure
                     where source_code in ('45378', '45380', 'G0121')
                       and procedure_date >= date '2016-01-01')
        select avg(case when c.member_id is not null or x.patient_id is not null then 1 else 0 end)
        from den left join claims c using (member_id) left join ehr x using (patient_id)
        """
    ).fetchone()[0]
    assert 0.45 <= rate <= 0.80


def test_telehealth_share_of_office_visits(db) -> None:
    # FAIR Health Monthly Telehealth Regional Tracker and Epic Research (2023): telehealth
    # ~5-10 % of outpatient E/M visits after the pandemic peak.
    share = db.execute(
        """select avg(case when place_of_service_code in ('02', '10') then 1 else 0 end)
           from final_claim where hcpcs_code between '99202' and '99215'"""
    ).fetchone()[0]
    assert 0.03 <= share <= 0.15


def test_hba1c_and_blood_pressure_control(db) -> None:
    # NCQA HEDIS MY2022: glycemic status < 8.0 % ~55-70 % (GSD), controlling high blood pressure
    # < 140/90 ~60-70 % (CBP). Last value in 2025 among patients with the condition on the list.
    a1c = db.execute(
        """
        with dm as (select distinct patient_id from condition where source_code = 'E119'),
             last as (select patient_id, arg_max(numeric_result, observation_date) as v
                      from observation where source_code = '4548-4'
                        and year(observation_date) = 2025 group by 1)
        select avg(case when v < 8 then 1 else 0 end) from last join dm using (patient_id)
        """
    ).fetchone()[0]
    bp = db.execute(
        """
        with h as (select distinct patient_id from condition where source_code = 'I10'),
             s as (select patient_id, observation_date as d,
                          max(numeric_result) filter (where source_code = '8480-6') as sbp,
                          max(numeric_result) filter (where source_code = '8462-4') as dbp
                   from observation where source_code in ('8480-6', '8462-4')
                     and year(observation_date) = 2025 group by 1, 2),
             last as (select patient_id, arg_max(sbp, d) as sbp, arg_max(dbp, d) as dbp
                      from s group by 1)
        select avg(case when sbp < 140 and dbp < 90 then 1 else 0 end)
        from last join h using (patient_id)
        """
    ).fetchone()[0]
    assert 0.50 <= a1c <= 0.85
    assert 0.50 <= bp <= 0.80


def test_chronic_condition_prevalence_rises_with_age(db) -> None:
    # CDC NCHS: diagnosed diabetes ~4 % at 18-44, ~15 % at 45-64, ~25 % at 65+.
    rows = db.execute(
        """
        with m as (select member_id, any_value(birth_date) as b from eligibility group by 1),
             dm as (select distinct member_id from final_claim f
                    join medical_claim_diagnosis d using (claim_id)
                    where d.diagnosis_code = 'E119')
        select case when date_diff('year', b, date '2023-01-01') < 45 then 'young'
                    when date_diff('year', b, date '2023-01-01') < 65 then 'middle'
                    else 'old' end as band,
               avg(case when dm.member_id is not null then 1 else 0 end)
        from m left join dm using (member_id) group by 1
        """
    ).fetchall()
    p = dict(rows)
    assert p["young"] < p["middle"] < p["old"]
    assert 0.12 <= p["old"] <= 0.40
