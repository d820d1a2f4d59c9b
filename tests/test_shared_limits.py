"""Limits are the bot's, not a worker's: two workers sharing Redis together keep to one
overall send rate and one per-chat rate, and count one user's flood together."""

from __future__ import annotations

import asyncio
import math
from collections import deque

from bot.send_limits import RateLimits, TokenBucket
from bot.sender import Prepared, Sender
from bot.shared_limits import SharedLimits


async def _take(
    limits: SharedLimits,
    chats: list[int],
    grants: list[tuple[int, int, int]],
    waits: list[float],
    n: int,
    worker: int,
) -> None:
    """Take slots round-robin over `chats` until the workers together hold `n`; record each
    grant as a window of Redis's own clock (µs, read just before and just after the take:
    the limiter's clock, so no worker's clock matters) and every wait the limiter asked for."""
    i = 0
    while len(grants) < n:
        before = await _redis_now(limits)
        wait = await limits.try_take(chats[i % len(chats)])
        if wait == 0:
            grants.append((before, await _redis_now(limits), worker))
            i += 1
        else:
            waits.append(wait)
            await asyncio.sleep(min(wait, 0.002))


async def _redis_now(limits: SharedLimits) -> int:
    seconds, micros = await limits.redis.time()
    return seconds * 1_000_000 + micros


def _overdrawn(grants: list[tuple[int, int, int]], rate: float, burst: float) -> list[str]:
    """Every run of grants that took more than the bucket allows: at most `burst` at once
    and `rate` a second after that. Each grant's time is only known to lie in its window, so
    a run from grant i to grant j is given the longest span it can have had (j's window end
    − i's window start): what is reported overdrawn was so however the windows fall."""
    # The i-th grant in time came no earlier than the i-th earliest window start, and no
    # later than the i-th earliest window end.
    starts = sorted(start for start, _end, _worker in grants)
    ends = sorted(end for _start, end, _worker in grants)
    faults = []
    for i in range(len(starts)):
        for j in range(i + math.ceil(burst), len(ends)):
            span = (ends[j] - starts[i]) / 1_000_000
            if j - i + 1 > burst + rate * span + 1:
                faults.append(f"{j - i + 1} grants within {span:.3f} s")
    return faults


def test_the_overdraw_check_can_fail():
    """Sixty grants 10 ms apart at a rate of 40 a second (burst 20) are too many."""
    tight = [(k * 10_000, k * 10_000 + 100, 0) for k in range(60)]
    assert _overdrawn(tight, 40, 20)
    loose = [(k * 25_000, k * 25_000 + 100, 0) for k in range(60)]
    assert _overdrawn(loose, 40, 20) == []


async def test_two_workers_together_keep_to_the_overall_rate(redis_url):
    rate = RateLimits(global_per_second=40, per_chat_per_second=100, per_chat_burst=100)
    workers = [SharedLimits.from_url(redis_url, rate) for _ in range(2)]
    try:
        grants: list[tuple[int, int, int]] = []
        waits: list[float] = []
        n = 90  # the burst of 20, then 70 more at 40 a second: about 1.75 s
        await asyncio.gather(
            *(
                _take(w, list(range(1000 * k, 1000 * k + 500)), grants, waits, n, k)
                for k, w in enumerate(workers)
            )
        )
        # Each worker alone could take 40 a second: together they took one rate's worth.
        assert _overdrawn(grants, rate.global_per_second, rate.global_per_second / 2) == []
        assert {worker for _s, _e, worker in grants} == {0, 1}  # and both were served
        # When refused, the limiter says when to come back: never later than the next slot.
        assert waits and max(waits) <= 1 / rate.global_per_second + 0.001
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
        # the next second's slot, taken by the other worker (asyncio may wake a hair early:
        # then the limiter asks for that hair, not for another second)
        while (left := await a.try_take(42)) > 0:
            assert left < 0.05
            await asyncio.sleep(left)
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
    # Buckets that refill once a minute or slower: what the test sees is what was taken,
    # however slowly the machine runs it.
    own = RateLimits(global_per_second=1 / 60, per_chat_per_second=1 / 100, per_chat_burst=3)
    dead = SharedLimits.from_url("redis://127.0.0.1:1/0", own)  # nothing listens
    sender = Sender(None, None, None, limits=own, shared=dead)  # type: ignore[arg-type]
    sender.global_bucket = TokenBucket(own.global_per_second, 4)  # four at once, then 1/min
    try:
        for chat in (42, 42, 42, 43):
            await sender._wait_for_slot(chat)  # chat 42's burst, and one for chat 43
    finally:
        await dead.close()
    warnings = [r for r in caplog.records if "shared send limits unavailable" in r.message]
    assert len(warnings) == 1  # Redis was asked once, then left alone for a while
    # Its own buckets counted every send: chat 42 must wait, chat 43 may go...
    queue = deque([Prepared(1, 42, None, "sendMessage", {}), Prepared(2, 43, None, "x", {})])
    ready, _wait = sender._next_ready(queue)
    assert ready is not None and ready.chat_id == 43
    ready, wait = sender._next_ready(queue)
    assert ready is None and wait > 60  # 42's next slot is a hundred seconds off
    # ...and the overall bucket is spent: a fifth message would wait, whoever it is for.
    assert sender.global_bucket.wait_time() > 30
