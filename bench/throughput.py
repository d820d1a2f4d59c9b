"""Conversation throughput: N residents at once each open the bot and place an order, every
step through the simulator (/start, the menu, area, category, need, day, slot, place,
✅ Confirm: 9 updates); updates/s and orders/s on SQLite and PostgreSQL, and the same
updates sent to a bare aiogram bot that answers each with one message.

    .venv/bin/python -m bench.throughput [--residents 200] [--repeats 3]

The simulator's flood limits are off here (the bot's direct replies would otherwise be held
to Telegram's 30 messages/s): this measures how fast the bot handles updates.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from telegram import KeyboardButton, ReplyKeyboardMarkup

from bench.common import (
    BOT_ID,
    TOKEN,
    BotProcess,
    Row,
    Town,
    bench_main,
    check,
    database,
    median,
    miss_note,
    own_cpu,
    postgres_reachable,
    skipped,
    town,
)
from bench.conversation import OPENING, ORDER_BUTTON, Step, order_steps, play
from simulator.driver import Driver, SimUser
from simulator.limits import Limits
from simulator.server import Simulator, run_simulator

NAME = "throughput"
SCRIPT = [*OPENING, *order_steps()]
NO_LIMITS = Limits(enabled=False)
CASES = (("sqlite", "ours, SQLite", 4_000_000), ("postgres", "ours, PostgreSQL", 5_000_000))
STEP_TIMEOUT = 120.0  # a step waits this long at most; a slow run shows as a slow figure


@dataclass
class Load:
    """What one run of the script by many residents at once took."""

    residents: int
    updates: int
    seconds: float
    bot_cpu: float  # CPU seconds of the bot's process during the run
    load_cpu: float  # … and of this one (simulator and scripted residents)
    last: dict[int, str]  # each resident's last answer

    @property
    def updates_per_s(self) -> float:
        return self.updates / self.seconds

    @property
    def orders_per_s(self) -> float:
        return self.residents / self.seconds


async def people(driver: Driver, tg_ids: list[int]) -> list[SimUser]:
    return [await driver.user(f"R{tg}", user_id=tg, language_code="en") for tg in tg_ids]


async def drive(
    bot: BotProcess,
    users: list[SimUser],
    script: list[Step],
    *,
    check: bool = True,
    think: tuple[float, float] | None = None,
) -> Load:
    """Everyone plays `script` at once; returns when the last one is through."""
    cpu0, own0 = bot.stat()[0], own_cpu()
    started = time.monotonic()
    answers = await asyncio.gather(
        *(play(u, script, check=check, timeout=STEP_TIMEOUT, think=think) for u in users)
    )
    seconds = time.monotonic() - started
    return Load(
        residents=len(users),
        updates=len(users) * len(script),
        seconds=seconds,
        bot_cpu=bot.stat()[0] - cpu0,
        load_cpu=own_cpu() - own0,
        last={u.id: a.text or "" for u, a in zip(users, answers, strict=True)},
    )


def bare_keyboard(sim: Simulator, tg_ids: list[int]) -> None:
    """The bare bot sends no reply keyboard: give each chat the one our bot would show, so
    the residents tap the same buttons."""
    texts = [ORDER_BUTTON, *(s.text for s in SCRIPT if s.action == "tap"), "🏠 At home"]
    markup = ReplyKeyboardMarkup([[KeyboardButton(t)] for t in dict.fromkeys(texts)])
    for tg in tg_ids:
        sim.world.bots[BOT_ID].chat(tg).reply_keyboard = markup


async def measure(
    sim: Simulator,
    t: Town | None,
    kind: str,
    n: int,
    repeats: int,
    first_tg: int,
    profile: Path | None = None,
) -> list[Load]:
    """Warm the bot up, then `repeats` runs of `n` new residents each."""
    env = {"DATABASE_URL": t.url} if t else {}
    loads = []
    async with (
        BotProcess(sim, kind, env, profile) as bot,
        Driver(sim.base_url, TOKEN, timeout=STEP_TIMEOUT, connections=4 * n) as driver,
    ):
        for i, size in enumerate([min(n, 10)] + [n] * repeats):
            base = first_tg + i * 100_000
            ids = await t.residents(sim, base, size) if t else list(range(base, base + size))
            users = await people(driver, ids)
            if not t:
                bare_keyboard(sim, ids)
            load = await drive(bot, users, SCRIPT, check=t is not None)
            if i:  # the first run only warms up
                loads.append(load)
    return loads


def rows_for(case: str, loads: list[Load], bare: float | None) -> list[Row]:
    ups = median(x.updates_per_s for x in loads)
    ops = median(x.orders_per_s for x in loads)
    busy = median(x.bot_cpu / x.seconds for x in loads)
    load_busy = median(x.load_cpu / x.seconds for x in loads)
    n = loads[0].residents
    note = f"{n} residents, median of {len(loads)}; CPU: bot {busy:.0%}, load {load_busy:.0%}"
    per_update = median(1000 * x.bot_cpu / x.updates for x in loads)
    rows = [
        Row(NAME, case, "updates/s", ups, "/s", note=note),
        Row(NAME, case, "orders/s", ops, "/s"),
        Row(NAME, case, "bot CPU per update", per_update, "ms"),
    ]
    if bare:
        ratio = ups / bare
        target = "≥ 0.5" if "SQLite" in case else ""
        met = check(ratio, at_least=0.5) if target else None
        note = miss_note(ratio, at_least=0.5) if target else ""
        rows.append(Row(NAME, case, "× bare aiogram", ratio, "", target, met, note))
    return rows


async def run(residents: int = 200, repeats: int = 3, profile: Path | None = None) -> list[Row]:
    """The table's rows; with `profile`, only our bot on SQLite, under pyinstrument."""
    rows: list[Row] = []
    async with run_simulator(limits=NO_LIMITS) as sim:
        if profile is not None:
            async with database("sqlite") as url, town(url, sim) as t:
                loads = await measure(sim, t, "ours", residents, repeats, 4_000_000, profile)
            return rows_for("ours, SQLite, profiled", loads, None)
        bare_loads = await measure(sim, None, "bare", residents, repeats, 3_000_000)
        bare = median(x.updates_per_s for x in bare_loads)
        rows += rows_for("bare aiogram bot", bare_loads, None)
        for kind, label, first in CASES:
            if kind == "postgres" and not await postgres_reachable():
                rows.append(skipped(NAME, label, "PostgreSQL not reachable (TEST_POSTGRES_URL)"))
                continue
            async with database(kind) as url, town(url, sim) as t:
                loads = await measure(sim, t, "ours", residents, repeats, first)
            done = sum("order number is" in text for x in loads for text in x.last.values())
            assert done == residents * repeats, f"{done} orders placed of {residents * repeats}"
            rows += rows_for(label, loads, bare)
    return rows


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.throughput")
    p.add_argument("--residents", type=int, default=200)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--profile", type=Path, help="profile our bot on SQLite into this file")
    bench_main(p, lambda a: run(a.residents, a.repeats, a.profile))


if __name__ == "__main__":
    main()
