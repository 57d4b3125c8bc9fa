"""Cost marts throughput and peak memory on a generated population (DuckDB).

Generates N members with ``payvider.synth`` (unless ``--data`` points at a generated folder); one
process builds what the cost stages need (final claims, member months and years, attribution,
staged to Parquet as a run does), then a fresh process times every cost stage of
``payvider.pipeline`` (risk scores, service categories, stays, PMPM, scope PMPM, member-year cost,
reconciliation, utilization, leakage, trend, lag triangle, completion, truncation), each written to
Parquet. Prints per-stage seconds, claim lines per second over all cost stages, the process's peak
memory, and the prep process's stages.

    python bench/bench_cost.py --members 1000000 [--data DIR]
"""

from __future__ import annotations

from harness import arguments, population, run_modes

_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from payvider.engine.backends import DuckDBEngine
from payvider.pipeline import COST_STAGES, STAGES, RunParameters

data, scratch, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
e = DuckDBEngine()
t = {}
for name in ("medical_claim", "medical_claim_diagnosis", "pharmacy_claim", "eligibility",
             "provider", "market_benchmark"):
    t[name] = e.read_parquet(data / f"{name}.parquet")
params = RunParameters()
prep_names = (
    "final_medical_claim",
    "final_pharmacy_claim",
    "member_months",
    "member_years",
    "attribution",
)
timings = {}
t0 = time.perf_counter()
if mode == "prep":  # what the cost stages read, staged as a run stages it
    stages = [s for s in STAGES if s.name in prep_names]
else:
    for name in prep_names:
        t[name] = e.read_parquet(scratch / f"{name}.parquet")
    stages = COST_STAGES
for stage in stages:
    s = time.perf_counter()
    path = scratch / f"{stage.name}.parquet"
    e.write_parquet(stage.build(t, params), path)
    t[stage.name] = e.read_parquet(path)
    timings[stage.name] = round(time.perf_counter() - s, 2)
out = {"seconds": time.perf_counter() - t0, "stages": timings}
out["lines"] = int(t["final_medical_claim"].count().execute()) + int(
    t["final_pharmacy_claim"].count().execute()
)
out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    with population(args) as (data, scratch):
        # separate processes: each peak is its own
        runs = run_modes(_CHILD, data, scratch, ("prep", "cost"), args.memory_limit)
    r = runs["cost"]
    for name, seconds in r["stages"].items():
        print(f"  {name:<24}{seconds:>10.1f} s")
    print(f"final lines (medical + pharmacy) {r['lines']:>14,}")
    print(f"cost stages seconds              {r['seconds']:>14.1f}")
    print(f"claim lines / s                  {r['lines'] / r['seconds']:>14,.0f}")
    print(f"peak memory (MB)                 {r['peak_mb']:>14,.0f}")
    prep = runs["prep"]
    print(
        f"(final claims, member months and years, attribution in their own process: "
        f"{prep['seconds']:.1f} s, peak {prep['peak_mb']:,.0f} MB)"
    )
    for name, seconds in prep["stages"].items():
        print(f"  {name:<24}{seconds:>10.1f} s")


if __name__ == "__main__":
    main()
