"""End-to-end harness with the scheduler: the simulator outlives the bot, so a test can stop
the bot, let time pass in the database, and start it again (a restart), and can choose the
simulator's limits and the sender's rates.

    async with run_simulator(limits=Limits()) as sim:
        async with bot_on(sim, db_url, tmp_path) as env:   # env: tests.harness.BotEnv
            ...
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import time
from pathlib import Path
from typing import Any

from bench.common import bulk_people, stations
from bot.app import attach_scheduler, attach_sender, build_bot, build_dispatcher
from bot.polling import run_polling
from bot.sender import RateLimits
from bot.settings import Settings
from models.db import make_engine, make_sessionmaker
from services.org import load_org_config, sync_org
from simulator.driver import Driver
from simulator.server import Simulator
from tests.harness import TAOLE, TOKEN, BotEnv

__all__ = [
    "BOT_ID",
    "bot_on",
    "bulk_people",
    "delivered",
    "notices_in_chat",
    "stations",
    "wait_until",
]

BOT_ID = int(TOKEN.split(":")[0])


@asynccontextmanager
async def bot_on(
    sim: Simulator,
    db_url: str,
    media_dir: Path,
    *,
    send_limits: RateLimits | None = None,
    interval: float = 0.2,
    **overrides: object,
) -> AsyncIterator[BotEnv]:
    """The real bot (polling, sender, scheduler) against a running simulator. Quiet hours
    are off unless given (a test run at night would otherwise hold every notice)."""
    overrides.setdefault("quiet_hours_start", time(0, 0))
    overrides.setdefault("quiet_hours_end", time(0, 0))
    cfg = load_org_config(TAOLE)
    engine = make_engine(db_url)
    sessionmaker = make_sessionmaker(engine)
    async with sessionmaker() as s:
        await sync_org(s, cfg)
        await s.commit()
    settings = Settings(
        database_url=db_url,
        media_dir=media_dir,
        bot_token=TOKEN,
        telegram_api_base=sim.base_url,
        scheduler_interval=interval,
        **overrides,
    )  # type: ignore[arg-type]
    bot = build_bot(TOKEN, sim.base_url)
    dp = build_dispatcher(settings, sessionmaker, cfg.policy)
    sender = attach_sender(
        dp,
        bot,
        settings,
        sessionmaker,
        send_limits or RateLimits(global_per_second=30, per_chat_per_second=1, per_chat_burst=5),
    )
    attach_scheduler(dp, settings, sessionmaker)
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
