"""No update lost, none handled twice: duplicates, SIGTERM with updates in hand."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from aiogram.types import Chat, Message, Update
from aiogram.types import User as TgUser
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from models import ProcessedUpdate
from models.db import make_engine
from simulator.driver import Driver
from simulator.server import run_simulator
from tests.harness import TOKEN, malformed_message
from tests.processes import start_bot, stop

ROOT = Path(__file__).resolve().parent.parent


async def test_a_duplicate_update_is_handled_once(bot_env):
    u = await bot_env.new_user("Twice")
    tg_user = TgUser(id=u.id, is_bot=False, first_name="Twice", language_code="en")
    update = Update(
        update_id=987654,
        message=Message(
            message_id=1,
            date=datetime(2026, 5, 1, 9, tzinfo=UTC),
            chat=Chat(id=u.id, type="private"),
            from_user=tg_user,
            text="/help",
        ),
    )
    await bot_env.dp.feed_update(bot_env.bot, update)
    await bot_env.dp.feed_update(bot_env.bot, update)  # Telegram retried, or a second worker
    await u.expect(contains="How to use")
    await bot_env.idle()
    await u.expect_nothing_new()
    async with bot_env.sessionmaker() as s:
        row = await s.get(ProcessedUpdate, 987654)
        assert row is not None and row.handled_at is not None


async def test_sigterm_finishes_updates_in_hand_and_none_twice(db_url, tmp_path):
    users = 60
    async with run_simulator() as sim:
        sim.add_bot(TOKEN, username="taole_test_bot")
        proc = await start_bot(sim, db_url, tmp_path, 1)
        try:
            async with Driver(sim.base_url, TOKEN) as d:
                people = [
                    await d.user(f"Resident {i}", user_id=8_100_000 + i, language_code="en")
                    for i in range(users)
                ]
                first = people[0]
                await first.send("/help")  # wait until the bot is up and polling
                await first.expect(contains="How to use", timeout=60)
                await asyncio.gather(*(p.send("/help") for p in people[1:]))
                proc.send_signal(signal.SIGTERM)  # while those updates are in hand
                await stop(proc, signal.SIGTERM)
                proc = await start_bot(sim, db_url, tmp_path, 2)
                for person in people[1:]:
                    await person.expect(contains="How to use", timeout=60)
                # every update confirmed: a reply sent twice would be in the chat by now
                await d.until_updates_handled(timeout=60)
                replies = Counter()
                for person in people:
                    replies[person.id] = sum(
                        1
                        for m in await person.history()
                        if m.from_bot and "How to use" in (m.text or "")
                    )
        finally:
            await stop(proc, signal.SIGTERM)
    assert set(replies.values()) == {1}, replies
    engine = make_engine(db_url)
    async with engine.connect() as conn:
        unhandled = await conn.scalar(
            select(func.count())
            .select_from(ProcessedUpdate)
            .where(ProcessedUpdate.handled_at.is_(None))
        )
    await engine.dispose()
    assert unhandled == 0


async def test_a_flooding_user_is_slowed_politely_and_others_are_not(bot_env):
    flooder = await bot_env.person("Flood")
    other = await bot_env.person("Calm")
    await asyncio.gather(*(flooder.send(f"hello {i}") for i in range(30)))
    await other.send("/help")
    await other.expect(contains="How to use")
    await flooder.expect(contains="very fast", timeout=10)
    await bot_env.idle()
    await flooder.expect_nothing_new()
    texts = [m.text for m in await flooder.history() if m.from_bot]
    slow_downs = [t for t in texts if "very fast" in t]
    assert len(slow_downs) == 1
    assert len(texts) <= 1 + 20 + 1  # the greeting, at most 20 answers, one warning


async def test_an_update_that_cannot_be_parsed_is_skipped_and_polling_goes_on(bot_env, caplog):
    """Logged (masked) and counted, confirmed to Telegram like a handled one; the bot
    answers the next update and stays up."""
    u = await bot_env.new_user("Next", lang="en")
    sim_bot = bot_env.sim.world.bot_for_token(TOKEN)
    malformed_before = REGISTRY.get_sample_value("civic_dispatch_updates_malformed_total") or 0.0
    bad = sim_bot.enqueue_raw("message", malformed_message(u.id))
    await u.send("/help")
    await u.expect(contains="How to use")
    assert (
        REGISTRY.get_sample_value("civic_dispatch_updates_malformed_total") or 0.0
    ) == malformed_before + 1
    assert f"skipped update {bad}" in caplog.text
    assert "13912345678" not in caplog.text
    await u.send("/help")  # fetched with an offset past the skipped one: it is confirmed
    await u.expect(contains="How to use")
    assert all(pending.update_id > bad for pending in sim_bot.updates)


def _malformed() -> float:
    return REGISTRY.get_sample_value("civic_dispatch_updates_malformed_total") or 0.0
