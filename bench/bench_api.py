"""Load test of the REST API: concurrent clients against `payvider serve` on localhost.

Starts the server in its own process over an existing workspace (with a run), adds two temporary
users (``jv_admin`` and ``viewer``, removed at the end), and drives a mix of summary, aggregate and
member-level endpoints from ``--clients`` threads for ``--duration`` seconds or ``--requests``
requests, whichever comes first. Prints requests per second, p50/p95/max latency per endpoint and
the error count (target: 0 errors, p95 < 200 ms for summary endpoints at 100,000 members).

    payvider generate --members 20000 --seed 1 --out D && payvider ingest --workspace W D
    payvider run --workspace W
    python bench/bench_api.py --workspace W [--clients 8] [--duration 30] [--requests 5000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

#: (label, path, role, summary endpoint?)
ENDPOINTS = [
    ("summary", "/api/summary", "viewer", True),
    ("membership", "/api/datasets/membership?limit=100", "viewer", True),
    ("cost_trend", "/api/datasets/cost_trend", "viewer", True),
    ("cost_summary", "/api/datasets/cost_summary", "viewer", True),
    ("quality_summary", "/api/datasets/quality_summary?level=total", "viewer", True),
    ("leakage", "/api/datasets/leakage?dimension=total", "viewer", True),
    ("attribution_rules", "/api/datasets/attribution_rules", "viewer", True),
    ("cost_pmpm page", "/api/datasets/cost_pmpm?limit=100&offset={offset}", "viewer", False),
    ("attribution page", "/api/datasets/attribution?limit=100&offset={offset}", "admin", False),
    ("care gaps page", "/api/datasets/quality_care_gaps?limit=50&offset={offset}", "admin", False),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * len(values)) - 1))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workspace", type=Path, required=True)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--duration", type=float, default=30.0, help="seconds (upper bound)")
    ap.add_argument("--requests", type=int, default=20_000, help="requests (upper bound)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    from payvider.api.users import UserStore

    store = UserStore(args.workspace)
    tag = secrets.token_hex(3)
    names = {"admin": f"bench-admin-{tag}", "viewer": f"bench-viewer-{tag}"}
    tokens = {
        "admin": store.add(names["admin"], "jv_admin")[1],
        "viewer": store.add(names["viewer"], "viewer")[1],
    }
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "payvider.cli", "serve", "--workspace", str(args.workspace)]
        + ["--port", str(port)],
        env=os.environ.copy(),
    )
    base = f"http://127.0.0.1:{port}"
    results: list[tuple[str, float, bool]] = []
    lock = threading.Lock()
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/api/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise SystemExit("the server did not start")
        # Warm-up: one request per endpoint (views are created on first use).
        with httpx.Client(base_url=base, timeout=60) as c:
            for _, path, role, _ in ENDPOINTS:
                c.get(path.format(offset=0), headers={"Authorization": f"Bearer {tokens[role]}"})
        deadline = time.perf_counter() + args.duration
        budget = iter(range(args.requests))

        def client(seed: int) -> None:
            rng = random.Random(seed)
            local: list[tuple[str, float, bool]] = []
            with httpx.Client(base_url=base, timeout=30) as c:
                while time.perf_counter() < deadline:
                    with lock:
                        if next(budget, None) is None:
                            break
                    label, path, role, _ = rng.choice(ENDPOINTS)
                    url = path.format(offset=rng.randrange(0, 2000))
                    t0 = time.perf_counter()
                    try:
                        r = c.get(url, headers={"Authorization": f"Bearer {tokens[role]}"})
                        ok = r.status_code == 200
                    except httpx.HTTPError:
                        ok = False
                    local.append((label, time.perf_counter() - t0, ok))
            with lock:
                results.extend(local)

        started = time.perf_counter()
        threads = [
            threading.Thread(target=client, args=(args.seed + i,)) for i in range(args.clients)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
        for name in names.values():
            store.remove(name)

    summary_labels = {label for label, _, _, summary in ENDPOINTS if summary}
    rows = []
    for label, *_ in ENDPOINTS:
        lat = [1000 * s for lbl, s, _ in results if lbl == label]
        errors = sum(1 for lbl, _, ok in results if lbl == label and not ok)
        if lat:
            rows.append(
                {
                    "endpoint": label,
                    "summary": label in summary_labels,
                    "requests": len(lat),
                    "errors": errors,
                    "p50_ms": round(statistics.median(lat), 1),
                    "p95_ms": round(_percentile(lat, 0.95), 1),
                    "max_ms": round(max(lat), 1),
                }
            )
    summary_lat = [1000 * s for lbl, s, _ in results if lbl in summary_labels]
    report = {
        "workspace": str(args.workspace),
        "clients": args.clients,
        "seconds": round(elapsed, 1),
        "requests": len(results),
        "requests_per_second": round(len(results) / elapsed, 1),
        "errors": sum(1 for *_, ok in results if not ok),
        "summary_p95_ms": round(_percentile(summary_lat, 0.95), 1) if summary_lat else None,
        "endpoints": rows,
    }
    print(f"{'endpoint':<20}{'requests':>9}{'errors':>7}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    for r in rows:
        print(
            f"{r['endpoint']:<20}{r['requests']:>9}{r['errors']:>7}{r['p50_ms']:>9}"
            f"{r['p95_ms']:>9}{r['max_ms']:>9}"
        )
    print(
        f"{report['requests']:,} requests in {report['seconds']} s with {args.clients} clients: "
        f"{report['requests_per_second']} req/s, {report['errors']} errors, "
        f"summary endpoints p95 {report['summary_p95_ms']} ms"
    )
    print(json.dumps(report))


if __name__ == "__main__":
    main()
