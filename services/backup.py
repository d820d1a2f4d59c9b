"""Backups and restores of the database, with no Telegram in sight.

SQLite: an online copy through SQLite's backup API, safe while the bot writes (in WAL mode a
reader does not block the writer, and the copy is taken in one step, so it is one consistent
snapshot), checked with `PRAGMA integrity_check`. A restore checks that the file is one of
ours (an `alembic_version` at a revision we know), refuses while another process has the
database open, and keeps the current file aside.

PostgreSQL: `pg_dump --format=custom` and `pg_restore`, with the libpq URL derived from
DATABASE_URL; the password travels in PGPASSWORD, never on a command line (`ps` shows those).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL, make_url

from models.migrate import alembic_config

SQLITE_MAGIC = b"SQLite format 3\x00"
# SQLite's own "dead man switch" lock byte in the -shm file: every process with the database
# open in WAL mode holds a shared lock on it (os_unix.c, UNIX_SHM_DMS = (22 + 8) * 4 + 8).
_SHM_DMS_BYTE = 128


class BackupError(Exception):
    """The backup or restore cannot go ahead; the message says why, for an operator."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    revision: str | None
    seconds: float


@dataclass(frozen=True)
class RestoreResult:
    revision: str
    head: str
    kept_aside: Path | None

    @property
    def needs_upgrade(self) -> bool:
        return self.revision != self.head


def is_sqlite(database_url: str) -> bool:
    return make_url(database_url).get_backend_name() == "sqlite"


def sqlite_file(database_url: str) -> Path:
    """The database file behind a `sqlite+aiosqlite:///…` URL."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise BackupError(f"not a SQLite database file: {url.render_as_string()}")
    return Path(url.database)


def default_backup_path(
    directory: Path, now: datetime | None = None, suffix: str = ".sqlite3"
) -> Path:
    """`dispatch-YYYYmmdd-HHMMSS.sqlite3` in `directory`, in the host's local time (what an
    operator reading the folder expects)."""
    stamp = (now or datetime.now().astimezone()).strftime("%Y%m%d-%H%M%S")
    return directory / f"dispatch-{stamp}{suffix}"


# --- SQLite -------------------------------------------------------------------------------


def _connect(path: Path) -> sqlite3.Connection:
    # The bot's writer may hold the lock for a moment; wait as long as the bot itself does.
    conn = sqlite3.connect(str(path), timeout=30, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def integrity_check(path: Path) -> str:
    """ "ok", or SQLite's first complaint about the file."""
    try:
        with closing(_connect(path)) as conn:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    return "; ".join(str(row[0]) for row in rows[:5]) or "no answer"


def sqlite_revision(path: Path) -> str | None:
    """The Alembic revision recorded in the file, or None if it has no `alembic_version`."""
    with closing(_connect(path)) as conn:
        try:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError:
            return None
    return row[0] if row else None


def _copy_whole(source: Path, copy: Path, *, self_contained: bool) -> None:
    """Copy the database at `source` into a new file `copy` through SQLite's backup API;
    `self_contained` leaves it out of WAL mode."""
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.unlink(missing_ok=True)
    with closing(_connect(source)) as src, closing(sqlite3.connect(str(copy))) as out:
        # pages=-1: the whole database in one step under one read transaction, so writes
        # made meanwhile neither restart the copy nor get half into it.
        src.backup(out, pages=-1)
        if self_contained:
            out.execute("PRAGMA journal_mode=DELETE")
    # It holds names and phone numbers: readable by the bot's user only.
    os.chmod(copy, 0o600)


def backup_sqlite(source: Path, dest: Path) -> BackupResult:
    """Copy a live SQLite database to `dest` and check the copy.

    The copy is written beside `dest` first and renamed into place only when
    `integrity_check` says ok, so a failed backup never leaves a file that looks good."""
    if not source.is_file():
        raise BackupError(f"no database at {source}")
    started = time.monotonic()
    partial = dest.with_name(dest.name + ".partial")
    try:
        # One self-contained file: no -wal beside it to forget when copying it off-site.
        _copy_whole(source, partial, self_contained=True)
        verdict = integrity_check(partial)
        if verdict != "ok":
            raise BackupError(f"the copy failed its integrity check: {verdict}")
        revision = sqlite_revision(partial)
        os.replace(partial, dest)
    except sqlite3.Error as exc:
        raise BackupError(f"backup of {source} failed: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(dest, dest.stat().st_size, revision, time.monotonic() - started)


def database_in_use(path: Path) -> bool:
    """Whether another process has this SQLite database open (in WAL mode, as the bot
    always opens it). Locks held by this very process do not count (POSIX locks)."""
    shm = path.with_name(path.name + "-shm")
    if not shm.exists():
        return False  # every WAL connection maps the -shm file; no file, no connection
    try:
        import fcntl  # POSIX only: imported where it is needed, so Windows can still run
    except ImportError:  # not POSIX: cannot tell, so assume the worst
        return True
    try:
        fd = os.open(shm, os.O_RDWR)
    except OSError:
        return True
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, _SHM_DMS_BYTE)
    except OSError:
        return True
    else:
        fcntl.lockf(fd, fcntl.LOCK_UN, 1, _SHM_DMS_BYTE)
        return False
    finally:
        os.close(fd)


def known_revisions(database_url: str) -> tuple[set[str], str]:
    """Every revision in our migrations, and the head."""
    script = ScriptDirectory.from_config(alembic_config(database_url))
    heads = script.get_heads()
    if len(heads) != 1:
        raise BackupError(f"the migrations have {len(heads)} heads; merge them first")
    return {rev.revision for rev in script.walk_revisions()}, heads[0]


def check_sqlite_backup(path: Path, database_url: str) -> str:
    """The file's revision if it is a sound database of ours; BackupError otherwise."""
    if not path.is_file():
        raise BackupError(f"no file at {path}")
    with path.open("rb") as fh:
        if fh.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise BackupError(f"{path} is not a SQLite database")
    verdict = integrity_check(path)
    if verdict != "ok":
        raise BackupError(f"{path} fails its integrity check: {verdict}")
    revision = sqlite_revision(path)
    if revision is None:
        raise BackupError(f"{path} has no alembic_version table: not a dispatch database")
    known, _head = known_revisions(database_url)
    if revision not in known:
        raise BackupError(
            f"{path} is at schema revision {revision!r}, which this version does not know "
            "(a newer release made it?)"
        )
    return revision


def restore_sqlite(backup: Path, database_url: str) -> RestoreResult:
    """Put `backup` in place of the database in `database_url`.

    The current file (if any) is kept as `<name>.before-restore`. Refuses while another
    process (the bot) has the database open: it would go on writing to the old file."""
    target = sqlite_file(database_url)
    revision = check_sqlite_backup(backup, database_url)
    _known, head = known_revisions(database_url)
    if backup.resolve() == target.resolve():
        raise BackupError("that is the database itself")
    if database_in_use(target):
        raise BackupError(
            f"{target} is open in another process (is the bot running?); stop it first"
        )
    incoming = target.with_name(target.name + ".restoring")
    try:
        # Through the backup API rather than a file copy: a backup that was itself in WAL
        # mode (copied with its -wal) still arrives whole.
        _copy_whole(backup, incoming, self_contained=False)
        kept_aside = None
        if target.exists():
            # Fold the write-ahead log into the file first, so the copy kept aside is whole.
            with closing(_connect(target)) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            kept_aside = target.with_name(target.name + ".before-restore")
            if kept_aside.exists():  # never overwrite an earlier safety copy
                stamp = datetime.now().astimezone().strftime("%Y%m%d-%H%M%S")
                kept_aside = kept_aside.with_name(f"{kept_aside.name}-{stamp}")
            os.replace(target, kept_aside)
        for leftover in ("-wal", "-shm"):
            target.with_name(target.name + leftover).unlink(missing_ok=True)
        os.replace(incoming, target)
    except sqlite3.Error as exc:
        raise BackupError(f"restore into {target} failed: {exc}") from exc
    finally:
        incoming.unlink(missing_ok=True)
    return RestoreResult(revision, head, kept_aside)


# --- PostgreSQL -----------------------------------------------------------------------------


def _pg_url(database_url: str) -> URL:
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise BackupError(f"not a PostgreSQL URL: {url.render_as_string()}")
    return url.set(drivername="postgresql")


def libpq_url(database_url: str) -> str:
    """`postgresql://user@host:port/db` (no password) for pg_dump and pg_restore."""
    url = _pg_url(database_url)
    # URL.set(password=None) means "unchanged"; build it again without one.
    bare = URL.create(
        url.drivername, url.username, None, url.host, url.port, url.database, url.query
    )
    return bare.render_as_string(hide_password=False)


def pg_environment(database_url: str) -> dict[str, str]:
    """The environment for pg_dump/pg_restore: ours plus PGPASSWORD when the URL has one."""
    env = dict(os.environ)
    password = _pg_url(database_url).password
    if password:
        env["PGPASSWORD"] = str(password)
    return env


def pg_dump_command(database_url: str, output: Path) -> list[str]:
    # --no-owner: the dump restores under whichever role runs pg_restore.
    return [
        "pg_dump",
        "--format=custom",
        "--no-owner",
        f"--file={output}",
        f"--dbname={libpq_url(database_url)}",
    ]


def pg_restore_command(database_url: str, dump: Path) -> list[str]:
    # --clean --if-exists drops what is there first; --single-transaction: all or nothing.
    return [
        "pg_restore",
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        f"--dbname={libpq_url(database_url)}",
        str(dump),
    ]


def shell_line(command: Sequence[str]) -> str:
    return shlex.join(command)


def have_tool(name: str) -> bool:
    return shutil.which(name) is not None


def _run(command: list[str], database_url: str) -> None:
    done = subprocess.run(
        command, env=pg_environment(database_url), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip()
        raise BackupError(f"{command[0]} failed (exit {done.returncode}): {detail}")


def backup_postgres(database_url: str, output: Path) -> BackupResult:
    """`pg_dump --format=custom` into `output` (written beside it first, then renamed)."""
    started = time.monotonic()
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    try:
        _run(pg_dump_command(database_url, partial), database_url)
        os.chmod(partial, 0o600)
        # A dump that pg_restore cannot list is no backup.
        _run(["pg_restore", "--list", str(partial)], database_url)
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(output, output.stat().st_size, None, time.monotonic() - started)


def restore_postgres(database_url: str, dump: Path) -> None:
    """`pg_restore --clean` of a custom-format dump into the database in `database_url`."""
    if not dump.is_file():
        raise BackupError(f"no file at {dump}")
    listing = subprocess.run(
        ["pg_restore", "--list", str(dump)], capture_output=True, text=True, check=False
    )
    if listing.returncode != 0:
        raise BackupError(f"{dump} is not a pg_dump custom-format file: {listing.stderr.strip()}")
    if not re.search(r"\bTABLE \S+ alembic_version\b", listing.stdout):
        raise BackupError(f"{dump} has no alembic_version table: not a dispatch database")
    _run(pg_restore_command(database_url, dump), database_url)
