"""Crashes and restarts: the bot process killed (SIGKILL) in the middle of a broadcast and
started again loses nobody and repeats at most the message in flight; a reminder that fell
due while the bot was down fires once when it starts."""

from __future__ import annotations

import asyncio
from datetime import timedelta

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
from simulator.server import run_simulator
from tests.harness import TOKEN
from tests.processes import logs, start_bot, stop
from tests.scheduler_harness import (
    bot_on,
    bulk_people,
    delivered,
    stations,
    wait_until,
)
from tests.test_e2e_orders import place_order as order_in_chat

AUDIENCE = 300
OFFICE_TG = 8_100_000


async def _prepare(db_url: str, sim) -> list[int]:
    """The org, 400 residents and an office member; a notice to everyone, due now."""
    async with org_database(db_url) as sessionmaker:
        places = await stations(sessionmaker)
        town = places[0].parent_id
        ids = await bulk_people(
            sessionmaker,
            sim,
            range(OFFICE_TG + 1, OFFICE_TG + AUDIENCE),
            [p.id for p in places],
            town,
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
                text="Flood warning: move livestock to high ground",
                audience={"kind": "everyone"},
            )
        return [OFFICE_TG, *ids]


@pytest.mark.slow
async def test_sigkill_in_the_middle_of_a_broadcast_loses_nobody(db_url, tmp_path):
    marker = "Flood warning"
    async with run_simulator(limits=Limits()) as sim:
        sim.add_bot(TOKEN)
        chats = await _prepare(db_url, sim)
        procs: list[asyncio.subprocess.Process] = []
        try:
            procs.append(await start_bot(sim, db_url, tmp_path, 1))
            try:
                await wait_until(
                    lambda: sum(delivered(sim, chats, marker).values()) >= AUDIENCE * 0.4, 40
                )
            except AssertionError:
                raise AssertionError(f"no progress before the kill:\n{logs(tmp_path)}") from None
            procs[0].kill()  # SIGKILL: no shutdown hook runs
            await procs[0].wait()
            at_kill = delivered(sim, chats, marker)
            assert 0 < sum(at_kill.values()) < AUDIENCE, "kill came too late to mean anything"

            procs.append(await start_bot(sim, db_url, tmp_path, 2))
            try:
                await wait_until(lambda: all(delivered(sim, chats, marker).values()), 60)
            except AssertionError:
                raise AssertionError(f"not finished after restart:\n{logs(tmp_path)}") from None
            engine = make_engine(db_url)
            try:

                async def drained() -> bool:
                    async with make_sessionmaker(engine)() as s:
                        left = await s.scalar(
                            select(func.count(OutboxMessage.id)).where(
                                OutboxMessage.status.in_(
                                    [OutboxStatus.PENDING, OutboxStatus.SENDING]
                                )
                            )
                        )
                    return left == 0

                await wait_until(drained, 30)  # the delivery report too
            finally:
                await engine.dispose()
            counts = delivered(sim, chats, marker)
            missing = [c for c, n in counts.items() if n == 0]
            duplicates = sum(n - 1 for n in counts.values() if n > 1)
            print(
                f"\ncrash test: {sum(at_kill.values())} of {AUDIENCE} delivered at SIGKILL; "
                f"after restart missing={len(missing)} duplicates={duplicates} "
                f"violations={sim.violations.total}"
            )
            assert missing == []
            assert duplicates <= 1  # at most the one message in flight at the kill
        finally:
            for proc in procs:
                await stop(proc)


async def test_a_reminder_due_while_the_bot_was_down_fires_once_after_start(db_url, tmp_path):
    media = tmp_path / "media"
    async with run_simulator(limits=Limits(private_burst=50)) as sim:
        async with bot_on(sim, db_url, media) as env:
            leader = await env.person("Dr Zhang", role=Role.TEAM_LEADER, team="health")
            resident = await env.person("Grandma Li")
            number = await order_in_chat(resident)
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
                nudge = await again.expect(contains="has been waiting", timeout=10)
                assert number in nudge.text and "✅ Accept" in nudge.buttons()
                await again.expect_no_message(1.0)
            assert len(await nudges()) == 1
            async with bot_on(sim, db_url, media) as env:  # and a second restart: nothing
                again = await env.driver.user("Dr Zhang", user_id=leader.id, language_code="en")
                await again.expect_no_message(1.0)
            assert len(await nudges()) == 1
            async with sessionmaker() as s:
                fired = await s.scalar(
                    select(Reminder).where(Reminder.kind == ReminderKind.ACCEPT_NUDGE)
                )
                assert fired.fired_at is not None
        finally:
            await engine.dispose()
