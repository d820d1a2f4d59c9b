"""Crashes and restarts: the bot process killed (SIGKILL) in the middle of a broadcast — at
the worst moment, while Telegram holds a notice the bot has not recorded — and started again
loses nobody and repeats only that one message in flight; a reminder that fell due while the
bot was down fires once when it starts."""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bench.common import org_database
from models import (
    OutboxMessage,
    OutboxStatus,
    Region,
    Reminder,
    ReminderKind,
    Role,
    User,
    utcnow,
)
from models.db import make_engine, make_sessionmaker
from services import broadcasts, people
from simulator.limits import Limits
from simulator.server import Simulator, run_simulator
from simulator.state import ChatLog, StoredMessage
from tests.flows import order_through_chat
from tests.harness import TOKEN, BotEnv
from tests.processes import logs, start_bot, stop
from tests.scheduler_harness import (
    BOT_ID,
    bot_on,
    notices_in_chat,
    residents_of_the_town,
    wait_until,
)

AUDIENCE = 300
OFFICE_TG = 8_100_000
NOTICE = "Flood warning: move livestock to high ground"
KILL_AT = AUDIENCE * 2 // 5  # notices delivered when the bot is killed


async def _prepare(db_url: str, sim) -> list[int]:
    """The org, 400 residents and an office member; a notice to everyone, due now."""
    async with org_database(db_url) as sessionmaker:
        places, town, ids = await residents_of_the_town(
            sessionmaker, sim, range(OFFICE_TG + 1, OFFICE_TG + AUDIENCE)
        )
        async with sessionmaker() as s:
            office = User(
                tg_id=OFFICE_TG,
                name="Office Wu",
                locale="en",
                registered=True,
                station_id=places[0].id,
                town_id=town,
            )
            s.add(office)
            await s.flush()
            await people.appoint(s, office, Role.OFFICE, region=await s.get(Region, town))
            await s.commit()
            sim.add_persona("Office Wu", user_id=OFFICE_TG, language_code="en")
            roles = await people.roles_of(s, office, frozenset())
            await broadcasts.create(
                s,
                office,
                roles,
                town_id=town,
                text=NOTICE,
                audience={"kind": "everyone"},
            )
        return [OFFICE_TG, *ids]


def _notices(sim: Simulator, chats: list[int]) -> dict[int, int]:
    """How many times each chat got the notice itself. The author's delivery report quotes
    the notice's text as well, so a marker alone would count the report as a repeat; the
    notice ends with its text, the report with its figures."""
    logs = sim.world.bots[BOT_ID].chats
    return {
        cid: sum(1 for m in logs[cid].messages.values() if _is_notice(m)) if cid in logs else 0
        for cid in chats
    }


def _is_notice(message: StoredMessage) -> bool:
    return message.from_bot and (message.text or "").endswith(NOTICE)


async def _outbox_by_chat(db_url: str) -> dict[int, OutboxStatus]:
    """The notice's outbox rows as the database holds them: chat → status."""
    engine = make_engine(db_url)
    try:
        async with make_sessionmaker(engine)() as s:
            rows = await s.execute(
                select(OutboxMessage.chat_id, OutboxMessage.status).where(
                    OutboxMessage.dedupe_key.like("bc:%")
                )
            )
            return {chat_id: OutboxStatus(status) for chat_id, status in rows}
    finally:
        await engine.dispose()


@pytest.mark.slow
async def test_sigkill_in_the_middle_of_a_broadcast_loses_nobody(db_url, tmp_path, monkeypatch):
    """The bot is killed at the worst moment there is: Telegram has just accepted a notice
    and the bot has not heard back, so it cannot have recorded it. The sender sends one
    message at a time and records each before the next goes (bot/sender.py), so exactly that
    one is in flight — it is the only message sent twice, and nobody is missed."""
    in_flight = 1  # the sender's concurrency: one request to Telegram at a time
    async with run_simulator(limits=Limits()) as sim:
        sim.add_bot(TOKEN)
        chats = await _prepare(db_url, sim)
        procs: list[asyncio.subprocess.Process] = []
        killed_in: list[int] = []  # the chat whose notice Telegram held at the kill
        taken = 0  # notices the simulator has accepted so far
        real_add = ChatLog.add

        def add_then_kill(chat: ChatLog, message: StoredMessage) -> None:
            nonlocal taken
            real_add(chat, message)
            if killed_in or not _is_notice(message):
                return
            taken += 1
            if taken == KILL_AT:
                killed_in.append(message.chat_id)
                # SIGKILL before the simulator answers: no shutdown hook runs, and the bot
                # never learns that this message went out.
                os.kill(procs[0].pid, signal.SIGKILL)

        monkeypatch.setattr(ChatLog, "add", add_then_kill)
        try:
            procs.append(await start_bot(sim, db_url, tmp_path, 1))
            try:
                await wait_until(lambda: bool(killed_in), 120)
            except AssertionError:
                raise AssertionError(f"no progress before the kill:\n{logs(tmp_path)}") from None
            await procs[0].wait()
            at_kill = _notices(sim, chats)
            rows_at_kill = await _outbox_by_chat(db_url)
            # Every notice that went out before the one in flight was recorded as sent
            # before the next one went; the one in flight is still claimed, unrecorded.
            recorded = {c for c, status in rows_at_kill.items() if status == OutboxStatus.SENT}
            assert recorded == {c for c, n in at_kill.items() if n} - set(killed_in)
            assert rows_at_kill[killed_in[0]] == OutboxStatus.SENDING

            procs.append(await start_bot(sim, db_url, tmp_path, 2))

            def reports() -> list[str]:
                office = sim.world.bots[BOT_ID].chats.get(OFFICE_TG)
                texts = [m.text or "" for m in office.messages.values()] if office else []
                return [t for t in texts if "Delivery report" in t]

            try:  # the author's report comes once nothing of the run is left to send
                await wait_until(reports, 120)
            except AssertionError:
                raise AssertionError(f"not finished after restart:\n{logs(tmp_path)}") from None
            counts = _notices(sim, chats)
            missing = [c for c, n in counts.items() if n == 0]
            repeated = {c: n - 1 for c, n in counts.items() if n > 1}
            print(
                f"\ncrash test: {sum(at_kill.values())} of {len(chats)} delivered at SIGKILL; "
                f"after restart missing={len(missing)} duplicates={sum(repeated.values())} "
                f"violations={sim.violations.total}"
            )
            assert missing == []
            # At most the messages in flight at the kill are repeated, each once: here the
            # one Telegram held. Any other repeat is a message recorded as sent and sent again.
            assert repeated == dict.fromkeys(killed_in, 1)
            assert sum(repeated.values()) <= in_flight
            assert reports() == [reports()[0]] and f"Sent: {len(chats)}" in reports()[0]
            assert set((await _outbox_by_chat(db_url)).values()) == {OutboxStatus.SENT}
            # Telegram's limits held throughout, across the restart too: the sender waits
            # for each answer before the next send, within buckets smaller than Telegram's,
            # and the restarted one, whose buckets start full, sends a second message to one
            # chat only (the repeated notice): well within that chat's allowance.
            assert sim.violations.total == 0, sim.violations.as_dict()
        finally:
            for proc in procs:
                await stop(proc)


async def _settled(env: BotEnv, runs: int = 2) -> None:
    """Wait until the scheduler's reminder job has finished `runs` more times and the outbox
    has nothing left to send: whatever this start fires has been written and delivered, so
    a second nudge, were there one, would be in the chat by now."""
    jobs = env.dp["scheduler"].jobs
    real, done = jobs.reminders, 0

    async def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal done
        fired = await real(*args, **kwargs)
        done += 1
        return fired

    jobs.reminders = counted
    try:
        await wait_until(lambda: done >= runs, 30)
    finally:
        del jobs.reminders  # the class's method again

    async def drained() -> bool:
        async with env.sessionmaker() as s:
            left = await s.scalar(
                select(func.count(OutboxMessage.id)).where(
                    OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING])
                )
            )
        return left == 0

    await wait_until(drained, 30)


async def test_a_reminder_due_while_the_bot_was_down_fires_once_after_start(db_url, tmp_path):
    media = tmp_path / "media"
    async with run_simulator(limits=Limits(private_burst=50)) as sim:
        async with bot_on(sim, db_url, media) as env:
            leader = await env.person("Dr Zhang", role=Role.TEAM_LEADER, team="health")
            resident = await env.person("Grandma Li")
            number = await order_through_chat(resident)
            await leader.expect(contains=number)
        # The bot is down. Forty minutes pass: the acceptance nudge falls due meanwhile.
        engine = make_engine(db_url)
        sessionmaker = make_sessionmaker(engine)
        try:
            async with sessionmaker() as s:
                await s.execute(
                    update(Reminder)
                    .where(Reminder.kind == ReminderKind.ACCEPT_NUDGE)
                    .values(due_at=utcnow() - timedelta(minutes=10))
                )
                await s.commit()

            async def nudges() -> list[OutboxMessage]:
                async with sessionmaker() as s:
                    rows = await s.scalars(select(OutboxMessage))
                    return [r for r in rows if r.payload.get("kind") == "accept_nudge"]

            assert await nudges() == []
            async with bot_on(sim, db_url, media) as env:
                again = await env.driver.user("Dr Zhang", user_id=leader.id, language_code="en")
                nudge = await again.expect(contains="has been waiting", timeout=30)
                assert number in nudge.text and "✅ Accept" in nudge.buttons()
                await _settled(env)
                assert notices_in_chat(sim, leader.id, "has been waiting") == 1
            assert len(await nudges()) == 1
            async with bot_on(sim, db_url, media) as env:  # and a second restart: nothing
                await _settled(env)
                assert notices_in_chat(sim, leader.id, "has been waiting") == 1
            assert len(await nudges()) == 1
            async with sessionmaker() as s:
                fired = await s.scalar(
                    select(Reminder).where(Reminder.kind == ReminderKind.ACCEPT_NUDGE)
                )
                assert fired.fired_at is not None
        finally:
            await engine.dispose()
