"""People: users, their staff roles, team membership and one-use invites."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, str_enum, utcnow

__all__ = ["Invite", "MemberRole", "MembershipStatus", "Role", "StaffRole", "TeamMember", "User"]


class Role(enum.StrEnum):
    RESIDENT = "resident"
    VOLUNTEER = "volunteer"
    TEAM_LEADER = "team_leader"
    STATION_HEAD = "station_head"
    DISPATCHER = "dispatcher"  # 站所联络员: receives and dispatches for a unit (站所)
    OFFICE = "office"
    ADMIN = "admin"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # None for a resident without a smartphone, registered by station staff (proxy orders).
    tg_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    tg_username: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    locale: Mapped[str | None] = mapped_column(String(8))
    town_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    priority_group_id: Mapped[int | None] = mapped_column(ForeignKey("priority_groups.id"))
    is_party_member: Mapped[bool] = mapped_column(Boolean, default=False)
    # 双报道: the unit (站所) a party member works at and reports to, besides their village.
    # One per person, whatever teams they serve in, so it lives here, not on a membership.
    work_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    skills: Mapped[str | None] = mapped_column(Text)
    registered: Mapped[bool] = mapped_column(Boolean, default=False)
    # The user blocked the bot (Telegram 403): skipped by the sender from then on.
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    blocked_at: Mapped[datetime | None]
    # An office decision: the user may not use the bot.
    banned: Mapped[bool] = mapped_column(Boolean, default=False)
    # Dashboard sessions carry the epoch they were signed in; signing out raises it, which
    # ends every session signed before (services/weblogin.py).
    web_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Raised by the database (triggers, migration 0007) whenever this person's roles change:
    # a worker's cache of their roles is good while the stamp it was taken at still holds.
    roles_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # 大字大按钮: one tall button to a row, chosen by the person or set by their station head.
    large_print: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    anonymised_at: Mapped[datetime | None]

    @classmethod
    def counted_party_member(cls) -> ColumnElement[bool]:
        """Where-clause: a party member the scorecards count (not banned, not erased)."""
        return and_(
            cls.is_party_member.is_(True), cls.banned.is_(False), cls.anonymised_at.is_(None)
        )


class StaffRole(Base):
    """An appointment: office staff of a town, head of a station, a unit's dispatcher, or
    admin. A dispatcher's row names the unit (`unit_id`) and no region."""

    __tablename__ = "staff_roles"
    __table_args__ = (
        UniqueConstraint("user_id", "role", "region_id"),
        UniqueConstraint("user_id", "role", "unit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(str_enum(Role))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    appointed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    appointed_at: Mapped[datetime] = mapped_column(default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class MemberRole(enum.StrEnum):
    LEADER = "leader"
    MEMBER = "member"


class MembershipStatus(enum.StrEnum):
    PENDING = "pending"  # applied, waiting for the leader
    ACTIVE = "active"
    REJECTED = "rejected"
    LEFT = "left"


class TeamMember(Base):
    __tablename__ = "team_members"
    __table_args__ = (
        UniqueConstraint("team_id", "user_id"),
        Index("ix_team_members_team_role_status", "team_id", "role", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[MemberRole] = mapped_column(str_enum(MemberRole))
    status: Mapped[MembershipStatus] = mapped_column(
        str_enum(MembershipStatus), default=MembershipStatus.ACTIVE
    )
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)


class Invite(Base):
    """A one-use deep-link code (`/start <code>`) that appoints or enrols whoever opens it."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    role: Mapped[Role] = mapped_column(str_enum(Role))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    used_at: Mapped[datetime | None]
