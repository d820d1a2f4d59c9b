"""Quiet hours: non-urgent messages wait until the morning (local time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time
    tz: ZoneInfo

    def is_quiet(self, at: datetime) -> bool:
        local = at.astimezone(self.tz).time()
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end  # spans midnight, e.g. 21:00–07:00

    def next_allowed(self, at: datetime) -> datetime:
        """`at` itself outside quiet hours, else the moment quiet hours end (in UTC)."""
        if not self.is_quiet(at):
            return at
        local = at.astimezone(self.tz)
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        if end <= local:
            end += timedelta(days=1)
        return end.astimezone(UTC)
