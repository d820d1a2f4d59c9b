"""Screenshot the dashboard for the docs, over a month of made-up activity in Taole:

    .venv/bin/python -m dashboard.screenshot --out docs/dashboard.png
    .venv/bin/python -m dashboard.screenshot --phone --path /orders --out docs/dashboard-phone.png

Seeds a throw-away SQLite database with the Taole org chart, staff, volunteers, residents
and ~150 orders of the last 30 days (statuses, times, ratings, hours, photos and activities
varied at random with a fixed seed), serves the dashboard on 127.0.0.1 and photographs the
overview as the institute office sees it, in Chinese. Needs the `playwright` package (a dev
dependency) and Chromium at /usr/bin/chromium; it never downloads a browser.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.settings import ROOT, Settings
from dashboard.server import run_dashboard
from models import (
    Activity,
    ActivityStatus,
    Assignment,
    AssignmentStatus,
    Attachment,
    AttachmentKind,
    AttachmentStage,
    LedgerSource,
    Order,
    OrderEvent,
    OrderStatus,
    PointsEntry,
    Rating,
    Region,
    RegionLevel,
    Role,
    ServiceCategory,
    Team,
    TeamKind,
    User,
    utcnow,
)
from models.db import make_engine, make_sessionmaker
from models.migrate import upgrade
from services import people, reports, weblogin
from services.demo import SURNAMES, _name
from services.org import load_org_config, sync_org

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--lang=zh-CN",  # date fields in Chinese order
]
DAYS = 30
ELDERS = ["大爷", "奶奶", "大姐", "阿姨"]


async def seed(session: AsyncSession, rng: random.Random) -> User:
    """A month of activity; returns the office user to sign in as."""
    town = await session.scalar(select(Region).where(Region.level == RegionLevel.TOWN))
    if town is None:
        raise RuntimeError("no town: load the org config first")
    stations = list(
        await session.scalars(
            select(Region).where(Region.level == RegionLevel.STATION).order_by(Region.sort)
        )
    )
    teams = list(await session.scalars(select(Team).where(Team.kind == TeamKind.SPECIALIST)))
    categories = list(await session.scalars(select(ServiceCategory)))
    office = User(tg_id=1, name="李主任", registered=True, locale="zh_CN", town_id=town.id)
    session.add(office)
    await session.flush()
    await people.appoint(session, office, Role.OFFICE, region=town)
    volunteers: dict[int, list[User]] = {}
    for i, team in enumerate(teams):
        crew = []
        for k in range(4):
            station = stations[(i + k) % len(stations)]
            vol = User(
                tg_id=100 + i * 10 + k,
                name=_name(i * 4 + k + 7),
                registered=True,
                station_id=station.id,
                town_id=town.id,
                is_party_member=rng.random() < 0.5,
            )
            session.add(vol)
            await session.flush()
            await people.appoint(session, vol, Role.VOLUNTEER, team=team)
            crew.append(vol)
        volunteers[team.id] = crew
    residents = []
    for n, station in enumerate(stations):
        for k in range(6):
            resident = User(
                tg_id=1000 + n * 10 + k,
                name=SURNAMES[(n * 6 + k) % len(SURNAMES)] + rng.choice(ELDERS),
                registered=True,
                station_id=station.id,
                town_id=town.id,
            )
            session.add(resident)
            residents.append(resident)
    await session.flush()

    now = utcnow()
    weights = [9, 6, 10, 5, 4, 3, 3]  # how busy each village is
    serial = 0
    for day in range(DAYS, 0, -1):
        for _ in range(rng.randint(3, 7)):
            station = rng.choices(stations, weights=weights[: len(stations)])[0]
            cat = rng.choice(categories)
            created = now - timedelta(days=day, hours=rng.uniform(0, 10))
            age = (now - created).days
            roll = rng.random()
            if age > 3:
                status = (
                    OrderStatus.RATED
                    if roll < 0.62
                    else OrderStatus.DONE
                    if roll < 0.8
                    else OrderStatus.CANCELLED
                    if roll < 0.88
                    else OrderStatus.IN_PROGRESS
                )
            else:
                status = rng.choice(
                    [OrderStatus.ROUTED, OrderStatus.ACCEPTED, OrderStatus.DONE, OrderStatus.RATED]
                )
            serial += 1
            resident = rng.choice([r for r in residents if r.station_id == station.id])
            accepted = created + timedelta(minutes=rng.choice([8, 15, 25, 40, 70, 150]))
            done = accepted + timedelta(hours=rng.uniform(3, 40))
            moved = status not in (OrderStatus.ROUTED, OrderStatus.CANCELLED)
            order = Order(
                number=f"TA-{created:%Y%m%d}-{serial:04d}",
                town_id=town.id,
                station_id=station.id,
                category_id=cat.id,
                team_id=cat.team_id,
                resident_id=resident.id,
                placed_by_id=resident.id,
                status=status,
                description="需要志愿者上门帮忙",
                created_at=created,
                accepted_at=accepted if moved else None,
                done_at=done if status in reports.FINISHED else None,
                slot_end=accepted + timedelta(hours=6) if moved else None,
                escalated=rng.random() < 0.06,
            )
            session.add(order)
            await session.flush()
            session.add(OrderEvent(order_id=order.id, at=created, kind="created", to_status="new"))
            if status in reports.FINISHED:
                vol = rng.choice(volunteers.get(cat.team_id) or [office])
                hours = Decimal(rng.choice([1, 1.5, 2, 2, 3]))
                session.add(
                    Assignment(
                        order_id=order.id,
                        volunteer_id=vol.id,
                        status=AssignmentStatus.DONE,
                        hours=hours,
                        confirmed=True,
                    )
                )
                session.add(
                    PointsEntry(
                        user_id=vol.id,
                        at=done,
                        source=LedgerSource.ORDER,
                        hours=hours,
                        points=hours * 10,
                        order_id=order.id,
                    )
                )
                if rng.random() < 0.85:
                    session.add(
                        Attachment(
                            order_id=order.id,
                            kind=AttachmentKind.PHOTO,
                            stage=AttachmentStage.COMPLETION,
                            file_id=f"f{order.id}",
                            file_unique_id=f"u{order.id}",
                        )
                    )
            if status == OrderStatus.RATED:
                score = rng.choices([5, 4, 3, 2, 1], weights=[60, 25, 9, 4, 2])[0]
                session.add(
                    Rating(order_id=order.id, resident_id=resident.id, score=score, created_at=done)
                )
    for n, station in enumerate(stations):
        for k in range(rng.randint(0, 3)):
            start = now - timedelta(days=rng.randint(1, DAYS - 1), hours=3)
            session.add(
                Activity(
                    number=f"HD-{n}{k}",
                    title="板凳课堂",
                    starts_at=start,
                    ends_at=start + timedelta(hours=2),
                    station_id=station.id,
                    town_id=town.id,
                    status=ActivityStatus.DONE,
                    created_by_id=office.id,
                )
            )
    await session.commit()
    return office


async def shoot(out: Path, width: int, height: int, path: str = "", *, phone: bool = False) -> None:
    """`phone`: the first screen only, at a phone's pixel density (2×)."""
    from playwright.async_api import async_playwright  # dev-only dependency

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/demo.sqlite3"
        await asyncio.to_thread(upgrade, url)
        engine = make_engine(url)
        sessionmaker = make_sessionmaker(engine)
        cfg = load_org_config(ROOT / "config" / "taole.yaml")
        settings = Settings(
            database_url=url,
            media_dir=Path(tmp) / "media",
            dashboard_secret="screenshot-only-secret-0123456789",
            dashboard_port=0,
        )
        async with sessionmaker() as s:
            await sync_org(s, cfg)
            await s.commit()
            office = await seed(s, random.Random(20201001))
            roles = await people.roles_of(s, office, frozenset())
            token = await weblogin.issue_link_token(s, office, roles)
        today = reports.local_today(settings.tz)
        first = today - timedelta(days=DAYS - 1)
        async with (
            run_dashboard(settings, sessionmaker, cfg.policy) as base,
            async_playwright() as pw,
        ):
            browser = await pw.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, env={"LANG": "zh_CN.UTF-8"}
            )
            try:
                page = await browser.new_page(
                    viewport={"width": width, "height": height},
                    locale="zh-CN",
                    device_scale_factor=2 if phone else 1,
                    is_mobile=phone,
                    has_touch=phone,
                )
                await page.goto(f"{base}/login/{token}")
                await page.click("#sign-in")
                period = f"from={first.isoformat()}&to={today.isoformat()}"
                await page.goto(f"{base}{path or '/'}?{period}" if not path else base + path)
                await page.wait_for_function(
                    "() => [...document.images].every(i => i.complete && i.naturalWidth > 0)"
                )
                out.parent.mkdir(parents=True, exist_ok=True)
                await page.screenshot(path=str(out), full_page=not phone)
            finally:
                await browser.close()
        await engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m dashboard.screenshot")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "dashboard.png")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--path", default="", help="another page, e.g. /orders (default: /)")
    parser.add_argument(
        "--phone", action="store_true", help="a phone's first screen: 390×844 at 2× density"
    )
    args = parser.parse_args(argv)
    if args.phone:
        args.width, args.height = 390, 844
    asyncio.run(shoot(args.out, args.width, args.height, args.path, phone=args.phone))


if __name__ == "__main__":
    main()
