"""What every service may need besides the database: the org's policy, the display time zone
and the clock. Built once from the settings in the wiring (bot/), handed to handlers by the
middleware as `ctx` and to the scheduler's jobs, and passed on explicitly; no service reads
either from the session or from a module default."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from models import utcnow
from services.org.schema import Policy


@dataclass(frozen=True)
class Ctx:
    policy: Policy
    tz: tzinfo
    clock: Callable[[], datetime] = field(default=utcnow)  # aware UTC

    def now(self) -> datetime:
        return self.clock()
