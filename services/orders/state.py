"""The transition primitive every order service runs (in one `services.uow.unit`).

Every transition checks who is acting (on the server, whatever the button said), checks
the current state (a transition not allowed from it raises `Conflict`), moves the state
with a conditional UPDATE on the version column (so two people pressing at once give one
winner), writes an `OrderEvent` and queues the notices it causes (outbox rows, same
transaction), then commits. Refusals (`DomainError`s) are raised before anything is
written; any failure after a write rolls the whole transaction back.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from models import (
    AssignmentStatus,
    Order,
    OrderEvent,
    OrderStatus,
    User,
    utcnow,
)
from models.db import rowcount
from services import text
from services.errors import Conflict
from services.i18n import N_
from services.uow import fresh, wrote

OPEN_STATUSES = (
    OrderStatus.NEW,
    OrderStatus.ROUTED,
    OrderStatus.ACCEPTED,
    OrderStatus.IN_PROGRESS,
)

ACTIVE_ASSIGNMENT = (AssignmentStatus.ASSIGNED, AssignmentStatus.STARTED)
MAX_NOTE = 500  # decline/transfer/cancel reasons, completion notes, rating comments

_ALREADY = {
    OrderStatus.NEW: N_("This order is still waiting to be passed to a team."),
    OrderStatus.ROUTED: N_("This order has not been accepted yet."),
    OrderStatus.ACCEPTED: N_("{name} has already accepted this order."),
    OrderStatus.IN_PROGRESS: N_("The work on this order has already started."),
    OrderStatus.DONE: N_("This order has already been completed."),
    OrderStatus.RATED: N_("This order has already been completed and rated."),
    OrderStatus.DECLINED: N_("This order is being passed to another team."),
    OrderStatus.CANCELLED: N_("This order has been cancelled."),
}


def display_name(user: User | None) -> str:
    if user is None:
        return ""
    return user.name or (f"@{user.tg_username}" if user.tg_username else f"#{user.id}")


async def transition(
    session: AsyncSession,
    order: Order,
    to: OrderStatus,
    actor: User | None,
    *,
    kind: str,
    note: str | None = None,
    values: dict[str, Any] | None = None,
) -> OrderEvent:
    """Move `order` to `to` (or keep its status and just record `kind`) with optimistic
    concurrency, and write the event. Callers check the allowed from-states first.

    The UPDATE only matches the row as this session saw it (same status and version); if
    someone else changed it meanwhile, nothing is written and `Conflict` says what happened.
    """
    frm = order.status
    wrote(session)
    changes = {"status": to, "version": order.version + 1, **(values or {})}
    result = await session.execute(
        update(Order)
        .where(Order.id == order.id, Order.version == order.version, Order.status == frm)
        .values(**changes)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        raise await _state_conflict(session, await load_order(session, order.id))
    for key, value in changes.items():
        set_committed_value(order, key, value)
    return record(session, order, actor, kind, note, frm=frm, team_id=order.team_id)


def record(
    session: AsyncSession,
    order: Order,
    actor: User | None,
    kind: str,
    note: str | None,
    *,
    frm: OrderStatus | None,
    team_id: int | None = None,
) -> OrderEvent:
    """An event in the order's trail: who did what, from `frm` to the order's status now."""
    event = OrderEvent(
        order_id=order.id,
        at=utcnow(),
        actor_id=actor.id if actor else None,
        kind=kind,
        from_status=frm.value if frm else None,
        to_status=order.status.value,
        team_id=team_id,
        note=note,
    )
    session.add(event)
    return event


async def load_order(session: AsyncSession, order_id: int) -> Order:
    return await fresh(session, Order, order_id, N_("This order does not exist."))


async def _state_conflict(session: AsyncSession, order: Order) -> Conflict:
    name = ""
    if order.status == OrderStatus.ACCEPTED and order.accepted_by_id:
        name = display_name(await session.get(User, order.accepted_by_id))
    return Conflict(
        _ALREADY[order.status], name=name, status=order.status.value, number=order.number
    )


async def expect(
    session: AsyncSession, order: Order, allowed: Iterable[OrderStatus], version: int | None = None
) -> None:
    if order.status not in set(allowed):
        raise await _state_conflict(session, order)
    if version is not None and version != order.version:
        raise Conflict(N_("This order has changed since this message. Please look at it again."))


def clean_text(value: str | None, *, required: bool, limit: int = MAX_NOTE) -> str | None:
    """A note, or the reason an order step asks for."""
    return text.clean_text(value, limit=limit, required=required, what=N_("Please give a reason."))
