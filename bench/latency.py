"""Dispatch latency: from the resident's ✅ Confirm (the moment the simulator queues the
button press) to the leader's order card arriving in the simulator, with 10, 100 and 500
residents ordering at the same time (each pausing 1–3 s between steps, as people do);
p50/p95/p99. SQLite, our bot as deployed (polling, outbox, sender).

    .venv/bin/python -m bench.latency [--levels 10,100,500]

Telegram's limits are lifted on both sides (the simulator's, and the sender's SEND_RATE…)
so that this measures our pipeline — handler, outbox row, sender, render, send — and not
the one-message-a-second-per-chat rule, which would hold 100 cards to one leader for 100 s.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from bench.common import BOT_ID, BotProcess, Town, bench_main, simulated_town
from bench.conversation import order_number
from bench.rows import Row, percentile, target_row
from bench.throughput import drive
from simulator.server import Simulator

NAME = "dispatch latency"
# People read and tap: each resident pauses 1–3 s before each step (elderly residents take
# longer). Without pauses every resident is always waiting on the bot and the figure is
# only its queue; bench/throughput.py measures that saturated case.
THINK = (1.0, 3.0)
UNLIMITED_SENDER = {
    "SEND_RATE": "100000",
    "SEND_RATE_PER_CHAT": "100000",
    "SEND_BURST_PER_CHAT": "20",
}


async def cards(
    sim: Simulator, leader: int, numbers: list[str], timeout: float
) -> dict[str, float]:
    """When each order's card reached the leader's chat (monotonic seconds)."""
    chat = sim.world.bots[BOT_ID].chat(leader)
    deadline = time.monotonic() + timeout
    found: dict[str, float] = {}
    while True:
        for msg in chat.messages.values():
            if msg.from_bot and msg.text:
                for number in numbers:
                    if number not in found and number in msg.text:
                        found[number] = msg.stored_at
        if len(found) == len(numbers) or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.2)


async def level(
    sim: Simulator,
    t: Town,
    bot: BotProcess,
    n: int,
    first: int,
    think: tuple[float, float] = THINK,
) -> list[float]:
    """n residents order at once; the Confirm → card latency of each, in seconds."""
    ids = await t.residents(sim, first, n)
    load = await drive(sim, bot, ids, think=think)
    callbacks = sim.world.bots[BOT_ID].callbacks
    pressed = {tg: callbacks[load.pressed[tg]].created for tg in ids}
    numbers = {tg: order_number(load.last[tg]) for tg in ids}
    arrived = await cards(sim, t.leader_tg, list(numbers.values()), timeout=60)
    missing = n - len(arrived)
    assert not missing, f"{missing} of {n} cards did not arrive within 60 s"
    return [arrived[numbers[tg]] - pressed[tg] for tg in ids]


async def run(
    levels: tuple[int, ...] = (10, 100, 500),
    think: tuple[float, float] = THINK,
    kind: str = "sqlite",
) -> list[Row]:
    rows: list[Row] = []
    label = "SQLite" if kind == "sqlite" else "PostgreSQL"
    async with simulated_town(kind) as (sim, t):
        env = {"DATABASE_URL": t.url, **UNLIMITED_SENDER}
        async with BotProcess(sim, "ours", env) as bot:
            await level(sim, t, bot, 5, 1_000_000, (0.0, 0.1))  # warm-up
            for i, n in enumerate(levels):
                ms = [1000 * s for s in await level(sim, t, bot, n, 1_100_000 + i * 10_000, think)]
                case = f"{n} residents ordering at once, {label}"
                for p in (50, 95, 99):
                    value = percentile(ms, p)
                    if p == 99 and n == 100 and kind == "sqlite":
                        rows.append(
                            target_row(Row(NAME, case, "p99", value, "ms", "≤ 250 ms"), at_most=250)
                        )
                    else:
                        rows.append(Row(NAME, case, f"p{p}", value, "ms"))
    return rows


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.latency")
    p.add_argument("--levels", default="10,100,500", help="residents at once, comma-separated")
    p.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--think", default="1,3", help="seconds a resident pauses: min,max")
    bench_main(
        p,
        lambda a: run(
            tuple(int(x) for x in a.levels.split(",")),
            think=_pair(a.think),
            kind=a.database,
        ),
    )


def _pair(text: str) -> tuple[float, float]:
    low, high = (float(x) for x in text.split(","))
    return low, high


if __name__ == "__main__":
    main()
