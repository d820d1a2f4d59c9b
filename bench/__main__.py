"""All the benchmarks, one after another: `make bench` (about eight minutes on two cores) or
`make bench-quick` (small numbers, a minute or two, for CI: it checks that every benchmark
still runs and asserts no timing).

    .venv/bin/python -m bench [--quick] [--only throughput,latency,…] [--json PATH]

Prints one Markdown table (the README's Performance section) and writes it as JSON
(bench/results.json; bench/results/quick.json, not kept in git, for --quick). PostgreSQL
and Redis come from TEST_POSTGRES_URL and TEST_REDIS_URL; a figure that needs one that is
not reachable is a "skipped" row. A benchmark that fails is a "failed" row, and the exit
status is 1.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import broadcast, latency, memory, reports, throughput
from bench.common import RESULTS, Row, machine, quiet_logs, table, write_json

Bench = Callable[[], Awaitable[list[Row]]]

FULL: dict[str, Bench] = {
    "throughput": lambda: throughput.run(residents=100, repeats=3),
    "latency": lambda: latency.run((10, 100, 500)),
    "broadcast": lambda: broadcast.run(10_000, 300.0),
    "memory": lambda: memory.run(10_000),
    "reports": lambda: reports.run(100_000),
}
QUICK: dict[str, Bench] = {
    "throughput": lambda: throughput.run(residents=10, repeats=1),
    "latency": lambda: latency.run((3, 10), think=(0.05, 0.2)),
    "broadcast": lambda: broadcast.run(300, 100.0),
    "memory": lambda: memory.run(500),
    "reports": lambda: reports.run(2_000),
}


async def run_all(benches: dict[str, Bench]) -> tuple[list[Row], bool]:
    rows: list[Row] = []
    ok = True
    for name, bench in benches.items():
        started = time.monotonic()
        try:
            got = await bench()
        except Exception as exc:
            traceback.print_exc()
            got = [Row(name, "", "failed", None, note=f"{type(exc).__name__}: {exc}"[:200])]
            ok = False
        rows += got
        print(f"{name}: {time.monotonic() - started:.0f} s", flush=True)
    return rows, ok


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench")
    p.add_argument("--quick", action="store_true", help="small numbers, for CI")
    p.add_argument("--only", help="comma-separated: " + ", ".join(FULL))
    p.add_argument("--json", type=Path, help="where to write the results")
    args = p.parse_args()
    quiet_logs()
    benches = QUICK if args.quick else FULL
    if args.only:
        wanted = args.only.split(",")
        unknown = set(wanted) - set(benches)
        if unknown:
            p.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
        benches = {k: v for k, v in benches.items() if k in wanted}
    started = time.monotonic()
    rows, ok = asyncio.run(run_all(benches))
    took = time.monotonic() - started
    print()
    print(table(rows))
    print(f"\n{took / 60:.1f} minutes; {machine()}")
    path = args.json or (RESULTS.parent / "results" / "quick.json" if args.quick else RESULTS)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(
        rows,
        path,
        when=datetime.now(UTC).isoformat(timespec="seconds"),
        quick=args.quick,
        minutes=round(took / 60, 1),
        machine=machine(),
    )
    print(f"written to {path}")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
