"""Whoever holds a routed order answers it: accept, decline, transfer; or it is
cancelled before the work starts."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Order,
    OrderStatus,
    Team,
    User,
    utcnow,
)
from services.context import Ctx
from services.errors import DomainError, NotAllowed, NotFound
from services.i18n import N_
from services.orders import routing
from services.orders.access import (
    can_handle,
    check_actor,
    held_order,
    speaks_for_resident,
)
from services.orders.assignment import (
    withdraw_all,
)
from services.orders.cards import OFFER_CARDS, WORK_CARDS, close_cards
from services.orders.notices import handler_users, tell_resident, tell_text
from services.orders.sla import order_routed
from services.orders.state import (
    clean_text,
    display_name,
    expect,
    load_order,
    transition,
)
from services.people import Roles
from services.uow import unit


async def accept(
    session: AsyncSession, order_id: int, actor: User, roles: Roles, version: int | None = None
) -> Order:
    """The team leader (or the office, for office orders) takes the order. Two leaders at
    once: the conditional UPDATE lets exactly one win; the other gets `Conflict` naming the
    winner. `version` (from the card's button) refuses a card older than the last change."""
    async with unit(session, actor):
        order = await held_order(session, order_id, actor, roles, [OrderStatus.ROUTED], version)
        await transition(
            session,
            order,
            OrderStatus.ACCEPTED,
            actor,
            kind="accepted",
            values={"accepted_by_id": actor.id, "accepted_at": utcnow()},
        )
        await tell_resident(session, order, actor, "accepted", accepted_by=display_name(actor))
        await close_cards(session, order, OFFER_CARDS, except_user_id=actor.id)
    return order


async def decline(
    session: AsyncSession, ctx: Ctx, order_id: int, actor: User, roles: Roles, reason: str
) -> routing.Candidate | None:
    """routed → declined (with the reason) → routed to the next candidate. Returns the new
    candidate, or None when nobody is left (the order is escalated, see routing.route)."""
    async with unit(session, actor):
        order = await held_order(session, order_id, actor, roles, [OrderStatus.ROUTED])
        why = clean_text(reason, required=True)
        await transition(session, order, OrderStatus.DECLINED, actor, kind="declined", note=why)
        # Every card of this routing (the decliner's too) offers an order that has moved on;
        # the next candidate gets fresh cards below.
        await close_cards(session, order, OFFER_CARDS)
        chosen = await routing.route(
            session, order, actor, f"declined by {display_name(actor)} ({why})"
        )
        await order_routed(session, ctx, order)
        await tell_resident(session, order, actor, "rerouted" if chosen else "escalated")
    return chosen


async def transfer(
    session: AsyncSession,
    ctx: Ctx,
    order_id: int,
    actor: User,
    roles: Roles,
    team_id: int,
    reason: str,
) -> Order:
    """Hand the order to another active team of the same town, with a reason.

    From routed (whoever holds it, or the town office), from accepted (the leader who
    accepted; the order goes back to routed and its volunteers are released), and from an
    escalated `new` order nobody could take (the office or an admin)."""
    async with unit(session, actor):
        order = await load_order(session, order_id)
        check_actor(actor, roles)
        if order.status == OrderStatus.ACCEPTED:
            allowed = roles.admin or actor.id == order.accepted_by_id
        else:
            allowed = can_handle(roles, order) or order.town_id in roles.office_towns
        if not allowed:
            raise NotAllowed(N_("This order is not for you."))
        await expect(session, order, [OrderStatus.NEW, OrderStatus.ROUTED, OrderStatus.ACCEPTED])
        why = clean_text(reason, required=True)
        team = await session.get(Team, team_id)
        if team is None or not team.active or team.town_id != order.town_id:
            raise NotFound(N_("That team cannot take orders."))
        if team.id == order.team_id:
            raise DomainError(N_("The order is already with that team."))
        leaders = await routing.leaders_taking(session, team)
        source = await routing.holder_name(session, order)
        released = await withdraw_all(session, order)
        # The old team's cards and the released volunteers' tasks are stale from here on.
        await close_cards(session, order, OFFER_CARDS | WORK_CARDS)
        kind = routing.handler_kind(team)
        await transition(
            session,
            order,
            OrderStatus.ROUTED,
            actor,
            kind="transferred",
            note=f"from {source} to {team.name_zh}: {why}",
            values={
                "team_id": team.id,
                "handler_kind": kind,
                "routed_at": utcnow(),
                "accepted_by_id": None,
                "accepted_at": None,
                "slot_start": None,
                "slot_end": None,
            },
        )
        await routing.send_cards(session, order, leaders, kind)
        await order_routed(session, ctx, order)
        await tell_text(
            session,
            released,
            order,
            N_("Order {number} was passed to another team; your task is cancelled."),
            "released",
            actor,
        )
        await tell_resident(session, order, actor, "transferred")
    return order


async def cancellable(session: AsyncSession, order_id: int, actor: User, roles: Roles) -> Order:
    """The order, if this person may cancel it (the checks of `cancel`): asked before «are
    you sure?» is shown. Reads only."""
    order = await load_order(session, order_id)
    check_actor(actor, roles)
    _may_cancel(actor, roles, order)
    await expect(session, order, [OrderStatus.NEW, OrderStatus.ROUTED, OrderStatus.ACCEPTED])
    return order


async def repeatable(session: AsyncSession, order_id: int, actor: User, roles: Roles) -> Order:
    """The order, if this person may order it again: the resident or whoever placed it for
    them (a new order for that resident). Reads only."""
    order = await load_order(session, order_id)
    check_actor(actor, roles)
    if not speaks_for_resident(actor, order):
        raise NotAllowed(N_("Only the resident can do this."))
    return order


def _may_cancel(actor: User, roles: Roles, order: Order) -> None:
    if not (
        speaks_for_resident(actor, order) or roles.admin or order.town_id in roles.office_towns
    ):
        raise NotAllowed(N_("Only the resident can do this."))


async def cancel(
    session: AsyncSession, order_id: int, actor: User, roles: Roles, reason: str | None = None
) -> Order:
    """The resident (or whoever placed it for them, or the office) cancels before work
    starts. Whoever holds the order and the assigned volunteers are told."""
    async with unit(session, actor):
        order = await load_order(session, order_id)
        check_actor(actor, roles)
        _may_cancel(actor, roles, order)
        await expect(session, order, [OrderStatus.NEW, OrderStatus.ROUTED, OrderStatus.ACCEPTED])
        why = clean_text(reason, required=False)
        waiting = order.status == OrderStatus.NEW and order.handler_kind != "unit"
        holders = [] if waiting else await handler_users(session, order)
        released = await withdraw_all(session, order)
        await transition(
            session,
            order,
            OrderStatus.CANCELLED,
            actor,
            kind="cancelled",
            note=why,
            values={"cancelled_at": utcnow()},
        )
        await tell_text(
            session,
            [*holders, *released],
            order,
            N_("Order {number} has been cancelled."),
            "cancelled",
            actor,
        )
        await tell_resident(session, order, actor, "cancelled")
        await close_cards(session, order, OFFER_CARDS | WORK_CARDS)
    return order
