"""The one sender: drains the outbox within Telegram's limits, resumes after a crash.

A loop claims a batch of due rows (status `sending`, with the worker's name and the time),
renders them in one read-only session, then sends them one at a time — no transaction open
while talking to Telegram — and records each result in its own short transaction before the
next send. So a crash (even SIGKILL) can repeat at most the one message in flight: every row
already sent is marked, every claimed row not yet sent goes back to the queue unsent.

Limits (bot/send_limits.py): a global token bucket and one per chat. Rows whose chat has
no token yet wait at the back of the batch instead of holding up everyone else. A 429
pauses all sending for `retry_after`; a long pause hands the claimed rows back to the queue.

Outcomes, one delivery record per row: `sent` (with Telegram's message id), `blocked` (403:
the user is marked blocked and later rows to them are never attempted), `failed` (400, or
network/server errors still failing after MAX_ATTEMPTS tries with exponential backoff).

Quiet hours are applied when claiming: during them only `urgent` rows (order cards,
escalations, …) are taken; the rest wait in the queue until the quiet hours end.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import (
    EditMessageCaption,
    EditMessageText,
    SendLocation,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import metrics
from bot.send_limits import Pacing, RateLimits
from bot.waiting import first_of
from models import OutboxMessage, OutboxStatus, User, utcnow
from models.db import rowcount
from services.quiet import QuietHours

if TYPE_CHECKING:
    from bot.shared_limits import SharedLimits

log = logging.getLogger("civic_dispatch.sender")

Renderer = Callable[[AsyncSession, OutboxMessage], Awaitable[tuple[str, dict[str, Any]] | None]]
MAX_ATTEMPTS = 5
# What a rendered row may call; anything else is a message.
METHODS: dict[str, type[TelegramMethod[Any]]] = {
    "sendMessage": SendMessage,
    "sendPhoto": SendPhoto,
    "sendLocation": SendLocation,  # the resident's pin after a card (views/order_cards.py)
    "editMessageText": EditMessageText,  # a card edited once its order moved on
    "editMessageCaption": EditMessageCaption,
}
MAX_BACKOFF = 300.0  # seconds
STALE_CLAIM = timedelta(minutes=5)  # a claim this old belongs to a dead worker
RECOVER_EVERY = 60.0  # seconds between looks for stale claims
LONG_PAUSE = 30.0  # a retry_after longer than this hands the claimed batch back
# Urgent first, then personal notices, then broadcasts; oldest first.
PRECEDENCE = (
    OutboxMessage.urgent.desc(),
    OutboxMessage.broadcast_id.is_(None).desc(),
    OutboxMessage.id,
)


@dataclass
class Prepared:
    row_id: int
    chat_id: int
    user_id: int | None
    method: str
    params: dict[str, Any]
    created_at: datetime | None = None  # for the latency metric
    priority: str = "notice"  # urgent, notice or broadcast (a label of the metric)


class Sender(Pacing):
    def __init__(
        self,
        bot: Bot,
        sessionmaker: async_sessionmaker[AsyncSession],
        render: Renderer,
        *,
        limits: RateLimits | None = None,
        quiet: QuietHours | None = None,
        worker: str = "sender",
        batch: int = 50,
        clock: Callable[[], datetime] = utcnow,
        single_instance: bool = False,
        shared: SharedLimits | None = None,
    ) -> None:
        super().__init__(limits or RateLimits(), shared)
        self.bot, self.sessionmaker, self.render = bot, sessionmaker, render
        self.quiet = quiet
        self.worker, self.batch = worker, batch
        self.clock = clock
        # The only sender on this database (SQLite): whatever is left `sending` at start-up
        # was in the hands of a process that died, whatever its name was.
        self.single_instance = single_instance
        self.wakeup = asyncio.Event()
        self.sent = 0
        self._last_recover = 0.0
        self._blocked_now: set[int] = set()

    def poke(self) -> None:
        """Something was queued: look now instead of at the next tick."""
        self.wakeup.set()

    # --- the loop ---------------------------------------------------------------------------

    async def recover(self, *, everything: bool = False) -> int:
        """Rows left `sending` go back to the queue: this worker's own (a restart under the
        same name), stale claims of any worker, or — `everything` — all of them. Each was
        sent at most once already (the one in flight at the crash), so at most twice."""
        conditions = [OutboxMessage.status == OutboxStatus.SENDING]
        if not everything:
            conditions.append(
                or_(
                    OutboxMessage.claimed_by == self.worker,
                    OutboxMessage.claimed_at < self.clock() - STALE_CLAIM,
                )
            )
        async with self.sessionmaker() as session:
            result = await session.execute(
                update(OutboxMessage)
                .where(*conditions)
                .values(status=OutboxStatus.PENDING, claimed_by=None)
            )
            await session.commit()
        self._last_recover = time.monotonic()
        recovered = rowcount(result)
        if recovered:
            log.info("%s outbox row(s) recovered from dead claims", recovered)
        return recovered

    async def run(self, stop: asyncio.Event, idle: float = 0.5) -> None:
        await self.recover(everything=self.single_instance)
        while not stop.is_set():
            try:
                if time.monotonic() - self._last_recover > RECOVER_EVERY:
                    await self.recover()
                done = await self.drain_once()
            except Exception:  # a database hiccup must not stop all sending
                log.exception("sender loop failed; retrying")
                done = 0
                await asyncio.sleep(idle)
            if done == 0:
                self.wakeup.clear()
                await first_of(stop, self.wakeup, timeout=idle)

    async def _claim(self) -> list[int]:
        now = self.clock()
        async with self.sessionmaker() as session:
            query = (
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.not_before <= now
                )
                .order_by(*PRECEDENCE)
                .limit(self.batch)
                .with_for_update(skip_locked=True)
            )
            if self.quiet is not None and self.quiet.is_quiet(now):
                query = query.where(OutboxMessage.urgent.is_(True))
            ids = list((await session.scalars(query)).all())
            if not ids:
                return []
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.PENDING)
                .values(status=OutboxStatus.SENDING, claimed_by=self.worker, claimed_at=now)
            )
            await session.commit()
            return ids

    async def drain_once(self) -> int:
        """Claim, render and send one batch; returns how many rows were handled."""
        ids = await self._claim()
        if not ids:
            return 0
        claimed_at = time.monotonic()
        queue = deque(await self._prepare(ids))
        self._blocked_now = set()
        while queue:
            held = time.monotonic() - claimed_at
            pause = self.paused_until - time.monotonic()
            if pause > LONG_PAUSE or held > STALE_CLAIM.total_seconds() / 2:
                await self._release([job.row_id for job in queue])
                break
            job, wait = self._next_ready(queue)
            if job is None:
                await asyncio.sleep(min(wait, 1.0))
                continue
            await self._send(job)
        return len(ids)

    # --- preparing ----------------------------------------------------------------------------

    async def _prepare(self, ids: list[int]) -> list[Prepared]:
        """Render the claimed rows (one read-only session). Rows to a user known to have
        blocked the bot are not attempted; rows that render to nothing are failed."""
        ready: list[Prepared] = []
        outcomes: list[tuple[int, OutboxStatus, str]] = []
        async with self.sessionmaker() as session:
            rows = list(
                await session.scalars(
                    select(OutboxMessage).where(*self._claimed(ids)).order_by(*PRECEDENCE)
                )
            )
            user_ids = {row.user_id for row in rows if row.user_id is not None}
            users = {
                u.id: u for u in await session.scalars(select(User).where(User.id.in_(user_ids)))
            }
            for row in rows:
                user = users.get(row.user_id) if row.user_id is not None else None
                if user is not None and user.blocked:
                    outcomes.append((row.id, OutboxStatus.BLOCKED, "blocked the bot earlier"))
                    continue
                try:
                    rendered = await self.render(session, row)
                except Exception as exc:
                    log.exception("outbox row %s could not be rendered", row.id)
                    outcomes.append((row.id, OutboxStatus.FAILED, f"render: {exc!r}"[:500]))
                    continue
                if rendered is None:
                    outcomes.append((row.id, OutboxStatus.FAILED, "nothing to send"))
                    continue
                ready.append(
                    Prepared(
                        row.id,
                        row.chat_id,
                        row.user_id,
                        *rendered,
                        created_at=row.created_at,
                        priority=_priority(row),
                    )
                )
            await session.rollback()
        for row_id, status, error in outcomes:
            await self._finish(row_id, status, error=error, attempted=False)
        return ready

    # --- sending ------------------------------------------------------------------------------

    async def _send(self, job: Prepared) -> None:
        if job.chat_id in self._blocked_now:  # a 403 earlier in this batch
            await self._finish(
                job.row_id, OutboxStatus.BLOCKED, error="blocked the bot earlier", attempted=False
            )
            return
        await self._wait_for_slot(job.chat_id)
        try:
            result = await self._call(job.method, job.params)
        except TelegramRetryAfter as exc:
            metrics.TELEGRAM_429.inc()
            log.warning("Telegram asks to wait %ss", exc.retry_after)
            self.pause(exc.retry_after)
            await self._requeue(job.row_id, error=f"retry after {exc.retry_after}s", delay=0)
        except TelegramForbiddenError as exc:
            self._blocked_now.add(job.chat_id)
            await self._finish(job.row_id, OutboxStatus.BLOCKED, error=exc.message, block=True)
        except TelegramBadRequest as exc:
            await self._finish(job.row_id, OutboxStatus.FAILED, error=exc.message)
        except (TelegramNetworkError, TelegramServerError, OSError, TimeoutError) as exc:
            await self._requeue(job.row_id, error=str(exc) or type(exc).__name__, delay=None)
        except Exception as exc:  # anything else: retried with backoff, then failed
            log.exception("sending outbox row %s failed", job.row_id)
            await self._requeue(job.row_id, error=repr(exc)[:500], delay=None)
        else:
            self.sent += 1
            if job.created_at is not None:
                waited = (self.clock() - job.created_at).total_seconds()
                metrics.OUTBOX_LATENCY_SECONDS.labels(job.priority).observe(max(0.0, waited))
            await self._finish(
                job.row_id, OutboxStatus.SENT, message_id=getattr(result, "message_id", None)
            )

    async def _call(self, method: str, params: dict[str, Any]) -> Any:
        started, outcome = time.perf_counter(), "ok"
        try:
            return await self.bot(METHODS.get(method, SendMessage)(**params))
        except Exception as exc:
            outcome = next(
                (name for kind, name in _CALL_OUTCOMES if isinstance(exc, kind)), "error"
            )
            raise
        finally:
            elapsed = time.perf_counter() - started
            metrics.TELEGRAM_CALL_SECONDS.labels(method, outcome).observe(elapsed)

    # --- recording ----------------------------------------------------------------------------

    async def _finish(
        self,
        row_id: int,
        status: OutboxStatus,
        *,
        error: str | None = None,
        message_id: int | None = None,
        block: bool = False,
        attempted: bool = True,
    ) -> None:
        now = self.clock()
        _count(status)
        async with self.sessionmaker() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row_id)
                .values(
                    status=status,
                    last_error=error,
                    tg_message_id=message_id,
                    attempts=OutboxMessage.attempts + (1 if attempted else 0),
                    sent_at=now if status == OutboxStatus.SENT else None,
                )
            )
            if block:
                await session.execute(
                    update(User)
                    .where(
                        User.id
                        == select(OutboxMessage.user_id)
                        .where(OutboxMessage.id == row_id)
                        .scalar_subquery(),
                        User.blocked.is_(False),
                    )
                    .values(blocked=True, blocked_at=now)
                )
            await session.commit()

    async def _requeue(self, row_id: int, *, error: str, delay: float | None) -> None:
        """Back to the queue after `delay` seconds (None: exponential backoff, and failed
        for good after MAX_ATTEMPTS)."""
        async with self.sessionmaker() as session:
            row = await session.get(OutboxMessage, row_id)
            if row is None:
                return
            row.attempts += 1
            row.last_error = error
            if row.attempts >= MAX_ATTEMPTS and delay is None:
                row.status = OutboxStatus.FAILED
                _count(OutboxStatus.FAILED)
            else:
                backoff = delay if delay is not None else min(MAX_BACKOFF, 2.0**row.attempts)
                row.status = OutboxStatus.PENDING
                row.claimed_by = None
                row.not_before = self.clock() + timedelta(seconds=backoff)
            await session.commit()

    async def _release(self, row_ids: list[int]) -> None:
        """Hand claimed rows we will not get to soon back to the queue (unsent)."""
        if not row_ids:
            return
        async with self.sessionmaker() as session:
            await session.execute(
                update(OutboxMessage)
                .where(*self._claimed(row_ids))
                .values(status=OutboxStatus.PENDING, claimed_by=None)
            )
            await session.commit()

    def _claimed(self, row_ids: list[int]) -> tuple[ColumnElement[bool], ...]:
        """Of these rows, those this worker still holds."""
        return (
            OutboxMessage.id.in_(row_ids),
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.claimed_by == self.worker,
        )


def _priority(row: OutboxMessage) -> str:
    """The sender's own order of precedence, as a label of the latency metric."""
    if row.urgent:
        return "urgent"
    return "notice" if row.broadcast_id is None else "broadcast"


_CALL_OUTCOMES = (
    (TelegramRetryAfter, "retry_after"),
    (TelegramForbiddenError, "blocked"),
    (TelegramBadRequest, "bad_request"),
)
_COUNTERS = {
    OutboxStatus.SENT: metrics.MESSAGES_SENT,
    OutboxStatus.FAILED: metrics.MESSAGES_FAILED,
    OutboxStatus.BLOCKED: metrics.MESSAGES_BLOCKED,
}


def _count(status: OutboxStatus) -> None:
    counter = _COUNTERS.get(status)
    if counter is not None:
        counter.inc()
