"""Quality measures throughput and peak memory on a generated population (DuckDB).

Generates N members with ``payvider.synth`` (unless ``--data`` points at a generated folder); one
process builds every stage the quality stages read (final claims, member months, attribution,
linkage, risk scores, service categories, inpatient stays …, staged to Parquet as a run does),
then a fresh process times the quality stages of ``payvider.pipeline`` (member-level rows of every
measure with their exclusions, summaries with intervals, care gaps, SDOH, experience, composite,
opioid tapering), each written to Parquet. Prints per-stage seconds, claim lines per second over
the quality stages and that process's peak memory.

    python bench/bench_quality.py --members 1000000 [--data DIR] [--scratch DIR]
"""

from __future__ import annotations

from harness import arguments, population, run_modes

_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from payvider.engine.backends import DuckDBEngine
from payvider.pipeline import STAGES, RunParameters
from payvider.schema import TABLES
from payvider.synth.config import SynthConfig

QUALITY = ("quality_member", "quality_summary", "quality_care_gaps", "sdoh_summary",
           "experience_summary", "quality_composite", "opioid_taper")
data, scratch, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
e = DuckDBEngine()
t = {}
for name in TABLES:
    if (data / f"{name}.parquet").exists():
        t[name] = e.read_parquet(data / f"{name}.parquet")
params = RunParameters(opioid_taper_start=SynthConfig().opioid.taper_start)
first = min(i for i, s in enumerate(STAGES) if s.name in QUALITY)
before = [s for s in STAGES[:first]]
timings = {}
cpu = {}
def _cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
t0 = time.perf_counter()
c0 = _cpu()
if mode == "prep":  # everything the quality stages read, staged as a run stages it
    stages = before
else:
    for s in before:
        t[s.name] = e.read_parquet(scratch / f"{s.name}.parquet")
    stages = [s for s in STAGES if s.name in QUALITY]
for stage in stages:
    s = time.perf_counter()
    c = _cpu()
    path = scratch / f"{stage.name}.parquet"
    e.write_parquet(stage.build(t, params), path)
    t[stage.name] = e.read_parquet(path)
    timings[stage.name] = round(time.perf_counter() - s, 2)
    cpu[stage.name] = round(_cpu() - c, 2)
out = {"seconds": time.perf_counter() - t0, "cpu_seconds": _cpu() - c0, "stages": timings,
       "cpu": cpu}
if mode != "prep":
    out["lines"] = int(t["final_medical_claim"].count().execute()) + int(
        t["final_pharmacy_claim"].count().execute()
    )
    out["members"] = int(t["eligibility"].member_id.nunique().execute())
out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    with population(args) as (data, scratch):
        # separate processes: each peak is its own
        staged = args.scratch is not None and (scratch / "member_month_cost.parquet").exists()
        modes = ("quality",) if staged else ("prep", "quality")
        runs = run_modes(_CHILD, data, scratch, modes, args.memory_limit)
    r = runs["quality"]
    # CPU seconds (all threads) tell changes apart on a machine shared with other work
    for name, seconds in r["stages"].items():
        print(f"  {name:<24}{seconds:>10.1f} s {r['cpu'][name]:>10.1f} CPU-s")
    print(f"members                          {r['members']:>14,}")
    print(f"final lines (medical + pharmacy) {r['lines']:>14,}")
    print(f"quality stages seconds           {r['seconds']:>14.1f}")
    print(f"quality stages CPU seconds       {r['cpu_seconds']:>14.1f}")
    print(f"claim lines / s                  {r['lines'] / r['seconds']:>14,.0f}")
    print(f"peak memory (MB)                 {r['peak_mb']:>14,.0f}")
    prep = runs.get("prep")
    if prep is None:
        print(f"(the stages before were staged in {args.scratch} already)")
        return
    print(
        f"(the {len(prep['stages'])} stages before, in their own process: "
        f"{prep['seconds']:.1f} s, peak {prep['peak_mb']:,.0f} MB)"
    )


if __name__ == "__main__":
    main()
