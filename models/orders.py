"""The order loop: orders, their audit trail, attachments, assignments and ratings."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, str_enum, utcnow

__all__ = [
    "Assignment",
    "AssignmentStatus",
    "Attachment",
    "AttachmentKind",
    "AttachmentStage",
    "Order",
    "OrderEvent",
    "OrderStatus",
    "Rating",
    "Slot",
]


class OrderStatus(enum.StrEnum):
    NEW = "new"
    ROUTED = "routed"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    RATED = "rated"
    DECLINED = "declined"  # passing through: declined by one candidate, re-routed next
    CANCELLED = "cancelled"


class Slot(enum.StrEnum):
    MORNING = "morning"
    AFTERNOON = "afternoon"
    ANY = "any"


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_team_status", "team_id", "status"),
        Index("ix_orders_station_status", "station_id", "status"),
        Index("ix_orders_resident_status", "resident_id", "status"),
        Index("ix_orders_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Human-readable, e.g. "TL-20261130-0007": what a resident reads out on the phone.
    number: Mapped[str] = mapped_column(String(32), unique=True)
    town_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    station_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    # None: «其他需求», a need in the resident's own words, waiting for the office's triage.
    category_id: Mapped[int | None] = mapped_column(ForeignKey("service_categories.id"), index=True)
    # The platform whose lead units received the order (站所接单), as routed; None when the
    # category is on no platform (its team's lead units received it) or not yet known.
    platform_id: Mapped[int | None] = mapped_column(ForeignKey("platforms.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    # Who is expected to act now: the team, the station squad, the institute office, or
    # "unit": the lead unit's dispatchers, who pick the team (派单).
    handler_kind: Mapped[str] = mapped_column(String(16), default="team")
    resident_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    placed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    is_proxy: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[OrderStatus] = mapped_column(str_enum(OrderStatus), default=OrderStatus.NEW)
    version: Mapped[int] = mapped_column(Integer, default=1)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(Text, default="")
    preferred_date: Mapped[date | None] = mapped_column(Date)
    preferred_slot: Mapped[Slot] = mapped_column(str_enum(Slot), default=Slot.ANY)
    address: Mapped[str | None] = mapped_column(String(256))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    contact_name: Mapped[str | None] = mapped_column(String(64))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    slot_start: Mapped[datetime | None]
    slot_end: Mapped[datetime | None]
    completion_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    routed_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    rated_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    # Idempotency key of the conversation that created it: a double tap creates one order.
    client_token: Mapped[str | None] = mapped_column(String(64), unique=True)


class OrderEvent(Base):
    """The audit trail: one row for every transition and routing decision."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(24))  # transition, routed, escalated, note, …
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str | None] = mapped_column(String(24))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    note: Mapped[str | None] = mapped_column(Text)


class AttachmentKind(enum.StrEnum):
    PHOTO = "photo"
    VOICE = "voice"
    DOCUMENT = "document"


class AttachmentStage(enum.StrEnum):
    REQUEST = "request"  # sent by the resident with the order
    COMPLETION = "completion"  # evidence of the service done
    ACTIVITY = "activity"  # photos of a published activity


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    activity_id: Mapped[int | None] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[AttachmentKind] = mapped_column(str_enum(AttachmentKind))
    stage: Mapped[AttachmentStage] = mapped_column(str_enum(AttachmentStage))
    file_id: Mapped[str] = mapped_column(String(256))
    file_unique_id: Mapped[str] = mapped_column(String(128))
    local_path: Mapped[str | None] = mapped_column(String(512))
    caption: Mapped[str | None] = mapped_column(Text)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AssignmentStatus(enum.StrEnum):
    ASSIGNED = "assigned"
    STARTED = "started"
    WITHDRAWN = "withdrawn"  # "can't make it"
    DONE = "done"


class Assignment(Base):
    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("order_id", "volunteer_id"),
        Index("ix_assignments_volunteer_status", "volunteer_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[AssignmentStatus] = mapped_column(
        str_enum(AssignmentStatus), default=AssignmentStatus.ASSIGNED
    )
    hours: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Rating(Base):
    __tablename__ = "ratings"
    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    score: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
