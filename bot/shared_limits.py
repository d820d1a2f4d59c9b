"""Telegram's send limits shared by every worker of one bot, kept in Redis.

Telegram counts messages per bot, not per process: two workers each keeping to 25 a second
would send 50. With REDIS_URL set, every send first takes a slot here — the overall rate
and the per-chat rate, both at once, in one atomic script (GCRA: one timestamp per key,
Redis's own clock, so the workers' clocks need not agree). Without Redis the sender's own
buckets are the only ones, which is right for a single process.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bot.send_limits import RateLimits

# KEYS: the bot-wide key, the chat's key.  ARGV: interval and tolerance (µs) for each.
# Returns 0 when a slot was taken, else the microseconds to wait before asking again.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local wait = 0
local tats = {}
for i = 1, 2 do
  local interval, tolerance = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
  if tat < now then tat = now end
  local early = tat - tolerance - now
  if early > wait then wait = early end
  tats[i] = tat + interval
end
if wait > 0 then return wait end
for i = 1, 2 do
  local ttl = math.ceil((tats[i] - now) / 1000) + 1000
  redis.call('SET', KEYS[i], tostring(tats[i]), 'PX', ttl)
end
return 0
"""


class SharedLimits:
    """`await limits.acquire(chat_id)` returns when this worker may send to the chat."""

    def __init__(self, redis: Any, limits: RateLimits, *, prefix: str = "civic:send") -> None:
        self.redis = redis
        self.prefix = prefix
        self.args = [
            *_gcra(limits.global_per_second, max(1.0, limits.global_per_second / 2)),
            *_gcra(limits.per_chat_per_second, limits.per_chat_burst),
        ]
        self._script = redis.register_script(_TAKE)

    @classmethod
    def from_url(cls, url: str, limits: RateLimits) -> SharedLimits:
        from redis.asyncio import Redis

        return cls(Redis.from_url(url), limits)

    async def try_take(self, chat_id: int) -> float:
        """Take a slot for the chat if there is one (returns 0), else the seconds to wait."""
        keys = [f"{self.prefix}:all", f"{self.prefix}:chat:{chat_id}"]
        wait_us = int(await self._script(keys=keys, args=self.args))
        return wait_us / 1_000_000

    async def acquire(self, chat_id: int) -> None:
        while (wait := await self.try_take(chat_id)) > 0:
            await asyncio.sleep(wait)

    async def close(self) -> None:
        await self.redis.aclose()


def _gcra(rate: float, burst: float) -> tuple[int, int]:
    """Emission interval and tolerance in microseconds for `rate` per second, `burst` at once."""
    interval = 1_000_000 / rate
    return round(interval), round(interval * (max(1.0, burst) - 1))
