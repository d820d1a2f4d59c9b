"""A big town in a database, for the report and export benchmarks: the Taole org chart,
2,000 residents of whom 1,000 are volunteers (team members; every fourth a party member
reporting to one of the town's units, 双报道), and N orders (default 100,000, one every five
minutes from 2026-01-01, on their category's platform), each with 5 events (created, routed
after 0–9 minutes, accepted after 20, assigned, done after 22 hours), an assignment with
2 hours booked in the points ledger, a rating for every other order and a photo record.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import insert, select

from bot.settings import ROOT
from models import (
    Assignment,
    AssignmentStatus,
    Attachment,
    AttachmentKind,
    AttachmentStage,
    LedgerSource,
    MemberRole,
    Order,
    OrderEvent,
    OrderStatus,
    PointsEntry,
    Rating,
    Region,
    RegionLevel,
    ServiceCategory,
    Team,
    TeamMember,
    Unit,
    User,
)
from models.db import make_engine, make_sessionmaker
from services.org import load_org_config, sync_org

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
        units = list(await s.scalars(select(Unit.id).order_by(Unit.id)))
        people = [
            {
                "tg_id": 9_000_000 + i,
                "name": f"居民{i}",
                "registered": True,
                "station_id": stations[i % len(stations)].id,
                "town_id": town_id,
                "is_party_member": i >= 1000 and i % 4 == 0,
                "work_unit_id": units[i % len(units)] if i >= 1000 and i % 4 == 0 else None,
            }
            for i in range(2000)
        ]
        await s.execute(insert(User), people)
        user_ids = list(await s.scalars(select(User.id).order_by(User.id)))
        teams = list(await s.scalars(select(Team.id).order_by(Team.id)))
        await s.execute(
            insert(TeamMember),
            [
                {"team_id": teams[i % len(teams)], "user_id": uid, "role": MemberRole.MEMBER}
                for i, uid in enumerate(user_ids[1000:2000])
            ],
        )
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
                        "platform_id": cat.platform_id,
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
            after = {"created": 0, "routed": -1, "accepted": 20, "assigned": 21, "done": 22 * 60}
            await s.execute(
                insert(OrderEvent),
                [
                    {
                        "order_id": oid,
                        "at": base
                        + timedelta(minutes=5 * (oid - order_ids[0]) + (m if m >= 0 else oid % 10)),
                        "kind": kind,
                        "from_status": "routed",
                        "to_status": "accepted",
                        "actor_id": user_ids[1000 + oid % 1000],
                        "note": "备注",
                    }
                    for oid in part
                    for kind, m in after.items()
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
                insert(PointsEntry),
                [
                    {
                        "user_id": user_ids[1000 + oid % 1000],
                        "at": base + timedelta(minutes=5 * (oid - order_ids[0]), hours=22),
                        "source": LedgerSource.ORDER,
                        "hours": Decimal(2),
                        "points": Decimal(20),
                        "order_id": oid,
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
