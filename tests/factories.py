"""Test-data builders: a small town, its people, and orders moved to any state.

Builders add rows and flush; they never commit (services commit at the end of each call,
and a test that hands data to a second session commits itself).

    org = await make_org(session)            # 陶乐镇: 2 stations, 2 specialist teams, 2 squads
    cast = await make_cast(session, org)     # leaders, volunteers, heads, office, admin, residents
    order = await place_order(session, cast.resident, org.clinic)
    await advance_to(session, cast, order.id, OrderStatus.DONE)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Order,
    OrderStatus,
    PointsEntry,
    PriorityGroup,
    Region,
    RegionLevel,
    Role,
    ServiceArea,
    ServiceCategory,
    Slot,
    Team,
    TeamKind,
    User,
    utcnow,
)
from services import orders
from services.context import Ctx
from services.org import Policy
from services.people import Roles, appoint, roles_of
from services.points import DEFAULT_RULES, LOCAL_TZ, PointsRules

_ids = itertools.count(1)

# The context the bot is built with when the settings and the org file say nothing.
CTX = Ctx(policy=Policy(), tz=LOCAL_TZ)


@dataclass
class Org:
    """A town like Taole, small enough to reason about in a test."""

    county: Region
    town: Region  # 陶乐镇, code "taole": order numbers start with "TA-"
    east: Region  # station 东街社区
    west: Region  # station 西街社区
    health: Team  # 卫生健康志愿服务队 (specialist)
    law: Team  # 法律普及志愿服务队 (specialist)
    east_squad: Team  # 东街社区志愿服务小分队
    west_squad: Team  # 西街社区志愿服务小分队
    health_area: ServiceArea  # 看病义诊
    law_area: ServiceArea  # 法律咨询
    clinic: ServiceCategory  # 义诊看病 → health
    legal: ServiceCategory  # 法律咨询 → law
    elderly: PriorityGroup  # 留守老人

    @property
    def stations(self) -> list[Region]:
        return [self.east, self.west]

    def squad_of(self, station: Region) -> Team:
        return self.east_squad if station.id == self.east.id else self.west_squad


def _region(code: str, level: RegionLevel, zh: str, en: str, parent: Region | None) -> Region:
    return Region(
        code=code, level=level, name_zh=zh, name_en=en, parent_id=parent.id if parent else None
    )


async def make_org(session: AsyncSession, town_code: str = "taole") -> Org:
    county = _region(f"{town_code}_county", RegionLevel.COUNTY, "平罗县", "Pingluo County", None)
    session.add(county)
    await session.flush()
    town = _region(town_code, RegionLevel.TOWN, "陶乐镇", "Taole Town", county)
    session.add(town)
    await session.flush()
    east = _region(f"{town_code}.dongjie", RegionLevel.STATION, "东街社区", "Dongjie", town)
    west = _region(f"{town_code}.xijie", RegionLevel.STATION, "西街社区", "Xijie", town)
    session.add_all([east, west])
    await session.flush()

    def team(code: str, kind: TeamKind, zh: str, en: str, station: Region | None) -> Team:
        return Team(
            code=f"{town_code}.{code}",
            kind=kind,
            town_id=town.id,
            name_zh=zh,
            name_en=en,
            station_id=station.id if station else None,
        )

    health = team("health", TeamKind.SPECIALIST, "卫生健康志愿服务队", "Health team", None)
    law = team("law", TeamKind.SPECIALIST, "法律普及志愿服务队", "Law team", None)
    east_squad = team(
        "dongjie_squad", TeamKind.SQUAD, "东街社区志愿服务小分队", "Dongjie squad", east
    )
    west_squad = team("xijie_squad", TeamKind.SQUAD, "西街社区志愿服务小分队", "Xijie squad", west)
    health_area = ServiceArea(
        code=f"{town_code}.health", town_id=town.id, name_zh="看病义诊", name_en="Health"
    )
    law_area = ServiceArea(
        code=f"{town_code}.law", town_id=town.id, name_zh="法律咨询", name_en="Legal help"
    )
    elderly = PriorityGroup(
        code=f"{town_code}.elderly",
        town_id=town.id,
        name_zh="留守老人",
        name_en="Left-behind elderly",
    )
    session.add_all([health, law, east_squad, west_squad, health_area, law_area, elderly])
    await session.flush()

    def category(code: str, area: ServiceArea, team: Team, zh: str, en: str) -> ServiceCategory:
        return ServiceCategory(
            code=f"{town_code}.{code}", area_id=area.id, team_id=team.id, name_zh=zh, name_en=en
        )

    clinic = category("free_clinic", health_area, health, "义诊看病", "Free clinic")
    legal = category("legal_advice", law_area, law, "法律咨询", "Legal advice")
    session.add_all([clinic, legal])
    await session.flush()
    return Org(
        county,
        town,
        east,
        west,
        health,
        law,
        east_squad,
        west_squad,
        health_area,
        law_area,
        clinic,
        legal,
        elderly,
    )


async def make_user(
    session: AsyncSession,
    *,
    name: str | None = None,
    station: Region | None = None,
    tg_id: int | bool | None = True,
    phone: str | None = None,
    priority_group: PriorityGroup | None = None,
    locale: str = "zh_CN",
) -> User:
    """A registered user. `tg_id=True` picks a fresh Telegram id; `None` makes a resident
    without Telegram (proxy orders)."""
    n = next(_ids)
    user = User(
        tg_id=(700_000 + n) if tg_id is True else tg_id,
        name=name or f"user{n}",
        phone=phone,
        locale=locale,
        station_id=station.id if station else None,
        town_id=station.parent_id if station else None,
        priority_group_id=priority_group.id if priority_group else None,
        registered=True,
    )
    session.add(user)
    await session.flush()
    return user


async def _appointed(
    session: AsyncSession,
    role: Role,
    *,
    name: str | None,
    station: Region | None = None,
    **where: Any,
) -> User:
    """A new user (living at `station`, if given) appointed to `role` (`where`: its region
    or team)."""
    user = await make_user(session, name=name, station=station)
    await appoint(session, user, role, **where)
    return user


async def make_leader(session: AsyncSession, team: Team, *, name: str | None = None) -> User:
    return await _appointed(session, Role.TEAM_LEADER, name=name, team=team)


async def make_volunteer(session: AsyncSession, team: Team, *, name: str | None = None) -> User:
    return await _appointed(session, Role.VOLUNTEER, name=name, team=team)


async def make_head(session: AsyncSession, station: Region, *, name: str | None = None) -> User:
    """A station head; `appoint` also makes them leader of the station's squad."""
    return await _appointed(session, Role.STATION_HEAD, name=name, station=station, region=station)


async def make_office(session: AsyncSession, town: Region, *, name: str | None = None) -> User:
    return await _appointed(session, Role.OFFICE, name=name, region=town)


async def make_admin(session: AsyncSession, *, name: str | None = None) -> User:
    return await _appointed(session, Role.ADMIN, name=name)


async def roles_for(
    session: AsyncSession, user: User, admin_tg_ids: frozenset[int] = frozenset()
) -> Roles:
    return await roles_of(session, user, admin_tg_ids)


@dataclass
class Cast:
    """Everyone a loop needs. Two health leaders, so a concurrent Accept can be tested."""

    org: Org
    health_leader: User
    health_leader2: User
    health_vol: User
    health_vol2: User
    law_leader: User
    law_vol: User
    east_head: User  # also leads the east squad
    west_head: User  # also leads the west squad
    office: User
    admin: User
    resident: User  # lives in 东街社区
    neighbour: User  # also 东街社区
    west_resident: User


async def make_cast(session: AsyncSession, org: Org | None = None) -> Cast:
    org = org or await make_org(session)
    return Cast(
        org=org,
        health_leader=await make_leader(session, org.health, name="张医生"),
        health_leader2=await make_leader(session, org.health, name="李护士"),
        health_vol=await make_volunteer(session, org.health, name="王志愿"),
        health_vol2=await make_volunteer(session, org.health, name="赵志愿"),
        law_leader=await make_leader(session, org.law, name="陈律师"),
        law_vol=await make_volunteer(session, org.law, name="刘法官"),
        east_head=await make_head(session, org.east, name="东街书记"),
        west_head=await make_head(session, org.west, name="西街书记"),
        office=await make_office(session, org.town, name="所办公室"),
        admin=await make_admin(session, name="管理员"),
        resident=await make_user(session, name="马大爷", station=org.east, phone="13800000001"),
        neighbour=await make_user(session, name="杨奶奶", station=org.east),
        west_resident=await make_user(session, name="周大姐", station=org.west),
    )


async def place_order(
    session: AsyncSession,
    resident: User,
    category: ServiceCategory,
    *,
    placed_by: User | None = None,
    description: str = "需要帮助",
    preferred_date: date | None = date(2026, 12, 1),
    preferred_slot: Slot = Slot.MORNING,
    max_open: int = 100,
    **kwargs: Any,
) -> Order:
    """`services.orders.create_order` with everyday defaults (and a generous open limit);
    other keyword arguments (client_token, attachments, …) are passed through."""
    placer = placed_by or resident
    return await orders.create_order(
        session,
        CTX,
        resident=resident,
        placed_by=placer,
        roles=await roles_for(session, placer),
        category_id=category.id,
        description=description,
        preferred_date=preferred_date,
        preferred_slot=preferred_slot,
        max_open=max_open,
        **kwargs,
    )


async def ledger_year(session: AsyncSession, user_id: int, tz: tzinfo = LOCAL_TZ) -> int:
    """The local year of a person's ledger rows, as the service dated them: a test asks for
    that year's totals instead of guessing it from today's date (a new year may begin, in
    Shanghai, between the booking and the check)."""
    stamps = list(
        await session.scalars(select(PointsEntry.at).where(PointsEntry.user_id == user_id))
    )
    years = {(at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(tz).year for at in stamps}
    assert len(years) == 1, f"ledger rows of user {user_id} span the years {sorted(years)}"
    return years.pop()


def slot(hours_from_now: int = 24, length: int = 2) -> tuple[datetime, datetime]:
    start = utcnow().replace(microsecond=0) + timedelta(hours=hours_from_now)
    return start, start + timedelta(hours=length)


PHOTOS = [("photo-file-1", "uniq-1", "data/media/1.jpg")]

# How `advance_to` walks an order of the health team (category `clinic`) forward.
_PATH = [
    OrderStatus.ROUTED,
    OrderStatus.ACCEPTED,
    OrderStatus.IN_PROGRESS,
    OrderStatus.DONE,
    OrderStatus.RATED,
]


async def advance_to(
    session: AsyncSession,
    cast: Cast,
    order_id: int,
    status: OrderStatus,
    *,
    rules: PointsRules = DEFAULT_RULES,
    score: int = 4,
) -> Order:
    """Move a freshly routed health-team order to `status` through the real services:
    health_leader accepts and assigns health_vol, who starts and completes with 2 hours.
    `new` (escalated, with the office) and `declined` cannot be reached at rest by the
    services and are forced with an UPDATE; `cancelled` is the resident cancelling."""
    if status in (OrderStatus.NEW, OrderStatus.DECLINED):
        office = status == OrderStatus.NEW
        values: dict[str, object] = {"status": status, "version": Order.version + 1}
        if office:
            values |= {"team_id": None, "handler_kind": "office", "escalated": True}
        await session.execute(update(Order).where(Order.id == order_id).values(**values))
        await session.commit()
        return await session.get(Order, order_id, populate_existing=True)
    if status == OrderStatus.CANCELLED:
        resident = await _resident_of(session, order_id)
        return await orders.cancel(session, order_id, resident, await roles_for(session, resident))
    leader, vol = cast.health_leader, cast.health_vol
    lroles, vroles = await roles_for(session, leader), await roles_for(session, vol)
    steps = _PATH[1 : _PATH.index(status) + 1]
    order = await session.get(Order, order_id)
    for step in steps:
        if step == OrderStatus.ACCEPTED:
            order = await orders.accept(session, order_id, leader, lroles)
        elif step == OrderStatus.IN_PROGRESS:
            await orders.assign(session, CTX, order_id, leader, lroles, [vol.id], *slot())
            order = await orders.start(session, order_id, vol, vroles)
        elif step == OrderStatus.DONE:
            order = await orders.complete(
                session, CTX, order_id, vol, vroles, PHOTOS, {vol.id: Decimal(2)}, "看过了"
            )
        elif step == OrderStatus.RATED:
            resident = await _resident_of(session, order_id)
            await orders.rate(session, order_id, resident, score, rules=rules)
            order = await session.get(Order, order_id, populate_existing=True)
    return order


async def assigned_order(session: AsyncSession, cast: Cast) -> tuple[Order, Roles]:
    """The resident's free-clinic order, accepted by health_leader with health_vol assigned
    (not started yet); returns it and the leader's roles."""
    order = await place_order(session, cast.resident, cast.org.clinic)
    lroles = await roles_for(session, cast.health_leader)
    await orders.accept(session, order.id, cast.health_leader, lroles)
    await orders.assign(
        session, CTX, order.id, cast.health_leader, lroles, [cast.health_vol.id], *slot()
    )
    return order, lroles


async def _resident_of(session: AsyncSession, order_id: int) -> User:
    order = await session.get(Order, order_id, populate_existing=True)
    return await session.get(User, order.resident_id)
