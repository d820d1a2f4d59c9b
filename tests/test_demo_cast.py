"""The demo cast that `make run` seeds: every route of Taole's has someone to take the order."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    MemberRole,
    MembershipStatus,
    ServiceCategory,
    Team,
    TeamKind,
    TeamMember,
    User,
)
from services.demo import seed_demo_cast
from services.orders import units
from services.org import load_org_config, sync_org
from tests.harness import TAOLE


async def _members(session: AsyncSession, team: Team, role: MemberRole) -> set[int]:
    rows = await session.scalars(
        select(TeamMember.user_id).where(
            TeamMember.team_id == team.id,
            TeamMember.role == role,
            TeamMember.status == MembershipStatus.ACTIVE,
        )
    )
    return set(rows)


async def test_every_team_an_order_reaches_has_a_leader_and_a_volunteer(session):
    await sync_org(session, load_org_config(TAOLE))
    await session.commit()
    cast = await seed_demo_cast(session)
    await session.commit()

    reached: dict[int, Team] = {}
    for category in await session.scalars(select(ServiceCategory)):
        received = await units.reception(session, category)
        assert received is not None and received.suggested is not None, category.code
        reached[received.suggested.id] = received.suggested
    residents = await session.scalars(
        select(User).where(User.tg_id.in_([c.tg_id for c in cast if "居民" in c.label_zh]))
    )
    for resident in residents:
        squad = await session.scalar(
            select(Team).where(Team.station_id == resident.station_id, Team.kind == TeamKind.SQUAD)
        )
        assert squad is not None
        reached[squad.id] = squad
    for team in reached.values():
        assert await _members(session, team, MemberRole.LEADER), team.code
        assert await _members(session, team, MemberRole.MEMBER), team.code

    # Seeding again (every `make run`) changes nobody.
    again = await seed_demo_cast(session)
    assert again == cast
