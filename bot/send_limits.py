"""How fast the outbox sender may go: Telegram's limits as token buckets.

A global bucket (`SEND_RATE`, a little under Telegram's ~30/s) and one per chat
(`SEND_RATE_PER_CHAT`, burst `SEND_BURST_PER_CHAT`); a 429 pauses all sending for its
`retry_after`. With several workers the bot-wide limits live in Redis
(bot/shared_limits.py), and a worker's own buckets only keep it from asking Redis in vain.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

from redis.exceptions import RedisError

if TYPE_CHECKING:
    from bot.shared_limits import SharedLimits

log = logging.getLogger("civic_dispatch.sender")

SHARED_RETRY = 30.0  # seconds before asking an unavailable Redis for send slots again


@dataclass
class RateLimits:
    global_per_second: float = 25.0
    per_chat_per_second: float = 1.0
    per_chat_burst: int = 3


class TokenBucket:
    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, max(1.0, burst)
        self.tokens, self.stamp = self.burst, time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_time(self) -> float:
        """Seconds until one token is available (0: now); takes nothing."""
        self._refill()
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        self._refill()
        self.tokens -= 1

    def delay(self) -> float:
        """Take a token if there is one (returns 0), else the seconds to wait."""
        wait = self.wait_time()
        if wait == 0:
            self.tokens -= 1
        return wait


class ToChat(Protocol):
    """A message waiting to be sent: all the pace needs to know is its chat."""

    @property
    def chat_id(self) -> int: ...


Job = TypeVar("Job", bound=ToChat)


class Pacing:
    """The sender's pace: when the next message may go, and to which chat (the outbox
    sender is one; tests look at its buckets and pause directly)."""

    def __init__(self, limits: RateLimits, shared: SharedLimits | None) -> None:
        self.limits = limits
        self.shared = shared
        self._shared_off_until = 0.0  # after a Redis failure: its own buckets until then
        # Half a second's worth of burst: a freshly started sender never lands a second's
        # worth of messages on Telegram at once (direct replies share the same allowance).
        self.global_bucket = TokenBucket(
            limits.global_per_second, max(1.0, limits.global_per_second / 2)
        )
        self.chat_buckets: dict[int, TokenBucket] = {}
        self.paused_until = 0.0

    def pause(self, seconds: float) -> None:
        """Telegram answered 429: nothing is sent for `seconds`."""
        self.paused_until = time.monotonic() + seconds

    def _chat_bucket(self, chat_id: int) -> TokenBucket:
        bucket = self.chat_buckets.get(chat_id)
        if bucket is None:
            bucket = TokenBucket(self.limits.per_chat_per_second, self.limits.per_chat_burst)
            self.chat_buckets[chat_id] = bucket
            if len(self.chat_buckets) > 50_000:  # forget chats long since refilled
                self._prune_buckets()
        return bucket

    def _prune_buckets(self) -> None:
        full = [cid for cid, b in self.chat_buckets.items() if b.wait_time() == 0]
        for cid in full[: len(full) // 2]:
            del self.chat_buckets[cid]

    def _next_ready(self, queue: deque[Job]) -> tuple[Job | None, float]:
        """The first row whose chat may be sent to now; the rows before it move to the back
        (keeping each chat's own order). None and the shortest wait if no chat is ready."""
        shortest = math.inf
        for _ in range(len(queue)):
            wait = self._chat_bucket(queue[0].chat_id).wait_time()
            if wait <= 0:
                return queue.popleft(), 0.0
            shortest = min(shortest, wait)
            queue.rotate(-1)
        return None, shortest

    async def _wait_for_slot(self, chat_id: int) -> None:
        """Wait out a 429 pause, then the global bucket; then take the chat's token."""
        while (pause := self.paused_until - time.monotonic()) > 0:
            await asyncio.sleep(pause)
        while (wait := self.global_bucket.delay()) > 0:
            await asyncio.sleep(wait)
        self._chat_bucket(chat_id).take()
        if self.shared is not None and time.monotonic() >= self._shared_off_until:
            try:
                await self.shared.acquire(chat_id)
            except (RedisError, OSError) as exc:  # Redis away: keep sending, within our own
                log.warning(
                    "shared send limits unavailable (%s); this worker's own for %.0f s",
                    exc,
                    SHARED_RETRY,
                )
                self._shared_off_until = time.monotonic() + SHARED_RETRY
