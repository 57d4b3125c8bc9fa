"""Benchmark the synthetic population generator: throughput and peak memory.

    python bench/bench_generate.py --members 1000000

Prints elapsed seconds, medical claim lines per second, rows per second over all tables and the
peak resident memory of the process (from getrusage; the writer thread is included).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

from payvider.synth import SynthConfig, generate_population


def _rss_mb() -> float:
    """Current resident set size in MiB (Linux /proc), or 0 when unavailable."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * resource.getpagesize() / 2**20
    except OSError:
        return 0.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--members", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    ap.add_argument("--out", type=Path, default=None, help="output folder (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the output folder")
    ap.add_argument("--block-size", type=int, default=None)
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    args = ap.parse_args(argv)

    out = args.out or Path(tempfile.mkdtemp(prefix="payvider-bench-"))
    cfg = SynthConfig() if args.block_size is None else SynthConfig(block_size=args.block_size)
    samples: list[float] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            samples.append(_rss_mb())
            stop.wait(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.perf_counter()

    def progress(stage: str, fraction: float) -> None:
        if not args.json:
            print(
                f"\r{stage} {fraction:6.1%}  {time.perf_counter() - t0:7.1f}s",
                end="",
                file=sys.stderr,
            )

    summary = generate_population(
        out, members=args.members, seed=args.seed, config=cfg, fmt=args.format, progress=progress
    )
    seconds = time.perf_counter() - t0
    stop.set()
    sampler.join()
    if not args.json:
        print(file=sys.stderr)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    rows = summary["rows"]
    total_rows = sum(rows.values())
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    result = {
        "members": args.members,
        "format": args.format,
        "seconds": round(seconds, 2),
        "claim_lines": rows["medical_claim"],
        "claim_lines_per_second": round(rows["medical_claim"] / seconds),
        "rows_all_tables": total_rows,
        "rows_per_second": round(total_rows / seconds),
        "peak_rss_mib": round(peak_kb / 1024, 1),
        "sampled_peak_rss_mib": round(max(samples, default=0.0), 1),
        "output_mib": round(size / 2**20, 1),
        "rows": rows,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"members              {args.members:>14,}")
        print(f"seconds              {seconds:>14,.1f}")
        print(f"claim lines          {rows['medical_claim']:>14,}")
        print(f"claim lines/s        {result['claim_lines_per_second']:>14,}")
        print(f"rows (all tables)    {total_rows:>14,}")
        print(f"rows/s               {result['rows_per_second']:>14,}")
        print(f"peak RSS (MiB)       {result['peak_rss_mib']:>14,.1f}")
        print(f"output size (MiB)    {result['output_mib']:>14,.1f}")
        for t, n in rows.items():
            print(f"  {t:<24}{n:>14,}")
    if not args.keep and args.out is None:
        shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
