"""What the scheduler does on each tick. Every method takes `now` (default: the clock), so
a test drives time by calling `await jobs.tick(now=...)`, with no sleeping."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import Reminder, ReminderKind
from scheduler.clock import Clock, ProcessClock
from services import broadcasts, inbox, reminders
from services.activities import fire_activity_reminder
from services.broadcasts import Run
from services.context import Ctx
from services.kpi import monthly_kpi_nudges
from services.orders import sla
from services.reminders import Calendar, Fired, Handler
from services.uow import unit

log = logging.getLogger("civic_dispatch.scheduler")
INBOX_SWEEP_EVERY = timedelta(hours=1)


async def _fire_kpi(session: AsyncSession, ctx: Ctx, reminder: Reminder, now: datetime) -> int:
    return await monthly_kpi_nudges(session, now, ctx.tz, targets=ctx.policy.kpi)


def default_handlers() -> dict[ReminderKind, Handler]:
    """Who fires which kind: the order's clocks, the calendar, activities' reminders and
    the monthly KPI nudge."""
    return {
        **sla.HANDLERS,
        **reminders.HANDLERS,
        ReminderKind.ACTIVITY: fire_activity_reminder,
        ReminderKind.KPI_NUDGE: _fire_kpi,
    }


@dataclass
class TickResult:
    fired: list[Fired] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    reports: list[int] = field(default_factory=list)

    @property
    def queued_anything(self) -> bool:
        return bool(
            any(f.notices for f in self.fired) or any(r.queued for r in self.runs) or self.reports
        )


class Jobs:
    """The scheduler's work over our tables, one method per job."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        ctx: Ctx,
        clock: Clock | None = None,
        digest_time: time = time(8, 0),
        weekly_day: int = 0,
        worker: str = "scheduler",
        single_instance: bool = False,
        handlers: dict[ReminderKind, Handler] | None = None,
        on_queued: Callable[[], None] | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.ctx = ctx
        tz = ctx.tz
        self.clock = clock or ProcessClock()
        self.calendar = Calendar(tz=tz, digest_time=digest_time, weekly_day=weekly_day)
        self.worker = worker
        self.single_instance = single_instance
        self.handlers = default_handlers() if handlers is None else handlers
        self.on_queued = on_queued
        self.failures: dict[int, int] = {}
        self._inbox_swept: datetime | None = None

    def _now(self, now: datetime | None) -> datetime:
        return now or self.clock.now()

    def _queued(self) -> None:
        if self.on_queued is not None:
            self.on_queued()

    async def recover(self, now: datetime | None = None) -> int:
        """At start-up. The only instance (SQLite) resumes fan-outs a crash left behind at
        once; several instances wait for the dead one's lease to run out."""
        if not self.single_instance:
            return 0
        return await broadcasts.release_leases(self.sessionmaker, self._now(now))

    async def reminders(self, now: datetime | None = None) -> list[Fired]:
        """Write the next calendar items, then fire every due reminder once."""
        now = self._now(now)
        async with self.sessionmaker() as session:
            async with unit(session):
                await reminders.ensure_calendar(session, now, self.calendar, kinds=self.handlers)
            if self._inbox_swept is None or now - self._inbox_swept >= INBOX_SWEEP_EVERY:
                self._inbox_swept = now
                await inbox.forget_old(session, now)
        fired = await reminders.fire_due(
            self.sessionmaker,
            now,
            ctx=self.ctx,
            worker=self.worker,
            handlers=self.handlers,
            failures=self.failures,
        )
        if any(f.notices for f in fired):
            self._queued()
        return fired

    async def broadcasts(self, now: datetime | None = None) -> tuple[list[Run], list[int]]:
        """Fan out due broadcasts; report finished runs to their authors."""
        now = self._now(now)
        runs = await broadcasts.run_due(self.sessionmaker, now, tz=self.ctx.tz)
        if any(r.queued for r in runs):
            self._queued()
        reports = await broadcasts.send_reports(self.sessionmaker, now)
        if reports:
            self._queued()
        return runs, reports

    async def tick(self, now: datetime | None = None) -> TickResult:
        """Everything, once: what a test calls instead of waiting for the scheduler."""
        now = self._now(now)
        fired = await self.reminders(now)
        runs, reports = await self.broadcasts(now)
        return TickResult(fired, runs, reports)
