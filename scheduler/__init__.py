"""The clock: APScheduler fires a few fixed jobs that claim due rows from our own tables.

    clock.py   `Clock`: the process clock (`models.utcnow`, what the whole bot reads), the
               system clock, or a hand-driven one in tests
    jobs.py    `Jobs`: what one tick does (reminders, the calendar, broadcasts, reports);
               every method takes `now`, so tests call `await jobs.tick(now=...)` directly
    runner.py  `Scheduler`: APScheduler 3 (AsyncIOScheduler, in-memory job store, fixed job
               ids) started inside the running loop, stopped with the dispatcher

Durable state lives in `reminders` and `broadcasts` rows, never in APScheduler's store, so a
restart fires what fell due while the bot was down, once, and several instances on
PostgreSQL share the work without firing a row twice.
"""

from scheduler.clock import Clock, ManualClock, ProcessClock, SystemClock
from scheduler.jobs import Jobs, TickResult
from scheduler.runner import Scheduler

__all__ = [
    "Clock",
    "Jobs",
    "ManualClock",
    "ProcessClock",
    "Scheduler",
    "SystemClock",
    "TickResult",
]
