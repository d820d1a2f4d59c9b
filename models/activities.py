"""Published activity plans (the plan's "six haves": activities and records) and points."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, str_enum, utcnow

__all__ = [
    "Activity",
    "ActivitySignup",
    "ActivityStatus",
    "CheckinTry",
    "LedgerSource",
    "PointsEntry",
    "SignupStatus",
]


class ActivityStatus(enum.StrEnum):
    PUBLISHED = "published"
    CANCELLED = "cancelled"
    DONE = "done"


class Activity(Base):
    __tablename__ = "activities"
    __table_args__ = (Index("ix_activities_starts_at", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(128))
    content: Mapped[str] = mapped_column(Text, default="")
    place: Mapped[str] = mapped_column(String(256), default="")
    # Where the place is, for check-in by sending a location (optional).
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    capacity: Mapped[int | None] = mapped_column(Integer)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    town_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    recurrence: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[ActivityStatus] = mapped_column(
        str_enum(ActivityStatus), default=ActivityStatus.PUBLISHED
    )
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    checkin_code: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SignupStatus(enum.StrEnum):
    SIGNED = "signed"
    WAITLIST = "waitlist"
    CANCELLED = "cancelled"


class ActivitySignup(Base):
    __tablename__ = "activity_signups"
    __table_args__ = (UniqueConstraint("activity_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[SignupStatus] = mapped_column(str_enum(SignupStatus))
    attended: Mapped[bool] = mapped_column(Boolean, default=False)
    checked_in_at: Mapped[datetime | None]
    hours: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # checked in by a location that was not live (it may have been picked on the map or
    # forwarded): the organiser's attendance list marks it
    location_unverified: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )


class CheckinTry(Base):
    """Wrong check-in codes a person typed while an activity was open for check-in: after
    a few, only the organiser's list can tick them (a new /checkin does not start over)."""

    __tablename__ = "checkin_tries"

    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    wrong: Mapped[int] = mapped_column(Integer, default=0)


class LedgerSource(enum.StrEnum):
    ORDER = "order"
    ACTIVITY = "activity"
    BONUS = "bonus"
    CORRECTION = "correction"


class PointsEntry(Base):
    """Append-only: a correction is a new row with a reason, never an edit."""

    __tablename__ = "points_ledger"
    __table_args__ = (Index("ix_points_ledger_user_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[LedgerSource] = mapped_column(str_enum(LedgerSource))
    hours: Mapped[Decimal] = mapped_column(Numeric(8, 2), default=Decimal(0))
    points: Mapped[Decimal] = mapped_column(Numeric(8, 2), default=Decimal(0))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activities.id"), index=True)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("points_ledger.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # One ledger line per (rule, source) at most: re-confirming hours books nothing twice.
    dedupe_key: Mapped[str | None] = mapped_column(String(96), unique=True)
