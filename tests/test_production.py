"""The production profile: two webhook workers sharing one port, PostgreSQL and Redis, the
simulator pushing every update as a webhook with the secret header.

Residents order at the same time; each step of a conversation may land on either worker,
so the conversations live in Redis. Every order is made once, each leader's card arrives
once (two senders, one outbox), both workers take part, a forged update (no secret, or a
wrong one) gets 401 and leaves no trace, and both workers stop cleanly on SIGTERM.
Needs PostgreSQL (TEST_POSTGRES_URL) and Redis (TEST_REDIS_URL); CI starts both.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp
import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select

from bench.common import org_database
from models import Order, ProcessedUpdate, Region, Role, Team, User
from models.db import make_engine, make_sessionmaker
from services import people
from simulator.driver import Driver, SimUser
from simulator.limits import Limits
from simulator.server import Simulator, run_simulator
from tests.flows import order_through_chat
from tests.harness import TOKEN
from tests.processes import free_port, logs, start_bot, stop
from tests.scheduler_harness import notices_in_chat, residents_of_the_town, wait_until
from tests.test_webhook import scraped

pytestmark = pytest.mark.slow

RESIDENTS = 16
RESIDENT_TG = 8_400_000
LEADER_TG = 8_399_001
SECRET = "prod-Secret_42-0123456789abcdef012345"
HEADER = "X-Telegram-Bot-Api-Secret-Token"


async def _prepare(db_url: str, sim: Simulator) -> list[int]:
    """The org, the health team's leader and registered residents (English speakers)."""
    async with org_database(db_url) as sessionmaker:
        places, _town, ids = await residents_of_the_town(
            sessionmaker, sim, [*range(RESIDENT_TG, RESIDENT_TG + RESIDENTS + 1), LEADER_TG]
        )
        async with sessionmaker() as s:
            leader = await s.scalar(select(User).where(User.tg_id == LEADER_TG))
            team = await s.scalar(select(Team).where(Team.code == "taole.health"))
            station = await s.get(Region, places[0].id)
            assert leader is not None
            await people.appoint(s, leader, Role.TEAM_LEADER, region=station, team=team)
            await s.commit()
        return ids[:-1]  # the residents; the last of them walks slowly


async def _order(driver: Driver, tg_id: int) -> str:
    u: SimUser = await driver.user(f"Resident {tg_id}", user_id=tg_id, language_code="en")
    await u.send("/start")
    await u.expect(contains="Hello")
    return await order_through_chat(u, need=f"Blood pressure check for {tg_id}")


async def _ready(tmp_path: Path, workers: int, timeout: float = 60) -> None:
    """Each worker has logged that its webhook is set (it listens by then)."""

    def listening() -> bool:
        return sum(
            "webhook at" in p.read_text(errors="replace") for p in tmp_path.glob("*.log")
        ) >= (workers)

    try:
        await wait_until(listening, timeout)
    except AssertionError:
        raise AssertionError(f"workers did not start:\n{logs(tmp_path)}") from None


async def _metrics_of_both_workers(url: str, db_url: str) -> None:
    """Whichever worker answers /metrics counts the updates both handled (each handled some:
    see the end of the test), and the histograms count each update and each card sent."""
    engine = make_engine(db_url)
    try:
        async with make_sessionmaker(engine)() as s:
            claimed = await s.scalar(select(func.count()).select_from(ProcessedUpdate))
    finally:
        await engine.dispose()
    async with aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=10), connector=aiohttp.TCPConnector(force_close=True)
    ) as http:
        for _ in range(4):  # a new connection each time: each worker gets its turn
            async with http.get(url) as resp:
                values = scraped(await resp.text())

            def total(name: str, values: dict = values, **labels: str) -> float:
                return sum(
                    v
                    for (n, ls), v in values.items()
                    if n == name and set(labels.items()) <= set(ls)
                )

            updates = total("civic_dispatch_updates_total")
            assert claimed and updates >= claimed  # a stale claim taken over counts twice
            assert total("civic_dispatch_update_seconds_count") == updates
            assert total("civic_dispatch_update_seconds_count", outcome="handled") > 0
            assert total("civic_dispatch_outbox_latency_seconds_count", priority="urgent") >= (
                RESIDENTS
            )
            assert total("civic_dispatch_messages_sent_total") >= RESIDENTS
            assert total("civic_dispatch_telegram_call_seconds_count", outcome="ok") >= RESIDENTS


async def test_two_webhook_workers_on_postgresql_and_redis(postgres_url, redis_url, tmp_path):
    port = free_port()
    hook = f"http://127.0.0.1:{port}/tg/updates"
    # Fast people (the driver answers at once) would trip the per-chat limit on replies.
    async with run_simulator(limits=Limits(private_burst=50)) as sim:
        sim.add_bot(TOKEN)
        *residents, slow = await _prepare(postgres_url, sim)
        env = {
            "REDIS_URL": redis_url,
            "WEBHOOK_URL": hook,
            "WEBHOOK_SECRET": SECRET,
            "WEBHOOK_PORT": str(port),
            "INBOX_STALE_AFTER": "3",
            "LOG_LEVEL": "INFO",
            # Set by whoever starts the workers, on an empty directory: one scrape, all workers.
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        }
        workers = [
            await start_bot(sim, postgres_url, tmp_path, n, WORKER_NAME=f"worker-{n}", **env)
            for n in (1, 2)
        ]
        try:
            await _ready(tmp_path, workers=2)
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
                forged = {
                    "update_id": 999_999_001,
                    "message": {
                        "message_id": 1,
                        "date": 0,
                        "chat": {"id": residents[0], "type": "private"},
                        "from": {"id": residents[0], "is_bot": False, "first_name": "X"},
                        "text": "/start",
                    },
                }
                for headers in ({HEADER: "guessed"}, {}):
                    for _ in range(4):  # new connections: each worker gets its turn
                        async with http.post(hook, json=forged, headers=headers) as resp:
                            assert resp.status == 401

            async with Driver(sim.base_url, TOKEN, timeout=30) as driver:
                numbers = await asyncio.gather(*(_order(driver, tg) for tg in residents))

                # Halfway through a conversation: the step is kept in Redis for any worker.
                walker = await driver.user("Walker", user_id=slow, language_code="en")
                await walker.send("/start")
                await walker.expect(contains="Hello")
                await walker.tap("🙋 Request a service")
                await walker.expect(contains="What kind of help")
            redis = Redis.from_url(redis_url)
            try:
                assert await redis.keys(f"fsm:*{walker.id}*")
            finally:
                await redis.aclose()

            assert len(set(numbers)) == RESIDENTS
            await wait_until(
                lambda: all(notices_in_chat(sim, LEADER_TG, n) >= 1 for n in numbers), 30
            )
            await asyncio.sleep(1)  # a second card would have arrived by now
            assert all(notices_in_chat(sim, LEADER_TG, n) == 1 for n in numbers)
            await _metrics_of_both_workers(f"http://127.0.0.1:{port}/metrics", postgres_url)
        finally:
            for proc in workers:
                await stop(proc, signal.SIGTERM)
        assert [proc.returncode for proc in workers] == [0, 0], logs(tmp_path)

    engine = make_engine(postgres_url)
    try:
        async with make_sessionmaker(engine)() as s:
            orders = (
                await s.execute(select(Order.number, func.count()).group_by(Order.number))
            ).all()
            assert sorted(n for n, _ in orders) == sorted(numbers)
            assert all(count == 1 for _, count in orders)
            assert await s.get(ProcessedUpdate, 999_999_001) is None  # the forgery left nothing
            handled_by = set(await s.scalars(select(ProcessedUpdate.worker).distinct()))
            assert handled_by == {"worker-1", "worker-2"}, handled_by
    finally:
        await engine.dispose()
