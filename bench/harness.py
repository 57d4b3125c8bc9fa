"""What the stage benchmarks share: a generated population and stages timed in fresh processes.

A benchmark's child script takes ``DATA SCRATCH MODE`` and prints one JSON line; each mode runs in
a process of its own, so the peak memory it reports is that mode's alone.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path


def arguments(description: str) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--members", type=int, default=1_000_000)
    ap.add_argument("--data", type=Path, help="an existing `payvider generate` folder")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--memory-limit", help="cap DuckDB's memory, e.g. 4GB (as `payvider run --memory-limit`)"
    )
    ap.add_argument(
        "--scratch",
        type=Path,
        help="keep the staged inputs in this folder (and reuse them when already there)",
    )
    return ap.parse_args()


@contextmanager
def population(args: argparse.Namespace) -> Iterator[tuple[Path, Path]]:
    """The data folder (generated unless ``--data``) and an empty scratch folder."""
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
        scratch = getattr(args, "scratch", None) or Path(tmp) / "scratch"
        scratch.mkdir(parents=True, exist_ok=True)
        yield data, scratch


def run_modes(
    child: str, data: Path, scratch: Path, modes: Sequence[str], memory_limit: str | None
) -> dict[str, dict]:
    """Run ``child`` once per mode, each in a fresh process; their JSON results by mode."""
    env = dict(os.environ)
    if memory_limit:
        env["PAYVIDER_DUCKDB_MEMORY_LIMIT"] = memory_limit
    results = {}
    for mode in modes:
        out = subprocess.run(
            [sys.executable, "-c", child, str(data), str(scratch), mode],
            capture_output=True,
            text=True,
            env=env,
        )
        if out.returncode:
            sys.exit(f"benchmark failed:\n{out.stderr[-3000:]}")
        results[mode] = json.loads(out.stdout.strip().splitlines()[-1])
    return results
