"""Appointing people from the chat: which roles someone may give, where, and giving one by a
one-use invite link or to someone who already uses the bot. Each write is one unit of work
(it commits); a refusal is a DomainError."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Invite, Region, RegionLevel, Role, Team, User
from services import people
from services.errors import NotAllowed, NotFound
from services.i18n import N_
from services.people import Roles
from services.uow import unit

Place = Region | Team  # a town (office), a station (its head) or a team (leader, volunteer)


def roles_offered(roles: Roles) -> list[Role]:
    """The roles a person may give: admins any staff role, the office all but office staff,
    a team leader only volunteers."""
    if roles.admin:
        return [Role.OFFICE, Role.STATION_HEAD, Role.TEAM_LEADER, Role.VOLUNTEER]
    if roles.is_office:
        return [Role.STATION_HEAD, Role.TEAM_LEADER, Role.VOLUNTEER]
    return [Role.VOLUNTEER] if roles.leads_teams else []


def offered(roles: Roles, role: Role) -> Role:
    if role not in roles_offered(roles):
        raise NotAllowed(N_("You are not allowed to do that."))
    return role


async def places_for(session: AsyncSession, role: Role, roles: Roles) -> list[Place]:
    """Where the person may give `role`: towns for office staff, stations for heads, teams
    for leaders and volunteers."""
    if role == Role.OFFICE:
        towns = await session.scalars(select(Region).where(Region.served_town()))
        return list(towns)
    if role == Role.STATION_HEAD:
        stations = await session.scalars(
            select(Region)
            .where(Region.level == RegionLevel.STATION, Region.active.is_(True))
            .order_by(Region.sort, Region.id)
        )
        return [s for s in stations if roles.admin or s.parent_id in roles.office_towns]
    teams = await session.scalars(
        select(Team).where(Team.active.is_(True)).order_by(Team.kind, Team.sort, Team.id)
    )
    return [
        t
        for t in teams
        if roles.admin or t.town_id in roles.office_towns or t.id in roles.leads_teams
    ]


async def checked_place(
    session: AsyncSession, roles: Roles, role: Role, *, region_id: int | None, team_id: int | None
) -> tuple[Region | None, Team | None]:
    """The region or team of an appointment, if the person may appoint `role` there."""
    if (region_id is None) == (team_id is None):  # one place: a region or a team
        raise NotAllowed(N_("You are not allowed to do that."))
    region = await session.get(Region, region_id) if region_id is not None else None
    team = await session.get(Team, team_id) if team_id is not None else None
    if region is None and team is None:
        raise NotAllowed(N_("You are not allowed to do that."))
    if team is not None:
        town_id: int | None = team.town_id
    elif region is not None and region.level == RegionLevel.STATION:
        town_id = region.parent_id
    else:
        town_id = region.id if region else None
    team_key = team.id if team else None
    if not people.can_appoint(roles, role, town_id=town_id, team_id=team_key):
        raise NotAllowed(N_("You are not allowed to do that."))
    return region, team


async def invite(
    session: AsyncSession,
    roles: Roles,
    role: Role,
    *,
    by: User,
    region_id: int | None,
    team_id: int | None,
) -> Invite:
    """A one-use invitation to `role` at the place. Commits."""
    async with unit(session, by):
        region, team = await checked_place(
            session, roles, role, region_id=region_id, team_id=team_id
        )
        created = await people.create_invite(session, role, by=by, region=region, team=team)
    return created


async def appoint(
    session: AsyncSession,
    roles: Roles,
    role: Role,
    user_id: int,
    *,
    by: User,
    region_id: int | None,
    team_id: int | None,
) -> tuple[User, Place]:
    """Give `role` at the place to someone who uses the bot. Commits; returns them and the
    place."""
    async with unit(session, by):
        region, team = await checked_place(
            session, roles, role, region_id=region_id, team_id=team_id
        )
        person = await session.get(User, user_id)
        if person is None:
            raise NotFound(N_("This button is no longer valid."))
        await people.appoint(session, person, role, region=region, team=team, by=by)
    place = team or region
    assert place is not None  # checked_place found one of them
    return person, place
