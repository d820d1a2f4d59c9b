"""Memory: the bot's peak RSS with 10,000 residents in the middle of ordering (each has
asked for a service and the bot waits for them to pick an area), with the in-memory FSM
and with the Redis FSM; and the bytes each idle conversation costs, as the slope of the
bot's RSS between 1,000 and 10,000 of them (so start-up and warm-up do not count). With
Redis, its own memory per conversation too. The bot is a separate process: its RSS is its
own.

    .venv/bin/python -m bench.memory [--residents 10000]
"""

from __future__ import annotations

import asyncio
import time

from bench.common import (
    BOT_ID,
    REDIS_URL,
    TOKEN,
    BotProcess,
    Town,
    bench_main,
    parser,
    redis_cleanup,
    redis_fsm_bytes,
    redis_reachable,
    simulated_town,
)
from bench.conversation import ORDER_BUTTON
from bench.rows import Row, skipped, target_row
from simulator.driver import Driver, SimUser
from simulator.server import Simulator

NAME = "memory"
ASKED = "What kind of help"
BASELINE = 1000  # conversations before the first reading
SENDERS = 100  # residents sending at once


async def start_conversations(sim: Simulator, driver: Driver, tg_ids: list[int]) -> None:
    """Each resident asks for a service; returns once the bot has answered them all."""
    gate = asyncio.Semaphore(SENDERS)
    chats = sim.world.bots[BOT_ID].chats

    def answered(tg: int) -> bool:
        chat = chats.get(tg)
        return chat is not None and any(
            m.from_bot and ASKED in (m.text or "") for m in chat.messages.values()
        )

    async def one(tg: int) -> None:
        async with gate:
            await SimUser(driver, sim.world.persona(tg).as_dict()).send(ORDER_BUTTON)
            # Keep the bot's queue short, as people waiting for an answer would.
            while not answered(tg):
                await asyncio.sleep(0.05)

    await asyncio.gather(*(one(tg) for tg in tg_ids))


async def measure(sim: Simulator, t: Town, n: int, redis: bool, first: int) -> list[Row]:
    env = {"DATABASE_URL": t.url, **({"REDIS_URL": REDIS_URL} if redis else {})}
    case = f"{n:,} conversations, {'Redis' if redis else 'memory'} FSM"
    ids = await t.residents(sim, first, n)
    if redis:
        await redis_cleanup(range(first, first + n))
    async with (
        BotProcess(sim, "ours", env) as bot,
        Driver(sim.base_url, TOKEN, connections=2 * SENDERS) as driver,
    ):
        base = min(BASELINE, n // 10)
        await start_conversations(sim, driver, ids[:base])
        await asyncio.sleep(1)  # let the sender and the scheduler settle
        _cpu, rss0, _ = bot.stat()
        started = time.monotonic()
        await start_conversations(sim, driver, ids[base:])
        took = time.monotonic() - started
        await asyncio.sleep(1)
        _cpu, rss1, peak = bot.stat()
        in_redis = await redis_fsm_bytes(range(first, first + n)) if redis else 0
    if redis:
        await redis_cleanup(range(first, first + n))
    per = (rss1 - rss0) / (n - base)
    rows = [
        Row(NAME, case, "peak RSS", peak / 2**20, "MiB", note=f"{(n - base) / took:.0f} updates/s"),
        target_row(
            Row(NAME, case, "bot bytes per idle conversation", per, "B", "≤ 10 KB"), at_most=10_240
        ),
    ]
    if redis:
        rows.append(Row(NAME, case, "Redis bytes per conversation", in_redis / n, "B"))
    return rows


async def run(residents: int = 10_000) -> list[Row]:
    rows: list[Row] = []
    async with simulated_town() as (sim, t):
        rows += await measure(sim, t, residents, False, 9_300_000)
        if await redis_reachable():
            rows += await measure(sim, t, residents, True, 9_400_000)
        else:
            rows.append(skipped(NAME, "Redis FSM", "Redis not reachable (TEST_REDIS_URL)"))
    return rows


def main() -> None:
    bench_main(parser("memory", residents=10_000), lambda a: run(a.residents))


if __name__ == "__main__":
    main()
