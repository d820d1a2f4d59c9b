"""Where the scheduler gets the time: the system clock, or one a test moves by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class ManualClock:
    """A clock that stands still until told: `clock.advance(minutes=31)`."""

    at: datetime

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
