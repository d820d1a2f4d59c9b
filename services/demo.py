"""A demo cast for the simulator: a leader for every team, a head for every station, office
staff, the dispatchers (站所联络员) of the 文化站 and the 卫生院, a volunteer on every team an
order can reach, and a few residents, so a newcomer can walk the whole loop at once:
站所接单, 派单, accept, done."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Region, Role, Team, TeamKind, Unit, User
from services import people
from services.i18n import local_name

BASE_ID = 7_000_000
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
# Units given a dispatcher in the demo (local codes, as in config/taole.yaml), and the team
# that gets a volunteer of its own besides the first three.
DISPATCH_UNITS = ("culture_station", "health_centre")
HEALTH_TEAM = "health"
GIVEN = [
    "建国",
    "秀英",
    "志强",
    "桂兰",
    "海燕",
    "卫东",
    "玉梅",
    "国庆",
    "淑珍",
    "红军",
    "丽娟",
    "德明",
    "春花",
    "永平",
    "凤英",
    "成林",
]


@dataclass(frozen=True)
class CastMember:
    tg_id: int
    name: str
    label_zh: str
    label_en: str


def _name(n: int) -> str:
    return SURNAMES[n % len(SURNAMES)] + GIVEN[(n * 7) % len(GIVEN)]


async def _person(session: AsyncSession, n: int, name: str, station: Region | None) -> User:
    user = await people.get_or_create_user(session, BASE_ID + n, locale="zh_CN")
    user.name = user.name or name
    user.registered = True
    if station is not None and user.station_id is None:
        user.station_id, user.town_id = station.id, station.parent_id
    return user


async def seed_demo_cast(session: AsyncSession) -> list[CastMember]:
    """Create (or refresh) the cast in the database; the caller commits. Idempotent."""
    town = await session.scalar(select(Region).where(Region.served_town()).order_by(Region.id))
    if town is None:
        return []
    stations = list(
        (
            await session.scalars(
                select(Region)
                .where(Region.parent_id == town.id, Region.active.is_(True))
                .order_by(Region.sort, Region.id)
            )
        ).all()
    )
    teams = list(
        (
            await session.scalars(
                select(Team)
                .where(
                    Team.town_id == town.id, Team.kind == TeamKind.SPECIALIST, Team.active.is_(True)
                )
                .order_by(Team.sort, Team.id)
            )
        ).all()
    )
    cast: list[CastMember] = []
    n = 0

    async def add(name: str, station: Region | None, zh: str, en: str) -> User:
        nonlocal n
        n += 1
        user = await _person(session, n, name, station)
        cast.append(CastMember(BASE_ID + n, user.name or name, zh, en))
        return user

    office = await add(
        "李主任",
        stations[0] if stations else None,
        "镇实践所办公室（管理员）",
        "Institute office (admin)",
    )
    await people.appoint(session, office, Role.OFFICE, region=town)
    await people.appoint(session, office, Role.ADMIN)
    for i, station in enumerate(stations):
        head = await add(
            _name(i + 3), station, f"{station.name_zh} 站长", f"{station.name_en}: station head"
        )
        await people.appoint(session, head, Role.STATION_HEAD, region=station)
    for i, team in enumerate(teams):
        home = stations[i % len(stations)] if stations else None
        leader = await add(_name(i + 20), home, f"{team.name_zh} 队长", f"{team.name_en}: leader")
        await people.appoint(session, leader, Role.TEAM_LEADER, team=team)
        if i < 3:  # a few teams get volunteers of their own, to assign
            for k in range(2):
                vol = await add(
                    _name(i * 2 + k + 40),
                    home,
                    f"{team.name_zh} 志愿者",
                    f"{team.name_en}: volunteer",
                )
                await people.appoint(session, vol, Role.VOLUNTEER, team=team)
    for i, station in enumerate(stations[:3]):
        await add(
            ["王大妈", "张大爷", "刘婶"][i],
            station,
            f"{station.name_zh} 居民",
            f"{local_name(station, 'en')}: resident",
        )
    # Added last, so the ids of the cast above stay as they were.
    health = next((t for t in teams if t.code == f"{town.code}.{HEALTH_TEAM}"), None)
    if health is not None:
        home = stations[0] if stations else None
        vol = await add(_name(50), home, f"{health.name_zh} 志愿者", f"{health.name_en}: volunteer")
        await people.appoint(session, vol, Role.VOLUNTEER, team=health)
    for k, code in enumerate(DISPATCH_UNITS):
        unit = await session.scalar(
            select(Unit).where(Unit.code == f"{town.code}.{code}", Unit.active.is_(True))
        )
        if unit is None:
            continue
        dispatcher = await add(
            _name(60 + k),
            stations[0] if stations else None,
            f"{unit.name_zh} 站所联络员",
            f"{unit.name_en}: dispatcher",
        )
        await people.appoint(session, dispatcher, Role.DISPATCHER, unit=unit)
    await _staff_every_route(session, town, stations, teams, add)
    await session.flush()
    return cast


async def _staff_every_route(
    session: AsyncSession,
    town: Region,
    stations: list[Region],
    teams: list[Team],
    add: Callable[[str, Region | None, str, str], Awaitable[User]],
) -> None:
    """Someone to assign on every team an order can reach: the specialist teams without a
    volunteer yet, and the squads of the residents' villages (a dispatcher may send an order
    there, and an unanswered one falls back to them). Added after the rest of the cast, so
    its ids stay as they were."""
    for i, team in enumerate(teams):
        if i < 3 or team.code == f"{town.code}.{HEALTH_TEAM}":
            continue  # these have volunteers already
        home = stations[i % len(stations)] if stations else None
        vol = await add(_name(i + 70), home, f"{team.name_zh} 志愿者", f"{team.name_en}: volunteer")
        await people.appoint(session, vol, Role.VOLUNTEER, team=team)
    for i, station in enumerate(stations[:3]):
        squad = await session.scalar(
            select(Team).where(
                Team.station_id == station.id,
                Team.kind == TeamKind.SQUAD,
                Team.active.is_(True),
            )
        )
        if squad is None:
            continue
        for k, (zh, en, role) in enumerate(
            [("队长", "leader", Role.TEAM_LEADER), ("志愿者", "volunteer", Role.VOLUNTEER)]
        ):
            member = await add(
                _name(i * 2 + k + 90), station, f"{squad.name_zh} {zh}", f"{squad.name_en}: {en}"
            )
            await people.appoint(session, member, role, team=squad)
