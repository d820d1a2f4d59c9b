"""Benchmark: the archive export of a big town (default 100,000 orders; the target is ≤ 20 s).

    .venv/bin/python -m bench.export [--orders 100000] [--database-url URL]

Seeds a fresh SQLite database (or the given one, which must be empty and migrated) with the
Taole org chart, residents, volunteers and N orders, each with 5 events, an assignment with
hours, a rating for every other order and a photo record, then times `write_xlsx` and the
photo ZIP's planning. Prints one line of figures per step.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert, select

from bot.settings import ROOT
from models import (
    Assignment,
    AssignmentStatus,
    Attachment,
    AttachmentKind,
    AttachmentStage,
    Order,
    OrderEvent,
    OrderStatus,
    Rating,
    Region,
    RegionLevel,
    ServiceCategory,
    User,
)
from models.db import make_engine, make_sessionmaker
from models.migrate import upgrade
from services import archive
from services.org import load_org_config, sync_org
from services.reports import Scope

CHUNK = 5000


async def seed(url: str, n: int) -> None:
    engine = make_engine(url)
    sm = make_sessionmaker(engine)
    async with sm() as s:
        await sync_org(s, load_org_config(ROOT / "config" / "taole.yaml"))
        await s.commit()
        stations = list(await s.scalars(select(Region).where(Region.level == RegionLevel.STATION)))
        cats = list(await s.scalars(select(ServiceCategory)))
        town_id = stations[0].parent_id
        people = [
            {
                "tg_id": 9_000_000 + i,
                "name": f"居民{i}",
                "registered": True,
                "station_id": stations[i % len(stations)].id,
                "town_id": town_id,
            }
            for i in range(2000)
        ]
        await s.execute(insert(User), people)
        user_ids = list(await s.scalars(select(User.id).order_by(User.id)))
        base = datetime(2026, 1, 1, tzinfo=UTC)
        for lo in range(0, n, CHUNK):
            rows = []
            for i in range(lo, min(n, lo + CHUNK)):
                cat = cats[i % len(cats)]
                created = base + timedelta(minutes=5 * i)
                rows.append(
                    {
                        "number": f"BE-{i:07d}",
                        "town_id": town_id,
                        "station_id": stations[i % len(stations)].id,
                        "category_id": cat.id,
                        "team_id": cat.team_id,
                        "resident_id": user_ids[i % 1000],
                        "placed_by_id": user_ids[i % 1000],
                        "status": OrderStatus.RATED if i % 2 else OrderStatus.DONE,
                        "description": "需要帮助：检查血压，讲解政策",
                        "created_at": created,
                        "accepted_at": created + timedelta(minutes=20),
                        "started_at": created + timedelta(hours=20),
                        "done_at": created + timedelta(hours=22),
                        "address": "东街 12 号",
                    }
                )
            await s.execute(insert(Order), rows)
        await s.commit()
        order_ids = list(await s.scalars(select(Order.id).order_by(Order.id)))
        for lo in range(0, len(order_ids), CHUNK):
            part = order_ids[lo : lo + CHUNK]
            when = base
            await s.execute(
                insert(OrderEvent),
                [
                    {
                        "order_id": oid,
                        "at": when,
                        "kind": kind,
                        "from_status": "routed",
                        "to_status": "accepted",
                        "actor_id": user_ids[1000 + oid % 1000],
                        "note": "备注",
                    }
                    for oid in part
                    for kind in ("created", "routed", "accepted", "assigned", "done")
                ],
            )
            await s.execute(
                insert(Assignment),
                [
                    {
                        "order_id": oid,
                        "volunteer_id": user_ids[1000 + oid % 1000],
                        "status": AssignmentStatus.DONE,
                        "hours": Decimal(2),
                        "confirmed": True,
                        "created_at": when,
                    }
                    for oid in part
                ],
            )
            await s.execute(
                insert(Rating),
                [
                    {
                        "order_id": oid,
                        "resident_id": user_ids[oid % 1000],
                        "score": 1 + oid % 5,
                        "created_at": when,
                    }
                    for oid in part
                    if oid % 2
                ],
            )
            await s.execute(
                insert(Attachment),
                [
                    {
                        "order_id": oid,
                        "kind": AttachmentKind.PHOTO,
                        "stage": AttachmentStage.COMPLETION,
                        "file_id": f"f{oid}",
                        "file_unique_id": f"u{oid}",
                        "local_path": f"inbox/u{oid}.jpg",
                    }
                    for oid in part
                ],
            )
        await s.commit()
    await engine.dispose()


async def measure(url: str, out_dir: Path) -> None:
    engine = make_engine(url)
    sm = make_sessionmaker(engine)
    async with sm() as s:
        t = time.monotonic()
        summary = await archive.write_xlsx(s, out_dir / "archive.xlsx", Scope())
        took = time.monotonic() - t
        size = (out_dir / "archive.xlsx").stat().st_size / 1e6
        rows = ", ".join(f"{k} {v}" for k, v in summary.rows.items())
        print(f"xlsx: {took:.1f} s, {size:.1f} MB ({rows})", flush=True)
        t = time.monotonic()
        photos = await archive.write_photo_zip(s, out_dir / "photos.zip", Scope(), None, out_dir)
        print(
            f"photos zip (files absent: planning + MISSING.txt): {time.monotonic() - t:.1f} s, "
            f"{len(photos.missing)} listed",
            flush=True,
        )
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
        asyncio.run(measure(url, Path(tmp)))


if __name__ == "__main__":
    main()
