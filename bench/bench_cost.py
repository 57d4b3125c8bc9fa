"""Cost marts throughput and peak memory on a generated population (DuckDB).

Generates N members with ``payvider.synth`` (unless ``--data`` points at a generated folder), then
in a fresh process builds what the cost stages need (final claims, member months, attribution,
staged to Parquet as a run does) and times every cost stage of ``payvider.pipeline`` (service
categories, stays, PMPM, member-year cost, reconciliation, utilization, leakage, risk scores, trend,
lag triangle, completion, truncation), each written to Parquet. Prints per-stage seconds, claim
lines per second over all cost stages and the process's peak memory.

    python bench/bench_cost.py --members 1000000 [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from payvider.engine.backends import DuckDBEngine
from payvider.pipeline import COST_STAGES, STAGES, RunParameters

data, scratch = Path(sys.argv[1]), Path(sys.argv[2])
e = DuckDBEngine()
t = {}
for name in ("medical_claim", "medical_claim_diagnosis", "pharmacy_claim", "eligibility",
             "provider", "market_benchmark"):
    t[name] = e.read_parquet(data / f"{name}.parquet")
params = RunParameters()
prep_names = ("final_medical_claim", "final_pharmacy_claim", "member_months", "attribution")
timings = {}
t0 = time.perf_counter()
for stage in STAGES:
    if stage.name not in prep_names:
        continue
    path = scratch / f"{stage.name}.parquet"
    e.write_parquet(stage.build(t, params), path)
    t[stage.name] = e.read_parquet(path)
prep = time.perf_counter() - t0
lines = int(t["final_medical_claim"].count().execute()) + int(t["final_pharmacy_claim"].count().execute())
t1 = time.perf_counter()
for stage in COST_STAGES:
    s = time.perf_counter()
    path = scratch / f"{stage.name}.parquet"
    e.write_parquet(stage.build(t, params), path)
    t[stage.name] = e.read_parquet(path)
    timings[stage.name] = round(time.perf_counter() - s, 2)
seconds = time.perf_counter() - t1
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"lines": lines, "seconds": seconds, "prep_seconds": prep, "peak_mb": peak,
                  "stages": timings}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--members", type=int, default=1_000_000)
    ap.add_argument("--data", type=Path, help="an existing `payvider generate` folder")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="payvider-bench-") as tmp:
        data = args.data
        if data is None:
            from payvider.synth import generate_population

            data = Path(tmp) / "data"
            t0 = time.perf_counter()
            generate_population(data, args.members, args.seed)
            print(
                f"generated {args.members:,} members in {time.perf_counter() - t0:.0f} s",
                file=sys.stderr,
            )
        scratch = Path(tmp) / "scratch"
        scratch.mkdir()
        out = subprocess.run(
            [sys.executable, "-c", _CHILD, str(data), str(scratch)],
            capture_output=True,
            text=True,
        )
        if out.returncode:
            sys.exit(f"benchmark failed:\n{out.stderr[-3000:]}")
        r = json.loads(out.stdout.strip().splitlines()[-1])
    for name, seconds in r["stages"].items():
        print(f"  {name:<24}{seconds:>10.1f} s")
    print(f"final lines (medical + pharmacy) {r['lines']:>14,}")
    print(f"cost stages seconds              {r['seconds']:>14.1f}")
    print(f"claim lines / s                  {r['lines'] / r['seconds']:>14,.0f}")
    print(f"(final claims, member months, attribution, staged: {r['prep_seconds']:.1f} s)")
    print(f"peak memory (MB)                 {r['peak_mb']:>14,.0f}")


if __name__ == "__main__":
    main()
