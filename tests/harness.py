"""End-to-end harness: the simulator and the real bot (polling, sender) in this loop.

Tests drive people through the simulator's HTTP driver and read the database directly to
check what happened. Nothing of our own is mocked; only Telegram's servers are stood in for.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import time
from pathlib import Path

from aiogram import Bot, Dispatcher
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import attach_sender, build_bot, build_dispatcher
from bot.polling import run_polling
from bot.sender import RateLimits, Sender
from bot.settings import ROOT, Settings
from models import Region, Role, Team, User
from models.db import make_engine, make_sessionmaker
from services import people
from services.org import OrgConfig, load_org_config, sync_org
from simulator.driver import BotMessage, Driver, SimUser
from simulator.limits import Limits
from simulator.server import Simulator, run_simulator

TOKEN = "123456789:TEST-token-for-end-to-end-tests"
TAOLE = ROOT / "config" / "taole.yaml"
_ids = itertools.count(5_000_001)


async def from_menu(user: SimUser, button: str) -> BotMessage:
    """Tap a main-menu button, through «☰ More» where a long menu keeps it there."""
    keys = [key for row in await user.reply_keyboard() or [] for key in row]
    more = next((key for key in keys if key.startswith("☰")), None)
    if button not in keys and more is not None:
        await user.tap(more)
        await user.expect()
    return await user.tap(button)


def malformed_message(chat_id: int) -> dict[str, object]:
    """An update aiogram cannot parse (the message id is not a number), with a phone number
    in it; the simulator queues it with `BotState.enqueue_raw`."""
    return {
        "message": {
            "message_id": "first",
            "date": 0,
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "X"},
            "text": "my number is 13912345678",
        }
    }


@dataclass
class BotEnv:
    sim: Simulator
    driver: Driver
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    settings: Settings
    dp: Dispatcher
    bot: Bot
    sender: Sender
    cfg: OrgConfig

    def __repr__(self) -> str:  # hypothesis prints fixtures of failing examples
        return f"BotEnv(simulator at {self.sim.base_url})"

    async def station(self, code: str) -> Region:
        async with self.sessionmaker() as s:
            region = await s.scalar(select(Region).where(Region.code == f"taole.{code}"))
            assert region is not None, code
            return region

    async def team(self, code: str) -> Team:
        async with self.sessionmaker() as s:
            team = await s.scalar(select(Team).where(Team.code == f"taole.{code}"))
            assert team is not None, code
            return team

    async def new_user(self, name: str, *, lang: str = "en", label: str | None = None) -> SimUser:
        """Someone who has never used the bot."""
        return await self.driver.user(name, user_id=next(_ids), language_code=lang, label=label)

    async def person(
        self,
        name: str,
        *,
        station: str = "miaomiaohu",
        lang: str = "en",
        role: Role | None = None,
        team: str | None = None,
        phone: str | None = "+8613900000000",
        label: str | None = None,
    ) -> SimUser:
        """A registered user (and, with `role`, appointed), ready to use the menus."""
        sim_user = await self.new_user(name, lang=lang, label=label)
        region = await self.station(station)
        async with self.sessionmaker() as s:
            user = await people.get_or_create_user(
                s, sim_user.id, locale="en" if lang == "en" else "zh_CN"
            )
            user.name, user.phone, user.registered = name, phone, True
            user.station_id, user.town_id = region.id, region.parent_id
            if role is not None:
                target_team = (
                    await s.scalar(select(Team).where(Team.code == f"taole.{team}"))
                    if team
                    else None
                )
                target = region
                if role == Role.OFFICE:
                    target = await s.get(Region, region.parent_id)
                await people.appoint(s, user, role, region=target, team=target_team)
            await s.commit()
        await sim_user.send("/start")  # opens the chat: the main menu appears
        await sim_user.expect(contains="Hello" if lang == "en" else "您好")
        return sim_user

    async def db_user(self, sim_user: SimUser) -> User:
        async with self.sessionmaker() as s:
            user = await s.scalar(select(User).where(User.tg_id == sim_user.id))
            assert user is not None
            return user

    async def settle(self, timeout: float = 5.0) -> None:
        """Wait until the outbox is drained (every queued notice delivered or given up)."""
        from models import OutboxMessage, OutboxStatus

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            async with self.sessionmaker() as s:
                left = await s.scalar(
                    select(OutboxMessage.id)
                    .where(OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]))
                    .limit(1)
                )
            if left is None:
                return
            await asyncio.sleep(0.05)
        raise AssertionError("outbox not drained in time")

    async def idle(self, timeout: float = 10.0) -> None:
        """Wait until the bot has nothing left to do now: every update handled and every
        notice due by now sent (or given up). What it was going to say is then in the chats,
        so `expect_nothing_new()` after this cannot pass on a message that is merely late."""
        from sqlalchemy import or_

        from models import OutboxMessage, OutboxStatus, utcnow

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            await self.driver.until_updates_handled(max(0.0, deadline - loop.time()))
            async with self.sessionmaker() as s:
                left = await s.scalar(
                    select(OutboxMessage)
                    .where(
                        or_(
                            OutboxMessage.status == OutboxStatus.SENDING,
                            (OutboxMessage.status == OutboxStatus.PENDING)
                            & (OutboxMessage.not_before <= utcnow()),
                        )
                    )
                    .limit(1)
                )
            if left is None:
                await self.driver.until_updates_handled(0.0)  # and nothing came in meanwhile
                return
            if loop.time() >= deadline:
                raise AssertionError(
                    f"the bot was not idle within {timeout}s: outbox row {left.id} "
                    f"({left.status}, due {left.not_before}, to user {left.user_id}, "
                    f"{left.payload.get('kind')})"
                )
            await asyncio.sleep(0.05)


async def taole_db(
    db_url: str,
) -> tuple[OrgConfig, AsyncEngine, async_sessionmaker[AsyncSession]]:
    """Taole's org chart synced into the database at `db_url`: its config, and an engine
    (the caller disposes it) with its sessions."""
    cfg = load_org_config(TAOLE)
    engine = make_engine(db_url)
    sessionmaker = make_sessionmaker(engine)
    async with sessionmaker() as s:
        await sync_org(s, cfg)
        await s.commit()
    return cfg, engine, sessionmaker


@asynccontextmanager
async def running_bot(
    db_url: str, media_dir: Path, *, limits: Limits | None = None, **overrides: object
) -> AsyncIterator[BotEnv]:
    cfg, engine, sessionmaker = await taole_db(db_url)
    async with run_simulator(limits=limits or Limits(private_burst=50)) as sim:
        # No quiet hours unless a test asks: tests run at any hour of the day.
        overrides = {"quiet_hours_start": time(0), "quiet_hours_end": time(0), **overrides}
        settings = Settings(
            database_url=db_url,
            media_dir=media_dir,
            bot_token=TOKEN,
            telegram_api_base=sim.base_url,
            **overrides,
        )  # type: ignore[arg-type]
        bot = build_bot(TOKEN, sim.base_url)
        dp = build_dispatcher(settings, sessionmaker, cfg.policy)
        sender = attach_sender(
            dp,
            bot,
            settings,
            sessionmaker,
            RateLimits(global_per_second=30, per_chat_per_second=1, per_chat_burst=5),
        )
        started, stop = asyncio.Event(), asyncio.Event()
        dp.startup.register(lambda: started.set())
        polling = asyncio.create_task(run_polling(dp, bot, stop))
        await asyncio.wait_for(started.wait(), 10)
        try:
            async with Driver(sim.base_url, TOKEN) as driver:
                yield BotEnv(sim, driver, engine, sessionmaker, settings, dp, bot, sender, cfg)
        finally:
            stop.set()
            await asyncio.wait_for(polling, 30)
            await bot.session.close()
            await engine.dispose()
