"""Helpers for the synthetic-data tests: DuckDB views over a generated folder."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from payvider.synth import OUTPUT_TABLES


def connect(folder: Path) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with a view per table, per truth table, and ``final_claim``."""
    con = duckdb.connect()
    for t in OUTPUT_TABLES:
        con.execute(f"create view {t} as select * from read_parquet('{folder / (t + '.parquet')}')")
    for t in ("true_pcp", "true_links", "opioid_taper"):
        con.execute(
            f"create view {t} as select * from read_parquet('{folder / 'truth' / (t + '.parquet')}')"
        )
    # adjustments resolved: replacements supersede, voids cancel (and are not claims)
    con.execute(
        """
        create view final_claim as
        select * from medical_claim
        where adjustment_type <> 'void'
          and claim_id not in (
            select adjusted_claim_id from medical_claim where adjusted_claim_id is not null)
        """
    )
    # member-level product line (a member keeps one product line)
    con.execute(
        "create view member_line as select distinct member_id, product_line from eligibility"
    )
    # member months: months touched by an enrollment row
    con.execute(
        """
        create view member_months as
        select member_id, product_line, m as month
        from eligibility,
             unnest(generate_series(date_trunc('month', enrollment_start_date),
                                    date_trunc('month', enrollment_end_date),
                                    interval 1 month)) as t(m)
        """
    )
    return con


def truth(folder: Path) -> dict:
    return json.loads((folder / "truth" / "truth.json").read_text())
