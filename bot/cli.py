"""The command line: `python -m bot <command>` (installed as `civic-dispatch`)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine
from datetime import date
from pathlib import Path
from typing import Any

from bot.settings import Settings, SettingsError, load_settings

HELP = """\
Run and look after the volunteer-service dispatch bot.

Everyday use:
  run                 set up the database, load the org chart and start the bot.
                      With no BOT_TOKEN it starts the built-in Telegram simulator and
                      prints the address of its web chat, so you can try everything offline.
Looking after it:
  db upgrade          bring the database schema up to date (safe to repeat)
  db downgrade REV    step the schema back (for developers)
  org load [FILE]     load or refresh the org chart (stations, teams, service catalogue)
  org show            print the org chart as the bot knows it
  staff add           appoint office staff, a station head, a unit's dispatcher
                      (--role dispatcher --unit CODE) or a team leader
  staff list          list everyone with a staff role
  staff remove        take a staff role away
  roster import FILE  register the volunteers of a CSV roster in a team: --team CODE
  forget --phone NUM  erase a resident who has no Telegram (ordered for, or imported)
  export xlsx         write the archive workbook (orders, events, hours, ratings,
                      volunteers, activities, attendance): --out FILE [--from --to]
  export photos       write a ZIP of the photos filed by village/month/number
  backup              copy the database while the bot runs: [--output FILE]
                      (SQLite: online copy, checked; PostgreSQL: pg_dump)
  restore FILE --yes  put a backup back in place (stop the bot first)
  i18n compile        compile the translations (done by `run` too)
  i18n update         extract new strings into locales/*.po (for developers)

Settings come from environment variables or a .env file; see README "Configuration".
"""


STAFF_ROLES = ["office", "station_head", "dispatcher", "team_leader", "admin"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="civic-dispatch", description=HELP, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    sub.add_parser("run", help="set up and start the bot (simulator when no BOT_TOKEN)")

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="action", required=True)
    db.add_parser("upgrade", help="migrate to the newest schema")
    down = db.add_parser("downgrade", help="migrate back to REVISION")
    down.add_argument("revision")

    org = sub.add_parser("org", help="org chart").add_subparsers(dest="action", required=True)
    load = org.add_parser("load", help="load the org config into the database")
    load.add_argument("file", nargs="?", type=Path, help="YAML file (default: ORG_CONFIG)")
    show = org.add_parser("show", help="print stations, platforms, teams and catalogue")
    show.add_argument("--town", help="town code (default: every town)")

    staff = sub.add_parser("staff", help="staff appointments")
    staff_sub = staff.add_subparsers(dest="action", required=True)
    add = staff_sub.add_parser("add", help="appoint someone by Telegram id")
    add.add_argument("--tg-id", type=int, required=True, help="the person's Telegram user id")
    add.add_argument("--name", help="their name, if they have not used the bot yet")
    add.add_argument("--role", required=True, choices=STAFF_ROLES)
    add.add_argument("--station", help="station code (for station_head)")
    add.add_argument("--team", help="team code (for team_leader)")
    add.add_argument("--unit", help="unit code, e.g. taole.culture_station (for dispatcher)")
    add.add_argument("--town", help="town code (for office; default: the only town)")
    staff_sub.add_parser("list", help="list staff")
    rm = staff_sub.add_parser("remove", help="take a role away")
    rm.add_argument("--tg-id", type=int, required=True)
    rm.add_argument("--role", required=True, choices=STAFF_ROLES)

    export = sub.add_parser("export", help="archives (XLSX workbook, ZIP of photos)")
    export_sub = export.add_subparsers(dest="action", required=True)
    for name, what in (("xlsx", "the archive workbook"), ("photos", "a ZIP of the photos")):
        e = export_sub.add_parser(name, help=f"write {what}")
        e.add_argument("--out", type=Path, required=True, help="the file to write")
        e.add_argument("--from", dest="date_from", type=_date, help="first day, YYYY-MM-DD")
        e.add_argument("--to", dest="date_to", type=_date, help="last day, YYYY-MM-DD")
        e.add_argument("--town", help="town code (default: every town)")
        e.add_argument("--station", help="station code: that village only")

    backup = sub.add_parser(
        "backup",
        help="back up the database (safe while the bot runs)",
        description="SQLite: an online copy with SQLite's backup API, checked with "
        "PRAGMA integrity_check. PostgreSQL: pg_dump --format=custom when pg_dump is "
        "installed; otherwise the exact commands are printed.",
    )
    backup.add_argument(
        "--output",
        type=Path,
        help="the file to write (default: data/backups/dispatch-YYYYmmdd-HHMMSS.sqlite3, "
        "or .dump for PostgreSQL)",
    )
    restore = sub.add_parser(
        "restore",
        help="restore a backup made by `backup` (stop the bot first)",
        description="SQLite: checks the file (integrity, a schema revision this version "
        "knows), refuses while the database is open elsewhere, keeps the current file as "
        "<name>.before-restore. PostgreSQL: pg_restore --clean.",
    )
    restore.add_argument("file", type=Path, help="the backup file")
    restore.add_argument("--yes", action="store_true", help="really replace the database")

    roster = sub.add_parser("roster", help="volunteer rosters")
    roster_sub = roster.add_subparsers(dest="action", required=True)
    imp = roster_sub.add_parser(
        "import",
        help="import a CSV roster into a team",
        description="Columns: name, phone, telegram_id (optional), station (code or name), "
        "skills, party_member (yes/no). Bad rows are reported with their line numbers; good "
        "rows are imported; importing the same file again changes nothing.",
    )
    imp.add_argument("file", type=Path, help="the CSV file (UTF-8)")
    imp.add_argument("--team", required=True, help="team code, e.g. taole.health (see org show)")

    forget = sub.add_parser(
        "forget",
        help="erase a resident without Telegram",
        description="Erase the personal data of residents with this phone number who have "
        "no Telegram (placed for by station staff, or imported); figures stay. Someone who "
        "uses the bot erases themselves with /forget.",
    )
    forget.add_argument("--phone", required=True, help="their phone number")

    i18n = sub.add_parser("i18n", help="translations").add_subparsers(dest="action", required=True)
    i18n.add_parser("compile", help="compile .po catalogues to .mo")
    i18n.add_parser("update", help="extract strings and merge them into the catalogues")
    return p


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _run_async(fn: Callable[..., Coroutine[Any, Any, int]], *args: Any) -> int:
    return asyncio.run(fn(*args))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"Configuration error:\n{exc}", file=sys.stderr)
        return 2
    try:
        return _dispatch(args, settings)
    except KeyboardInterrupt:
        return 130


SCHEMA_FIRST = ("org", "staff", "export", "roster", "forget")


def _changes(args: argparse.Namespace) -> bool:
    """Whether the command writes to the database (then it may set it up first)."""
    reading = {("org", "show"), ("staff", "list"), ("export", "xlsx"), ("export", "photos")}
    return (args.command, getattr(args, "action", None)) not in reading


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    from bot import commands

    if args.command == "run":
        return commands.run(settings)
    if args.command == "db":
        return commands.db(settings, args.action, getattr(args, "revision", None))
    if args.command in SCHEMA_FIRST:
        # Commands that change something set the database up, as `run` does; the ones
        # that only read say what to run, rather than answer from an empty database.
        problem = commands.ready(settings, migrate=_changes(args))
        if problem:
            print(problem, file=sys.stderr)
            return 1
    if args.command == "org":
        if args.action == "load":
            return _run_async(commands.org_load, settings, args.file)
        return _run_async(commands.org_show, settings, args.town)
    if args.command == "staff":
        return _run_async(commands.staff, settings, args)
    if args.command == "export":
        return _run_async(commands.export, settings, args)
    if args.command == "backup":
        return commands.backup(settings, args.output)
    if args.command == "restore":
        return commands.restore(settings, args.file, yes=args.yes)
    if args.command == "roster":
        return commands.roster_import(settings, args.file, args.team)
    if args.command == "forget":
        return _run_async(commands.forget, settings, args.phone)
    if args.command == "i18n":
        return commands.i18n_update() if args.action == "update" else commands.i18n_compile()
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
