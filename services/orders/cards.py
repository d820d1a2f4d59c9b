"""The cards an order left in people's chats: once it is taken or cancelled, their buttons
are stale, so each sent card is edited (a CARD_CLOSED notice: the order as it is now, no
buttons). (The pin that follows a card or task: services/outbox.py.)"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import NoticeKind, Order, OutboxMessage, OutboxStatus
from services.outbox import notify

# Cards whose buttons act on a routed order (accept, decline, transfer, pick the team) …
OFFER_CARDS = frozenset(
    {
        NoticeKind.ORDER_CARD,
        NoticeKind.ACCEPT_NUDGE,
        NoticeKind.DISPATCH_CARD,
        NoticeKind.TRIAGE_CARD,
    }
)
# … and those whose buttons act on the work (start, done, can't make it).
WORK_CARDS = frozenset({NoticeKind.TASK, NoticeKind.VOLUNTEER_REMINDER, NoticeKind.OVERDUE})


async def close_cards(
    session: AsyncSession,
    order: Order,
    kinds: frozenset[NoticeKind],
    *,
    except_user_id: int | None = None,
) -> int:
    """Queue an edit of every sent card of `order` of these `kinds` (but those to
    `except_user_id`, whose own card the handler edits). Returns how many."""
    rows = await session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.order_id == order.id,
            OutboxMessage.method == "notice",
            OutboxMessage.status == OutboxStatus.SENT,
            OutboxMessage.tg_message_id.is_not(None),
        )
    )
    count = 0
    for row in rows:
        kind = row.payload.get("kind")
        if kind not in kinds or row.user_id is None or row.user_id == except_user_id:
            continue
        queued = await notify(
            session,
            row.user_id,
            NoticeKind.CARD_CLOSED,
            order_id=order.id,
            dedupe_key=f"closed:{row.id}:{order.version}",
            message_id=row.tg_message_id,
            of=kind,
            card=row.payload,  # what the card said: its first line is kept
        )
        count += queued is not None
    return count
