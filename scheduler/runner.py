"""APScheduler as the clock: two interval jobs with fixed ids over `Jobs`.

APScheduler keeps its jobs in memory (`replace_existing=True`, so re-adding is harmless):
its job store never holds anything durable and is never shared between processes. Both
jobs run once at start-up — that is when whatever fell due during downtime fires — and then
every `interval` seconds. `poke()` runs a job now (a notice to send "now", say).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from scheduler.jobs import Jobs

log = logging.getLogger("civic_dispatch.scheduler")

REMINDERS = "reminders"
BROADCASTS = "broadcasts"
JOB_IDS = (REMINDERS, BROADCASTS)


class Scheduler:
    def __init__(self, jobs: Jobs, *, interval: float = 5.0) -> None:
        self.jobs = jobs
        self.interval = interval
        self._aps: AsyncIOScheduler | None = None
        self._running: dict[str, asyncio.Task[object]] = {}
        self._again: set[str] = set()  # poked while running: run once more right after
        self._locks = {job_id: asyncio.Lock() for job_id in JOB_IDS}

    @property
    def running(self) -> bool:
        return self._aps is not None and self._aps.running

    async def start(self) -> None:
        """Start inside the running loop (the dispatcher's start-up)."""
        if self.running:
            return
        await self.jobs.recover()
        aps = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        now = datetime.now(UTC)
        for job_id in JOB_IDS:
            aps.add_job(
                self._run,
                "interval",
                seconds=self.interval,
                id=job_id,
                name=job_id,
                args=[job_id],
                replace_existing=True,
                next_run_time=now,
            )
        aps.start()
        self._aps = aps
        log.info("scheduler started (every %ss)", self.interval)

    async def _run(self, job_id: str) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._running[job_id] = task
        try:
            async with self._locks[job_id]:
                if job_id == REMINDERS:
                    await self.jobs.reminders()
                else:
                    await self.jobs.broadcasts()
        except Exception:
            log.exception("scheduler job %s failed; it runs again next time", job_id)
        finally:
            self._running.pop(job_id, None)
            if job_id in self._again:
                self._again.discard(job_id)
                self.poke(job_id)

    def poke(self, job_id: str = BROADCASTS) -> None:
        """Run a job now instead of at its next interval; if it is running, once more as
        soon as it ends (so what was just written is not left for the next interval)."""
        if self._aps is None or not self._aps.running:
            return
        if job_id in self._running:
            self._again.add(job_id)
            return
        self._aps.modify_job(job_id, next_run_time=datetime.now(UTC))

    @asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        """Hold the jobs off (one in progress finishes first; one due or poked meanwhile
        runs after): for a test that moves the clock and runs `jobs.tick()` itself, so no
        run of the jobs overlaps its own."""
        async with self._locks[REMINDERS], self._locks[BROADCASTS]:
            yield

    async def stop(self, grace: float = 10.0) -> None:
        """Stop firing, let a job in progress finish (each claim is its own transaction, so
        a job cut off loses nothing), then shut APScheduler down."""
        aps, self._aps = self._aps, None
        if aps is None:
            return
        aps.pause()
        self._again.clear()
        if self._running:
            _done, pending = await asyncio.wait(set(self._running.values()), timeout=grace)
            for task in pending:
                task.cancel()
        aps.shutdown(wait=False)
        await asyncio.sleep(0)  # AsyncIOScheduler shuts down on the loop's next turn
        log.info("scheduler stopped")
