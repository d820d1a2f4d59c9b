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

from models import OutboxMessage, User, utcnow


class NoticeKind:
    """The notices the bot knows how to render (bot/notices.py)."""

    ORDER_CARD = "order_card"  # to whoever should accept: Accept / Decline / Transfer
    ORDER_INFO = "order_info"  # to the station head: a new order from their village
    # 站所接单 · 派单 (services/orders/routing.py, desk.py); renderers come with the screens
    DISPATCH_CARD = "dispatch_card"  # to a lead unit's dispatchers: pick the team
    TRIAGE_CARD = "triage_card"  # to the office: a «其他需求» order to sort into a category
    ORDER_STATUS = "order_status"  # to the resident: what happened to their order
    TASK = "task"  # to an assigned volunteer: Start / Can't make it
    RATE_REQUEST = "rate_request"  # to the resident: Rate 1–5
    HOURS_CONFIRM = "hours_confirm"  # to the leader: confirm the reported hours
    LOW_RATING = "low_rating"  # to the station head and the office
    VOLUNTEER_WITHDREW = "volunteer_withdrew"  # to the leader
    TEXT = "text"  # a plain translatable message: {"msgid": ..., "params": {...}}
    BROADCAST = "broadcast"
    # Reminders and escalation (services/orders/sla.py, services/reminders.py)
    ACCEPT_NUDGE = "accept_nudge"  # to whoever holds a routed order nobody accepted yet
    ESCALATION = "escalation"  # to the station head(s) and the office: not accepted in time
    VOLUNTEER_REMINDER = "volunteer_reminder"  # the evening before / an hour before the slot
    OVERDUE = "overdue"  # slot over, not recorded as done: volunteers and the leader
    LEADER_DIGEST = "leader_digest"  # a leader's open orders, every morning
    OFFICE_WEEKLY = "office_weekly"  # last week's figures, to the office on Mondays
    # Broadcasts (services/broadcasts.py)
    BROADCAST_APPROVAL = "broadcast_approval"  # to the office: Approve / Reject
    BROADCAST_REPORT = "broadcast_report"  # to the author: sent, blocked, failed
    # Volunteers and activities (bot/notices_activities.py)
    ENROL_REQUEST = "enrol_request"  # to the team leader: Approve / Reject an application
    ENROL_RESULT = "enrol_result"  # to the applicant / volunteer: approved, rejected, removed
    ACTIVITY = "activity"  # to the audience of a published activity: Sign up
    ACTIVITY_REMINDER = "activity_reminder"  # to those signed up: the evening before, 1 h before
    ACTIVITY_UPDATE = "activity_update"  # off the waitlist, cancelled, hours recorded
    KPI_NUDGE = "kpi_nudge"  # to a volunteer projected to miss the year's hours target


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
    return row


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
