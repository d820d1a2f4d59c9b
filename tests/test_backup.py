"""Backups taken while the bot writes, restored elsewhere, whole and migratable."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import uuid
from contextlib import closing
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from models import Base, Order, OrderEvent, User
from models.db import make_engine, make_sessionmaker
from services import backup as bk
from tests.conftest import PG_ADMIN_URL, USE_POSTGRES, _pg_admin, missing
from tests.factories import make_cast, make_user, place_order

ROOT = Path(__file__).resolve().parent.parent
sqlite_only = pytest.mark.skipif(USE_POSTGRES, reason="SQLite backups (TEST_DATABASE=sqlite)")


def cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("BOT_TOKEN", "DATABASE_URL")}
    env["DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _schema_diff(sync_conn) -> list:
    context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
    return compare_metadata(context, Base.metadata)


async def _snapshot(url: str) -> dict[str, object]:
    """What a restore must bring back: every user with their phone, every order with the
    number of its events."""
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            users = {u.id: (u.tg_id, u.name, u.phone) for u in await s.scalars(select(User))}
            events = dict(
                (
                    await s.execute(
                        select(OrderEvent.order_id, func.count()).group_by(OrderEvent.order_id)
                    )
                ).all()
            )
            orders = {
                o.id: (o.number, o.status.value, o.resident_id, events.get(o.id, 0))
                for o in await s.scalars(select(Order))
            }
        async with engine.connect() as conn:
            diff = await conn.run_sync(_schema_diff)
    finally:
        await engine.dispose()
    return {"users": users, "orders": orders, "schema_diff": diff}


async def _town_with_orders(sessionmaker, n: int = 5) -> object:
    async with sessionmaker() as s:
        cast = await make_cast(s)
        await s.commit()
        for i in range(n):
            await place_order(s, cast.resident, cast.org.clinic, description=f"order {i}")
    return cast


@sqlite_only
async def test_a_backup_taken_while_the_bot_writes_restores_whole(db_url, sessionmaker, tmp_path):
    cast = await _town_with_orders(sessionmaker)
    source = bk.sqlite_file(db_url)
    stop = asyncio.Event()
    written = 0

    async def writer() -> None:
        # A resident registering and ordering, again and again: each order and its first
        # event are one transaction, so a consistent copy never has one without the other.
        nonlocal written
        while not stop.is_set():
            async with sessionmaker() as s:
                resident = await make_user(
                    s, station=cast.org.east, phone=f"1390000{written:04d}", name=f"r{written}"
                )
                await s.commit()
                await place_order(s, resident, cast.org.clinic, description="while backing up")
            written += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(writer())
    try:
        while written < 5:
            await asyncio.sleep(0.01)
        copies = []
        for i in range(3):  # several copies, each while orders keep coming in
            before = written
            result = await asyncio.to_thread(
                bk.backup_sqlite, source, tmp_path / "backups" / f"copy{i}.sqlite3"
            )
            copies.append((before, result))
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task
    assert written > copies[-1][0], "the writer went on during the backups"

    for before, result in copies:
        assert result.size == result.path.stat().st_size > 0
        assert result.revision is not None
        assert bk.integrity_check(result.path) == "ok"
        assert not result.path.with_name(result.path.name + "-wal").exists()
        with closing(sqlite3.connect(result.path)) as conn:
            orders = conn.execute("SELECT count(*) FROM orders").fetchone()[0]
            orphans = conn.execute(
                "SELECT count(*) FROM orders o WHERE NOT EXISTS "
                "(SELECT 1 FROM order_events e WHERE e.order_id = o.id)"
            ).fetchone()[0]
        assert orders >= 5 + before  # everything committed before it started is in it
        assert orphans == 0

    # Restored into a fresh place: every user and order of the copy is there.
    backup = copies[-1][1].path
    fresh = f"sqlite+aiosqlite:///{tmp_path / 'elsewhere' / 'dispatch.sqlite3'}"
    restored = await asyncio.to_thread(bk.restore_sqlite, backup, fresh)
    assert restored.kept_aside is None and not restored.needs_upgrade
    upgraded = await asyncio.to_thread(cli, "db", "upgrade", database_url=fresh)
    assert upgraded.returncode == 0, upgraded.stderr

    expected = await _snapshot(f"sqlite+aiosqlite:///{backup}")
    got = await _snapshot(fresh)
    assert got == expected
    assert got["schema_diff"] == []
    assert len(got["orders"]) >= 5 + copies[-1][0]
    assert all(events >= 1 for *_, events in got["orders"].values())
    phones = {phone for _tg, _name, phone in got["users"].values()}
    assert "13800000001" in phones and "13900000000" in phones


@sqlite_only
async def test_restore_keeps_the_current_database_aside(db_url, engine, sessionmaker, tmp_path):
    await _town_with_orders(sessionmaker, n=2)
    source = bk.sqlite_file(db_url)
    backup = (await asyncio.to_thread(bk.backup_sqlite, source, tmp_path / "b.sqlite3")).path
    async with sessionmaker() as s:  # made after the backup: gone after the restore
        await make_user(s, name="late comer")
        await s.commit()
    await engine.dispose()  # the bot is stopped before a restore

    result = await asyncio.to_thread(bk.restore_sqlite, backup, db_url)
    assert result.kept_aside == source.with_name(source.name + ".before-restore")
    with closing(sqlite3.connect(result.kept_aside)) as conn:
        assert conn.execute("SELECT count(*) FROM users WHERE name='late comer'").fetchone()[0]
    with closing(sqlite3.connect(source)) as conn:
        assert not conn.execute("SELECT count(*) FROM users WHERE name='late comer'").fetchone()[0]
        assert conn.execute("SELECT count(*) FROM orders").fetchone()[0] == 2

    # A second restore does not overwrite the first safety copy.
    again = await asyncio.to_thread(bk.restore_sqlite, backup, db_url)
    assert again.kept_aside is not None and again.kept_aside != result.kept_aside
    assert result.kept_aside.exists()


@sqlite_only
async def test_restore_refuses_what_is_not_ours_and_a_database_in_use(db_url, tmp_path):
    source = bk.sqlite_file(db_url)
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("hello", encoding="utf-8")
    foreign = tmp_path / "foreign.sqlite3"
    with closing(sqlite3.connect(foreign)) as conn:
        conn.execute("CREATE TABLE t (x)")
    future = tmp_path / "future.sqlite3"
    await asyncio.to_thread(bk.backup_sqlite, source, future)
    with closing(sqlite3.connect(future)) as conn, conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")

    for bad, why in (
        (not_sqlite, "not a SQLite database"),
        (foreign, "no alembic_version"),
        (future, "does not know"),
        (tmp_path / "missing.sqlite3", "no file"),
    ):
        with pytest.raises(bk.BackupError, match=why):
            await asyncio.to_thread(bk.restore_sqlite, bad, db_url)

    # Another process (the bot) has the database open: no restore under its feet.
    good = (await asyncio.to_thread(bk.backup_sqlite, source, tmp_path / "good.sqlite3")).path
    holder = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sqlite3, sys, time\n"
        "c = sqlite3.connect(sys.argv[1]); c.execute('PRAGMA journal_mode=WAL')\n"
        "c.execute('SELECT count(*) FROM users').fetchall(); print('open', flush=True)\n"
        "time.sleep(60)",
        str(source),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert (await asyncio.wait_for(holder.stdout.readline(), 30)).strip() == b"open"
        assert bk.database_in_use(source)
        with pytest.raises(bk.BackupError, match="open in another process"):
            await asyncio.to_thread(bk.restore_sqlite, good, db_url)
    finally:
        holder.kill()
        await holder.wait()
    assert not bk.database_in_use(source)


@sqlite_only
def test_backup_and_restore_commands(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'live.sqlite3'}"
    assert cli("db", "upgrade", database_url=url).returncode == 0
    assert cli("org", "load", database_url=url).returncode == 0
    out = cli("backup", "--output", str(tmp_path / "copy.sqlite3"), database_url=url)
    assert out.returncode == 0, out.stderr
    assert str(tmp_path / "copy.sqlite3") in out.stdout and "MB" in out.stdout
    assert "integrity ok" in out.stdout

    asked = cli("restore", str(tmp_path / "copy.sqlite3"), database_url=url)
    assert asked.returncode == 2 and "--yes" in asked.stdout
    assert not (tmp_path / "live.sqlite3.before-restore").exists()
    done = cli("restore", str(tmp_path / "copy.sqlite3"), "--yes", database_url=url)
    assert done.returncode == 0, done.stdout
    assert (tmp_path / "live.sqlite3.before-restore").exists()
    assert "庙庙湖村" in cli("org", "show", database_url=url).stdout

    refused = cli("restore", str(tmp_path / "nowhere.sqlite3"), "--yes", database_url=url)
    assert refused.returncode == 1 and "no file" in refused.stdout


def test_pg_commands_never_carry_the_password(tmp_path):
    url = "postgresql+asyncpg://dispatch:s3cret@db.example:5433/civic"
    dump = bk.pg_dump_command(url, tmp_path / "x.dump")
    restore = bk.pg_restore_command(url, tmp_path / "x.dump")
    assert "--dbname=postgresql://dispatch@db.example:5433/civic" in dump
    assert "--format=custom" in dump
    assert not any("s3cret" in part for part in dump + restore)
    assert bk.pg_environment(url)["PGPASSWORD"] == "s3cret"


@pytest.mark.postgres
async def test_postgres_round_trip_with_pg_dump(db_url, sessionmaker, tmp_path):
    if not (bk.have_tool("pg_dump") and bk.have_tool("pg_restore")):
        missing("pg_dump", "pg_dump or pg_restore is not on PATH")
    await _town_with_orders(sessionmaker, n=4)
    dump = await asyncio.to_thread(bk.backup_postgres, db_url, tmp_path / "pg.dump")
    assert dump.size > 0

    name = f"r_{uuid.uuid4().hex[:12]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    fresh = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        await asyncio.to_thread(bk.restore_postgres, fresh, dump.path)
        upgraded = await asyncio.to_thread(cli, "db", "upgrade", database_url=fresh)
        assert upgraded.returncode == 0, upgraded.stderr
        expected, got = await _snapshot(db_url), await _snapshot(fresh)
        assert got == expected
        assert len(got["orders"]) == 4 and got["schema_diff"] == []
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
