"""Outbound messages (the outbox), broadcasts, durable reminders and the update inbox."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, str_enum, utcnow

__all__ = [
    "Broadcast",
    "BroadcastStatus",
    "NoticeKind",
    "OutboxMessage",
    "OutboxStatus",
    "ProcessedUpdate",
    "Reminder",
    "ReminderKind",
    "WebLoginToken",
]


class BroadcastStatus(enum.StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"  # a station head's notice waits for the office
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class NoticeKind(enum.StrEnum):
    """The kinds of queued notice: the `kind` of an outbox row's payload, stored as these
    strings. Defined here, beside the row, so services (which queue them) and views/ (which
    registers a renderer per kind with `@renders`) share one list without importing each
    other."""

    ORDER_CARD = "order_card"  # to whoever should accept: Accept / Decline / Transfer
    ORDER_INFO = "order_info"  # to the station head: a new order from their village
    ORDER_STATUS = "order_status"  # to the resident: what happened to their order
    TASK = "task"  # to an assigned volunteer: Start / Can't make it
    RATE_REQUEST = "rate_request"  # to the resident: Rate 1–5
    HOURS_CONFIRM = "hours_confirm"  # to the leader: confirm the reported hours
    LOW_RATING = "low_rating"  # to the station head and the office
    VOLUNTEER_WITHDREW = "volunteer_withdrew"  # to the leader
    TEXT = "text"  # a plain translatable message: {"msgid": ..., "params": {...}}
    BROADCAST = "broadcast"
    # Reminders and escalation (services/reminders.py)
    ACCEPT_NUDGE = "accept_nudge"  # to whoever holds a routed order nobody accepted yet
    ESCALATION = "escalation"  # to the station head(s) and the office: not accepted in time
    VOLUNTEER_REMINDER = "volunteer_reminder"  # the evening before / an hour before the slot
    OVERDUE = "overdue"  # slot over, not recorded as done: volunteers and the leader
    LEADER_DIGEST = "leader_digest"  # a leader's open orders, every morning
    OFFICE_WEEKLY = "office_weekly"  # last week's figures, to the office on Mondays
    # Broadcasts (services/broadcasts.py)
    BROADCAST_APPROVAL = "broadcast_approval"  # to the office: Approve / Reject
    BROADCAST_REPORT = "broadcast_report"  # to the author: sent, blocked, failed
    # Volunteers and activities (views/activities.py, views/enrol.py)
    ENROL_REQUEST = "enrol_request"  # to the team leader: Approve / Reject an application
    ENROL_RESULT = "enrol_result"  # to the applicant / volunteer: approved, rejected, removed
    ACTIVITY = "activity"  # to the audience of a published activity: Sign up
    ACTIVITY_REMINDER = "activity_reminder"  # to those signed up: the evening before, 1 h before
    ACTIVITY_UPDATE = "activity_update"  # off the waitlist, cancelled, hours recorded
    KPI_NUDGE = "kpi_nudge"  # to a volunteer projected to miss the year's hours target
    # 站所接单 · 派单 (services/orders/routing.py, views/dispatch.py)
    DISPATCH_CARD = "dispatch_card"  # to a lead unit's dispatchers: pick the team (派单)
    TRIAGE_CARD = "triage_card"  # to the office: a «其他需求» order to sort into a category
    # Follow-ups of an order's cards (services/orders/cards.py, views/order_cards.py)
    ORDER_LOCATION = "order_location"  # the resident's pin, after a card or task that has one
    CARD_CLOSED = "card_closed"  # edits a sent card: the order moved on, its buttons go


class Broadcast(Base):
    __tablename__ = "broadcasts"
    __table_args__ = (Index("ix_broadcasts_status_next", "status", "next_run_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    town_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    text: Mapped[str] = mapped_column(Text)
    photo_file_id: Mapped[str | None] = mapped_column(String(256))
    # {"kind": "everyone" | "stations" | "team" | "volunteers" | "party" | "heads", "ids": [...]}
    audience: Mapped[dict[str, Any]] = mapped_column(JSON)
    # None (once) or {"kind": "daily" | "weekly" | "monthly", "days": [...], "time": "HH:MM"}
    recurrence: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    next_run_at: Mapped[datetime | None]
    status: Mapped[BroadcastStatus] = mapped_column(str_enum(BroadcastStatus))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reject_reason: Mapped[str | None] = mapped_column(Text)
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activities.id"))
    runs: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a sender; a crash leaves it here to be retried once
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"  # the recipient blocked the bot


class OutboxMessage(Base):
    """One message to one chat, written in the same transaction as the change causing it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_due", "status", "not_before"),
        Index("ix_outbox_broadcast_status", "broadcast_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    method: Mapped[str] = mapped_column(String(32), default="sendMessage")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)  # ignores quiet hours
    not_before: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[OutboxStatus] = mapped_column(
        str_enum(OutboxStatus), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    tg_message_id: Mapped[int | None] = mapped_column(BigInteger)
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    # A unique key makes re-running the same fan-out (after a crash) enqueue nothing twice.
    dedupe_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class ReminderKind(enum.StrEnum):
    ACCEPT_NUDGE = "accept_nudge"  # leader has not accepted yet
    ESCALATE = "escalate"  # still not accepted: station head and office
    VOLUNTEER_EVENING = "volunteer_evening"
    VOLUNTEER_HOUR = "volunteer_hour"
    OVERDUE = "overdue"  # slot over, not completed
    RATE = "rate"  # resident has not rated
    ACTIVITY = "activity"
    LEADER_DIGEST = "leader_digest"
    OFFICE_WEEKLY = "office_weekly"
    KPI_NUDGE = "kpi_nudge"


class Reminder(Base):
    """A durable due item; the scheduler claims and fires each exactly once."""

    __tablename__ = "reminders"
    __table_args__ = (Index("ix_reminders_due", "fired_at", "cancelled", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ReminderKind] = mapped_column(str_enum(ReminderKind))
    due_at: Mapped[datetime]
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    assignment_id: Mapped[int | None] = mapped_column(
        ForeignKey("assignments.id", ondelete="CASCADE")
    )
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    fired_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    dedupe_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    note: Mapped[str | None] = mapped_column(Text)


class ProcessedUpdate(Base):
    """The inbox: an update id is handled once, whoever delivers it and however often."""

    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    handled_at: Mapped[datetime | None]
    worker: Mapped[str | None] = mapped_column(String(64))


class WebLoginToken(Base):
    """A one-time dashboard sign-in link (signed, short-lived, single use)."""

    __tablename__ = "web_login_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)
