"""Ingest throughput and peak memory on N canonical claim lines.

Writes a synthetic Tuva-layout batch (eligibility + medical_claim with wide diagnosis columns,
vectorised with NumPy/Arrow), then loads it with ``payvider ingest`` machinery in a fresh process
and prints claim lines per second and that process's peak memory (RSS high-water mark).

    python bench/bench_ingest.py --claim-lines 1000000 [--format csv|parquet]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from payvider.ingest.codes import luhn_npi_check_digit

DX = np.array(["E119", "I10", "E785", "J449", "N183", "I509", "F329", "M545", "Z0000", "S72001A"])
HCPCS = np.array(["99213", "99214", "99215", "80053", "85025", "71046", "93000", "G0439", "36415"])
POS = np.array(["11", "22", "23", "02", "81", "21"])


def _npis(rng: np.random.Generator, n: int) -> np.ndarray:
    bases = rng.integers(100_000_000, 199_999_999, n)
    return np.array([f"{b}{luhn_npi_check_digit(str(b))}" for b in bases])  # n is small (a pool)


def write_batch(folder: Path, lines: int, fmt: str, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    members = max(lines // 30, 1)
    folder.mkdir(parents=True, exist_ok=True)
    member_ids = np.char.add("M", np.arange(members).astype(str))
    start = np.datetime64("2024-01-01")
    elig = pa.table(
        {
            "member_id": member_ids,
            "gender": rng.choice(["male", "female"], members),
            "birth_date": (start - rng.integers(365, 90 * 365, members)).astype(str),
            "enrollment_start_date": np.full(members, "2024-01-01"),
            "enrollment_end_date": np.full(members, "2025-12-31"),
            "payer": np.full(members, "acme"),
            "product_line": rng.choice(["commercial", "medicare_advantage", "medicaid"], members),
            "plan": np.full(members, "P1"),
            "zip_code": rng.integers(55001, 56799, members).astype(str),
        }
    )
    npi_pool = _npis(rng, 2000)
    claims = np.arange(lines) // 2
    line_no = np.arange(lines) % 2 + 1
    service = start + rng.integers(0, 730, lines // 2 + 1)[claims]
    allowed = np.round(rng.lognormal(4.5, 1.2, lines), 2)
    table = {
        "claim_id": np.char.add("C", claims.astype(str)),
        "claim_line_number": line_no.astype(str),
        "claim_type": np.full(lines, "professional"),
        "member_id": member_ids[rng.integers(0, members, lines // 2 + 1)[claims]],
        "payer": np.full(lines, "acme"),
        "claim_start_date": service.astype(str),
        "claim_end_date": service.astype(str),
        "place_of_service_code": rng.choice(POS, lines),
        "hcpcs_code": rng.choice(HCPCS, lines),
        "rendering_npi": npi_pool[rng.integers(0, 2000, lines)],
        "billing_tin": rng.integers(100_000_000, 999_999_999, lines).astype(str),
        "paid_date": (service + rng.integers(5, 90, lines)).astype(str),
        "allowed_amount": np.char.mod("%.2f", allowed),
        "paid_amount": np.char.mod("%.2f", np.round(allowed * 0.8, 2)),
        "diagnosis_code_type": np.full(lines, "icd-10-cm"),
    }
    for i in range(1, 4):
        table[f"diagnosis_code_{i}"] = rng.choice(DX, lines // 2 + 1)[claims]
    claims_table = pa.table(table)
    if fmt == "csv":
        pacsv.write_csv(elig, folder / "eligibility.csv")
        pacsv.write_csv(claims_table, folder / "medical_claim.csv")
    else:
        pq.write_table(elig, folder / "eligibility.parquet")
        pq.write_table(claims_table, folder / "medical_claim.parquet")


_CHILD = """
import json, resource, sys, time
from pathlib import Path
from payvider.engine.workspace import Workspace
from payvider.ingest import load_batch
t0 = time.perf_counter()
report = load_batch(Workspace(Path(sys.argv[1]), create=True), Path(sys.argv[2]))
seconds = time.perf_counter() - t0
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "tables": report.to_dict()["tables"]}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--claim-lines", type=int, default=1_000_000)
    ap.add_argument("--format", choices=["csv", "parquet"], default="csv")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="payvider-bench-") as tmp:
        data = Path(tmp) / "batch"
        t0 = time.perf_counter()
        write_batch(data, args.claim_lines, args.format)
        print(
            f"wrote {args.claim_lines:,} claim lines ({args.format}) in {time.perf_counter() - t0:.1f} s",
            file=sys.stderr,
        )
        out = subprocess.run(
            [sys.executable, "-c", _CHILD, str(Path(tmp) / "ws"), str(data)],
            capture_output=True,
            text=True,
        )
        if out.returncode:
            sys.exit(f"benchmark failed:\n{out.stderr[-3000:]}")
        result = json.loads(out.stdout.strip().splitlines()[-1])
    claims = next(t for t in result["tables"] if t["table"] == "medical_claim")
    rows = sum(t["read"] for t in result["tables"])
    assert claims["read"] == claims["loaded"] + claims["quarantined"]
    print(f"claim lines          {claims['read']:>12,}")
    print(f"all rows (incl. dx)  {rows:>12,}")
    print(f"seconds              {result['seconds']:>12.1f}")
    print(f"claim lines / s      {claims['read'] / result['seconds']:>12,.0f}")
    print(f"rows / s             {rows / result['seconds']:>12,.0f}")
    print(f"peak memory (MB)     {result['peak_mb']:>12,.0f}")


if __name__ == "__main__":
    main()
