"""FHIR R4 MeasureReport export (DEQM summary and subject-list) and the CSV export.

Structure is checked against the FHIR R4 MeasureReport resource (required: status, type, measure,
period; group.population.code from the measure-population code system; subjectResults referencing
a List) and the DEQM profiles (meta.profile, reporter, improvementNotation).
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from payvider.cli import app
from payvider.exports.measure_report import (
    POPULATION_SYSTEM,
    PROFILES,
    subject_list_report,
    summary_report,
    write_csv,
    write_fhir,
)
from payvider.measures.quality.framework import MEMBER_SCHEMA, SUMMARY_SCHEMA
from payvider.measures.quality.hybrid import HBA1C
from payvider.measures.quality.screening import BREAST

START, END = dt.date(2024, 1, 1), dt.date(2024, 12, 31)


def _summary(level, org, den, exc, num):
    row = {n: None for n in SUMMARY_SCHEMA.names}
    eligible = den - exc
    row.update(
        measure_id="breast_cancer_screening",
        period="2024",
        period_start=START,
        period_end=END,
        level=level,
        organization_id=org,
        denominator=den,
        exclusions=exc,
        eligible=eligible,
        numerator=num,
        rate=round(num / eligible, 6),
        small_cell=eligible < 11,
    )
    return row


def _member(m, excluded=False, num=False, measure="breast_cancer_screening"):
    row = {n: None for n in MEMBER_SCHEMA.names}
    row.update(
        measure_id=measure,
        period="2024",
        period_start=START,
        period_end=END,
        member_id=m,
        payer="p",
        in_denominator=True,
        excluded=excluded,
        in_numerator=num,
    )
    return row


TOTAL = _summary("total", "all", 25, 1, 12)  # rate 12 / 24 = 0.5
ORGS = [_summary("organization", "ORG1", 20, 1, 10), _summary("organization", "ORG2", 5, 0, 2)]
MEMBERS = [_member("M1", num=True), _member("M2"), _member("M3", excluded=True, num=True)]
MEMBERS.append(_member("M1", num=True))  # an event measure may list a member twice


def _pops(group) -> dict[str, int]:
    out = {}
    for p in group["population"]:
        [coding] = p["code"]["coding"]
        assert coding["system"] == POPULATION_SYSTEM
        out[coding["code"]] = p["count"]
    return out


def _check_required(r, kind):
    assert r["resourceType"] == "MeasureReport"
    assert re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", r["id"])
    assert r["meta"]["profile"] == [PROFILES[kind]]
    assert (r["status"], r["type"]) == ("complete", kind)
    assert r["measure"].endswith("breast_cancer_screening")
    assert r["period"] == {"start": "2024-01-01", "end": "2024-12-31"}
    assert r["reporter"]["display"]
    assert len(r["group"]) == 1


def test_summary_report_counts_score_and_strata():
    r = summary_report(BREAST, TOTAL, ORGS)
    _check_required(r, "summary")
    [group] = r["group"]
    assert _pops(group) == {
        "initial-population": 25,
        "denominator": 25,
        "denominator-exclusion": 1,
        "numerator": 12,
    }
    assert group["measureScore"] == {"value": 0.5}
    [strat] = group["stratifier"]
    # ORG2 has 5 eligible members (< 11): suppressed
    assert [s["value"]["text"] for s in strat["stratum"]] == ["ORG1"]
    assert _pops(strat["stratum"][0])["numerator"] == 10
    assert strat["stratum"][0]["measureScore"] == {"value": round(10 / 19, 6)}
    coding = r["improvementNotation"]["coding"][0]
    assert coding["code"] == "increase"
    assert summary_report(HBA1C, TOTAL, [])["improvementNotation"]["coding"][0]["code"] == (
        "decrease"
    )


def test_subject_list_references_contained_lists_of_patients():
    r = subject_list_report(BREAST, TOTAL, MEMBERS)
    _check_required(r, "subject-list")
    lists = {c["id"]: c for c in r["contained"]}
    for p in r["group"][0]["population"]:
        ref = p["subjectResults"]["reference"]
        assert ref.startswith("#") and ref[1:] in lists
        lst = lists[ref[1:]]
        assert (lst["resourceType"], lst["status"], lst["mode"]) == ("List", "current", "snapshot")
        for e in lst["entry"]:
            assert e["item"]["type"] == "Patient"
    members = {k: [e["item"]["identifier"]["value"] for e in v["entry"]] for k, v in lists.items()}
    # M1 twice (two events), M2, M3 excluded; numerator: M1's two events, not excluded M3
    assert members == {
        "initial-population": ["M1", "M2", "M3"],
        "denominator": ["M1", "M2", "M3"],
        "denominator-exclusion": ["M3"],
        "numerator": ["M1"],
    }
    assert _pops(r["group"][0]) == {
        "initial-population": 4,
        "denominator": 4,
        "denominator-exclusion": 1,
        "numerator": 2,
    }


def test_files_per_measure_and_period(tmp_path):
    summary = pa.Table.from_pylist([TOTAL, *ORGS], schema=SUMMARY_SCHEMA.to_pyarrow())
    members = pa.Table.from_pylist(MEMBERS, schema=MEMBER_SCHEMA.to_pyarrow())
    paths = write_fhir(summary, members, {BREAST.id: BREAST}, tmp_path / "fhir")
    assert sorted(p.name for p in paths) == [
        "breast-cancer-screening-2024-subject-list.json",
        "breast-cancer-screening-2024-summary.json",
    ]
    assert json.loads(paths[0].read_text())["resourceType"] == "MeasureReport"
    csv_paths = write_csv(summary, members, tmp_path / "csv")
    lines = csv_paths[0].read_text().splitlines()
    assert len(lines) == 4 and lines[0].startswith('"measure_id","period"')
    assert len(csv_paths[1].read_text().splitlines()) == 5


@pytest.fixture
def run_ws(workspace, canonical_dir):
    from payvider.engine.runs import run_pipeline
    from payvider.ingest import load_batch

    load_batch(workspace, canonical_dir)
    run_pipeline(workspace)
    return workspace


def test_cli_export_measures(run_ws, tmp_path):
    runner = CliRunner()
    ws = str(run_ws.root)
    res = runner.invoke(app, ["export", "measures", "-w", ws, "--out", str(tmp_path / "c")])
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        app, ["export", "measures", "-w", ws, "--out", str(tmp_path / "c"), "--format", "csv"]
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "c" / "measure_summary.csv").exists()
    res = runner.invoke(
        app, ["export", "measures", "-w", ws, "--out", str(tmp_path / "d"), "--measure", "nope"]
    )
    assert res.exit_code == 2
    assert "no measure 'nope'" in res.output
