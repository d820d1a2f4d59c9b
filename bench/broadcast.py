"""Broadcast rate: a notice to 10,000 residents with Telegram's limits scaled up tenfold
(300 messages/s in all, 1/s per chat) in the simulator and the sender set to match
(SEND_RATE=300); the achieved rate as a fraction of the limit, the simulator's count of
429s (limit violations), and the time from the notice being written to the first and the
last delivery. SQLite, our bot as deployed (scheduler fan-out, outbox, sender).

    .venv/bin/python -m bench.broadcast [--recipients 10000] [--rate 300]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from sqlalchemy import select

from bench.common import BOT_ID, BotProcess, Town, bench_main, simulated_town
from bench.rows import Row, target_row
from models import Region, Role, User
from services import broadcasts, people
from simulator.limits import Limits
from simulator.server import Simulator

NAME = "broadcast"
TEXT = "Bench notice: the water will be off on Tuesday morning"
MARKER = "📢 Notice\n" + TEXT  # the notice itself, not the author's report that quotes it
OFFICE_TG = 2_999_999


async def send_notice(t: Town, sim: Simulator) -> None:
    """The office writes a notice to everyone, due now (the scheduler fans it out)."""
    [tg] = await t.residents(sim, OFFICE_TG, 1)
    async with t.sessionmaker() as s:
        office = await s.scalar(select(User).where(User.tg_id == tg))
        assert office is not None
        await people.appoint(s, office, Role.OFFICE, region=await s.get(Region, t.town_id))
        await s.commit()
        roles = await people.roles_of(s, office, frozenset())
        await broadcasts.create(
            s, office, roles, town_id=t.town_id, text=TEXT, audience={"kind": "everyone"}
        )


def arrivals(sim: Simulator, chat_ids: list[int]) -> list[float]:
    """When the notice reached each chat that has it (monotonic seconds; one per chat)."""
    chats = sim.world.bots[BOT_ID].chats
    out = []
    for cid in chat_ids:
        chat = chats.get(cid)
        got = [
            m.stored_at
            for m in (chat.messages.values() if chat else ())
            if m.from_bot and MARKER in (m.text or "")
        ]
        if got:
            out.append(min(got))
    return out


async def run(recipients: int = 10_000, rate: float = 300.0) -> list[Row]:
    limits = Limits(global_per_second=rate, global_burst=int(rate))
    env = {
        "SEND_RATE": str(rate),
        "SEND_RATE_PER_CHAT": "1",
        "SEND_BURST_PER_CHAT": "3",
        "SCHEDULER_INTERVAL": "0.5",
    }
    async with simulated_town(limits=limits) as (sim, t):
        ids = await t.residents(sim, 3_000_000, recipients - 1)  # and the office member
        async with BotProcess(sim, "ours", {"DATABASE_URL": t.url, **env}):
            written = time.monotonic()
            await send_notice(t, sim)
            everyone = [*ids, OFFICE_TG]
            deadline = written + 3 * recipients / rate + 60
            while len(got := arrivals(sim, everyone)) < recipients and time.monotonic() < deadline:
                await asyncio.sleep(1.0)
        violations = sim.violations.total
    first, last = min(got), max(got)
    achieved = (len(got) - 1) / (last - first) if len(got) > 1 else 0.0
    fraction = achieved / rate
    case = f"{recipients:,} recipients, limit {rate:.0f}/s, SQLite"
    return [
        Row(NAME, case, "delivered", len(got), "", f"{recipients:,}", len(got) == recipients),
        Row(NAME, case, "rate", achieved, "msg/s"),
        target_row(Row(NAME, case, "of the limit", fraction, "", "≥ 0.95"), at_least=0.95),
        Row(NAME, case, "limit violations (429)", violations, "", "0", violations == 0),
        Row(NAME, case, "first delivery", first - written, "s", note="after the notice is written"),
        Row(NAME, case, "last delivery", last - written, "s"),
    ]


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.broadcast")
    p.add_argument("--recipients", type=int, default=10_000)
    p.add_argument("--rate", type=float, default=300.0)
    bench_main(p, lambda a: run(a.recipients, a.rate))


if __name__ == "__main__":
    main()
