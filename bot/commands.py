"""What each command-line command does. Kept apart from argument parsing."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.settings import ROOT, Settings
from models import Region, RegionLevel, Role, Team, Unit
from models.db import make_engine, make_sessionmaker, private_dir
from models.migrate import downgrade, head_revision, schema_revision, upgrade
from services import people
from services.i18n import compile_catalogs
from services.org import OrgConfigError, load_org_config, org_summary, sync_org

if TYPE_CHECKING:
    from services.reports import Scope

log = logging.getLogger("civic_dispatch")
BACKUP_DIR = ROOT / "data" / "backups"


def _say(line: str) -> None:
    print(line, flush=True)


def ready(settings: Settings, *, migrate: bool) -> str | None:
    """Before a command that uses the database: None when its schema is current (brought
    up to date first when `migrate`), else the one line that says what to run."""
    try:
        current = asyncio.run(schema_revision(settings.database_url))
    except (OSError, SQLAlchemyError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return f"Cannot open the database ({first}): check DATABASE_URL."
    if current == head_revision():
        return None
    if migrate:
        upgrade(settings.database_url)
        return None
    if current is None:
        return (
            "The database is not set up yet: run `python -m bot org load` "
            "(or `make run`, which also starts the bot)."
        )
    return "The database schema is older than this version: run `python -m bot db upgrade`."


def db(settings: Settings, action: str, revision: str | None) -> int:
    if action == "upgrade":
        upgrade(settings.database_url)
        _say("Database is up to date.")
    else:
        downgrade(settings.database_url, revision or "-1")
        _say(f"Database migrated back to {revision}.")
    return 0


def i18n_compile() -> int:
    written = compile_catalogs()
    _say(f"Compiled {len(written)} catalogue(s).")
    return 0


def i18n_update() -> int:
    from bot.i18n_tools import update

    for locale, count in update().items():
        _say(f"{locale}: {count} untranslated")
    return 0


async def org_load(settings: Settings, file: Path | None) -> int:
    path = file or settings.org_config
    try:
        cfg = load_org_config(path)
    except OrgConfigError as exc:
        print(f"The org config {path} has problems:\n{exc}", file=sys.stderr)
        return 1
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            report = await sync_org(session, cfg)
            await session.commit()
    finally:
        await engine.dispose()
    _say(f"Loaded {path}: {report}")
    return 0


async def org_show(settings: Settings, town: str | None) -> int:
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            _say(await org_summary(session, town))
    finally:
        await engine.dispose()
    return 0


async def _region(session: AsyncSession, code: str | None, level: RegionLevel) -> Region | None:
    query = select(Region).where(Region.level == level, Region.active.is_(True))
    if code:
        query = query.where(Region.code == code)
    rows = (await session.scalars(query)).all()
    return rows[0] if len(rows) == 1 else None


# The option that says where an appointment is, for the roles that have a place.
PLACE_OPTION = {
    Role.STATION_HEAD: "station",
    Role.OFFICE: "town",
    Role.DISPATCHER: "unit",
    Role.TEAM_LEADER: "team",
}


async def staff(settings: Settings, args: argparse.Namespace) -> int:
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            if args.action == "list":
                for line in await people.staff_list(session):
                    _say(
                        f"{line.tg_id or '-':>12}  {line.name or '-':<10} {line.role:<13} "
                        f"{line.where}"
                    )
                return 0
            user = await people.get_or_create_user(session, args.tg_id)
            role = Role(args.role)
            if args.action == "remove":
                ended = await people.dismiss(session, user, role)
                await session.commit()
                _say(f"Ended {ended} appointment(s).")
                return 0
            if args.name and not user.name:
                user.name = args.name
            region = team = unit = None
            if role == Role.STATION_HEAD:
                region = await _region(session, args.station, RegionLevel.STATION)
            elif role == Role.OFFICE:
                region = await _region(session, args.town, RegionLevel.TOWN)
            elif role == Role.DISPATCHER:
                code = args.unit or ""
                unit = await session.scalar(
                    select(Unit).where(Unit.code == code, Unit.active.is_(True))
                )
            elif role == Role.TEAM_LEADER:
                team = await session.scalar(select(Team).where(Team.code == (args.team or "")))
            option = PLACE_OPTION.get(role)
            if option is not None and (region or team or unit) is None:
                _say(f"Give --{option} with a {option} code (see `org show`).")
                return 2
            await people.appoint(session, user, role, region=region, team=team, unit=unit)
            await session.commit()
            _say(f"Appointed {args.tg_id} as {role.value}.")
            return 0
    finally:
        await engine.dispose()


async def export(settings: Settings, args: argparse.Namespace) -> int:
    """`export xlsx|photos --out FILE [--from --to] [--town] [--station]`."""
    import time

    from services import archive, reports

    compile_catalogs()  # status names in the workbook come from the zh_CN catalogue
    if (args.date_from is None) != (args.date_to is None):
        _say("Give both --from and --to, or neither (everything).")
        return 2
    period = None
    if args.date_from is not None:
        try:
            period = reports.custom_period(args.date_from, args.date_to, settings.tz)
        except ValueError as exc:
            _say(f"Wrong dates: {exc}.")
            return 2
    engine = make_engine(settings.database_url)
    started = time.monotonic()
    try:
        async with make_sessionmaker(engine)() as session:
            scope = await _export_scope(session, args)
            if scope is None:
                return 2
            args.out.parent.mkdir(parents=True, exist_ok=True)
            if args.action == "xlsx":
                summary = await archive.write_xlsx(session, args.out, scope, period, tz=settings.tz)
                rows = ", ".join(f"{sheet} {n}" for sheet, n in summary.rows.items())
                _say(f"Wrote {args.out} in {time.monotonic() - started:.1f} s: {rows}.")
            else:
                photos = await archive.write_photo_zip(
                    session, args.out, scope, period, settings.media_dir, tz=settings.tz
                )
                _say(
                    f"Wrote {args.out} in {time.monotonic() - started:.1f} s: "
                    f"{photos.photos} photo(s), {photos.bytes / 1e6:.1f} MB; "
                    f"{len(photos.missing)} missing (listed in 缺失照片.txt inside)."
                )
    finally:
        await engine.dispose()
    return 0


async def _export_scope(session: AsyncSession, args: argparse.Namespace) -> Scope | None:
    """What `--station` or `--town` limits an export to (everything without either); None,
    having said so, for a code that names no active region."""
    from services.reports import Scope

    if not (args.station or args.town):
        return Scope()
    level = RegionLevel.STATION if args.station else RegionLevel.TOWN
    region = await _region(session, args.station or args.town, level)
    if region is None:
        _say(f"Unknown --{level.value} (see `org show` for the codes).")
        return None
    ids = frozenset({region.id})
    return Scope(station_ids=ids) if level == RegionLevel.STATION else Scope(town_ids=ids)


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.1f} kB"


def backup(settings: Settings, output: Path | None) -> int:
    """`backup [--output FILE]`: 0 when a checked copy was written, 1 when not."""
    from services import backup as bk

    if bk.is_sqlite(settings.database_url):
        source = bk.sqlite_file(settings.database_url)
        dest = output or bk.default_backup_path(BACKUP_DIR)
        try:
            result = bk.backup_sqlite(source, dest)
        except bk.BackupError as exc:
            _say(f"Backup failed: {exc}")
            return 1
        _say(
            f"Backed up {source} to {result.path} ({_size(result.size)}, integrity ok, "
            f"schema {result.revision or 'none'}) in {result.seconds:.1f} s."
        )
        return 0
    dest = output or bk.default_backup_path(BACKUP_DIR, suffix=".dump")
    dump = bk.pg_dump_command(settings.database_url, dest)
    if not bk.have_tool("pg_dump"):
        _say("PostgreSQL is backed up with pg_dump, which is not installed here")
        _say("(Debian: apt-get install postgresql-client). Run, as a user that may read it:")
        _say(f"  {bk.shell_line(dump)}")
        _say("and to restore that file (it replaces what is in the database):")
        _say(f"  {bk.shell_line(bk.pg_restore_command(settings.database_url, dest))}")
        _say("The password comes from PGPASSWORD or ~/.pgpass.")
        return 1
    _say(f"Running: {bk.shell_line(dump)}")
    try:
        result = bk.backup_postgres(settings.database_url, dest)
    except bk.BackupError as exc:
        _say(f"Backup failed: {exc}")
        return 1
    _say(f"Wrote {result.path} ({_size(result.size)}) in {result.seconds:.1f} s.")
    return 0


def restore(settings: Settings, file: Path, *, yes: bool) -> int:
    """`restore FILE --yes`: 0 restored, 1 refused or failed, 2 not confirmed."""
    from services import backup as bk

    if not bk.is_sqlite(settings.database_url):
        command = bk.pg_restore_command(settings.database_url, file)
        if not yes or not bk.have_tool("pg_restore"):
            _say("PostgreSQL is restored with pg_restore (it replaces what is in the database).")
            _say("Stop every bot worker first, then run:")
            _say(f"  {bk.shell_line(command)}")
            _say("  .venv/bin/python -m bot db upgrade")
            if not yes:
                _say("or run this command again with --yes to have it done.")
            return 2 if not yes else 1
        try:
            bk.restore_postgres(settings.database_url, file)
        except bk.BackupError as exc:
            _say(f"Restore failed: {exc}")
            return 1
        _say(f"Restored {file}. Run `python -m bot db upgrade` (or `run`, which does it).")
        return 0
    target = bk.sqlite_file(settings.database_url)
    try:
        revision = bk.check_sqlite_backup(file, settings.database_url)
    except bk.BackupError as exc:
        _say(f"Will not restore: {exc}")
        return 1
    if not yes:
        _say(f"{file} is a sound backup at schema {revision}.")
        _say(f"Restoring replaces {target}; the current file is kept as {target}.before-restore.")
        _say("Stop the bot, then run this command again with --yes.")
        return 2
    try:
        result = bk.restore_sqlite(file, settings.database_url)
    except bk.BackupError as exc:
        _say(f"Will not restore: {exc}")
        return 1
    _say(f"Restored {file} into {target} (schema {result.revision}).")
    if result.kept_aside is not None:
        _say(f"The database it replaced is kept as {result.kept_aside}.")
    if result.needs_upgrade:
        _say("Its schema is older than this version's: run `python -m bot db upgrade`.")
    return 0


async def forget(settings: Settings, phone: str) -> int:
    """`forget --phone NUM`: 0 when someone was erased, 1 when nobody matched."""
    from services.privacy import forget_by_phone

    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            erased = await forget_by_phone(session, phone, settings.media_dir)
    finally:
        await engine.dispose()
    if not erased:
        _say("Nobody without Telegram has that phone number; nothing was erased.")
        return 1
    _say(f"Erased {len(erased)} resident(s): personal data deleted, figures kept.")
    return 0


def roster_import(settings: Settings, file: Path, team: str) -> int:
    """`roster import FILE --team CODE`: 0 when every row was imported, 1 when some rows
    have problems (the good ones are imported all the same), 2 when nothing could be read."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        _say(f"Cannot read {file}: {exc}")
        return 2
    return asyncio.run(_roster_import(settings, file, text, team))


async def _roster_import(settings: Settings, file: Path, text: str, team: str) -> int:
    from services.volunteers import RosterError, import_roster

    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            report = await import_roster(session, text, team)
    except RosterError as exc:
        _say(f"{file}: {exc}")
        return 2
    finally:
        await engine.dispose()
    for problem in report.problems:
        _say(f"{file}:{problem}")
    for note in report.kept_out:
        _say(f"{file}:{note}")
    _say(f"{file}: {report.summary()}.")
    return 1 if report.problems else 0


def run(settings: Settings) -> int:
    """Set up (translations, schema, org chart) and run until stopped."""
    from bot.logs import setup_logging

    setup_logging(settings.log_level, settings.log_format)
    compile_catalogs()
    # What the bot writes (database, photos, exports, backups) is for its own user only,
    # however the service was started (the systemd unit sets UMask=0077 as well).
    os.umask(0o077)
    private_dir(settings.media_dir)
    upgrade(settings.database_url)  # before the loop starts: Alembic runs its own loop
    from bot.runner import PortInUse, serve

    try:
        cfg = load_org_config(settings.org_config)
    except OrgConfigError as exc:
        print(f"The org config {settings.org_config} has problems:\n{exc}", file=sys.stderr)
        return 1
    try:
        asyncio.run(serve(settings, cfg))
    except PortInUse as exc:
        log.error("%s", exc)
        return 1
    return 0
