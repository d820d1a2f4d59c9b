"""`make run` without a token: the simulator, the demo cast as personas, the address."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.settings import Settings
from services.demo import BASE_ID, seed_demo_cast
from simulator.server import run_simulator

NEWCOMER_ID = BASE_ID + 999


@asynccontextmanager
async def start_demo(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], token: str
) -> AsyncIterator[tuple[str, str]]:
    """Start the simulator in this process, seed the cast, print where to chat.
    Yields (token, api_base) for the bot."""
    async with run_simulator(host=settings.simulator_host, port=settings.simulator_port) as sim:
        sim.add_bot(token, username="taole_service_bot", first_name="陶乐镇志愿服务")
        async with sessionmaker() as session:
            cast = await seed_demo_cast(session)
            await session.commit()
        sim.add_persona(
            "新居民",
            user_id=NEWCOMER_ID,
            label="新用户（未注册）· a new resident",
            language_code="zh-hans",
        )
        for member in cast:
            sim.add_persona(
                member.name,
                user_id=member.tg_id,
                label=f"{member.label_zh} · {member.label_en}",
                language_code="zh-hans",
            )
        print(
            f"\n  Web chat (simulated Telegram): {sim.base_url}/\n"
            f"  Pick a persona on the left: a resident to order, a team leader to accept,\n"
            f"  a volunteer to complete, the office to appoint. Ctrl+C stops.\n",
            flush=True,
        )
        yield token, sim.base_url
