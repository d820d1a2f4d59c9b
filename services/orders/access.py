"""Who may do what with an order: handle it, view it, speak for its resident, place it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Order, OrderStatus, Region, User
from services.errors import NotAllowed
from services.i18n import N_
from services.orders.state import expect, load_order
from services.people import Roles, station_squad


def check_actor(actor: User, roles: Roles) -> None:
    # Roles computed for someone else, or a banned user: refuse before anything else.
    if roles.user_id != actor.id or actor.banned:
        raise NotAllowed(N_("You are not allowed to do this."))


def can_handle(roles: Roles, order: Order) -> bool:
    """May act for whoever holds the order now: accept, decline, assign, confirm."""
    if roles.admin:
        return True
    if order.handler_kind == "office":
        return order.town_id in roles.office_towns
    return order.team_id is not None and order.team_id in roles.leads_teams


def is_staff_viewer(roles: Roles, order: Order) -> bool:
    return (
        roles.admin
        or order.town_id in roles.office_towns
        or order.station_id in roles.head_of_stations
        or (order.team_id is not None and order.team_id in roles.leads_teams)
    )


def can_view(roles: Roles, order: Order) -> bool:
    """Staff who oversee the order, its resident, and whoever placed it for them."""
    return is_staff_viewer(roles, order) or roles.user_id in (
        order.resident_id,
        order.placed_by_id,
    )


def speaks_for_resident(actor: User, order: Order) -> bool:
    return actor.id == order.resident_id or (order.is_proxy and actor.id == order.placed_by_id)


async def may_place_for(session: AsyncSession, roles: Roles, station_id: int) -> bool:
    """Proxy orders: station heads, the station squad, the town office, admins."""
    if roles.admin or station_id in roles.head_of_stations:
        return True
    station = await session.get(Region, station_id)
    if station is not None and station.parent_id in roles.office_towns:
        return True
    squad = await station_squad(session, station_id)
    return squad is not None and squad.id in (roles.leads_teams | roles.member_of_teams)


async def proxy_station_ids(session: AsyncSession, roles: Roles) -> set[int]:
    """The stations whose residents this person may place orders for (proxy orders)."""
    stations = (
        await session.scalars(
            select(Region.id).where(Region.parent_id.is_not(None)).where(Region.active.is_(True))
        )
    ).all()
    return {sid for sid in stations if await may_place_for(session, roles, sid)}


async def held_order(
    session: AsyncSession,
    order_id: int,
    actor: User,
    roles: Roles,
    allowed: list[OrderStatus],
    version: int | None = None,
) -> Order:
    """The order, read fresh, if the actor's team holds it (or the actor is the office that
    does) and it is in one of the `allowed` statuses (at `version`, when given); refuses
    otherwise."""
    order = await load_order(session, order_id)
    check_actor(actor, roles)
    if not can_handle(roles, order):
        raise NotAllowed(N_("This order is not for you."))
    await expect(session, order, allowed, version)
    return order
