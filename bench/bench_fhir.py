"""FHIR reader throughput and peak memory on a large NDJSON bulk export.

Writes an NDJSON export of about ``--gigabytes`` GB by replicating the member-level resources of
``tests/fixtures/fhir`` (Patient, Coverage, Encounter, Condition, Observation and the three CARIN
BB ExplanationOfBenefit) under new ids, with the practitioner and organization directory once.
It then reads the export with the FHIR reader in a fresh process and prints resources per second
and that process's peak resident memory (VmHWM from /proc/self/status). Run it at two sizes: the
peak should hardly move, because the reader streams and spills Arrow batches to disk.

    python bench/bench_fhir.py --gigabytes 1
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "fhir"
#: Resources written once (the directory); everything else is copied per member.
ONCE = ("Practitioner.ndjson", "Organization.ndjson")
#: Ids renamed in each copy (ids of member-level resources and claims).
IDS = (
    "pat-1",
    "pat-2",
    "cov-1",
    "enc-1",
    "cond-1",
    "obs-bp",
    "obs-a1c",
    "eob-inp-1",
    "eob-pro-1",
    "eob-rx-1",
    "CLM-INP-1",
    "CLM-PRO-1",
    "CLM-RX-1",
    "SUB-1",
)


def write_export(folder: Path, gigabytes: float) -> int:
    """Write the export; return the number of resources written."""
    folder.mkdir(parents=True, exist_ok=True)
    templates: dict[str, list[str]] = {}
    for path in sorted(FIXTURES.glob("*.ndjson")):
        lines = [line for line in path.read_text().splitlines() if line.strip()]
        if path.name in ONCE:
            (folder / path.name).write_text("\n".join(lines) + "\n")
            continue
        # The fixture's references to a missing patient test quarantine; they are left out here.
        templates[path.name] = [line for line in lines if "pat-404" not in line]
    per_copy = sum(len("\n".join(v)) + 1 for v in templates.values())
    copies = max(int(gigabytes * 1e9 // per_copy), 1)
    handles = {name: (folder / name).open("w") for name in templates}
    written = sum(len((folder / n).read_text().splitlines()) for n in ONCE)
    try:
        for k in range(copies):
            for name, lines in templates.items():
                out = []
                for line in lines:
                    for old in IDS:
                        line = line.replace(f'"{old}"', f'"{old}-{k}"').replace(
                            f'/{old}"', f'/{old}-{k}"'
                        )
                    out.append(line)
                handles[name].write("\n".join(out) + "\n")
                written += len(out)
    finally:
        for h in handles.values():
            h.close()
    return written


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    return 0


def measure(folder: str) -> None:
    """In a fresh process: read the export and print throughput and peak memory as JSON."""
    import threading

    from payvider.ingest.readers import fhir

    peak_anon = [0]
    done = threading.Event()

    def sample() -> None:
        # Anonymous memory (heap) apart from file pages: spilled batches are memory-mapped, and
        # their pages count in VmHWM when touched although the kernel can drop them at will.
        while not done.wait(0.05):
            peak_anon[0] = max(peak_anon[0], _status_kb("RssAnon:"))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    batch = fhir.read(Path(folder))
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    rows = {name: t.num_rows for name, t in batch.tables.items()}
    peak_kb = _status_kb("VmHWM:")
    print(
        json.dumps(
            {
                "seconds": round(seconds, 1),
                "rows": rows,
                "malformed": len(batch.malformed),
                "peak_rss_mb": round(peak_kb / 1024),
                "peak_anon_mb": round(peak_anon[0] / 1024),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gigabytes", type=float, default=1.0)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure)
        return
    with tempfile.TemporaryDirectory(prefix="bench-fhir-") as tmp:
        folder = Path(tmp) / "export"
        t0 = time.perf_counter()
        resources = write_export(folder, args.gigabytes)
        size = sum(p.stat().st_size for p in folder.iterdir())
        print(
            f"wrote {resources:,} resources, {size / 1e9:.2f} GB of NDJSON "
            f"in {time.perf_counter() - t0:.0f} s",
            file=sys.stderr,
        )
        done = subprocess.run(
            [sys.executable, __file__, "--measure", str(folder)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            sys.exit(f"reading the export failed:\n{done.stderr}")
        result = json.loads(done.stdout)
        print(
            f"read {resources:,} resources in {result['seconds']} s: "
            f"{resources / result['seconds']:,.0f} resources/s, "
            f"{size / 1e6 / result['seconds']:,.1f} MB/s; peak RSS {result['peak_rss_mb']} MB "
            f"(peak anonymous memory {result['peak_anon_mb']} MB)"
        )
        print(json.dumps(result["rows"]))


if __name__ == "__main__":
    main()
