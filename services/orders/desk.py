"""派单 and triage: what a lead unit's dispatchers and the institute office do with an order
before a team has accepted it.

    dispatch           a waiting order (manual platform, or escalated to the unit) → a team
    redispatch         a routed order not yet accepted → another team (auto platforms too)
    need_to_redispatch reads only: the order, if the actor may still re-dispatch it
    triage             a «其他需求» order → a category; then it is received as any other
    reply_to_resident  the office answers a «其他需求» order (and may close it)
    need_to_triage     reads only: the order, if the actor may still sort or answer it

Each is one transaction through `state.transition` (conditional UPDATE on the version: two
dispatchers at once give one winner), with its order event and outbox notices. Whether the
actor may act is checked first, on the server, whatever the button said.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Order,
    OrderEvent,
    OrderStatus,
    ServiceArea,
    ServiceCategory,
    Team,
    User,
    utcnow,
)
from services.context import Ctx
from services.errors import Conflict, DomainError, NotAllowed, NotFound, NotYourUnit
from services.i18n import N_
from services.orders import routing, units
from services.orders.access import check_actor
from services.orders.cards import OFFER_CARDS, close_cards
from services.orders.notices import follower_id, handler_users, tell_resident, tell_text
from services.orders.sla import order_routed
from services.orders.state import clean_text, display_name, expect, load_order, transition
from services.outbox import NoticeKind, notify
from services.people import Roles
from services.uow import unit

# The other dispatchers' and office staff's cards of an order one of them has just handled.
DESK_CARDS = frozenset({NoticeKind.DISPATCH_CARD, NoticeKind.TRIAGE_CARD})


async def _authorise(session: AsyncSession, roles: Roles, order: Order) -> None:
    if not await units.may_dispatch(session, roles, order):
        raise NotYourUnit(N_("This order was not received by your unit."))


async def _target(session: AsyncSession, order: Order, team_id: int) -> tuple[Team, list[User]]:
    allowed = {t.id: t for t in await units.dispatch_targets(session, order)}
    team = allowed.get(team_id)
    if team is None:
        raise NotYourUnit(N_("That team does not serve this order's platform."))
    return team, await routing.leaders_taking(session, team)


async def _hand_to(
    session: AsyncSession,
    ctx: Ctx,
    order: Order,
    actor: User,
    team: Team,
    leaders: list[User],
    *,
    kind: str,
    note: str,
) -> None:
    handler = routing.handler_kind(team)
    await routing.hand_over(session, order, actor, leaders, handler, team.id, kind=kind, note=note)
    await order_routed(session, ctx, order)
    await tell_resident(session, order, actor, "transferred")


async def dispatch(
    session: AsyncSession,
    ctx: Ctx,
    order_id: int,
    actor: User,
    roles: Roles,
    team_id: int,
    version: int | None = None,
) -> Order:
    """派单: a dispatcher of the order's lead unit hands a waiting order to a team on its
    platform, or to the resident's village squad. Two dispatchers at once: one wins, the
    other gets `Conflict`."""
    async with unit(session, actor):
        order = await load_order(session, order_id)
        check_actor(actor, roles)
        await _authorise(session, roles, order)
        await expect(session, order, [OrderStatus.NEW], version)
        if order.handler_kind != "unit":
            raise Conflict(N_("This order is with the institute office."))
        team, leaders = await _target(session, order, team_id)
        note = f"dispatched by {display_name(actor)} to {team.name_zh}"
        await _hand_to(session, ctx, order, actor, team, leaders, kind="dispatched", note=note)
        await close_cards(session, order, DESK_CARDS, except_user_id=actor.id)
    return order


async def need_to_redispatch(
    session: AsyncSession, order_id: int, actor: User, roles: Roles
) -> Order:
    """A routed order not yet accepted that the actor (a dispatcher of its lead unit) may
    hand to another team; refuses otherwise. Reads only: the chat's re-dispatch buttons ask
    it before showing anything."""
    order = await load_order(session, order_id)
    check_actor(actor, roles)
    await _authorise(session, roles, order)
    await expect(session, order, [OrderStatus.ROUTED])
    return order


async def redispatch(
    session: AsyncSession,
    ctx: Ctx,
    order_id: int,
    actor: User,
    roles: Roles,
    team_id: int,
    reason: str,
    version: int | None = None,
) -> Order:
    """Before anyone accepts it, a dispatcher of the lead unit hands the order to another
    team (on an auto platform the suggested team got it at once). Its leaders are told."""
    async with unit(session, actor):
        order = await need_to_redispatch(session, order_id, actor, roles)
        if version is not None:
            await expect(session, order, [OrderStatus.ROUTED], version)
        why = clean_text(reason, required=True)
        team, leaders = await _target(session, order, team_id)
        if team.id == order.team_id:
            raise DomainError(N_("The order is already with that team."))
        before = await handler_users(session, order)
        source = await routing.holder_name(session, order)
        note = f"re-dispatched by {display_name(actor)} from {source} to {team.name_zh}: {why}"
        await _hand_to(session, ctx, order, actor, team, leaders, kind="redispatched", note=note)
        await tell_text(
            session,
            before,
            order,
            N_("Order {number} was passed to another team."),
            "redispatched",
            actor,
        )
        # Their card's Accept would be refused now: it says «passed on» and loses its buttons.
        await close_cards(session, order, OFFER_CARDS, except_user_id=actor.id)
    return order


def _may_triage(roles: Roles, order: Order) -> bool:
    return roles.admin or order.town_id in roles.office_towns


async def need_to_triage(session: AsyncSession, order_id: int, actor: User, roles: Roles) -> Order:
    """A «其他需求» order the actor (the office) may still sort or answer; refuses otherwise.
    Reads only: the triage card's buttons ask it before showing anything."""
    order = await load_order(session, order_id)
    check_actor(actor, roles)
    if not _may_triage(roles, order):
        raise NotAllowed(N_("Only the institute office can do this."))
    await expect(session, order, [OrderStatus.NEW])
    if order.category_id is not None:
        raise Conflict(N_("This order already has a service."))
    return order


async def triage(
    session: AsyncSession, ctx: Ctx, order_id: int, actor: User, roles: Roles, category_id: int
) -> Order:
    """The office sorts a «其他需求» order into a category of the town's catalogue; then it
    is received by that category's lead units and routed like any other."""
    async with unit(session, actor):
        order = await need_to_triage(session, order_id, actor, roles)
        category = await session.get(ServiceCategory, category_id)
        area = await session.get(ServiceArea, category.area_id) if category else None
        if category is None or not category.active or area is None or area.town_id != order.town_id:
            raise NotFound(N_("This service is not available."))
        await transition(
            session,
            order,
            OrderStatus.NEW,
            actor,
            kind="triaged",
            note=f"sorted by {display_name(actor)} into {category.name_zh}",
            values={"category_id": category.id},
        )
        await routing.receive(session, order, actor)
        await order_routed(session, ctx, order)
        if order.status == OrderStatus.ROUTED:
            await tell_resident(session, order, actor, "transferred")
        await close_cards(session, order, DESK_CARDS, except_user_id=actor.id)
    return order


ANSWERED = "answered"  # the event of an order closed by the office's answer


def answered_flag() -> ColumnElement[bool]:
    """In a select of orders: whether each was closed by the office's answer."""
    return exists().where(OrderEvent.order_id == Order.id, OrderEvent.kind == ANSWERED)


async def answered(session: AsyncSession, order: Order) -> bool:
    """Closed by the office's answer (no visit was needed): cancelled, but nobody cancelled
    it."""
    if order.status != OrderStatus.CANCELLED:
        return False
    return bool(await session.scalar(select(answered_flag()).where(Order.id == order.id)))


async def reply_to_resident(
    session: AsyncSession,
    order_id: int,
    actor: User,
    roles: Roles,
    text: str,
    *,
    close: bool = False,
) -> Order:
    """The office answers a «其他需求» order in its own words: a question back (the order
    stays with the office), or with `close` an answer that settles it (cancelled)."""
    async with unit(session, actor):
        order = await need_to_triage(session, order_id, actor, roles)
        said = clean_text(text, required=True)
        await transition(
            session,
            order,
            OrderStatus.CANCELLED if close else OrderStatus.NEW,
            actor,
            kind=ANSWERED if close else "replied",
            note=said,
            values={"cancelled_at": utcnow()} if close else None,
        )
        follower = await follower_id(session, order)
        if follower is None:
            return order
        await notify(
            session,
            follower,
            NoticeKind.TEXT,
            dedupe_key=f"order:{order.id}:reply:{order.version}",
            order_id=order.id,
            msgid=N_(
                "The institute office answered your order {number}: {text}\n"
                "No visit is needed, so the order is now closed. If you need anything else, "
                "just write to us here."
            )
            if close
            else N_("The institute office about your order {number}: {text}"),
            params={"number": order.number, "text": said},
        )
    return order
