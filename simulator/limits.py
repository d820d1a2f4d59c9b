"""Telegram's flood limits, enforced per bot the way the real Bot API does.

The published numbers are approximate ("about 30 messages per second", "no more than one
message per second in a single chat", "no more than 20 messages per minute in a group"), so
each one is a token bucket whose rate and burst can be tuned from `Limits`.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Limits:
    """How hard the simulator pushes back on a bot that sends too fast."""

    enabled: bool = True
    global_per_second: float = 30.0
    global_burst: int = 30
    private_per_second: float = 1.0
    private_burst: int = 10
    group_per_minute: float = 20.0
    group_burst: int = 20


@dataclass
class TokenBucket:
    """`capacity` tokens, refilled continuously at `rate` tokens per second."""

    rate: float
    capacity: float
    tokens: float
    updated: float

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
        self.updated = now

    def wait_time(self, amount: float, now: float) -> float:
        """Seconds until `amount` tokens are available (0 if they are now)."""
        self._refill(now)
        # A request bigger than the bucket could never pass; it waits for a full bucket.
        missing = min(amount, self.capacity) - self.tokens
        return 0.0 if missing <= 0 else missing / self.rate

    def take(self, amount: float, now: float) -> None:
        self._refill(now)
        self.tokens = max(0.0, self.tokens - amount)


@dataclass
class Violations:
    """Every 429 the simulator answered, so a test can assert the bot caused none."""

    by_chat: Counter[int] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.by_chat.values())

    def record(self, chat_id: int) -> None:
        self.by_chat[chat_id] += 1

    def as_dict(self) -> dict[str, object]:
        return {"total": self.total, "by_chat": {str(k): v for k, v in self.by_chat.items()}}


class RateLimiter:
    """The buckets of one bot: a global one and one per chat."""

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._global = self._bucket(limits.global_per_second, limits.global_burst)
        self._chats: dict[int, TokenBucket] = {}

    def _bucket(self, rate: float, burst: int) -> TokenBucket:
        return TokenBucket(rate=rate, capacity=burst, tokens=burst, updated=self._clock())

    def _chat_bucket(self, chat_id: int, is_group: bool) -> TokenBucket:
        if chat_id not in self._chats:
            lim = self.limits
            self._chats[chat_id] = (
                self._bucket(lim.group_per_minute / 60.0, lim.group_burst)
                if is_group
                else self._bucket(lim.private_per_second, lim.private_burst)
            )
        return self._chats[chat_id]

    def acquire(self, chat_id: int, is_group: bool, count: int = 1) -> int | None:
        """Take `count` message slots, or return the whole seconds to wait (nothing taken)."""
        if not self.limits.enabled:
            return None
        now = self._clock()
        buckets = (self._global, self._chat_bucket(chat_id, is_group))
        wait = max(bucket.wait_time(count, now) for bucket in buckets)
        if wait > 0:
            return max(1, math.ceil(wait))
        for bucket in buckets:
            bucket.take(count, now)
        return None
