"""Linkage inside a workspace run, and the ``payvider link`` command."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner


@pytest.fixture(scope="module")
def linked_workspace(tmp_path_factory) -> Path:
    from payvider.engine.workspace import Workspace
    from payvider.ingest.readers import ingest_path
    from payvider.synth import generate_population

    root = tmp_path_factory.mktemp("linkws")
    generate_population(root / "data", members=800, seed=5)
    ws = Workspace(root / "ws", create=True)
    ingest_path(ws, root / "data", "canonical")
    return ws.root


def test_run_writes_crosswalk_and_review_queue(linked_workspace: Path):
    from payvider.engine.runs import run_pipeline
    from payvider.engine.workspace import Workspace

    result = run_pipeline(Workspace(linked_workspace))
    cw = pq.read_table(result.path / "member_patient_crosswalk.parquet")
    rq = pq.read_table(result.path / "link_review_queue.parquet")
    assert cw.num_rows > 0
    assert cw.schema.names[:3] == ["member_id", "patient_id", "match_method"]
    assert "member_first_name" in rq.schema.names
    assert result.manifest["parameters"]["linkage"]["upper"] == 0.95
    assert result.manifest["outputs"]["member_patient_crosswalk"]["rows"] == cw.num_rows


def test_link_command_prints_counts(linked_workspace: Path):
    from payvider.cli import app

    res = CliRunner().invoke(app, ["link", "--workspace", str(linked_workspace), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    for key in ("deterministic", "probabilistic", "review_queue", "unmatched_members"):
        assert key in data
    assert data["deterministic"] > 0
    assert (
        data["members"] == data["deterministic"] + data["probabilistic"] + data["unmatched_members"]
    )

    bad = CliRunner().invoke(app, ["link", "--workspace", str(linked_workspace), "--upper", "0.2"])
    assert bad.exit_code == 2
