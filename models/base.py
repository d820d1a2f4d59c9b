"""Declarative base, naming convention and the UTC timestamp type."""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import DateTime, Enum, MetaData
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

__all__ = ["Base", "set_clock", "utcnow"]

# Stable constraint names make Alembic migrations reproducible on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend.

    SQLite keeps no zone, so values are stored as naive UTC and re-tagged on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use aware UTC datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def system_now() -> datetime:
    return datetime.now(UTC)


# The process clock: what `utcnow()` answers everywhere (services, handlers, the sender, the
# scheduler). The system clock unless the bot's assembly set another (`set_clock`): a test
# runs the whole bot on one hand-moved clock, so "now" is the same moment in every part.
_clock: list[Callable[[], datetime]] = [system_now]


def utcnow() -> datetime:
    """Now, aware UTC, by the process clock."""
    return _clock[0]()


def set_clock(now: Callable[[], datetime] | None) -> Callable[[], datetime]:
    """Make `now` the process clock (None: the system clock again); returns the one it
    replaces, so the caller can put it back."""
    previous, _clock[0] = _clock[0], now or system_now
    return previous


def str_enum(enum_cls: type[enum.Enum], length: int = 24) -> Enum:
    """Store a Python enum as its value in a VARCHAR (no native type: migrations stay simple)."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda cls: [member.value for member in cls],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}
