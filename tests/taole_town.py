"""The Taole town as configured in config/taole.yaml, with builders for the people a
test needs and readers for what the order services queued.

    async def test_x(taole):                      # the `taole` fixture: synced, committed
        zheng = await taole.dispatcher("culture_station", "郑联络员")
        order = await taole.place(await taole.resident("dongjie", "马大爷"), "policy_talk")
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Order, OrderEvent, OutboxMessage, Region, Role, ServiceCategory, Team, Unit, User
from services import orders, people
from services.org import load_org_config, sync_org
from tests.factories import CTX, make_user, roles_for
from tests.org_yaml import TAOLE


def local(code: str) -> str:
    return code.removeprefix("taole.")


@dataclass
class Taole:
    """The Taole town as configured, with the people these tests need."""

    session: AsyncSession

    @classmethod
    async def synced(cls, session: AsyncSession) -> Taole:
        """Taole's configuration synced into the database and committed."""
        await sync_org(session, load_org_config(TAOLE))
        await session.commit()
        return cls(session)

    async def unit(self, code: str) -> Unit:
        return await self.session.scalar(select(Unit).where(Unit.code == f"taole.{code}"))

    async def team(self, code: str) -> Team:
        return await self.session.scalar(select(Team).where(Team.code == f"taole.{code}"))

    async def category(self, code: str) -> ServiceCategory:
        return await self.session.scalar(
            select(ServiceCategory).where(ServiceCategory.code == f"taole.{code}")
        )

    async def station(self, code: str) -> Region:
        return await self.session.scalar(select(Region).where(Region.code == f"taole.{code}"))

    async def dispatcher(self, unit: str, name: str) -> User:
        user = await make_user(self.session, name=name)
        await people.appoint(self.session, user, Role.DISPATCHER, unit=await self.unit(unit))
        return user

    async def leader(self, team: str, name: str) -> User:
        user = await make_user(self.session, name=name)
        await people.appoint(self.session, user, Role.TEAM_LEADER, team=await self.team(team))
        return user

    async def volunteer(self, team: str, name: str) -> User:
        user = await make_user(self.session, name=name)
        await people.appoint(self.session, user, Role.VOLUNTEER, team=await self.team(team))
        return user

    async def head(self, station: str, name: str) -> User:
        region = await self.station(station)
        user = await make_user(self.session, name=name, station=region)
        await people.appoint(self.session, user, Role.STATION_HEAD, region=region)
        return user

    async def office(self, name: str) -> User:
        town = await self.session.scalar(select(Region).where(Region.code == "taole"))
        user = await make_user(self.session, name=name)
        await people.appoint(self.session, user, Role.OFFICE, region=town)
        return user

    async def resident(self, station: str, name: str) -> User:
        return await make_user(self.session, name=name, station=await self.station(station))

    async def place(
        self, resident: User, category: str | None, text: str = "需要帮助", **kw: object
    ) -> Order:
        cat = await self.category(category) if category else None
        return await orders.create_order(
            self.session,
            CTX,
            resident=resident,
            placed_by=resident,
            roles=await roles_for(self.session, resident),
            category_id=cat.id if cat else None,
            description=text,
            preferred_date=None,
            preferred_slot="any",
            max_open=100,
            **kw,
        )


async def queued(session: AsyncSession, kind: str, order_id: int) -> list[OutboxMessage]:
    rows = await session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.order_id == order_id)
        .order_by(OutboxMessage.id)
        .execution_options(populate_existing=True)
    )
    return [r for r in rows if r.payload.get("kind") == kind]


async def event_kinds(session: AsyncSession, order_id: int) -> list[str]:
    rows = await session.scalars(
        select(OrderEvent.kind).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
    )
    return list(rows)
