"""CSV output carries the same data as Parquet: ISO dates, plain decimals, empty for null."""

from __future__ import annotations

from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from payvider.synth import OUTPUT_TABLES, generate_population
from payvider.synth.arrowio import arrow_schema


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("formats")
    generate_population(base / "pq", members=800, seed=9, fmt="parquet")
    generate_population(base / "csv", members=800, seed=9, fmt="csv")
    return base / "pq", base / "csv"


@pytest.mark.parametrize("table", OUTPUT_TABLES)
def test_csv_equals_parquet(both: tuple[Path, Path], table: str) -> None:
    pq_dir, csv_dir = both
    schema = arrow_schema(table)
    got = pacsv.read_csv(
        csv_dir / f"{table}.csv",
        convert_options=pacsv.ConvertOptions(
            column_types=schema, strings_can_be_null=True, null_values=[""]
        ),
    )
    want = pq.read_table(pq_dir / f"{table}.parquet")
    assert got.select(schema.names).equals(want)


def test_csv_text_is_plain(both: tuple[Path, Path]) -> None:
    _, csv_dir = both
    head = (csv_dir / "medical_claim.csv").read_text().splitlines()[1]
    assert ",2023-" in head or ",2024-" in head or ",2025-" in head  # ISO dates
    assert "E+" not in head and "e+" not in head  # no exponent notation
    assert ",," in head  # nulls are empty


def test_summary_reports_rows_and_seconds(tmp_path: Path) -> None:
    s = generate_population(tmp_path / "x", members=300, seed=1)
    assert (
        s["rows"]["medical_claim"]
        == pq.read_metadata(tmp_path / "x" / "medical_claim.parquet").num_rows
    )
    assert set(s["rows"]) == set(OUTPUT_TABLES)
    assert s["seconds"] > 0


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate_population(tmp_path / "y", members=0)
    with pytest.raises(ValueError):
        generate_population(tmp_path / "y", members=10, fmt="xlsx")  # type: ignore[arg-type]
