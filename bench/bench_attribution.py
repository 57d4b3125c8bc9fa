"""Attribution throughput and peak memory on a generated population (DuckDB).

Generates N members with ``payvider.synth`` (unless ``--data`` points at a generated folder); one
process resolves adjustments and builds member months (staged to Parquet, as a run does), then a
fresh process times the attribution stage alone. Prints claim lines per second and the peak memory
of the attribution process.

    python bench/bench_attribution.py --members 1000000 [--data DIR]
"""

from __future__ import annotations

from harness import arguments, population, run_modes

_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from payvider.engine.backends import DuckDBEngine
from payvider.marts.attribution import attribute_members
from payvider.marts.final_claims import resolve_adjustments
from payvider.marts.member_months import member_months
from payvider.pipeline import claim_years

data, scratch, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
e = DuckDBEngine()
elig = e.read_parquet(data / "eligibility.parquet")
t0 = time.perf_counter()
if mode == "prep":  # the stages attribution reads, as a run stages them
    claims = e.read_parquet(data / "medical_claim.parquet")
    e.write_parquet(resolve_adjustments(claims), scratch / "final.parquet")
    e.write_parquet(member_months(elig), scratch / "mm.parquet")
    out = {}
else:
    prov = e.read_parquet(data / "provider.parquet")
    final = e.read_parquet(scratch / "final.parquet")
    mm = e.read_parquet(scratch / "mm.parquet")
    expr = attribute_members(final, elig, mm, prov, claim_years(final))
    e.write_parquet(expr, scratch / "attribution.parquet")
    out = {
        "lines": int(final.count().execute()),
        "rows": int(e.read_parquet(scratch / "attribution.parquet").count().execute()),
    }
out["seconds"] = time.perf_counter() - t0
out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    with population(args) as (data, scratch):
        # separate processes: each peak is its own
        runs = run_modes(_CHILD, data, scratch, ("prep", "attribute"), args.memory_limit)
    r = runs["attribute"]
    print(f"final claim lines        {r['lines']:>14,}")
    print(f"attribution rows         {r['rows']:>14,}")
    print(f"attribution seconds      {r['seconds']:>14.1f}")
    print(f"claim lines / s          {r['lines'] / r['seconds']:>14,.0f}")
    print(f"peak memory (MB)         {r['peak_mb']:>14,.0f}")
    prep = runs["prep"]
    print(
        f"(final claims + member months, staged in their own process: {prep['seconds']:.1f} s, "
        f"peak {prep['peak_mb']:,.0f} MB)"
    )


if __name__ == "__main__":
    main()
