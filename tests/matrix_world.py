"""The people and things the authorisation tests press buttons on: two towns (the second
one's office must not act on the first one's orders), an order's team with two leaders and a
volunteer, the station head of the order's village, a stranger, and a group chat."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Activity,
    ActivitySignup,
    Assignment,
    Broadcast,
    Invite,
    MemberRole,
    MembershipStatus,
    Order,
    PointsEntry,
    Rating,
    Region,
    Role,
    StaffRole,
    Team,
    TeamMember,
    User,
    WebLoginToken,
    utcnow,
)
from services import activities, broadcasts, people
from services.activities import ActivityDraft
from services.org import load_org_config, sync_org
from simulator.driver import ChatSession, SimUser
from tests.harness import TAOLE, BotEnv
from tests.test_authorisation_matrix import _order_in

EXAMPLE_TOWN = TAOLE.parent / "example-town.yaml"


async def blood_pressure_day(
    s: AsyncSession, leader: User, team_id: int, start: datetime, tz: tzinfo, **more: Any
) -> Activity:
    """The team's «Blood pressure day» at the village hall, two hours from `start`, published
    by `leader` (`more`: other fields of the draft)."""
    [activity] = await activities.publish(
        s,
        leader,
        await people.roles_of(s, leader, frozenset()),
        ActivityDraft(
            title="Blood pressure day",
            content="Checks for everyone",
            place="Village hall",
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            team_id=team_id,
            **more,
        ),
        tz=tz,
    )
    return activity


@dataclass
class World:
    env: BotEnv
    people: dict[str, SimUser]
    chats: dict[str, ChatSession | SimUser]
    health: Team
    law: Team
    uses: int = 0

    async def user(self, name: str) -> User:
        return await self.env.db_user(self.people[name])

    async def order(self, state: str) -> Order:
        cast = {"owner": self.people["owner"], **self.people}
        return await _order_in(self.env, cast, state)

    async def throwaway(self, label: str) -> User:
        """A registered person without a chat: the target of an appointment or removal."""
        self.uses += 1
        async with self.env.sessionmaker() as s:
            user = await people.get_or_create_user(s, 7_000_000 + self.uses, locale="en")
            user.name, user.registered = f"{label} {self.uses}", True
            await s.commit()
            return user

    async def member(self, status: MembershipStatus = MembershipStatus.ACTIVE) -> int:
        """A fresh member of the health team (pending: an application)."""
        user = await self.throwaway("Member")
        async with self.env.sessionmaker() as s:
            row = TeamMember(
                team_id=self.health.id, user_id=user.id, role=MemberRole.MEMBER, status=status
            )
            s.add(row)
            await s.commit()
            return row.id

    async def volunteer_in(self, team: Team) -> int:
        """The volunteer (again) an active member of `team`; the team's id."""
        me = await self.user("volunteer")
        async with self.env.sessionmaker() as s:
            row = await s.scalar(
                select(TeamMember).where(TeamMember.team_id == team.id, TeamMember.user_id == me.id)
            )
            if row is None:
                s.add(TeamMember(team_id=team.id, user_id=me.id, role=MemberRole.MEMBER))
            else:
                row.status = MembershipStatus.ACTIVE
            await s.commit()
        return team.id

    async def activity(
        self, *, signed_up: bool = False, starts_in: timedelta = timedelta(days=2)
    ) -> int:
        """A published activity of the health team, two days ahead (or `starts_in`)."""
        leader = await self.user("leader")
        async with self.env.sessionmaker() as s:
            activity = await blood_pressure_day(
                s, leader, self.health.id, utcnow() + starts_in, self.env.settings.tz, capacity=20
            )
            if signed_up:
                vol = await s.get(User, (await self.user("volunteer")).id)
                assert vol is not None
                await activities.sign_up(s, activity.id, vol)
            return activity.id

    async def notice(self, *, by: str) -> int:
        """A notice to Miaomiaohu for tomorrow: a station head's waits for the office."""
        author = await self.user(by)
        async with self.env.sessionmaker() as s:
            roles = await people.roles_of(s, author, frozenset())
            station = await self.env.station("miaomiaohu")
            town = station.parent_id
            assert town is not None
            bc = await broadcasts.create(
                s,
                author,
                roles,
                town_id=town,
                text="Water is off on Friday",
                audience={"kind": "stations", "ids": [station.id]},
                at=utcnow() + timedelta(days=1),
            )
            return bc.id


async def snapshot(env: BotEnv) -> list[object]:
    """What a press may change, row by row (not the outbox: the sender works meanwhile)."""
    kept: list[object] = []
    async with env.sessionmaker() as s:
        for model in (
            Order,
            Assignment,
            Rating,
            TeamMember,
            Invite,
            StaffRole,
            Activity,
            ActivitySignup,
            Broadcast,
            WebLoginToken,
            PointsEntry,
        ):
            columns = model.__table__.columns  # type: ignore[attr-defined]
            for found in await s.scalars(select(model).order_by(model.id)):  # type: ignore[attr-defined]
                kept.append((model.__name__, *(getattr(found, c.key) for c in columns)))
        for user_id, locale in await s.execute(select(User.id, User.locale).order_by(User.id)):
            kept.append(("User", user_id, locale))
    return kept


async def make_world(env: BotEnv) -> World:
    async with env.sessionmaker() as s:
        await sync_org(s, load_org_config(EXAMPLE_TOWN))
        await s.commit()
    cast = {
        "owner": await env.person("Owner Resident"),
        "leader": await env.person("Health Leader", role=Role.TEAM_LEADER, team="health"),
        "leader2": await env.person("Second Leader", role=Role.TEAM_LEADER, team="health"),
        "volunteer": await env.person("Health Volunteer", role=Role.VOLUNTEER, team="health"),
        "head_own": await env.person("Miaomiaohu Head", role=Role.STATION_HEAD),
        "office": await env.person("Office Clerk", role=Role.OFFICE),
        "stranger": await env.person("Other Resident"),
    }
    other = await env.new_user("Hongliu Clerk")
    async with env.sessionmaker() as s:
        town = await s.scalar(select(Region).where(Region.code == "hongliu"))
        station = await s.scalar(select(Region).where(Region.code == "hongliu.liulin"))
        assert town is not None and station is not None
        user = await people.get_or_create_user(s, other.id, locale="en")
        user.name, user.phone, user.registered = "Hongliu Clerk", "+8613900000001", True
        user.station_id, user.town_id = station.id, town.id
        await people.appoint(s, user, Role.OFFICE, region=town)
        await s.commit()
    await other.send("/start")
    await other.expect(contains="Hello")
    cast["office_other"] = other
    group = await env.driver.group("Health volunteers", [cast["leader"]])
    in_group = await group.member(cast["leader"])
    await in_group.send("/start")
    await in_group.expect(contains="private chat")
    chats: dict[str, ChatSession | SimUser] = {**cast, "group": in_group}
    health, law = await env.team("health"), await env.team("law")
    return World(env, cast, chats, health, law)
