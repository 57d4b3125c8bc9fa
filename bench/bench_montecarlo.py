"""Monte Carlo throughput: 10,000 stratified bootstrap draws over 100,000 members, every draw
settled by the exact engine.

The member population is drawn from a fixed distribution (gamma-distributed yearly cost in
whole cents, 1-12 member months, 3 product lines × 3 risk bands), so the benchmark measures the
resampling and settlement, not the pipeline. Prints the seconds of the bootstrap, of the
settlements, the total and the peak memory (ru_maxrss) as one JSON line.

    python bench/bench_montecarlo.py [--members 100000] [--draws 10000] [--contract C]
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from decimal import Decimal

import numpy as np

from payvider.scenarios.assumptions import ScenarioAssumptions
from payvider.scenarios.inputs import MemberSample, load_contract
from payvider.scenarios.montecarlo import bootstrap_totals, simulate
from payvider.scenarios.projection import ScenarioBase


def population(members: int, seed: int = 7) -> MemberSample:
    rng = np.random.default_rng(seed)
    stratum = rng.integers(0, 9, members).astype(np.int32)
    months = rng.integers(1, 13, members).astype(np.int64)
    scale = 20_000 * (1 + stratum % 3)  # risk band raises cost
    cents = (rng.gamma(0.8, 1.0, members) * scale * months).round().astype(np.int64)
    labels = [f"{pl}/{band}" for pl in ("commercial", "medicaid", "medicare") for band in "123"]
    return MemberSample(cents, months, stratum, labels)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--members", type=int, default=100_000)
    ap.add_argument("--draws", type=int, default=10_000)
    ap.add_argument("--contract", default="example:two-sided")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    sample = population(args.members)
    base = ScenarioBase(
        base_year=2025,
        members=args.members,
        member_months=Decimal(int(sample.member_months.sum())),
        expenditure=Decimal(int(sample.cents.sum())) / 100,
        book_members=4 * args.members,
    )
    terms, track = load_contract(args.contract)
    a = ScenarioAssumptions(
        cost_trend=Decimal("0.03"), benchmark_trend=Decimal("0.04"), track=track
    )

    t0 = time.perf_counter()
    bootstrap_totals(sample, args.draws, args.seed)
    t_boot = time.perf_counter() - t0
    t1 = time.perf_counter()
    [year] = simulate(terms, base, sample, a, 1, args.draws, args.seed)
    t_all = time.perf_counter() - t1
    summary = year.summary()
    print(
        json.dumps(
            {
                "members": args.members,
                "draws": args.draws,
                "contract": args.contract,
                "bootstrap_seconds": round(t_boot, 2),
                "total_seconds": round(t_all, 2),
                "settlement_seconds": round(t_all - t_boot, 2),
                "member_draws_per_second": round(args.members * args.draws / t_all),
                "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "expected_net": summary["expected_net"],
                "probability_clear_msr": summary["probability_clear_msr"],
            }
        )
    )


if __name__ == "__main__":
    main()
