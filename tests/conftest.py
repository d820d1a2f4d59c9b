"""Shared fixtures: a real, migrated database per test (SQLite file, or PostgreSQL).

`TEST_DATABASE=postgres` with `TEST_POSTGRES_URL` (an admin URL) runs the database tests
against PostgreSQL: each test gets its own database cloned from a migrated template.

Optional parts (PostgreSQL, Redis, pg_dump, a CJK font, Chromium) go through `missing()`:
a test whose part is not on this machine is skipped, and the run ends with a list of what
was skipped and how to run it. `REQUIRE_SERVICES=1` (PostgreSQL, Redis, pg_dump, the font)
and `REQUIRE_BROWSER=1` (Chromium) turn those skips into failures; CI sets both.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import aiohttp
import pytest
from aiogram import Bot
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bench.common import pg_admin as _pg_admin
from models.db import make_engine, make_sessionmaker
from models.migrate import upgrade
from simulator.driver import Driver
from simulator.server import Simulator, run_simulator
from tests.factories import Cast, make_cast
from tests.taole_town import Taole
from tests.tiny_bot import TOKEN as TINY_BOT_TOKEN
from tests.tiny_bot import make_router, polling_bot

ROOT = Path(__file__).resolve().parent.parent
USE_POSTGRES = os.environ.get("TEST_DATABASE", "sqlite") == "postgres"
PG_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres:postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
CHROMIUM = Path(os.environ.get("TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",  # containers give /dev/shm 64 MB
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# --- optional parts -------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """Something a test needs that a newcomer's machine may not have."""

    name: str
    require: str | None  # the variable that makes its absence a failure (None: never)
    how: str  # how to run the tests that need it


PARTS = {
    "postgres": Part(
        "PostgreSQL",
        "REQUIRE_SERVICES",
        "start PostgreSQL and set TEST_POSTGRES_URL to an admin URL "
        "(default postgresql+asyncpg://postgres:postgres@127.0.0.1:5432/postgres)",
    ),
    "redis": Part(
        "Redis",
        "REQUIRE_SERVICES",
        "start redis-server and set TEST_REDIS_URL to a database the tests may empty "
        "(default redis://127.0.0.1:6379/15)",
    ),
    "pg_dump": Part("pg_dump", "REQUIRE_SERVICES", "apt-get install postgresql-client"),
    "cjk_font": Part("a CJK font", "REQUIRE_SERVICES", "apt-get install fonts-noto-cjk"),
    "browser": Part(
        "Chromium",
        "REQUIRE_BROWSER",
        "apt-get install chromium, or set TEST_CHROMIUM to a Chromium binary",
    ),
    "postgres_only": Part(
        "a PostgreSQL run",
        None,
        "`make test-db` (the database tests on TEST_POSTGRES_URL's server)",
    ),
}


def _reason(part: str, detail: str) -> str:
    what = PARTS[part]
    return f"needs {what.name} ({detail}); to run it: {what.how}"


def missing(part: str, detail: str) -> NoReturn:
    """Skip this test for want of `part`; fail it instead when the part's REQUIRE_… variable
    is 1, as in CI. The run's summary lists what was skipped and how to run it."""
    __tracebackhide__ = True  # report the caller's line, not this one
    require = PARTS[part].require
    if require and os.environ.get(require) == "1":
        pytest.fail(f"{require}=1, but this test {_reason(part, detail)}", pytrace=False)
    pytest.skip(_reason(part, detail))


# Markers from the fixtures a test asks for, so `-m` selects honestly.
MARKING_FIXTURES = {
    "db_url": "db",  # CI re-runs exactly these against PostgreSQL (`make test-db`)
    "blank_db_url": "db",
    "postgres_url": "postgres",
    "redis_url": "redis",
    "chromium": "browser",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        for fixture in fixtures & MARKING_FIXTURES.keys():
            item.add_marker(MARKING_FIXTURES[fixture])
        # A database test marked `postgres` is the PostgreSQL variant: `make test-db` runs it.
        variant = "db_url" in fixtures and "postgres_url" not in fixtures
        if variant and not USE_POSTGRES and item.get_closest_marker("postgres"):
            item.add_marker(pytest.mark.skip(_reason("postgres_only", "this run is on SQLite")))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> Iterator[None]:
    """Say plainly, after pytest's own summary, what this run did not test for want of
    what, and how to run it."""
    yield
    skipped: dict[str, list[str]] = {}  # part -> the skipped tests' files
    for report in terminalreporter.stats.get("skipped", []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
        reason = reason.removeprefix("Skipped: ")
        for part, what in PARTS.items():
            if reason.startswith(f"needs {what.name} ("):
                skipped.setdefault(part, []).append(Path(report.location[0]).name)
    if not skipped:
        return
    write = terminalreporter.write_line
    terminalreporter.section("not tested on this machine", sep="-", bold=True)
    for part, files in skipped.items():
        what = PARTS[part]
        write(f"{len(files)} test(s) need {what.name} ({', '.join(sorted(set(files)))}).")
        write(f"    To run them: {what.how}.")
    required = sorted({PARTS[part].require for part in skipped} - {None})
    if required:
        write(f"{' and '.join(f'{r}=1' for r in required)} make these skips failures (CI).")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "db: uses a real database")


@pytest.fixture(scope="session")
def _template_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Migrate once per session; each test then starts from a copy of this database."""
    if USE_POSTGRES:
        name = f"tmpl_{uuid.uuid4().hex[:10]}"
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
        url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        yield name
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        path = tmp_path_factory.mktemp("template") / "template.sqlite3"
        upgrade(f"sqlite+aiosqlite:///{path}")
        yield str(path)


@pytest.fixture
async def db_url(_template_db: str, tmp_path: Path) -> AsyncIterator[str]:
    """A URL of a fresh, migrated, empty database of its own for this test."""
    if USE_POSTGRES:
        name = f"t_{uuid.uuid4().hex[:12]}"
        await _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{_template_db}"')
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        path = tmp_path / "test.sqlite3"
        shutil.copyfile(_template_db, path)
        yield f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def blank_db_url(tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database, not migrated, on the backend TEST_DATABASE names."""
    if USE_POSTGRES:
        name = f"b_{uuid.uuid4().hex[:12]}"
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        yield f"sqlite+aiosqlite:///{tmp_path / 'blank.sqlite3'}"


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(db_url)
    yield eng
    await eng.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)


@pytest.fixture
async def session(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessionmaker() as s:
        yield s


@pytest.fixture
async def cast(session: AsyncSession) -> Cast:
    """The small town of `tests.factories` with everyone a loop needs, committed."""
    built = await make_cast(session)
    await session.commit()
    return built


@pytest.fixture
async def taole(session: AsyncSession) -> Taole:
    """The town of config/taole.yaml, synced and committed (`tests.taole_town`)."""
    return await Taole.synced(session)


@pytest.fixture
async def bot_env(db_url: str, tmp_path: Path) -> AsyncIterator[object]:
    """The real bot, polling the simulator, with its sender; see tests/harness.py."""
    from tests.harness import running_bot

    async with running_bot(db_url, tmp_path / "media") as env:
        yield env


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    """A Redis database of its own (TEST_REDIS_URL), emptied before and after the test."""
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL)
    try:
        await client.flushdb()
    except Exception as exc:  # no server, refused, auth: all mean "not here"
        await client.aclose()
        missing("redis", f"{type(exc).__name__}: {exc}")
    yield REDIS_URL
    await client.flushdb()
    await client.aclose()


@pytest.fixture
async def postgres_url(tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, migrated PostgreSQL database for a production-profile test, whatever
    TEST_DATABASE says (TEST_POSTGRES_URL names the server)."""
    name = f"p_{uuid.uuid4().hex[:12]}"
    try:
        await _pg_admin(f'CREATE DATABASE "{name}"')
    except Exception as exc:
        missing("postgres", f"{type(exc).__name__}: {exc}")
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    await asyncio.to_thread(upgrade, url)
    yield url
    await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def chromium() -> Path:
    """The Chromium binary Playwright drives (TEST_CHROMIUM, default /usr/bin/chromium)."""
    if not CHROMIUM.is_file():
        missing("browser", f"no {CHROMIUM}")
    return CHROMIUM


# --- the simulator with a tiny bot (its own tests) -----------------------------------------


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    """The Bot API simulator with the tiny bot's account (`tests.tiny_bot`)."""
    async with run_simulator() as simulator:
        simulator.add_bot(TINY_BOT_TOKEN, username="taole_bot", first_name="陶乐志愿服务")
        yield simulator


@pytest.fixture
async def world(sim: Simulator) -> AsyncIterator[tuple[Driver, Bot, dict[str, Any]]]:
    """(driver, bot, seen): the tiny bot polling `sim`; `seen` is what its handlers saw."""
    seen: dict[str, Any] = {}
    async with (
        polling_bot(sim, make_router(seen)) as bot,
        Driver(sim.base_url, TINY_BOT_TOKEN) as driver,
    ):
        yield driver, bot, seen


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
