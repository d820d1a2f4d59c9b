"""Limits are the bot's, not a worker's: two workers sharing Redis together keep to one
overall send rate and one per-chat rate, and count one user's flood together."""

from __future__ import annotations

import asyncio
import time

from bot.sender import RateLimits
from bot.shared_limits import SharedLimits


async def _take_for(limits: SharedLimits, chats: list[int], seconds: float) -> list[int]:
    """Take every slot offered for `seconds`, round-robin over `chats`; the chats served."""
    served: list[int] = []
    deadline = time.monotonic() + seconds
    i = 0
    while time.monotonic() < deadline:
        chat = chats[i % len(chats)]
        if await limits.try_take(chat) == 0:
            served.append(chat)
            i += 1
        else:
            await asyncio.sleep(0.002)
    return served


async def test_two_workers_together_keep_to_the_overall_rate(redis_url):
    rate = RateLimits(global_per_second=40, per_chat_per_second=100, per_chat_burst=100)
    workers = [SharedLimits.from_url(redis_url, rate) for _ in range(2)]
    try:
        seconds = 1.5
        served = await asyncio.gather(
            *(
                _take_for(w, list(range(1000 * n, 1000 * n + 500)), seconds)
                for n, w in (enumerate(workers))
            )
        )
        total = sum(len(s) for s in served)
        burst = rate.global_per_second / 2
        # Each worker alone could take all of it: together they still get one rate's worth.
        assert total <= burst + rate.global_per_second * seconds + 1
        assert total >= rate.global_per_second * seconds * 0.8
        assert all(len(s) > 0 for s in served)
    finally:
        for w in workers:
            await w.close()


async def test_one_chat_gets_its_burst_then_one_a_second_whoever_sends(redis_url):
    rate = RateLimits(global_per_second=1000, per_chat_per_second=1, per_chat_burst=3)
    a, b = (SharedLimits.from_url(redis_url, rate) for _ in range(2))
    try:
        taken = [await w.try_take(42) == 0 for w in (a, b, a, b, a)]
        assert taken == [True, True, True, False, False]
        wait = await b.try_take(42)
        assert 0 < wait <= 1.0
        await asyncio.sleep(wait)
        assert await a.try_take(42) == 0  # the next second's slot, taken by the other worker
        assert await b.try_take(43) == 0  # another chat is not held up
    finally:
        await a.close()
        await b.close()


async def test_a_flood_spread_over_two_workers_is_one_flood(redis_url):
    from redis.asyncio import Redis

    from bot.middlewares import ThrottleMiddleware

    redis = Redis.from_url(redis_url)
    try:
        a, b = (ThrottleMiddleware(limit=20, window=3600, redis=redis) for _ in range(2))
        seen = [await (a if i % 2 else b)._flooding_shared(77) for i in range(24)]
        assert [over for over, _first in seen] == [False] * 20 + [True] * 4
        assert [first for _over, first in seen].count(True) == 1  # told once, by one worker
        assert await a._flooding_shared(78) == (False, False)  # someone else is not slowed
    finally:
        await redis.aclose()


async def test_without_redis_the_sender_keeps_to_its_own_limits(caplog):
    from bot.sender import Sender

    dead = SharedLimits.from_url("redis://127.0.0.1:1/0", RateLimits())  # nothing listens
    sender = Sender(None, None, None, shared=dead)  # type: ignore[arg-type]
    try:
        await sender._wait_for_slot(42)
        await sender._wait_for_slot(43)  # not asked again for a while: one warning
    finally:
        await dead.close()
    warnings = [r for r in caplog.records if "shared send limits unavailable" in r.message]
    assert len(warnings) == 1
