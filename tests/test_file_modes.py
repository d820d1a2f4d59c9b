"""What the bot writes about people is for its own user only: the SQLite database (and its
-wal/-shm files) 0600 in folders it makes 0700, downloaded photos 0600 in a 0700 media
folder, whatever the umask; the README's systemd unit sets UMask=0077 for the rest."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.media import save_attachment
from models.db import make_engine
from simulator.driver import TINY_JPEG

ROOT = Path(__file__).resolve().parent.parent


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def lax_umask() -> Iterator[None]:
    """The usual 022, under which files would be 0644 and folders 0755."""
    old = os.umask(0o022)
    yield
    os.umask(old)


async def test_the_sqlite_database_is_0600_in_folders_made_0700(tmp_path, lax_umask):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    path = shared / "data" / "deep" / "dispatch.sqlite3"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
            await conn.execute(text("INSERT INTO t VALUES (13912345678)"))
        async with engine.connect() as conn:  # the -wal and -shm files exist while open
            await conn.execute(text("SELECT x FROM t"))
            files = [p for p in path.parent.iterdir() if p.name.startswith(path.name)]
            assert {p.name for p in files} >= {path.name, f"{path.name}-wal"}
            assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}
    finally:
        await engine.dispose()
    assert mode(shared / "data") == mode(shared / "data" / "deep") == 0o700
    assert mode(shared) == 0o755  # a folder that was there is left as its owner set it


async def test_a_downloaded_photo_is_0600_in_a_0700_media_folder(bot_env, tmp_path, lax_umask):
    stored = bot_env.sim.world.files.add(TINY_JPEG, "photo")
    media = tmp_path / "fresh-media"
    relative = await save_attachment(
        bot_env.bot, media, stored.file_id, stored.file_unique_id, "jpg"
    )
    assert relative is not None
    assert (media / relative).read_bytes() == TINY_JPEG
    assert mode(media / relative) == 0o600
    assert mode(media) == mode((media / relative).parent) == 0o700


def test_the_systemd_unit_in_the_readme_sets_a_private_umask() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    unit = readme.split("civic-dispatch@.service`:", 1)[1].split("```ini", 1)[1]
    service = unit.split("```", 1)[0].split("[Service]", 1)[1].split("[Install]", 1)[0]
    assert "\nUMask=0077\n" in service
