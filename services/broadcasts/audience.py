"""Limits, and who may address whom: composing, approval, the towns, stations and teams
one may address, and the audience a broadcast reaches."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    BroadcastStatus,
    MembershipStatus,
    Region,
    Role,
    StaffRole,
    Team,
    TeamMember,
    User,
)
from services.errors import DomainError, NotAllowed
from services.i18n import N_
from services.people import Roles


class AudienceKind(StrEnum):
    """Who a notice is for: `stations` and `team` name their villages or team by id."""

    EVERYONE = "everyone"
    STATIONS = "stations"
    TEAM = "team"
    VOLUNTEERS = "volunteers"
    PARTY = "party"
    HEADS = "heads"


AUDIENCE_KINDS = tuple(AudienceKind)
MAX_TEXT = 3500
MAX_CAPTION = 1000  # a photo caption is at most 1024 characters, with the "📢 Notice" line
MAX_REASON = 300
OPEN = (BroadcastStatus.PENDING_APPROVAL, BroadcastStatus.SCHEDULED)


def may_compose(roles: Roles) -> bool:
    return roles.is_office or bool(roles.head_of_stations)


def needs_approval(roles: Roles, town_id: int) -> bool:
    """A station head's notice needs the office; the office's and an admin's do not."""
    return not (roles.admin or town_id in roles.office_towns)


async def towns_for(session: AsyncSession, roles: Roles) -> list[Region]:
    """The towns whose people this user may address."""
    stmt = select(Region).where(Region.served_town())
    if not roles.admin:
        head_towns = select(Region.parent_id).where(Region.id.in_(roles.head_of_stations))
        stmt = stmt.where(or_(Region.id.in_(roles.office_towns), Region.id.in_(head_towns)))
    return list(await session.scalars(stmt.order_by(Region.sort, Region.id)))


async def stations_for(session: AsyncSession, roles: Roles, town_id: int) -> list[Region]:
    """The villages this user may address in a town: all of them for the office, their own
    for a station head."""
    stmt = select(Region).where(Region.station_of(town_id), Region.active.is_(True))
    if needs_approval(roles, town_id):
        stmt = stmt.where(Region.id.in_(roles.head_of_stations))
    return list(await session.scalars(stmt.order_by(Region.sort, Region.id)))


async def teams_in(session: AsyncSession, town_id: int) -> list[Team]:
    return list(
        await session.scalars(
            select(Team)
            .where(Team.town_id == town_id, Team.active.is_(True))
            .order_by(Team.kind, Team.sort, Team.id)
        )
    )


async def check_audience(
    session: AsyncSession, roles: Roles, town_id: int, audience: dict[str, Any]
) -> dict[str, Any]:
    """A clean copy of `audience` if this user may address it, else NotAllowed/DomainError."""
    kind = audience.get("kind")
    ids = sorted({int(i) for i in audience.get("ids") or []})
    if kind not in AUDIENCE_KINDS:
        raise DomainError(N_("Please choose who should get the notice."))
    if town_id not in {t.id for t in await towns_for(session, roles)}:
        raise NotAllowed(N_("You are not allowed to do this."))
    if needs_approval(roles, town_id) and kind != "stations":
        raise NotAllowed(N_("A station head can send notices only to their own village."))
    if kind == "stations":
        allowed = {s.id for s in await stations_for(session, roles, town_id)}
        if not ids:
            raise DomainError(N_("Please choose at least one village."))
        if set(ids) - allowed:
            raise NotAllowed(N_("A station head can send notices only to their own village."))
        return {"kind": kind, "ids": ids}
    if kind == "team":
        teams = {t.id for t in await teams_in(session, town_id)}
        if len(ids) != 1 or ids[0] not in teams:
            raise DomainError(N_("Please choose a team."))
        return {"kind": kind, "ids": ids}
    return {"kind": kind, "ids": []}


def audience_ids(town_id: int, audience: dict[str, Any]) -> Select[int]:
    """The ids of the users an audience names (reachable or not: the caller filters)."""
    kind, ids = audience.get("kind"), list(audience.get("ids") or [])
    stations = select(Region.id).where(Region.parent_id == town_id)
    in_town = or_(User.town_id == town_id, User.station_id.in_(stations))
    if kind == "stations":
        return select(User.id).where(User.station_id.in_(ids))
    if kind == "team":
        return (
            select(TeamMember.user_id)
            .join(Team, Team.id == TeamMember.team_id)
            .where(
                TeamMember.team_id.in_(ids),
                Team.town_id == town_id,
                TeamMember.status == MembershipStatus.ACTIVE,
            )
        )
    if kind == "volunteers":
        return (
            select(TeamMember.user_id)
            .join(Team, Team.id == TeamMember.team_id)
            .where(
                Team.town_id == town_id,
                Team.active.is_(True),
                TeamMember.status == MembershipStatus.ACTIVE,
            )
        )
    if kind == "party":
        return select(User.id).where(in_town, User.is_party_member.is_(True))
    if kind == "heads":
        return select(StaffRole.user_id).where(
            StaffRole.role == Role.STATION_HEAD,
            StaffRole.active.is_(True),
            StaffRole.region_id.in_(stations),
        )
    return select(User.id).where(in_town)  # everyone


def recipients(town_id: int, audience: dict[str, Any]) -> Select[int, int | None, bool]:
    return select(User.id, User.tg_id, User.blocked).where(
        User.id.in_(audience_ids(town_id, audience)),
        User.tg_id.is_not(None),
        User.banned.is_(False),
    )


async def count_audience(session: AsyncSession, town_id: int, audience: dict[str, Any]) -> int:
    """How many people would get it now (those who blocked the bot not counted)."""
    query = recipients(town_id, audience).where(User.blocked.is_(False)).subquery()
    return int(await session.scalar(select(func.count()).select_from(query)) or 0)
