"""Reading orders for screens: the history, one order, the lists each person sees."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models import (
    Assignment,
    AssignmentStatus,
    Order,
    OrderEvent,
    OrderStatus,
    Team,
    TeamKind,
    User,
)
from services.errors import NotAllowed, NotFound
from services.i18n import N_
from services.orders.access import (
    can_handle,
    can_view,
    is_staff_viewer,
)
from services.orders.assignment import (
    my_assignment,
)
from services.orders.state import (
    ACTIVE_ASSIGNMENT,
    OPEN_STATUSES,
    display_name,
    load_order,
)
from services.orders.units import may_dispatch
from services.people import Roles
from services.volunteers import team_roster


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    kind: str
    from_status: str | None
    to_status: str | None
    actor_id: int | None
    actor_name: str | None  # None: the system (routing, a time-out)
    team_id: int | None
    team_name_zh: str | None
    team_name_en: str | None
    note: str | None


# Routing internals (who declined and why) are for staff; the resident sees the steps.
_STAFF_NOTES = {
    "received",
    "routed",
    "dispatched",
    "redispatched",
    "to_unit",
    "triaged",
    "declined",
    "transferred",
    "escalated",
    "hours_confirmed",
    "withdrawn",
}


async def history(
    session: AsyncSession, order_id: int, actor: User, roles: Roles
) -> list[HistoryLine]:
    """The audit trail, oldest first, for staff who oversee the order and its resident."""
    order = await load_order(session, order_id)
    unit_staff = await may_dispatch(session, roles, order)  # its lead unit's dispatchers
    if not (can_view(roles, order) or unit_staff) or roles.user_id != actor.id:
        raise NotAllowed(N_("You are not allowed to see this order."))
    staff = is_staff_viewer(roles, order) or unit_staff
    who = aliased(User)
    rows = await session.execute(
        select(OrderEvent, who, Team)
        .outerjoin(who, who.id == OrderEvent.actor_id)
        .outerjoin(Team, Team.id == OrderEvent.team_id)
        .where(OrderEvent.order_id == order.id)
        .order_by(OrderEvent.id)
    )
    return [
        HistoryLine(
            at=ev.at,
            kind=ev.kind,
            from_status=ev.from_status,
            to_status=ev.to_status,
            actor_id=ev.actor_id,
            actor_name=display_name(user) if user else None,
            team_id=ev.team_id,
            team_name_zh=team.name_zh if team else None,
            team_name_en=team.name_en if team else None,
            note=ev.note if staff or ev.kind not in _STAFF_NOTES else None,
        )
        for ev, user, team in rows
    ]


async def get_order(session: AsyncSession, order_id: int, actor: User, roles: Roles) -> Order:
    """An order for showing: to those who may view it and to its assigned volunteers."""
    order = await load_order(session, order_id)
    if roles.user_id != actor.id:
        raise NotAllowed(N_("You are not allowed to see this order."))
    if (
        not can_view(roles, order)
        and await my_assignment(session, order.id, actor.id) is None
        and not await may_dispatch(session, roles, order)
    ):
        raise NotAllowed(N_("You are not allowed to see this order."))
    return order


async def order_contact(session: AsyncSession, order: Order) -> tuple[str | None, str | None]:
    """(name, phone) to reach the resident: the order's contact, else the resident's own.
    Show the phone only to the acceptor and assigned volunteers (after Accept)."""
    resident = await session.get(User, order.resident_id)
    name = order.contact_name or (resident.name if resident else None)
    phone = order.contact_phone or (resident.phone if resident else None)
    return name, phone


async def resident_orders(session: AsyncSession, resident_id: int, limit: int = 20) -> list[Order]:
    """A resident's orders, newest first."""
    rows = await session.scalars(
        select(Order).where(Order.resident_id == resident_id).order_by(Order.id.desc()).limit(limit)
    )
    return list(rows)


async def _oldest_first(session: AsyncSession, *where: ColumnElement[bool]) -> list[Order]:
    return list(await session.scalars(select(Order).where(*where).order_by(Order.id)))


async def team_open_orders(session: AsyncSession, team_ids: Iterable[int]) -> list[Order]:
    """Orders a team holds that are not finished (routed, accepted, in progress)."""
    if not (ids := list(team_ids)):
        return []
    return await _oldest_first(session, Order.team_id.in_(ids), Order.status.in_(OPEN_STATUSES[1:]))


async def office_open_orders(session: AsyncSession, town_ids: Iterable[int]) -> list[Order]:
    """Open orders the office holds, including escalated ones nobody could take."""
    if not (ids := list(town_ids)):
        return []
    held = Order.handler_kind == "office"
    return await _oldest_first(
        session, Order.town_id.in_(ids), held, Order.status.in_(OPEN_STATUSES)
    )


async def station_orders(
    session: AsyncSession, station_ids: Iterable[int], open_only: bool = True, limit: int = 50
) -> list[Order]:
    """Orders from a station's village (a station head sees every one), newest first."""
    ids = list(station_ids)
    if not ids:
        return []
    stmt = select(Order).where(Order.station_id.in_(ids))
    if open_only:
        stmt = stmt.where(Order.status.in_(OPEN_STATUSES))
    return list(await session.scalars(stmt.order_by(Order.id.desc()).limit(limit)))


async def volunteer_tasks(session: AsyncSession, user_id: int) -> list[tuple[Assignment, Order]]:
    """A volunteer's current tasks: active assignments on accepted or started orders."""
    rows = await session.execute(
        select(Assignment, Order)
        .join(Order, Order.id == Assignment.order_id)
        .where(
            Assignment.volunteer_id == user_id,
            Assignment.status.in_(ACTIVE_ASSIGNMENT),
            Order.status.in_((OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS)),
        )
        .order_by(Order.slot_start, Order.id)
    )
    return [(a, o) for a, o in rows]


async def order_in_hand(
    session: AsyncSession, order_id: int, roles: Roles, *, office_may: bool = False
) -> Order:
    """The order, if this person holds it (or, with `office_may`, oversees it as the town
    office): the first step of declining, transferring or assigning it."""
    order = await session.get(Order, order_id, populate_existing=True)
    if order is None or not (
        can_handle(roles, order) or (office_may and order.town_id in roles.office_towns)
    ):
        raise NotAllowed(N_("This is not your team's order."))
    return order


async def viewable_order(session: AsyncSession, order_id: int, roles: Roles) -> Order:
    """The order behind a button on a card, for those who may view it."""
    order = await session.get(Order, order_id)
    if order is None or not can_view(roles, order):
        raise NotFound(N_("This button is no longer valid."))
    return order


async def transfer_teams(session: AsyncSession, order: Order) -> list[Team]:
    """The other active specialist teams of the order's town, in their order."""
    rows = await session.scalars(
        select(Team)
        .where(
            Team.town_id == order.town_id,
            Team.active.is_(True),
            Team.kind == TeamKind.SPECIALIST,
            Team.id != order.team_id,
        )
        .order_by(Team.sort, Team.id)
    )
    return list(rows)


async def transfer_target(
    session: AsyncSession, order_id: int, roles: Roles, team_id: int
) -> Order:
    """The order, if this person may transfer it to `team_id`: checked when the team is
    picked, before the reason is asked (the transfer itself checks again)."""
    order = await order_in_hand(session, order_id, roles, office_may=True)
    if team_id not in {t.id for t in await transfer_teams(session, order)}:
        raise NotAllowed(N_("You are not allowed to do that."))
    return order


async def order_roster(session: AsyncSession, order_id: int) -> list[User]:
    """Whom the leader may send: the active members of the team holding the order, leaders
    first, then by name (none for an order the office holds)."""
    order = await session.get(Order, order_id)
    if order is None or order.team_id is None:
        return []
    return [user for _member, user in await team_roster(session, order.team_id)]


async def sent_volunteers(session: AsyncSession, order_id: int) -> list[User]:
    """Who was sent (and did not give the task up): the people whose hours are asked for."""
    rows = await session.scalars(
        select(User)
        .join(Assignment, Assignment.volunteer_id == User.id)
        .where(Assignment.order_id == order_id, Assignment.status != AssignmentStatus.WITHDRAWN)
        .order_by(Assignment.id)
    )
    return list(rows)
