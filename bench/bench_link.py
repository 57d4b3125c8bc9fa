"""Member ↔ patient linkage: time, scored pairs per second and peak memory (DuckDB + Splink).

Links every member of a generated population to its partner EHR's patients in a fresh process
and prints seconds per step, pairs scored per second, peak memory (VmHWM) and precision and
recall against the planted links. Then generates smaller populations at a few typo rates and
prints how the review queue grows with them.

    python bench/bench_link.py --members 1000000 [--data DIR] [--typo-members 50000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

_CHILD = r"""
import json, sys, time
import ibis
from pathlib import Path
from payvider.link import link

data = Path(sys.argv[1])
con = ibis.duckdb.connect()
t0 = time.perf_counter()
r = link(con.read_parquet(data / "eligibility.parquet"), con.read_parquet(data / "patient.parquet"))
seconds = time.perf_counter() - t0
truth = con.read_parquet(data / "truth" / "true_links.parquet")
tp = int(r.crosswalk.join(truth, ["member_id", "patient_id"]).count().execute())
n_cw = int(r.crosswalk.count().execute())
rq_true = int(r.review_queue.join(truth, ["member_id", "patient_id"]).count().execute())
status = Path("/proc/self/status").read_text().splitlines()
hwm_kb = next(int(x.split()[1]) for x in status if x.startswith("VmHWM"))
print(json.dumps({
    "seconds": seconds, "steps": r.seconds, "counts": r.counts, "peak_mb": hwm_kb / 1024,
    "precision": tp / max(n_cw, 1), "recall": tp / max(int(truth.count().execute()), 1),
    "review_true": rq_true,
}))
"""


def _link(data: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(data)], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _generate(out: Path, members: int, seed: int, typo: float | None = None) -> None:
    from payvider.synth import generate_population
    from payvider.synth.config import SynthConfig

    cfg = SynthConfig()
    if typo is not None:
        cfg.linkage.typo_first_name = typo
        cfg.linkage.typo_last_name = typo
    generate_population(out, members=members, seed=seed, config=cfg)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--members", type=int, default=1_000_000)
    ap.add_argument("--data", type=Path, help="an existing `payvider generate` folder")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--typo-members", type=int, default=50_000)
    ap.add_argument("--typo-rates", default="0.02,0.05,0.10,0.20")
    ap.add_argument("--skip-main", action="store_true", help="only the typo-rate sweep")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="payvider-bench-") as tmp:
        if not args.skip_main:
            data = args.data
            if data is None:
                data = Path(tmp) / "data"
                _generate(data, args.members, args.seed)
            r = _link(data)
            c = r["counts"]
            print(f"members                  {c['members']:>12,}")
            print(f"patients                 {c['patients']:>12,}")
            print(f"deterministic links      {c['deterministic']:>12,}")
            print(f"probabilistic links      {c['probabilistic']:>12,}")
            print(f"review queue             {c['review_queue']:>12,}")
            print(f"unmatched members        {c['unmatched_members']:>12,}")
            print(f"unmatched patients       {c['unmatched_patients']:>12,}")
            print(f"pairs scored             {c['scored_pairs']:>12,}")
            print(f"seconds                  {r['seconds']:>12.1f}")
            for k, v in r["steps"].items():
                print(f"  {k:<22} {v:>12.1f}")
            print(f"pairs scored / s         {c['scored_pairs'] / r['steps']['score']:>12,.0f}")
            print(f"members / s              {c['members'] / r['seconds']:>12,.0f}")
            print(f"peak memory (MiB)        {r['peak_mb']:>12,.0f}")
            print(f"precision                {r['precision']:>12.5f}")
            print(f"recall                   {r['recall']:>12.5f}")
        print()
        print(f"typo rate sweep ({args.typo_members:,} members; first and last name each)")
        print(
            "typo rate | links | probabilistic | review queue | true in queue | precision | recall"
        )
        for rate in [float(x) for x in args.typo_rates.split(",")]:
            d = Path(tmp) / f"typo-{rate}"
            _generate(d, args.typo_members, args.seed, rate)
            r = _link(d)
            c = r["counts"]
            links = c["deterministic"] + c["probabilistic"]
            print(
                f"{rate:.2f} | {links:,} | {c['probabilistic']:,} | {c['review_queue']:,} | "
                f"{r['review_true']:,} | {r['precision']:.4f} | {r['recall']:.4f}"
            )


if __name__ == "__main__":
    main()
