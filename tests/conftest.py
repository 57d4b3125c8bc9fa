"""Shared fixtures: a hand-made canonical dataset with known answers, workspaces, engines."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
CANONICAL = FIXTURES / "canonical"
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TUVA = SHARED_DATA / "tuva-synthetic"


@pytest.fixture
def canonical_dir(tmp_path: Path) -> Path:
    """A writable copy of the hand-made canonical fixture."""
    target = tmp_path / "input"
    shutil.copytree(CANONICAL, target)
    return target


@pytest.fixture
def workspace(tmp_path: Path):
    from payvider.engine.workspace import Workspace

    return Workspace(tmp_path / "ws", create=True)


@pytest.fixture(scope="session")
def spark_engine():
    pytest.importorskip("pyspark")
    from payvider.engine.backends import SparkEngine

    return SparkEngine()


@pytest.fixture(params=["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def engine(request):
    """Each engine in turn; the Spark session is shared by the whole test run."""
    if request.param == "duckdb":
        from payvider.engine.backends import DuckDBEngine

        eng = DuckDBEngine()
        yield eng
        eng.close()
    else:
        yield request.getfixturevalue("spark_engine")


@pytest.fixture
def duckdb_engine():
    """DuckDB only: for variations of a behaviour that the engine-parametrised tests cover."""
    from payvider.engine.backends import DuckDBEngine

    eng = DuckDBEngine()
    yield eng
    eng.close()


@pytest.fixture(scope="session")
def synthetic_run(tmp_path_factory):
    """A generated population (planted truth in data/truth/), loaded and run once per session."""
    from payvider.engine.runs import run_pipeline
    from payvider.engine.workspace import Workspace
    from payvider.ingest import load_batch
    from payvider.synth import generate_population

    root = tmp_path_factory.mktemp("synthetic")
    data = root / "data"
    generate_population(data, members=4000, seed=11)
    ws = Workspace(root / "ws", create=True)
    report = load_batch(ws, data)
    result = run_pipeline(ws)
    return {"data": data, "workspace": ws, "run": result.path, "load": report}
