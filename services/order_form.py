"""Reads for the order form: what its questions and its summary show, and whom it is for."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from models import Region, ServiceCategory, User
from services.errors import NotFound
from services.i18n import N_
from services.orders import proxy_station_ids
from services.org import station_choices
from services.people import Roles


async def station(session: AsyncSession, station_id: int) -> Region | None:
    return await session.get(Region, station_id)


async def category(session: AsyncSession, category_id: int) -> ServiceCategory | None:
    return await session.get(ServiceCategory, category_id)


async def resident(session: AsyncSession, user_id: int) -> User:
    """The person the order is for: the resident themselves, or one registered by staff."""
    person = await session.get(User, user_id)
    if person is None:  # erased (/forget) while the form was open
        raise NotFound(N_("This person is no longer registered."))
    return person


async def proxy_stations(session: AsyncSession, roles: Roles) -> list[Region]:
    """The villages this person may order for on a resident's behalf."""
    allowed = await proxy_station_ids(session, roles)
    return [s for s in await station_choices(session) if s.id in allowed]
