"""Where each millisecond of the ordering conversation goes: residents order one after
another (one update in the bot at a time), and for each step the bot's CPU time is split
into the inbox, the user and their roles, the conversation state (FSM), the handler's own
queries, writes and views, its reply to Telegram, the filters tried in finding the handler,
the closing of the database session, the rest of the update (aiogram's dispatch, the other
middlewares) and, for ✅ Confirm, the outbox sender's render and send
of the leader's card. The bot meters itself (`bot/costs.py`, STEP_COSTS); "outside updates"
is the rest of its process CPU in the same time (polling, the sender and scheduler idling).

    .venv/bin/python -m bench.steps [--residents 30] [--database sqlite|postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from bench.common import TOKEN, BotProcess, bench_main, simulated_town
from bench.conversation import SCRIPTS, Step
from bench.rows import Row
from simulator.driver import Driver, SimUser

NAME = "steps"
SCRIPT = SCRIPTS["order"]
STEPS = ("/start", "menu", "area", "category", "need", "day", "slot", "place", "confirm")
PHASES = (
    "inbox",
    "user and roles",
    "FSM",
    "handler: queries, writes, views",
    "reply (Bot API)",
    "routing: filters",
    "DB session close",
    "aiogram and the rest",
    "outbox",
    "outside updates",
)
WARM_UP = 3


class CostFile:
    """The bot's meters, read as they are appended."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.read = 0  # lines taken so far

    def lines(self) -> list[dict[str, object]]:
        text = self.path.read_text() if self.path.exists() else ""
        return [json.loads(line) for line in text.splitlines()]

    async def wait_for(self, updates: int, outbox: int) -> list[dict[str, object]]:
        """The new lines, once there are `updates` update meters and `outbox` batches."""
        deadline = time.monotonic() + 30
        while True:
            new = self.lines()[self.read :]
            kinds = [line["kind"] for line in new]
            if kinds.count("update") >= updates and kinds.count("outbox") >= outbox:
                self.read += len(new)
                return new
            if time.monotonic() > deadline:
                raise TimeoutError(f"the bot metered {kinds} where {updates} updates were due")
            await asyncio.sleep(0.01)


async def one_step(u: SimUser, step: Step, last_keyboard: list[list[str]] | None) -> None:
    if step.action == "send":
        await u.send(step.text)
    elif step.action == "tap":
        await u.tap(step.text)
    elif step.action == "tap_prefix":
        keyboard = last_keyboard or await u.reply_keyboard() or []
        await u.tap(next(b for row in keyboard for b in row if b.startswith(step.text)))
    else:
        await u.press(step.text)


async def order(
    u: SimUser, bot: BotProcess, costs: CostFile, totals: dict[str, dict[str, float]]
) -> None:
    """One resident's whole conversation, step by step, each metered on its own."""
    keyboard = None
    for label, step in zip(STEPS, SCRIPT, strict=True):
        cpu = bot.cpu()
        await one_step(u, step, keyboard)
        answer = await u.expect(timeout=30, contains=step.reply)
        keyboard = answer.reply_keyboard
        # Confirm also queues the leader's card: wait for the sender's batch too.
        lines = await costs.wait_for(1, 1 if label == "confirm" else 0)
        metered = 0.0
        for line in lines:
            phases = line["phases"]
            assert isinstance(phases, dict)
            for name, seconds in phases.items():
                key = "outbox" if line["kind"] == "outbox" else name
                totals[label][key] += seconds
                metered += seconds
        totals[label]["outside updates"] += bot.cpu() - cpu - metered
        totals[label]["count"] += 1


def matrix(totals: dict[str, dict[str, float]]) -> str:
    """Steps × phases, ms of CPU per update (Markdown)."""
    head = "| step | " + " | ".join(PHASES) + " | total |"
    lines = [head, "|---" * (len(PHASES) + 2) + "|"]
    for label in STEPS:
        t, n = totals[label], totals[label]["count"]
        cells = [1000 * t[p] / n for p in PHASES]
        lines.append(
            f"| {label} | " + " | ".join(f"{c:.2f}" for c in cells) + f" | {sum(cells):.2f} |"
        )
    return "\n".join(lines)


async def run(residents: int = 30, kind: str = "sqlite", profile: Path | None = None) -> list[Row]:
    label = "SQLite" if kind == "sqlite" else "PostgreSQL"
    totals: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    with tempfile.TemporaryDirectory(prefix="bench-steps-") as tmp:
        costs = CostFile(Path(tmp) / "costs.jsonl")
        async with simulated_town(kind) as (sim, t):
            ids = await t.residents(sim, 8_000_000, WARM_UP + residents)
            env = {"DATABASE_URL": t.url, "STEP_COSTS": str(costs.path)}
            async with (
                BotProcess(sim, "ours", env, profile) as bot,
                Driver(sim.base_url, TOKEN) as driver,
            ):
                for i, tg in enumerate(ids):
                    u = await driver.user(f"R{tg}", user_id=tg, language_code="en")
                    costs.read = len(costs.lines())  # the start-up's and the sender's so far
                    await order(u, bot, costs, totals if i >= WARM_UP else defaultdict(_zeros))
    print(matrix(totals), end="\n\n")
    rows = []
    for step in STEPS:
        step_totals, n = totals[step], totals[step]["count"]
        parts = sorted(((1000 * step_totals[p] / n, p) for p in PHASES), reverse=True)
        note = "; ".join(f"{p} {ms:.2f}" for ms, p in parts if ms >= 0.05)
        case = f"{step}, {label}, {residents} residents one at a time"
        rows.append(
            Row(NAME, case, "bot CPU per update", sum(ms for ms, _ in parts), "ms", note=note)
        )
    return rows


def _zeros() -> defaultdict[str, float]:
    return defaultdict(float)


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.steps")
    p.add_argument("--residents", type=int, default=30)
    p.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--profile", type=Path, help="pyinstrument's report of the bot (.html or text)")
    bench_main(p, lambda a: run(a.residents, a.database, a.profile))


if __name__ == "__main__":
    main()
