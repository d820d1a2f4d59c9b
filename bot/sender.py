"""The one sender: drains the outbox within Telegram's limits, resumes after a crash.

Rows are claimed (status `sending`, with the worker's name) in a short transaction, sent
with no transaction open, then marked. A crash can leave at most the rows in flight to be
sent again; everything else is sent exactly once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import SendMessage, SendPhoto
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import OutboxMessage, OutboxStatus, User, utcnow
from services.quiet import QuietHours

log = logging.getLogger("civic_dispatch.sender")

Renderer = Callable[[AsyncSession, OutboxMessage], Awaitable[tuple[str, dict[str, Any]] | None]]
MAX_ATTEMPTS = 5
STALE_CLAIM = timedelta(minutes=5)


@dataclass
class RateLimits:
    global_per_second: float = 30.0
    per_chat_per_second: float = 1.0
    per_chat_burst: int = 3


class TokenBucket:
    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = burst, time.monotonic()

    def delay(self) -> float:
        """Seconds to wait before one more send is allowed (0 when allowed now, and taken)."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class Sender:
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
    ) -> None:
        self.bot, self.sessionmaker, self.render = bot, sessionmaker, render
        self.limits = limits or RateLimits()
        self.quiet = quiet
        self.worker, self.batch = worker, batch
        self.global_bucket = TokenBucket(
            self.limits.global_per_second, max(1.0, self.limits.global_per_second)
        )
        self.chat_buckets: dict[int, TokenBucket] = {}
        self.paused_until = 0.0
        self.wakeup = asyncio.Event()
        self.sent = 0

    def poke(self) -> None:
        """Something was queued: look now instead of at the next tick."""
        self.wakeup.set()

    async def recover(self) -> int:
        """After a crash: rows left in `sending` go back to the queue (sent at most twice)."""
        async with self.sessionmaker() as session:
            result = await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.status == OutboxStatus.SENDING,
                    or_(
                        OutboxMessage.claimed_by == self.worker,
                        OutboxMessage.claimed_at < utcnow() - STALE_CLAIM,
                    ),
                )
                .values(status=OutboxStatus.PENDING, claimed_by=None)
            )
            await session.commit()
            return result.rowcount or 0

    async def run(self, stop: asyncio.Event, idle: float = 0.5) -> None:
        await self.recover()
        while not stop.is_set():
            try:
                done = await self.drain_once()
            except Exception:  # one bad row or a database hiccup must not stop all sending
                log.exception("sender loop failed; retrying")
                done = 0
            if done == 0:
                self.wakeup.clear()
                waiters = [
                    asyncio.ensure_future(stop.wait()),
                    asyncio.ensure_future(self.wakeup.wait()),
                ]
                await asyncio.wait(waiters, timeout=idle, return_when=asyncio.FIRST_COMPLETED)
                for w in waiters:
                    w.cancel()

    async def _claim(self) -> list[int]:
        now = utcnow()
        async with self.sessionmaker() as session:
            query = (
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.not_before <= now
                )
                .order_by(OutboxMessage.urgent.desc(), OutboxMessage.id)
                .limit(self.batch)
                .with_for_update(skip_locked=True)
            )
            if self.quiet is not None and self.quiet.is_quiet(now):
                query = query.where(OutboxMessage.urgent.is_(True))
            ids = list((await session.scalars(query)).all())
            if ids:
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.PENDING)
                    .values(status=OutboxStatus.SENDING, claimed_by=self.worker, claimed_at=now)
                )
                await session.commit()
            return ids

    async def drain_once(self) -> int:
        """Send one batch; returns how many rows were handled."""
        ids = await self._claim()
        for row_id in ids:
            await self._deliver(row_id)
        return len(ids)

    async def _wait_for_slot(self, chat_id: int) -> None:
        bucket = self.chat_buckets.setdefault(
            chat_id, TokenBucket(self.limits.per_chat_per_second, self.limits.per_chat_burst)
        )
        while True:
            pause = self.paused_until - time.monotonic()
            wait = max(pause, bucket.delay() if pause <= 0 else pause)
            if wait <= 0:
                break
            await asyncio.sleep(wait)
        while (wait := self.global_bucket.delay()) > 0:
            await asyncio.sleep(wait)

    async def _deliver(self, row_id: int) -> None:
        async with self.sessionmaker() as session:
            row = await session.get(OutboxMessage, row_id)
            if row is None or row.status != OutboxStatus.SENDING:
                return
            rendered = await self.render(session, row)
            chat_id = row.chat_id
            await session.rollback()  # no transaction open while talking to Telegram
        if rendered is None:
            await self._finish(row_id, OutboxStatus.FAILED, error="nothing to send")
            return
        method, params = rendered
        await self._wait_for_slot(chat_id)
        try:
            result = await self._call(method, params)
        except TelegramRetryAfter as exc:
            self.paused_until = time.monotonic() + exc.retry_after
            await self._requeue(row_id, error=f"retry after {exc.retry_after}s", delay=0)
        except TelegramForbiddenError as exc:
            await self._finish(row_id, OutboxStatus.BLOCKED, error=exc.message, block=True)
        except TelegramBadRequest as exc:
            await self._finish(row_id, OutboxStatus.FAILED, error=exc.message)
        except (TelegramNetworkError, TelegramServerError, OSError) as exc:
            await self._requeue(row_id, error=str(exc), delay=None)
        else:
            self.sent += 1
            await self._finish(
                row_id, OutboxStatus.SENT, message_id=getattr(result, "message_id", None)
            )

    async def _call(self, method: str, params: dict[str, Any]) -> Any:
        if method == "sendPhoto":
            return await self.bot(SendPhoto(**params))
        return await self.bot(SendMessage(**params))

    async def _finish(
        self,
        row_id: int,
        status: OutboxStatus,
        *,
        error: str | None = None,
        message_id: int | None = None,
        block: bool = False,
    ) -> None:
        async with self.sessionmaker() as session:
            row = await session.get(OutboxMessage, row_id)
            if row is None:
                return
            row.status, row.last_error, row.tg_message_id = status, error, message_id
            row.attempts += 1
            row.sent_at = utcnow() if status == OutboxStatus.SENT else None
            if block and row.user_id is not None:
                user = await session.get(User, row.user_id)
                if user is not None and not user.blocked:
                    user.blocked, user.blocked_at = True, utcnow()
            await session.commit()

    async def _requeue(self, row_id: int, *, error: str, delay: float | None) -> None:
        async with self.sessionmaker() as session:
            row = await session.get(OutboxMessage, row_id)
            if row is None:
                return
            row.attempts += 1
            row.last_error = error
            if row.attempts >= MAX_ATTEMPTS and delay is None:
                row.status = OutboxStatus.FAILED
            else:
                backoff = delay if delay is not None else min(300.0, 2.0**row.attempts)
                row.status = OutboxStatus.PENDING
                row.claimed_by = None
                row.not_before = utcnow() + timedelta(seconds=backoff)
            await session.commit()
