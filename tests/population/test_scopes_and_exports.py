"""Scopes, the attribution CLI and the attributed-roster exports on the hand-made fixture."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from payvider.cli import app
from payvider.population.scopes import ScopeError, load_scopes
from tests.conftest import FIXTURES

runner = CliRunner()


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    path = tmp_path_factory.mktemp("scopes") / "ws"
    assert (
        runner.invoke(app, ["ingest", "-w", str(path), str(FIXTURES / "attribution")]).exit_code
        == 0
    )
    assert runner.invoke(app, ["run", "-w", str(path)]).exit_code == 0
    return path


def _json(args):
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_attribution_summary(ws):
    rows = _json(["attribution", "-w", str(ws), "--json"])
    got = {(r["period"], r["rule"]): (r["members"], r["partner_members"]) for r in rows}
    assert got == {
        (2023, "step1_primary_care"): (2, 2),
        (2024, "step1_primary_care"): (5, 1),  # A B F G to the rival, H to the partner
        (2024, "step2_specialist"): (1, 0),
        (2024, "unattributed"): (1, 0),
        (2024, "voluntary_alignment"): (1, 1),
    }


def test_attribution_with_other_rules(ws, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules: [step1_primary_care]\nperiods: [2024]\n")
    rows = _json(["attribution", "-w", str(ws), "--rules", str(rules), "--json"])
    got = {(r["period"], r["rule"]): r["members"] for r in rows}
    assert got == {(2024, "step1_primary_care"): 6, (2024, "unattributed"): 2}


def test_scopes_side_by_side(ws, tmp_path):
    scopes = tmp_path / "scopes.yaml"
    scopes.write_text(
        "scopes:\n  - name: rival_2024\n    organizations: ['420000002']\n"
        "    start: 2024-01-01\n    end: 2024-12-31\n"
    )
    rows = {
        r["scope"]: r for r in _json(["scopes", "-w", str(ws), "--scopes", str(scopes), "--json"])
    }
    # everyone: 7 members × 12 months in 2024 + F 24 months + I 12 months
    assert (rows["all"]["members"], rows["all"]["member_months"]) == (9, 7 * 12 + 24 + 12)
    # partner-attributed: C and H all 2024; F and I all 2023
    assert (rows["partner_attributed"]["members"], rows["partner_attributed"]["member_months"]) == (
        4,
        48,
    )
    assert (rows["rival_2024"]["members"], rows["rival_2024"]["member_months"]) == (4, 48)


def test_scope_file_errors(tmp_path):
    path = tmp_path / "scopes.yaml"
    path.write_text("scopes:\n  - name: Bad Name\n    zip_codes: ['5540']\n")
    with pytest.raises(ScopeError) as exc:
        load_scopes(path)
    assert (
        "scopes[0]" in str(exc.value) and "zip_codes" in str(exc.value) and "name" in str(exc.value)
    )


def test_export_csv_and_fhir_group(ws, tmp_path):
    csv_path = tmp_path / "roster.csv"
    res = runner.invoke(
        app, ["export", "attribution", "-w", str(ws), "--out", str(csv_path), "--period", "2024"]
    )
    assert res.exit_code == 0, res.output
    lines = csv_path.read_text().splitlines()
    assert len(lines) == 1 + 7  # header + the 7 attributed members of 2024
    fhir_path = tmp_path / "group.json"
    res = runner.invoke(
        app,
        [
            "export",
            "attribution",
            "-w",
            str(ws),
            "--out",
            str(fhir_path),
            "--format",
            "fhir",
            "--scope",
            "partner_attributed",
        ],
    )
    assert res.exit_code == 0, res.output
    group = json.loads(fhir_path.read_text())
    assert (
        group["resourceType"] == "Group" and group["type"] == "person" and group["actual"] is True
    )
    assert group["meta"]["profile"] == [
        "http://hl7.org/fhir/us/davinci-atr/StructureDefinition/atr-group"
    ]
    members = {
        (m["entity"]["identifier"]["value"], m["period"]["start"]): m for m in group["member"]
    }
    assert set(members) == {
        ("F", "2023-01-01"),
        ("I", "2023-01-01"),
        ("C", "2024-01-01"),
        ("H", "2024-01-01"),
    }
    c = {e["url"].rsplit("/", 1)[1]: e for e in members[("C", "2024-01-01")]["extension"]}
    assert c["ext-changeType"]["valueCode"] == "new"
    assert c["ext-attributedProvider"]["valueReference"]["identifier"]["value"] == "1987654328"
    assert group["quantity"] == 4
