"""Conversation throughput: N residents at once each open the bot and place an order, every
step through the simulator (/start, the menu, area, category, need, day, slot, place,
✅ Confirm: 9 updates); updates/s and orders/s on SQLite and PostgreSQL, and the same
updates sent to a bare aiogram bot that answers each with one message.

    .venv/bin/python -m bench.throughput [--residents 200] [--repeats 3]

The simulator's flood limits are off here (the bot's direct replies would otherwise be held
to Telegram's 30 messages/s): this measures how fast the bot handles updates.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from telegram import KeyboardButton, ReplyKeyboardMarkup

from bench.common import (
    BOT_ID,
    NO_LIMITS,
    TOKEN,
    BotProcess,
    Town,
    bench_main,
    database,
    own_cpu,
    parser,
    postgres_reachable,
    town,
)
from bench.conversation import ORDER_BUTTON, SCRIPTS
from bench.residents import Residents
from bench.rows import Row, median, skipped, target_row
from simulator.server import Simulator, run_simulator

NAME = "throughput"
SCRIPT = SCRIPTS["order"]
CASES = (("sqlite", "ours, SQLite", 4_000_000), ("postgres", "ours, PostgreSQL", 5_000_000))


@dataclass
class Load:
    """What one run of the script by many residents at once took."""

    residents: int
    updates: int
    seconds: float
    bot_cpu: float  # CPU seconds of the bot's process during the run
    sim_cpu: float  # … of this one (the simulator)
    residents_cpu: float  # … and of the residents' process
    last: dict[int, str]  # each resident's last answer
    pressed: dict[int, str]  # the callback query id of each one's last press

    @property
    def updates_per_s(self) -> float:
        return self.updates / self.seconds

    @property
    def orders_per_s(self) -> float:
        return self.residents / self.seconds

    @property
    def cpu_per_update_ms(self) -> float:
        return 1000 * self.bot_cpu / self.updates


async def drive(
    sim: Simulator,
    bot: BotProcess,
    tg_ids: list[int],
    *,
    check: bool = True,
    think: tuple[float, float] | None = None,
) -> Load:
    """Everyone plays the ordering script at once (in the residents' own process); returns
    when the last one is through."""
    async with Residents(sim.base_url, TOKEN, tg_ids, check=check, think=think) as residents:
        if not check:
            bare_keyboard(sim, tg_ids)
        cpu0, own0 = bot.stat()[0], own_cpu()
        started = time.monotonic()
        result = await residents.play()
        seconds = time.monotonic() - started
        bot_cpu, sim_cpu = bot.stat()[0] - cpu0, own_cpu() - own0
    return Load(
        residents=len(tg_ids),
        updates=len(tg_ids) * len(SCRIPT),
        seconds=seconds,
        bot_cpu=bot_cpu,
        sim_cpu=sim_cpu,
        residents_cpu=result["cpu"],
        last={int(k): v for k, v in result["last"].items()},
        pressed={int(k): v for k, v in result["pressed"].items()},
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
    async with BotProcess(sim, kind, env, profile) as bot:
        for i, size in enumerate([min(n, 10)] + [n] * repeats):
            base = first_tg + i * 100_000
            ids = await t.residents(sim, base, size) if t else list(range(base, base + size))
            load = await drive(sim, bot, ids, check=t is not None)
            if i:  # the first run only warms up
                loads.append(load)
    return loads


def rows_for(case: str, loads: list[Load], bare: list[Load] | None) -> list[Row]:
    """Updates/s, orders/s and CPU per update; against the bare bot, both as ratios."""
    ups = median(x.updates_per_s for x in loads)
    busy = median(x.bot_cpu / x.seconds for x in loads)
    shares = [
        median(getattr(x, f) / x.seconds for x in loads) for f in ("sim_cpu", "residents_cpu")
    ]
    note = f"{loads[0].residents} residents, median of {len(loads)}; CPU: bot {busy:.0%}, "
    note += f"simulator {shares[0]:.0%}, residents {shares[1]:.0%}"
    per_update = median(x.cpu_per_update_ms for x in loads)
    rows = [
        Row(NAME, case, "updates/s", ups, "/s", note=note),
        Row(NAME, case, "orders/s", median(x.orders_per_s for x in loads), "/s"),
        Row(NAME, case, "bot CPU per update", per_update, "ms"),
    ]
    if bare is None:  # the yardstick is fair only if nothing but aiogram holds it back
        rows.append(
            target_row(Row(NAME, case, "bot CPU share", 100 * busy, "%", "≥ 90%"), at_least=90)
        )
        return rows
    ratio = ups / median(x.updates_per_s for x in bare)
    cpu_ratio = per_update / median(x.cpu_per_update_ms for x in bare)
    if "SQLite" in case:
        rows.append(target_row(Row(NAME, case, "× bare aiogram", ratio, "", "≥ 0.5"), at_least=0.5))
    else:
        rows.append(Row(NAME, case, "× bare aiogram", ratio))
    rows.append(Row(NAME, case, "CPU per update ÷ bare", cpu_ratio, "×"))
    return rows


async def run(residents: int = 200, repeats: int = 3, profile: Path | None = None) -> list[Row]:
    """The table's rows; with `profile`, only our bot on SQLite, under pyinstrument."""
    rows: list[Row] = []
    async with run_simulator(limits=NO_LIMITS) as sim:
        if profile is not None:
            async with database("sqlite") as url, town(url, sim) as t:
                loads = await measure(sim, t, "ours", residents, repeats, 4_000_000, profile)
            return rows_for("ours, SQLite, profiled", loads, None)
        bare = await measure(sim, None, "bare", residents, repeats, 3_000_000)
        rows += rows_for("bare aiogram bot", bare, None)
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
    p = parser(NAME, residents=200, repeats=3)
    p.add_argument("--profile", type=Path, help="profile our bot on SQLite into this file")
    bench_main(p, lambda a: run(a.residents, a.repeats, a.profile))


if __name__ == "__main__":
    main()
