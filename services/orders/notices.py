"""The notices a transition queues for the resident and whoever holds the order."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models import Order, OutboxMessage, User
from services.orders import units
from services.outbox import NoticeKind, notify, notify_many
from services.people import office_staff, team_leaders, unit_dispatchers


async def follower_id(session: AsyncSession, order: Order) -> int | None:
    """Who follows the order for the resident: the resident, or for a resident without
    Telegram, the person who placed it on their behalf."""
    resident = await session.get(User, order.resident_id)
    if resident is not None and resident.tg_id is not None:
        return resident.id
    return order.placed_by_id if order.is_proxy else None


async def tell_resident(
    session: AsyncSession, order: Order, actor: User | None, event: str, **params: Any
) -> None:
    # The person who just tapped gets the handler's reply; a notice would say it twice.
    uid = await follower_id(session, order)
    if uid is None or (actor is not None and uid == actor.id):
        return
    tag, status = f"status:{order.version}", order.status.value
    await tell_one(
        session, uid, NoticeKind.ORDER_STATUS, order, tag, status=status, event=event, **params
    )


async def tell_one(
    session: AsyncSession, user_id: int, kind: str, order: Order, tag: str, **params: Any
) -> OutboxMessage | None:
    """Notice `kind` about `order` to one person, once per `tag`."""
    key = f"order:{order.id}:{tag}"
    return await notify(
        session, user_id, kind, dedupe_key=key, order_id=order.id, number=order.number, **params
    )


async def tell_about(
    session: AsyncSession,
    users: Iterable[User | int],
    kind: str,
    order: Order,
    tag: str,
    **params: Any,
) -> int:
    """Notice `kind` about `order` to each of `users` once per `tag` (put the version in the
    tag where a new routing attempt must send it again)."""
    return await notify_many(
        session,
        users,
        kind,
        dedupe_key=f"order:{order.id}:{tag}",
        order_id=order.id,
        number=order.number,
        **params,
    )


async def handler_users(session: AsyncSession, order: Order) -> list[User]:
    """Whoever should act on the order now: the acceptor, else the team's leaders or office."""
    if order.accepted_by_id is not None:
        user = await session.get(User, order.accepted_by_id)
        return [user] if user else []
    if order.handler_kind == "unit":
        return await unit_dispatchers(session, await units.lead_unit_ids(session, order))
    if order.handler_kind == "office" or order.team_id is None:
        return await office_staff(session, order.town_id)
    return await team_leaders(session, order.team_id)


async def tell_text(
    session: AsyncSession,
    users: Iterable[User | int],
    order: Order,
    msgid: str,
    tag: str,
    actor: User | None,
) -> None:
    skip = actor.id if actor else None
    await notify_many(
        session,
        [u for u in users if (u.id if isinstance(u, User) else u) != skip],
        NoticeKind.TEXT,
        dedupe_key=f"order:{order.id}:{tag}:{order.version}",
        order_id=order.id,
        msgid=msgid,
        params={"number": order.number},
    )
