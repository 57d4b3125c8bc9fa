"""Attribution against hand-computed answers (tests/fixtures/attribution/SOURCE.txt), on each engine."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from payvider.engine.runs import canonical_inputs
from payvider.ingest import load_batch
from payvider.marts.attribution import attribute_members
from payvider.marts.attribution_rules import AttributionRules, AttributionRulesError
from payvider.marts.final_claims import resolve_adjustments
from payvider.marts.member_months import member_months
from payvider.marts.membership import attribution_churn

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "attribution"
P1, P2, P3, S1 = "1234567893", "1987654328", "1555555550", "1666666668"
PARTNER_TIN, RIVAL_TIN, CARDIO_TIN = "410000001", "420000002", "430000003"


@pytest.fixture
def loaded(workspace, tmp_path):
    src = tmp_path / "attribution"
    shutil.copytree(FIXTURE, src)
    load_batch(workspace, src)
    return workspace


def _attribute(engine, ws, rules=None, years=(2023, 2024)):
    t = canonical_inputs(engine, ws)
    expr = attribute_members(
        resolve_adjustments(t["medical_claim"]),
        t["eligibility"],
        member_months(t["eligibility"]),
        t["provider"],
        list(years),
        rules,
    )
    rows = engine.to_arrow(expr).to_pylist()
    return {(r["period"], r["member_id"]): r for r in rows}, expr


def test_mssp_defaults(engine, loaded):
    got, _ = _attribute(engine, loaded)
    assert len(got) == 10  # 8 members in 2024 + F and I in 2023; everyone eligible has a row

    def brief(key):
        r = got[key]
        return (
            r["rule"],
            r["organization_id"],
            r["clinician_npi"],
            r["winning_value"],
            r["total_value"],
            r["winning_share"],
            r["runner_up_organization"],
        )

    assert brief((2024, "A")) == (
        "step1_primary_care",
        RIVAL_TIN,
        P3,
        Decimal("200.00"),
        Decimal("350.00"),
        0.571429,
        PARTNER_TIN,
    )
    assert got[(2024, "A")]["runner_up_share"] == 0.428571
    # tie in dollars: the most recent service wins
    assert brief((2024, "B"))[:3] == ("step1_primary_care", RIVAL_TIN, P3)
    assert got[(2024, "B")]["winning_share"] == 0.5
    # the chosen PCP overrides claims
    assert brief((2024, "C"))[:3] == ("voluntary_alignment", PARTNER_TIN, P2)
    assert got[(2024, "C")]["step"] == 0
    # only specialist care: step 2; the orthopedic surgeon does not count
    assert brief((2024, "D")) == (
        "step2_specialist",
        CARDIO_TIN,
        S1,
        Decimal("200.00"),
        Decimal("350.00"),
        0.571429,
        PARTNER_TIN,
    )
    # no qualifying care: unattributed, but counted
    assert got[(2024, "E")]["rule"] == "unattributed"
    assert got[(2024, "E")]["organization_id"] is None
    # look-back boundary: the 2023-12-31 visit is outside the 2024 window
    assert brief((2024, "F"))[:5] == (
        "step1_primary_care",
        RIVAL_TIN,
        P3,
        Decimal("50.00"),
        Decimal("50.00"),
    )
    # the voided 300.00 visit does not count
    assert brief((2024, "G"))[:4] == ("step1_primary_care", RIVAL_TIN, P3, Decimal("40.00"))
    # tie in dollars and date: lowest organization id
    assert brief((2024, "H"))[:3] == ("step1_primary_care", PARTNER_TIN, P1)
    assert brief((2023, "F"))[:4] == ("step1_primary_care", PARTNER_TIN, P1, Decimal("100.00"))
    assert brief((2023, "I"))[:4] == ("step1_primary_care", PARTNER_TIN, P2, Decimal("175.00"))
    assert got[(2024, "C")]["partner_flag"] is True
    assert got[(2024, "A")]["partner_flag"] is False


def test_24_month_lookback_reaches_back(duckdb_engine, loaded):
    got, _ = _attribute(duckdb_engine, loaded, AttributionRules(lookback_months=24), years=(2024,))
    assert (got[(2024, "F")]["organization_id"], got[(2024, "F")]["winning_value"]) == (
        PARTNER_TIN,
        Decimal("100.00"),
    )


def test_prospective_uses_the_prior_year(duckdb_engine, loaded):
    got, _ = _attribute(duckdb_engine, loaded, AttributionRules(mode="prospective"), years=(2024,))
    # the window is 2023: only F's 2023-12-31 visit and I's wellness visit (I not enrolled 2024)
    attributed = {k[1]: r["organization_id"] for k, r in got.items() if r["rule"] != "unattributed"}
    assert attributed == {"F": PARTNER_TIN, "C": PARTNER_TIN}  # C by voluntary alignment


def test_commercial_preset_counts_visits_per_health_system(duckdb_engine, loaded):
    got, _ = _attribute(duckdb_engine, loaded, AttributionRules.preset("commercial"), years=(2024,))
    a = got[(2024, "A")]
    assert (a["organization_id"], a["winning_value"], a["total_value"], a["basis"]) == (
        "Rival Health",
        Decimal("2.00"),
        Decimal("3.00"),
        "visits",
    )
    # one visit each with S1 (no health system: its TIN stands in) and S2 (Partner Health):
    # the most recent visit (S2, 2024-04-04) breaks the tie
    assert (got[(2024, "D")]["organization_id"], got[(2024, "D")]["runner_up_organization"]) == (
        "Partner Health",
        CARDIO_TIN,
    )


def test_rules_order_and_subset(duckdb_engine, loaded):
    got, _ = _attribute(
        duckdb_engine, loaded, AttributionRules(rules=["step1_primary_care"]), years=(2024,)
    )
    assert got[(2024, "C")]["rule"] == "step1_primary_care"  # no voluntary alignment now
    assert got[(2024, "C")]["organization_id"] == RIVAL_TIN
    assert got[(2024, "D")]["rule"] == "unattributed"  # no step 2


def test_churn(duckdb_engine, loaded):
    _, expr = _attribute(duckdb_engine, loaded)
    churn = duckdb_engine.to_arrow(attribution_churn(expr)).to_pylist()
    got = {(r["status"], r["partner_before"], r["partner_after"]): r["members"] for r in churn}
    assert got == {
        ("newly_attributed", False, False): 4,  # A, B, D, G
        ("newly_attributed", False, True): 2,  # C, H
        ("no_longer_attributed", True, False): 1,  # I left
        ("switched", True, False): 1,  # F moved from the partner to the rival
    }


def test_rules_file_errors_are_collected(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("lookback_months: 18\nbasis: dollars\nmode: retrospective\n")
    with pytest.raises(AttributionRulesError) as exc:
        AttributionRules.from_yaml(path)
    assert "lookback_months" in str(exc.value) and "basis" in str(exc.value)
    path.write_text("preset: commercial\nlookback_months: 24\n")
    rules = AttributionRules.from_yaml(path)
    assert (rules.basis, rules.lookback_months, rules.organization_level) == (
        "visits",
        24,
        "health_system",
    )
