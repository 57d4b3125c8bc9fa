"""The command line: exit codes, --json on stdout, messages on stderr."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from payvider.cli import app

runner = CliRunner()


def test_ingest_run_runs_json(tmp_path, canonical_dir):
    ws = tmp_path / "ws"
    res = runner.invoke(app, ["ingest", "--workspace", str(ws), str(canonical_dir), "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert {t["table"]: t["loaded"] for t in report["tables"]}["medical_claim"] == 10

    res = runner.invoke(app, ["run", "--workspace", str(ws), "--json"])
    assert res.exit_code == 0, res.output
    manifest = json.loads(res.stdout)
    assert manifest["outputs"]["member_months"]["rows"] == 35

    res = runner.invoke(app, ["runs", "--workspace", str(ws), "--json"])
    assert [r["run_id"] for r in json.loads(res.stdout)] == [manifest["run_id"]]

    res = runner.invoke(app, ["runs", "--workspace", str(ws)])
    assert res.exit_code == 0 and manifest["run_id"][:15] in res.stdout


def test_rejected_input_exits_3_and_names_the_file(tmp_path, canonical_dir):
    (canonical_dir / "eligibility.csv").write_text("")
    res = runner.invoke(app, ["ingest", "--workspace", str(tmp_path / "ws"), str(canonical_dir)])
    assert res.exit_code == 3
    assert "eligibility.csv: file is empty" in res.stderr
    assert "Traceback" not in res.output


def test_usage_errors_exit_2(tmp_path):
    res = runner.invoke(app, ["run", "--workspace", str(tmp_path / "nowhere")])
    assert res.exit_code == 2
    assert "not a Payvider workspace" in res.stderr
    res = runner.invoke(app, ["run", "--workspace", str(tmp_path), "--engine", "oracle"])
    assert res.exit_code == 2


def test_quarantine_command_lists_rows(tmp_path, canonical_dir):
    path = canonical_dir / "medical_claim.csv"
    path.write_text(path.read_text().replace("C2,1,professional", "C2,1,dental", 1))
    ws = tmp_path / "ws"
    runner.invoke(app, ["ingest", "--workspace", str(ws), str(canonical_dir)])
    res = runner.invoke(app, ["quarantine", "--workspace", str(ws), "--json"])
    assert res.exit_code == 0
    data = json.loads(res.stdout)
    assert data["total"] == 1
    assert data["rows"][0]["field"] == "claim_type" and data["rows"][0]["row"] == 3


def test_schema_command(tmp_path):
    res = runner.invoke(app, ["schema", "--json"])
    assert res.exit_code == 0
    names = [t["table"] for t in json.loads(res.stdout)]
    assert names[:2] == ["eligibility", "medical_claim"]
