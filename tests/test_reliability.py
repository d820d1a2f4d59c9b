"""No update lost, none handled twice: duplicates, SIGTERM with updates in hand."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

from aiogram.types import Chat, Message, Update
from aiogram.types import User as TgUser
from sqlalchemy import func, select

from models import ProcessedUpdate
from simulator.driver import Driver
from simulator.server import run_simulator

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "222333444:TEST-reliability-token"


async def test_a_duplicate_update_is_handled_once(bot_env):
    u = await bot_env.new_user("Twice")
    tg_user = TgUser(id=u.id, is_bot=False, first_name="Twice", language_code="en")
    update = Update(
        update_id=987654,
        message=Message(
            message_id=1,
            date=datetime.now(),
            chat=Chat(id=u.id, type="private"),
            from_user=tg_user,
            text="/help",
        ),
    )
    await bot_env.dp.feed_update(bot_env.bot, update)
    await bot_env.dp.feed_update(bot_env.bot, update)  # Telegram retried, or a second worker
    await u.expect(contains="How to use")
    await u.expect_no_message(within=0.5)
    async with bot_env.sessionmaker() as s:
        row = await s.get(ProcessedUpdate, 987654)
        assert row is not None and row.handled_at is not None


def _bot_process_env(db_url: str, api_base: str, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_"))}
    env.update(
        BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE=api_base,
        DATABASE_URL=db_url,
        MEDIA_DIR=str(tmp / "media"),
        LOG_LEVEL="WARNING",
    )
    return env


async def _start_bot(env: dict[str, str]) -> asyncio.subprocess.Process:
    log = Path(env["MEDIA_DIR"]).parent / "bot.log"
    with log.open("ab") as err:  # the child keeps its own copy of the descriptor
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=err,
        )


async def _stop(proc: asyncio.subprocess.Process, sig: int) -> None:
    if proc.returncode is None:
        proc.send_signal(sig)
        try:
            await asyncio.wait_for(proc.wait(), 40)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def test_sigterm_finishes_updates_in_hand_and_none_twice(db_url, tmp_path):
    users = 60
    async with run_simulator() as sim:
        sim.add_bot(TOKEN, username="taole_test_bot")
        env = _bot_process_env(db_url, sim.base_url, tmp_path)
        proc = await _start_bot(env)
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
                await _stop(proc, signal.SIGTERM)
                proc = await _start_bot(env)
                for person in people[1:]:
                    await person.expect(contains="How to use", timeout=60)
                await asyncio.sleep(1.0)  # anything handled twice would arrive by now
                replies = Counter()
                for person in people:
                    replies[person.id] = sum(
                        1
                        for m in await person.history()
                        if m.from_bot and "How to use" in (m.text or "")
                    )
        finally:
            await _stop(proc, signal.SIGTERM)
    assert set(replies.values()) == {1}, replies
    from models.db import make_engine

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
    await flooder.expect_no_message(within=1.0)
    texts = [m.text for m in await flooder.history() if m.from_bot]
    slow_downs = [t for t in texts if "very fast" in t]
    assert len(slow_downs) == 1
    assert len(texts) <= 1 + 20 + 1  # the greeting, at most 20 answers, one warning
