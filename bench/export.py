"""Benchmark: the archive export of a big town (default 100,000 orders; the target is ≤ 20 s).

    .venv/bin/python -m bench.export [--orders 100000] [--database-url URL]

Seeds a fresh SQLite database (or the given one, which must be empty and migrated) with
`bench/seed.py`'s town, then times `write_xlsx` and the photo ZIP's planning. Prints one
line of figures per step. `python -m bench.reports` times these beside the reports.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.seed import seed
from models.db import make_engine, make_sessionmaker
from models.migrate import upgrade
from services import archive
from services.points import LOCAL_TZ
from services.reports import Scope


@dataclass
class ExportTimes:
    xlsx_seconds: float
    xlsx_mb: float
    rows: dict[str, int]
    photos_seconds: float
    photos_listed: int


async def measure(url: str, out_dir: Path) -> ExportTimes:
    engine = make_engine(url)
    sm = make_sessionmaker(engine)
    try:
        async with sm() as s:
            t = time.monotonic()
            summary = await archive.write_xlsx(s, out_dir / "archive.xlsx", Scope(), tz=LOCAL_TZ)
            xlsx = time.monotonic() - t
            t = time.monotonic()
            photos = await archive.write_photo_zip(
                s, out_dir / "photos.zip", Scope(), None, out_dir, tz=LOCAL_TZ
            )
            return ExportTimes(
                xlsx,
                (out_dir / "archive.xlsx").stat().st_size / 1e6,
                dict(summary.rows),
                time.monotonic() - t,
                len(photos.missing),
            )
    finally:
        await engine.dispose()


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.export")
    p.add_argument("--orders", type=int, default=100_000)
    p.add_argument("--database-url", help="an empty, migrated database (default: temp SQLite)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.sqlite3"
        if not args.database_url:
            upgrade(url)
        t = time.monotonic()
        asyncio.run(seed(url, args.orders))
        print(f"seeded {args.orders} orders in {time.monotonic() - t:.1f} s", flush=True)
        times = asyncio.run(measure(url, Path(tmp)))
        rows = ", ".join(f"{k} {v}" for k, v in times.rows.items())
        print(f"xlsx: {times.xlsx_seconds:.1f} s, {times.xlsx_mb:.1f} MB ({rows})")
        print(
            f"photos zip (files absent: planning + MISSING.txt): {times.photos_seconds:.1f} s, "
            f"{times.photos_listed} listed"
        )


if __name__ == "__main__":
    main()
