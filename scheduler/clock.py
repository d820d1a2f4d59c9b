"""Where the bot gets the time: the system clock, or one a test moves by hand.

`ProcessClock` reads the process clock (`models.utcnow`), which services, handlers and the
sender read too; a test that sets it (`models.set_clock(clock.now)`) moves them all at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from models import utcnow


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ProcessClock:
    """The process clock: the system clock unless the bot's assembly set another."""

    def now(self) -> datetime:
        return utcnow()


@dataclass
class ManualClock:
    """A clock that stands still until told: `clock.advance(minutes=31)`."""

    at: datetime

    def __post_init__(self) -> None:
        self.set(self.at)

    def now(self) -> datetime:
        return self.at

    def set(self, at: datetime) -> datetime:
        if at.tzinfo is None:
            raise ValueError("use an aware datetime")
        self.at = at.astimezone(UTC)
        return self.at

    def advance(self, delta: timedelta | None = None, **parts: float) -> datetime:
        self.at = self.at + (delta or timedelta(**parts))
        return self.at
