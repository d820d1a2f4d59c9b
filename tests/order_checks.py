"""Reading back what the order services wrote: events, queued notices and fresh rows.

out0 = await last_id(session, OutboxMessage)     # before the action
...                                              # the action
assert (NoticeKind.TASK, vol.id) in sent_to(await outbox(session, out0))
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Order, OrderEvent, OrderStatus, OutboxMessage
from services.points import PointsRules

RULES = PointsRules(Decimal(10), Decimal(5), Decimal(5))
S = OrderStatus


async def last_id(session: AsyncSession, model: type[OrderEvent] | type[OutboxMessage]) -> int:
    """The highest id of `model` so far (0 for none): what comes after it is new."""
    return await session.scalar(select(func.coalesce(func.max(model.id), 0)))


async def outbox(
    session: AsyncSession, since: int = 0, order_id: int | None = None
) -> list[OutboxMessage]:
    """Notices queued after the outbox id `since`, of one order if given, oldest first."""
    stmt = select(OutboxMessage).where(OutboxMessage.id > since).order_by(OutboxMessage.id)
    if order_id is not None:
        stmt = stmt.where(OutboxMessage.order_id == order_id)
    return list(await session.scalars(stmt))


def sent_to(rows: list[OutboxMessage]) -> set[tuple[str, int]]:
    """The notices as (kind, recipient) pairs."""
    return {(r.payload["kind"], r.user_id) for r in rows}


async def order_events(session: AsyncSession, order_id: int, since: int = 0) -> list[OrderEvent]:
    """The order's events after the event id `since`, oldest first."""
    return list(
        await session.scalars(
            select(OrderEvent)
            .where(OrderEvent.order_id == order_id, OrderEvent.id > since)
            .order_by(OrderEvent.id)
        )
    )


async def reload(session: AsyncSession, order_id: int) -> Order:
    """The order as the database has it now (not the session's cached copy)."""
    order = await session.get(Order, order_id, populate_existing=True)
    assert order is not None, order_id
    return order
