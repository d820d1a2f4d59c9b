"""One-use things are spent once, however many people use them at the same moment: an
invite, a dashboard sign-in link, a broadcast approval, an enrolment decision. Each race
runs several real sessions at once (asyncio.gather) on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import ActivitySignup, Invite, MemberRole, MembershipStatus, Role, TeamMember, User
from models.db import make_engine, make_sessionmaker
from services import people, weblogin
from services.broadcasts import approve, create
from services.errors import Conflict
from tests.factories import make_cast, make_office, make_user, roles_for

T = TypeVar("T")
RACERS = 3
ROUNDS = 4  # one lucky interleaving must not pass a broken check
NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
def racing_url(request: pytest.FixtureRequest) -> str:
    """A fresh migrated database: the test run's backend (SQLite by default), then
    PostgreSQL, where the races are real."""
    return request.getfixturevalue("db_url" if request.param == "sqlite" else "postgres_url")


@pytest.fixture
async def racing(racing_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(racing_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


async def _race(
    sessionmaker: async_sessionmaker[AsyncSession],
    users: list[int],
    act: Callable[[AsyncSession, User], Awaitable[T]],
) -> list[T | Conflict | None]:
    """Each user acts in a session of their own, all at once; a Conflict is a result."""

    async def one(user_id: int) -> T | Conflict | None:
        async with sessionmaker() as s:
            try:
                result = await act(s, await s.get(User, user_id))
                await s.commit()
                return result
            except Conflict as exc:
                await s.rollback()
                return exc

    return await asyncio.gather(*(one(u) for u in users))


async def test_one_invite_opened_by_three_at_once_appoints_one_leader(racing):
    async with racing() as s:
        cast = await make_cast(s)
        team = cast.org.law
        invites = [
            await people.create_invite(s, Role.TEAM_LEADER, by=cast.office, team=team)
            for _ in range(ROUNDS)
        ]
        racers = [[(await make_user(s)).id for _ in range(RACERS)] for _ in range(ROUNDS)]
        await s.commit()
    for invite, users in zip(invites, racers, strict=True):
        results = await _race(
            racing, users, lambda s, u, code=invite.code: people.redeem_invite(s, code, u)
        )
        assert sum(isinstance(r, Invite) for r in results) == 1
        assert sum(isinstance(r, Conflict) for r in results) == RACERS - 1
    async with racing() as s:
        leaders = set(
            await s.scalars(
                select(TeamMember.user_id).where(
                    TeamMember.team_id == team.id,
                    TeamMember.role == MemberRole.LEADER,
                    TeamMember.status == MembershipStatus.ACTIVE,
                )
            )
        )
        spent = {i.used_by_id for i in await s.scalars(select(Invite))}
    newcomers = {u for users in racers for u in users}
    assert len(leaders & newcomers) == ROUNDS  # one per invite, and not more
    assert spent == leaders & newcomers


async def test_a_used_invite_says_used_and_appoints_nobody(session):
    cast = await make_cast(session)
    invite = await people.create_invite(session, Role.VOLUNTEER, by=None, team=cast.org.law)
    first, second = await make_user(session), await make_user(session)
    await people.redeem_invite(session, invite.code, first)
    with pytest.raises(Conflict):
        await people.redeem_invite(session, invite.code, second)
    assert not (await roles_for(session, second)).is_volunteer


async def test_one_sign_in_link_clicked_three_times_at_once_gives_one_session(racing):
    async with racing() as s:
        cast = await make_cast(s)
        office = cast.office
        tokens = [
            await weblogin.issue_link_token(s, office, await roles_for(s, office), now=NOW)
            for _ in range(ROUNDS)
        ]
    for token in tokens:
        results = await _race(
            racing,
            [office.id] * RACERS,
            lambda s, _u, t=token: weblogin.redeem_link_token(s, t, frozenset(), now=NOW),
        )
        assert sum(r is not None for r in results) == 1


async def test_one_notice_approved_by_three_office_staff_at_once_once(racing):
    async with racing() as s:
        cast = await make_cast(s)
        clerks = [cast.office.id] + [
            (await make_office(s, cast.org.town)).id for _ in range(RACERS - 1)
        ]
        head = cast.east_head
        notices = [
            await create(
                s,
                head,
                await roles_for(s, head),
                town_id=cast.org.town.id,
                text=f"停水通知 {n}",
                audience={"kind": "stations", "ids": [cast.org.east.id]},
                now=NOW,
            )
            for n in range(ROUNDS)
        ]
        await s.commit()
    for bc in notices:

        async def decide(s: AsyncSession, clerk: User, bc_id: int = bc.id) -> int:
            await approve(s, bc_id, clerk, await roles_for(s, clerk), now=NOW)
            return clerk.id

        results = await _race(racing, clerks, decide)
        assert sum(isinstance(r, int) for r in results) == 1


async def test_a_double_tap_on_a_check_in_code_checks_in_once(racing):
    """Someone who came without signing up sends the code twice at once: both answers say
    checked in, and there is one attendance row."""
    from services import activities
    from tests.test_activities import START, _publish

    async with racing() as s:
        cast = await make_cast(s)
        walk_in = await make_user(s)
        await s.commit()
        activity = await _publish(s, cast.east_head, station_id=cast.org.east.id, capacity=None)
        walk_in.station_id, walk_in.town_id = cast.org.east.id, cast.org.town.id
        await s.commit()
    during = START + timedelta(minutes=20)
    for _ in range(ROUNDS):
        async with racing() as s:
            await s.execute(delete(ActivitySignup).where(ActivitySignup.user_id == walk_in.id))
            await s.commit()
        results = await _race(
            racing,
            [walk_in.id] * RACERS,
            lambda s, u: activities.check_in_by_code(s, u, activity.checkin_code, now=during),
        )
        assert [getattr(r, "id", r) for r in results] == [activity.id] * RACERS
        async with racing() as s:
            rows = list(
                await s.scalars(select(ActivitySignup).where(ActivitySignup.user_id == walk_in.id))
            )
        assert [(r.activity_id, r.attended) for r in rows] == [(activity.id, True)]
