"""Shared fixtures: a real, migrated database per test (SQLite file, or PostgreSQL).

`TEST_DATABASE=postgres` with `TEST_POSTGRES_URL` (an admin URL) runs the database tests
against PostgreSQL: each test gets its own database cloned from a migrated template.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bench.common import pg_admin as _pg_admin
from models.db import make_engine, make_sessionmaker
from models.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
USE_POSTGRES = os.environ.get("TEST_DATABASE", "sqlite") == "postgres"
PG_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres:postgres@127.0.0.1:5432/postgres"
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Every test that touches the database carries the `db` marker, so CI can re-run
    # exactly those against PostgreSQL.
    for item in items:
        if "db_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)


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
async def bot_env(db_url: str, tmp_path: Path) -> AsyncIterator[object]:
    """The real bot, polling the simulator, with its sender; see tests/harness.py."""
    from tests.harness import running_bot

    async with running_bot(db_url, tmp_path / "media") as env:
        yield env


def _unavailable(what: str, exc: BaseException) -> None:
    """Skip a test whose server is not here, unless CI promised it (REQUIRE_SERVICES=1)."""
    message = f"{what} unavailable: {type(exc).__name__}: {exc}"
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    """A Redis database of its own (TEST_REDIS_URL), emptied before and after the test."""
    from redis.asyncio import Redis

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    client = Redis.from_url(url)
    try:
        await client.flushdb()
    except Exception as exc:  # no server, refused, auth: all mean "not here"
        await client.aclose()
        _unavailable("Redis", exc)
    yield url
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
        _unavailable("PostgreSQL", exc)
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    await asyncio.to_thread(upgrade, url)
    yield url
    await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
