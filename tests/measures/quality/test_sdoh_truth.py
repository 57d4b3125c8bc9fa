"""On a generated population (20,000 members, seed 7): the planted SDOH effects are recovered.

The generator screens a share of the partner system's patients with an office visit in each year
(``screening_rate_by_year``), records each domain positive when the member has the need — with
3 % of answers flipped either way — and refers each positive domain with ``referral_rate``.
So the measured positive rate of a domain is about 0.97·p + 0.03·(1 − p) = 0.94·p + 0.03 for a
planted prevalence p.

Tolerances (absolute): screening rate per year within 0.025 of the planted rate (about 6,000
members a year: a standard error near 0.006); positive rate per domain, over all screenings,
within 0.005 of the generator's realized rate (the same screenings: only unlinked patients could
differ) and within 0.015 of 0.94·p + 0.03; referral rate within 0.03 per year and 0.015 overall.
"""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from payvider.engine.runs import run_pipeline
from payvider.engine.workspace import Workspace
from payvider.ingest import load_batch
from payvider.synth import generate_population

SCREENING_TOL = 0.025
POSITIVE_REALIZED_TOL = 0.005
PREVALENCE_TOL = 0.015
REFERRAL_YEAR_TOL = 0.03
REFERRAL_TOL = 0.015
FLIP = 0.03


@pytest.fixture(scope="module")
def sdoh_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("sdoh")
    generate_population(root / "data", members=20_000, seed=7)
    ws = Workspace(root / "ws", create=True)
    load_batch(ws, root / "data")
    run = run_pipeline(ws).path
    truth = json.loads((root / "data" / "truth" / "truth.json").read_text())["effects"]["sdoh"]
    summary = [
        r
        for r in pq.read_table(run / "quality_summary.parquet").to_pylist()
        if r["level"] == "total"
    ]
    domains = [
        r for r in pq.read_table(run / "sdoh_summary.parquet").to_pylist() if r["level"] == "total"
    ]
    return truth, summary, domains


def test_screening_rate_by_year_is_recovered(sdoh_run):
    truth, summary, _ = sdoh_run
    got = {r["period"]: r["rate"] for r in summary if r["measure_id"] == "sdoh_screening"}
    planted = truth["screening_rate_by_year"]
    assert set(got) == set(planted)
    for year, rate in planted.items():
        assert abs(got[year] - rate) < SCREENING_TOL, (year, got[year], rate)


def test_positive_rate_by_domain_recovers_prevalence(sdoh_run):
    truth, _, domains = sdoh_run
    screenings: dict[str, int] = {}
    positive: dict[str, int] = {}
    for r in domains:
        screenings[r["domain"]] = screenings.get(r["domain"], 0) + r["screenings"]
        positive[r["domain"]] = positive.get(r["domain"], 0) + r["positive_screenings"]
    assert screenings["any"] == truth["screenings"]
    for domain, p in truth["planted_prevalence"].items():
        rate = positive[domain] / screenings[domain]
        realized = truth["positive_rate_among_screened"][domain]
        assert abs(rate - realized) < POSITIVE_REALIZED_TOL, (domain, rate, realized)
        expected = (1 - 2 * FLIP) * p + FLIP
        assert abs(rate - expected) < PREVALENCE_TOL, (domain, rate, expected)


def test_referral_rate_among_positives_is_recovered(sdoh_run):
    truth, summary, domains = sdoh_run
    rows = [r for r in summary if r["measure_id"] == "sdoh_referral"]
    assert len(rows) == 3
    for r in rows:
        assert abs(r["rate"] - truth["referral_rate"]) < REFERRAL_YEAR_TOL, r
    num = sum(r["numerator"] for r in rows)
    den = sum(r["eligible"] for r in rows)
    assert abs(num / den - truth["referral_rate"]) < REFERRAL_TOL
    # the member-level measure and the domain table count the same positive needs
    per_domain = sum(r["positive_screenings"] for r in domains if r["domain"] != "any")
    assert per_domain == den
