"""A worker keeps people's roles in memory (bot/middlewares.py UserMiddleware, with
services.people.RolesCache): a change of roles, made by any code, any statement or any
other worker, must be seen on the person's very next update. The middleware runs here as
the dispatcher runs it, on a fresh session per update, against the real database."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.types import Update
from aiogram.types import User as TgUser
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.middlewares import UserMiddleware
from models import MembershipStatus, Role, StaffRole, Team, TeamMember, User
from services import people
from services.people import Roles
from tests.factories import Cast

pytestmark = pytest.mark.db


class Worker:
    """One bot process's UserMiddleware, handed one update at a time."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker
        self.middleware = UserMiddleware(frozenset())
        self.updates = 0

    async def roles(self, user: User) -> Roles:
        """The roles the handler of this person's next update is given."""
        seen: dict[str, Any] = {}

        async def handler(event: object, data: dict[str, Any]) -> None:
            seen.update(data)

        assert user.tg_id is not None
        self.updates += 1
        async with self.sessionmaker() as session:
            tg = TgUser(id=user.tg_id, is_bot=False, first_name=user.name or "x")
            data = {"event_from_user": tg, "session": session}
            await self.middleware(handler, Update(update_id=self.updates), data)
        roles = seen["roles"]
        assert isinstance(roles, Roles)
        return roles


async def change(sessionmaker: async_sessionmaker[AsyncSession], *statements: Any) -> None:
    """Statements run by someone else (another worker, the office), committed."""
    async with sessionmaker() as s:
        for statement in statements:
            await s.execute(statement)
        await s.commit()


async def test_roles_are_kept_while_nothing_changes(
    sessionmaker: async_sessionmaker[AsyncSession], cast: Cast
) -> None:
    worker = Worker(sessionmaker)
    first = await worker.roles(cast.health_leader)
    assert cast.org.health.id in first.leads_teams
    assert await worker.roles(cast.health_leader) is first  # from memory: no query


async def test_an_appointment_is_seen_on_the_next_update(
    sessionmaker: async_sessionmaker[AsyncSession], cast: Cast
) -> None:
    worker = Worker(sessionmaker)
    assert not (await worker.roles(cast.resident)).is_staff
    async with sessionmaker() as s:
        resident = await s.get(User, cast.resident.id)
        team = await s.get(Team, cast.org.law.id)
        assert resident is not None and team is not None
        await people.appoint(s, resident, Role.TEAM_LEADER, team=team)
        await s.commit()
    assert cast.org.law.id in (await worker.roles(cast.resident)).leads_teams


# Changes made by plain statements, as another worker or a migration might: who, what
# they are before, the statement, what they are after.
PLAIN_CHANGES = {
    "membership ended": (
        lambda c: c.health_vol,
        lambda c: (
            update(TeamMember)
            .where(TeamMember.user_id == c.health_vol.id)
            .values(status=MembershipStatus.LEFT)
        ),
        lambda r: r.is_volunteer,
    ),
    "team closed": (
        lambda c: c.law_leader,
        lambda c: update(Team).where(Team.id == c.org.law.id).values(active=False),
        lambda r: bool(r.leads_teams),
    ),
    "appointment deleted": (
        lambda c: c.office,
        lambda c: delete(StaffRole).where(StaffRole.user_id == c.office.id),
        lambda r: r.is_office,
    ),
}


@pytest.mark.parametrize("case", PLAIN_CHANGES)
async def test_a_change_by_a_plain_statement_is_seen_on_the_next_update(
    sessionmaker: async_sessionmaker[AsyncSession], cast: Cast, case: str
) -> None:
    who, statement, holds = PLAIN_CHANGES[case]
    worker = Worker(sessionmaker)
    assert holds(await worker.roles(who(cast)))
    await change(sessionmaker, statement(cast))
    assert not holds(await worker.roles(who(cast)))


async def test_a_team_reopened_is_seen_by_its_leader(
    sessionmaker: async_sessionmaker[AsyncSession], cast: Cast
) -> None:
    worker = Worker(sessionmaker)
    await change(sessionmaker, update(Team).where(Team.id == cast.org.law.id).values(active=False))
    assert not (await worker.roles(cast.law_leader)).leads_teams
    await change(sessionmaker, update(Team).where(Team.id == cast.org.law.id).values(active=True))
    assert cast.org.law.id in (await worker.roles(cast.law_leader)).leads_teams
