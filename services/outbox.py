"""The one door for outbound messages: notices are rows, written in the caller's transaction.

A notice is semantic (`kind` + ids), not rendered text: the sender renders it in the
recipient's language when it goes out, so services never touch Telegram types.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

# NoticeKind lives beside the outbox row it labels (models/messaging.py): services queue
# notices of a kind through here, views/ registers a renderer per kind, neither imports the
# other. Re-exported here for the services that already spell it `outbox.NoticeKind`.
from models import NoticeKind as NoticeKind
from models import Order, OutboxMessage, User, utcnow

# The 站所接单 kinds, under the names routing.py and the tests already use.
DISPATCH_CARD = NoticeKind.DISPATCH_CARD  # to a lead unit's dispatchers: pick the team (派单)
TRIAGE_CARD = NoticeKind.TRIAGE_CARD  # to the office: a «其他需求» order to sort into a category


async def notify(
    session: AsyncSession,
    user: User | int,
    kind: str,
    *,
    urgent: bool = False,
    not_before: datetime | None = None,
    dedupe_key: str | None = None,
    order_id: int | None = None,
    broadcast_id: int | None = None,
    **params: Any,
) -> OutboxMessage | None:
    """Queue one notice for one user. Users without Telegram (proxy residents) or who
    blocked the bot get nothing; returns None then."""
    recipient = user if isinstance(user, User) else await session.get(User, user)
    if recipient is None or recipient.tg_id is None or recipient.blocked:
        return None
    if dedupe_key is not None and await session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
    ):
        return None
    row = OutboxMessage(
        chat_id=recipient.tg_id,
        user_id=recipient.id,
        method="notice",
        payload={"kind": kind, **params},
        urgent=urgent,
        not_before=not_before or utcnow(),
        dedupe_key=dedupe_key,
        order_id=order_id,
        broadcast_id=broadcast_id,
    )
    session.add(row)
    session.info["outbox_added"] = True  # its commit wakes the sender (bot/middlewares.py)
    if kind in WITH_PIN and order_id is not None:
        await _pin_after(session, row, order_id)
    return row


# A card to accept and a volunteer's task are followed by the resident's shared location.
WITH_PIN = frozenset({NoticeKind.ORDER_CARD, NoticeKind.TASK})


async def _pin_after(session: AsyncSession, row: OutboxMessage, order_id: int) -> None:
    order = await session.get(Order, order_id)
    if order is None or order.latitude is None or order.longitude is None:
        return
    session.add(
        OutboxMessage(
            chat_id=row.chat_id,
            user_id=row.user_id,
            method="notice",
            payload={"kind": NoticeKind.ORDER_LOCATION.value},
            urgent=row.urgent,
            not_before=row.not_before,
            dedupe_key=f"{row.dedupe_key}:pin" if row.dedupe_key else None,
            order_id=order_id,
        )
    )


async def notify_many(
    session: AsyncSession, users: Iterable[User | int], kind: str, **kwargs: Any
) -> int:
    """Queue the same notice for several users, each once (duplicates in `users` collapse).
    A `dedupe_key` is made per recipient by appending the user id."""
    seen: set[int] = set()
    base_key = kwargs.pop("dedupe_key", None)
    count = 0
    for user in users:
        uid = user.id if isinstance(user, User) else user
        if uid in seen:
            continue
        seen.add(uid)
        key = f"{base_key}:{uid}" if base_key else None
        if await notify(session, user, kind, dedupe_key=key, **kwargs) is not None:
            count += 1
    return count
