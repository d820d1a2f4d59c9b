"""What every benchmark shares: databases to run on, people to seed, the bot as a separate
process, and the table of results.

The bot under test always runs as its own process (`python -m bot run`, exactly as deployed,
or the bare aiogram bot of `bench/barebot.py`), pointed at a simulator in this process, so
on a 2-core machine the bot has one core and the simulator with the scripted people the
other, and its RSS and CPU time are its own.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.rows import Row, table
from bot.settings import ROOT
from models import Region, RegionLevel, Role, Team, User
from models.db import make_engine, make_sessionmaker
from models.migrate import upgrade
from services import people
from services.org import load_org_config, sync_org
from simulator.limits import Limits
from simulator.server import Simulator, run_simulator

TOKEN = "700000001:BENCH-token-for-benchmarks-only"
BOT_ID = int(TOKEN.split(":")[0])
TAOLE = ROOT / "config" / "taole.yaml"
RESULTS = ROOT / "bench" / "results.json"
PG_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres:postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
# Telegram's flood limits off: what is measured is the bot, not the rule of 30 messages/s.
NO_LIMITS = Limits(enabled=False)


# --- databases and Redis ----------------------------------------------------------------------


async def pg_admin(sql: str, timeout: float = 60) -> None:
    """One statement on TEST_POSTGRES_URL's server (CREATE/DROP DATABASE, …)."""
    import asyncpg

    url = make_url(PG_URL)
    conn = await asyncpg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database,
        timeout=timeout,
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def postgres_reachable() -> bool:
    try:
        await pg_admin("SELECT 1", timeout=3)
    except Exception:
        return False
    return True


async def redis_reachable() -> bool:
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        return bool(await client.ping())
    except Exception:
        return False
    finally:
        await client.aclose()


@contextlib.asynccontextmanager
async def database(kind: str) -> AsyncIterator[str]:
    """A fresh, migrated database of its own: `sqlite` (a temp file) or `postgres` (a
    `bench_…` database on TEST_POSTGRES_URL's server, dropped afterwards)."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
            url = f"sqlite+aiosqlite:///{tmp}/bench.sqlite3"
            await asyncio.to_thread(upgrade, url)  # alembic runs its own event loop
            yield url
        return
    name = f"bench_{uuid.uuid4().hex[:10]}"
    await pg_admin(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        await asyncio.to_thread(upgrade, url)
        yield url
    finally:
        await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _conversation_of(key: bytes, ids: range) -> bool:
    """Whether an FSM key (`fsm:<chat>:<user>:…`, aiogram's default) is one of `ids`'."""
    parts = key.split(b":")
    return len(parts) > 2 and parts[1].isdigit() and int(parts[1]) in ids


async def _fsm_keys(client: Any, ids: range) -> list[bytes]:
    return [
        k async for k in client.scan_iter(match="fsm:*", count=1000) if _conversation_of(k, ids)
    ]


async def redis_cleanup(ids: range) -> None:
    """Forget the conversations of the chats `ids` (only those: the database may be shared)."""
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL)
    try:
        keys = await _fsm_keys(client, ids)
        for lo in range(0, len(keys), 1000):
            await client.delete(*keys[lo : lo + 1000])
    finally:
        await client.aclose()


async def redis_fsm_bytes(ids: range) -> int:
    """Memory the conversations of the chats `ids` take in Redis (MEMORY USAGE of a sample
    of their keys, scaled up: the server's total would count whoever else uses it)."""
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL)
    try:
        keys = await _fsm_keys(client, ids)
        sample = keys[:: max(1, len(keys) // 500)]
        sizes = [await client.memory_usage(k) or 0 for k in sample]
        return round(sum(sizes) / len(sizes) * len(keys)) if sizes else 0
    finally:
        await client.aclose()


# --- people -----------------------------------------------------------------------------------


async def stations(sessionmaker: async_sessionmaker[AsyncSession]) -> list[Region]:
    async with sessionmaker() as s:
        return list(
            await s.scalars(
                select(Region).where(Region.level == RegionLevel.STATION).order_by(Region.id)
            )
        )


async def bulk_people(
    sessionmaker: async_sessionmaker[AsyncSession],
    sim: Simulator,
    tg_ids: Iterable[int],
    station_ids: list[int],
    town_id: int,
) -> list[int]:
    """Registered residents, inserted in bulk, and their personas in the simulator (so their
    chats exist; none of them has to send /start). Returns the tg ids."""
    ids = list(tg_ids)
    rows: list[dict[str, Any]] = [
        {
            "tg_id": tg,
            "name": f"R{tg}",
            "locale": "en",
            "registered": True,
            "station_id": station_ids[i % len(station_ids)],
            "town_id": town_id,
        }
        for i, tg in enumerate(ids)
    ]
    async with sessionmaker() as s:
        for start in range(0, len(rows), 500):
            await s.execute(insert(User), rows[start : start + 500])
        await s.commit()
    for tg in ids:
        sim.add_persona(f"R{tg}", user_id=tg, language_code="en")
    return ids


@dataclass
class Town:
    """The Taole org in a database, with a health-team leader to receive the order cards."""

    url: str
    sessionmaker: async_sessionmaker[AsyncSession]
    station_ids: list[int]
    town_id: int
    leader_tg: int = 0

    async def residents(self, sim: Simulator, first: int, n: int) -> list[int]:
        return await bulk_people(
            self.sessionmaker, sim, range(first, first + n), self.station_ids, self.town_id
        )


LEADER_TG = 6_999_999


@contextlib.asynccontextmanager
async def org_database(url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the bot's database with Taole's org chart synced, to prepare its world
    before it starts; the engine is closed after."""
    engine = make_engine(url)
    sm = make_sessionmaker(engine)
    try:
        async with sm() as s:
            await sync_org(s, load_org_config(TAOLE))
            await s.commit()
        yield sm
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def town(url: str, sim: Simulator, *, leader: bool = True) -> AsyncIterator[Town]:
    async with org_database(url) as sm:
        places = await stations(sm)
        t = Town(url, sm, [p.id for p in places], places[0].parent_id or 0)
        if leader:
            [t.leader_tg] = await t.residents(sim, LEADER_TG, 1)
            async with sm() as s:
                user = await s.scalar(select(User).where(User.tg_id == LEADER_TG))
                team = await s.scalar(select(Team).where(Team.code == "taole.health"))
                assert user is not None and team is not None
                await people.appoint(s, user, Role.TEAM_LEADER, team=team)
                await s.commit()
        yield t


@contextlib.asynccontextmanager
async def simulated_town(
    kind: str = "sqlite", limits: Limits = NO_LIMITS
) -> AsyncIterator[tuple[Simulator, Town]]:
    """A simulator with `limits` and the Taole town in a fresh database beside it."""
    async with run_simulator(limits=limits) as sim, database(kind) as url, town(url, sim) as t:
        yield sim, t


# --- the bot as a process ---------------------------------------------------------------------


def _proc_stat(pid: int) -> tuple[float, int, int]:
    """(CPU seconds, RSS bytes, peak RSS bytes) of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    rss = int(status["VmRSS"].split()[0]) * 1024
    hwm = int(status["VmHWM"].split()[0]) * 1024
    return cpu, rss, hwm


def bot_process_env(token: str, api_base: str, **settings: str) -> dict[str, str]:
    """The environment of `python -m bot run` against the simulator, as the benches and the
    process tests start it; `settings` add or override."""
    return {
        **os.environ,
        "BOT_TOKEN": token,
        "TELEGRAM_API_BASE": api_base,
        "LOG_LEVEL": "WARNING",
        "QUIET_HOURS_START": "00:00",  # no quiet hours: these run at any hour
        "QUIET_HOURS_END": "00:00",
        "DASHBOARD_PORT": "0",  # any free port: never clash with a dashboard already running
        "PYTHONUNBUFFERED": "1",
        **settings,
    }


@dataclass
class BotProcess:
    """`python -m bot run` (ours) or `python -m bench.barebot` against the simulator."""

    sim: Simulator
    kind: str = "ours"  # or "bare"
    env: dict[str, str] = field(default_factory=dict)
    profile: Path | None = None  # pyinstrument's report of the whole run (.html or text)
    proc: asyncio.subprocess.Process | None = None
    log: Path | None = None

    async def __aenter__(self) -> BotProcess:
        self.log = Path(tempfile.mkstemp(prefix=f"bench-{self.kind}-", suffix=".log")[1])
        defaults = {
            "MEDIA_DIR": str(Path(tempfile.gettempdir()) / "bench-media"),
            "WORKER_NAME": "bench",
        }
        env = bot_process_env(TOKEN, self.sim.base_url, **{**defaults, **self.env})
        if "REDIS_URL" not in self.env:
            env.pop("REDIS_URL", None)  # memory FSM unless a bench asks for Redis
        module = ["-m", "bot", "run"] if self.kind == "ours" else ["-m", "bench.barebot"]
        if self.profile is not None:
            renderer = {".html": "html", ".json": "json"}.get(self.profile.suffix, "text")
            report = ["-r", renderer, "-o", str(self.profile)]
            module = ["-m", "pyinstrument", "--show-all", *report, *module]
        bot = self.sim.world.bots.get(BOT_ID)
        generation = bot.poll_generation if bot else 0
        with self.log.open("wb") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, *module, cwd=ROOT, env=env, stdout=out, stderr=out
            )
        # Ready when it polls: its first getUpdates reaches the simulator.
        deadline = time.monotonic() + 60
        while True:
            bot = self.sim.world.bots.get(BOT_ID)
            if bot is not None and bot.poll_generation > generation:
                break
            if self.proc.returncode is not None or time.monotonic() > deadline:
                await self.stop()
                raise RuntimeError(
                    f"the {self.kind} bot did not start (exit {self.proc.returncode}):\n"
                    + self.log.read_text()
                )
            await asyncio.sleep(0.05)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def stat(self) -> tuple[float, int, int]:
        assert self.proc is not None
        return _proc_stat(self.proc.pid)

    def cpu(self) -> float:
        """CPU seconds of its threads to the nanosecond (`stat` counts in 10 ms ticks); a
        thread that has ended no longer counts."""
        assert self.proc is not None
        tasks = Path(f"/proc/{self.proc.pid}/task")
        total = 0
        for task in tasks.iterdir():
            with contextlib.suppress(OSError):
                total += int((task / "schedstat").read_text().split()[0])
        return total / 1e9

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), 40)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


def own_cpu() -> float:
    """CPU seconds this process (the simulator and the scripted people) has used."""
    t = os.times()
    return t.user + t.system


def setup_process() -> None:
    """Quiet logs; and the load side (simulator and residents) is Python too: with its
    start-up objects frozen out of the garbage collector, a full collection cannot stall
    the simulator for a tenth of a second in the middle of a measurement."""
    import gc
    import logging

    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.ERROR)
    gc.collect()
    gc.freeze()


def parser(name: str, **counts: int) -> argparse.ArgumentParser:
    """The command line of `python -m bench.<name>`, with an integer option (`--residents`,
    `--orders`, …) for each of `counts` and its default."""
    p = argparse.ArgumentParser(prog=f"python -m bench.{name}")
    for option, default in counts.items():
        p.add_argument(f"--{option}", type=int, default=default)
    return p


def bench_main(
    p: argparse.ArgumentParser,
    run: Callable[[argparse.Namespace], Coroutine[Any, Any, list[Row]]],
) -> None:
    """A benchmark's command line: parse, run, print its table. With --rows PATH the rows
    are also written as JSON: `python -m bench` runs each benchmark in a process of its own
    (nothing left over from one disturbs the next) and collects them so."""
    p.add_argument("--rows", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    setup_process()
    rows = asyncio.run(run(args))
    print(table(rows))
    if args.rows is not None:
        args.rows.write_text(json.dumps([asdict(r) for r in rows], ensure_ascii=False))
