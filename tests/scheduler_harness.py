"""End-to-end harness with the scheduler: the simulator outlives the bot, so a test can stop
the bot, let time pass in the database, and start it again (a restart), and can choose the
simulator's limits and the sender's rates.

    async with run_simulator(limits=Limits()) as sim:
        async with bot_on(sim, db_url, tmp_path) as env:   # env: tests.harness.BotEnv
            ...

With `clock=ManualClock(at=...)` the whole bot runs on that clock — services' `utcnow()`,
the sender, the scheduler — and time moves only when the test says: `await advance_to(env,
when)` sets the clock and runs the scheduler's jobs at that moment.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.common import bulk_people, stations
from bot.app import attach_scheduler, attach_sender, build_bot, build_dispatcher
from bot.polling import run_polling
from bot.sender import RateLimits
from bot.settings import Settings
from models import Region, set_clock
from scheduler import ManualClock, Scheduler, TickResult
from simulator.driver import Driver
from simulator.server import Simulator
from tests.harness import TOKEN, BotEnv, taole_db

__all__ = [
    "BOT_ID",
    "advance_to",
    "bot_on",
    "bulk_people",
    "delivered",
    "notices_in_chat",
    "residents_of_the_town",
    "stations",
    "wait_until",
]

BOT_ID = int(TOKEN.split(":")[0])


@contextmanager
def running_on(clock: ManualClock | None) -> Iterator[None]:
    """The process clock is `clock` inside (nothing changes for None), the previous after."""
    if clock is None:
        yield
        return
    previous = set_clock(clock.now)
    try:
        yield
    finally:
        set_clock(previous)


@asynccontextmanager
async def bot_on(
    sim: Simulator,
    db_url: str,
    media_dir: Path,
    *,
    send_limits: RateLimits | None = None,
    interval: float | None = None,
    clock: ManualClock | None = None,
    **overrides: object,
) -> AsyncIterator[BotEnv]:
    """The real bot (polling, sender, scheduler) against a running simulator. Quiet hours
    are off unless given (a test run at night would otherwise hold every notice).

    With `clock`, the whole bot reads the time from it until it stops, and the scheduler's
    interval job runs at start-up and then rarely (`interval`, default an hour): the test
    runs the jobs itself when it moves the clock (`advance_to`)."""
    overrides.setdefault("quiet_hours_start", time(0, 0))
    overrides.setdefault("quiet_hours_end", time(0, 0))
    if interval is None:
        interval = 3600.0 if clock is not None else 0.2
    with running_on(clock):
        cfg, engine, sessionmaker = await taole_db(db_url)
        settings = Settings(
            database_url=db_url,
            media_dir=media_dir,
            bot_token=TOKEN,
            telegram_api_base=sim.base_url,
            scheduler_interval=min(interval, 300.0),
            **overrides,
        )  # type: ignore[arg-type]
        bot = build_bot(TOKEN, sim.base_url)
        dp = build_dispatcher(settings, sessionmaker, cfg.policy)
        limits = send_limits or RateLimits(
            global_per_second=30, per_chat_per_second=1, per_chat_burst=5
        )
        sender = attach_sender(dp, bot, settings, sessionmaker, limits)
        attach_scheduler(dp, settings, sessionmaker, clock=clock, interval=interval)
        started, stop = asyncio.Event(), asyncio.Event()
        dp.startup.register(lambda: started.set())
        polling = asyncio.create_task(run_polling(dp, bot, stop))
        try:
            await asyncio.wait_for(started.wait(), 10)
            async with Driver(sim.base_url, TOKEN) as driver:
                yield BotEnv(sim, driver, engine, sessionmaker, settings, dp, bot, sender, cfg)
        finally:
            stop.set()
            try:
                await asyncio.wait_for(polling, 30)
            finally:
                await bot.session.close()
                await engine.dispose()


async def advance_to(env: BotEnv, when: datetime) -> TickResult:
    """It is now `when` for the bot (started with `clock=`): the clock is set, the scheduler
    runs its jobs at that moment, as its next interval would (no run of its own overlaps),
    and the sender looks at the queue again (notices held for quiet hours may go now).
    Returns what the jobs did."""
    scheduler: Scheduler = env.dp["scheduler"]
    if not isinstance(scheduler.jobs.clock, ManualClock):
        raise TypeError("start the bot with bot_on(..., clock=ManualClock(at=...))")
    async with scheduler.held():
        scheduler.jobs.clock.set(when)
        result = await scheduler.jobs.tick()
    env.sender.poke()
    return result


async def residents_of_the_town(
    sessionmaker: async_sessionmaker[AsyncSession], sim: Simulator, tg_ids: Iterable[int]
) -> tuple[list[Region], int, list[int]]:
    """Registered residents with these Telegram ids, spread over the town's stations
    (`bulk_people`): returns the stations, the town's id and the ids."""
    places = await stations(sessionmaker)
    town = places[0].parent_id
    assert town is not None
    return places, town, await bulk_people(sessionmaker, sim, tg_ids, [p.id for p in places], town)


def notices_in_chat(sim: Simulator, chat_id: int, marker: str) -> int:
    """How many bot messages in this chat carry `marker` (text or caption)."""
    chat = sim.world.bots[BOT_ID].chats.get(chat_id)
    if chat is None:
        return 0
    return sum(
        1
        for m in chat.messages.values()
        if m.from_bot and marker in ((m.text or "") + (m.caption or ""))
    )


def delivered(sim: Simulator, chat_ids: Iterable[int], marker: str) -> dict[int, int]:
    return {cid: notices_in_chat(sim, cid, marker) for cid in chat_ids}


async def wait_until(predicate: Any, timeout: float, step: float = 0.2) -> None:
    """Poll `predicate()` (sync or async) until true; AssertionError after `timeout`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(step)
    raise AssertionError(f"condition not met within {timeout}s")
