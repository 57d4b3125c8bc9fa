"""CMS-HCC risk-score throughput and peak memory on a generated population (DuckDB).

Reads a generated folder's canonical Parquet files (``--data``; default the 1,000,000-member
folder), resolves adjustments and builds member months (staged to Parquet by one process, as a
run does), then in a second fresh process times ``risk_scores_all_models`` (V24 and V28,
prospective) alone, writing its result to Parquet. Prints claim lines per second and that
process's peak memory.

    python bench/bench_risk.py [--data DIR] [--years 2024 2025]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

_STAGE = r"""
import json, sys, time
from pathlib import Path
from payvider.engine.backends import DuckDBEngine
from payvider.marts.final_claims import resolve_adjustments
from payvider.marts.member_months import member_months

data, scratch = Path(sys.argv[1]), Path(sys.argv[2])
e = DuckDBEngine()
t0 = time.perf_counter()
e.write_parquet(resolve_adjustments(e.read_parquet(data / "medical_claim.parquet")),
                scratch / "final.parquet")
e.write_parquet(member_months(e.read_parquet(data / "eligibility.parquet")), scratch / "mm.parquet")
print(json.dumps({"prep_seconds": time.perf_counter() - t0}))
"""

_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from payvider.engine.backends import DuckDBEngine
from payvider.marts.risk import risk_scores_all_models

data, scratch = Path(sys.argv[1]), Path(sys.argv[2])
years = [int(y) for y in sys.argv[3].split(",")]
e = DuckDBEngine()
final = e.read_parquet(scratch / "final.parquet")
dx = e.read_parquet(data / "medical_claim_diagnosis.parquet")
mm = e.read_parquet(scratch / "mm.parquet")
lines = int(final.count().execute())
diagnoses = int(dx.count().execute())
t1 = time.perf_counter()
e.write_parquet(risk_scores_all_models(final, dx, mm, years), scratch / "risk_score.parquet")
seconds = time.perf_counter() - t1
out = e.read_parquet(scratch / "risk_score.parquet")
rows = int(out.count().execute())
ma = out.filter((out.product_line == "medicare_advantage") & ~out.new_enrollee)
means = ma.group_by("model").aggregate(mean=ma.risk_score.mean()).execute()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"lines": lines, "diagnoses": diagnoses, "rows": rows, "seconds": seconds,
                  "peak_mb": peak,
                  "ma_mean": {r["model"]: round(r["mean"], 3) for r in means.to_dict("records")}}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--data", type=Path, required=True, help="a `payvider generate --members 1000000` folder"
    )
    ap.add_argument("--years", type=int, nargs="+", default=[2024, 2025])
    args = ap.parse_args()
    if not (args.data / "medical_claim.parquet").exists():
        sys.exit(f"{args.data}: no medical_claim.parquet (generate one with `payvider generate`)")
    with tempfile.TemporaryDirectory(prefix="payvider-bench-") as tmp:
        years = ",".join(str(y) for y in args.years)
        stage = subprocess.run(
            [sys.executable, "-c", _STAGE, str(args.data), tmp],
            check=True,
            capture_output=True,
            text=True,
        )
        prep = json.loads(stage.stdout.strip().splitlines()[-1])["prep_seconds"]
        res = subprocess.run(
            [sys.executable, "-c", _CHILD, str(args.data), tmp, years],
            check=True,
            capture_output=True,
            text=True,
        )
        r = json.loads(res.stdout.strip().splitlines()[-1])
    print(f"claim lines           {r['lines']:,}")
    print(f"claim diagnoses       {r['diagnoses']:,}")
    print(f"member-year-models    {r['rows']:,}")
    print(f"staging (not timed)   {prep:.1f} s")
    print(f"risk scores           {r['seconds']:.1f} s")
    print(f"claim lines / s       {r['lines'] / r['seconds']:,.0f}")
    print(f"peak memory           {r['peak_mb']:,.0f} MB")
    print(f"MA mean (continuing)  {r['ma_mean']}")


if __name__ == "__main__":
    main()
