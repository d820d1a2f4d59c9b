"""All the benchmarks, one after another: `make bench` (about eight minutes on two cores) or
`make bench-quick` (small numbers, a minute or two, for CI: it checks that every benchmark
still runs and asserts no timing).

    .venv/bin/python -m bench [--quick] [--only throughput,latency,…] [--json PATH]

Prints one Markdown table (the README's Performance section) and writes it as JSON
(bench/results.json; bench/results/quick.json, not kept in git, for --quick). PostgreSQL
and Redis come from TEST_POSTGRES_URL and TEST_REDIS_URL; a figure that needs one that is
not reachable is a "skipped" row (with REQUIRE_SERVICES=1, as in CI, the exit status is 1).
Each benchmark runs in a process of its own; one that fails is a "failed" row (its output is
shown), and the exit status is 1.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import RESULTS, ROOT
from bench.rows import Row, machine, read_rows, table, write_json

# Each benchmark's arguments; each runs as `python -m bench.<name>` in a process of its own.
FULL: dict[str, list[str]] = {
    "throughput": ["--residents", "100", "--repeats", "3"],
    "steps": ["--residents", "30"],
    "latency": ["--levels", "10,100,500"],
    "broadcast": ["--recipients", "10000", "--rate", "300"],
    "memory": ["--residents", "10000"],
    "reports": ["--orders", "100000"],
}
QUICK: dict[str, list[str]] = {
    "throughput": ["--residents", "10", "--repeats", "1"],
    "steps": ["--residents", "3"],
    "latency": ["--levels", "3,10", "--think", "0.05,0.2"],
    "broadcast": ["--recipients", "300", "--rate", "100"],
    "memory": ["--residents", "500"],
    "reports": ["--orders", "2000"],
}
TIMEOUT = 900  # seconds for one benchmark: a hung one fails instead of holding CI


def run_one(name: str, args: list[str]) -> tuple[list[Row], bool]:
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        out = Path(tmp) / "rows.json"
        command = [sys.executable, "-m", f"bench.{name}", *args, "--rows", str(out)]
        try:
            done = subprocess.run(
                command, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT, check=False
            )
        except subprocess.TimeoutExpired:
            return [Row(name, "", "failed", None, note=f"no result in {TIMEOUT} s")], False
        if done.returncode == 0 and out.exists():
            return read_rows(out), True
        sys.stderr.write(done.stdout + done.stderr)
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        return [Row(name, "", "failed", None, note=last[:200])], False


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench")
    p.add_argument("--quick", action="store_true", help="small numbers, for CI")
    p.add_argument("--only", help="comma-separated: " + ", ".join(FULL))
    p.add_argument("--json", type=Path, help="where to write the results")
    args = p.parse_args()
    benches = QUICK if args.quick else FULL
    if args.only:
        wanted = args.only.split(",")
        unknown = set(wanted) - set(benches)
        if unknown:
            p.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
        benches = {k: v for k, v in benches.items() if k in wanted}
    started = time.monotonic()
    rows: list[Row] = []
    ok = True
    for name, bench_args in benches.items():
        began = time.monotonic()
        got, fine = run_one(name, bench_args)
        rows += got
        ok = ok and fine
        print(f"{name}: {time.monotonic() - began:.0f} s", flush=True)
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
    skipped = [f"{r.bench} {r.case}: {r.note}" for r in rows if r.metric == "skipped"]
    if skipped and os.environ.get("REQUIRE_SERVICES") == "1":
        print("REQUIRE_SERVICES=1, but skipped:\n  " + "\n  ".join(skipped))
        ok = False
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
