"""Photos and voice notes: kept as Telegram file ids and downloaded into the media folder."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from models import utcnow
from models.db import private_dir

log = logging.getLogger("civic_dispatch.media")

DOWNLOADS_PER_DAY = 60  # files one person may have downloaded a day; beyond, ids only
EXTENSIONS = {"photo": "jpg", "voice": "ogg"}
TALLY_DIR = "download-tally"  # a folder a day, a file a person in it, in the shared media folder


def _within_cap(media_dir: Path, owner: int | None) -> bool:
    """Count one download for `owner` today; False once they are over the daily cap.

    The count lives in the media folder, not in this process, so the cap holds across webhook
    workers and restarts: each download appends one byte to the person's file for the day
    (appends never interleave), and the file's size is the count."""
    if owner is None:
        return True
    day = utcnow().date().isoformat()  # the bot's clock: tests set it
    folder = media_dir / TALLY_DIR / day
    if not folder.exists():  # the day's first download: forget earlier days, once
        for old in (media_dir / TALLY_DIR).glob("*"):
            if old.name != day:  # another worker may have just made today's
                shutil.rmtree(old, ignore_errors=True)
        private_dir(folder)
    fd = os.open(folder / str(owner), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, b".")
        count = os.fstat(fd).st_size
    finally:
        os.close(fd)
    return count <= DOWNLOADS_PER_DAY


async def save_kept(
    bot: Bot, media_dir: Path, attachments: Sequence[Sequence[str | None]], owner: int
) -> tuple[list[tuple[str, str, str, str | None]], list[str]]:
    """Download the attachments an order keeps, when it is placed (not while the form is
    filled in: a photo sent and then gone back over leaves no file behind). Returns them
    with their paths, and the paths downloaded now (to `discard` if the order is refused)."""
    kept, fresh = [], []
    for kind, file_id, unique_id, path in attachments:
        assert kind is not None and file_id is not None and unique_id is not None
        if path is None:
            ext = EXTENSIONS.get(kind, "bin")
            existed = (media_dir / "inbox" / f"{unique_id}.{ext}").exists()
            path = await save_attachment(bot, media_dir, file_id, unique_id, ext, owner=owner)
            if path is not None and not existed:
                fresh.append(path)
        kept.append((kind, file_id, unique_id, path))
    return kept, fresh


def discard(media_dir: Path, paths: Sequence[str]) -> None:
    """Delete files downloaded for an order that was not placed after all."""
    for path in paths:
        (media_dir / path).unlink(missing_ok=True)


async def save_attachment(
    bot: Bot,
    media_dir: Path,
    file_id: str,
    file_unique_id: str,
    ext: str,
    *,
    owner: int | None = None,
) -> str | None:
    """Download a file for the archive; returns its path relative to `media_dir`, or None
    when the download failed or `owner` is over the daily cap (the file id is kept either
    way, so nothing is lost)."""
    relative = Path("inbox") / f"{file_unique_id}.{ext}"
    target = media_dir / relative
    if target.exists():
        return str(relative)
    if not _within_cap(media_dir, owner):
        log.warning("daily download cap reached for user %s; keeping the file id only", owner)
        return None
    private_dir(target.parent)
    try:
        await bot.download(file_id, destination=target)
        os.chmod(target, 0o600)
    except (TelegramAPIError, OSError) as exc:
        log.warning("could not download %s: %s", file_unique_id, exc)
        return None
    return str(relative)


@dataclass(frozen=True)
class MediaStore:
    """The media folder, as handlers get it (`media`): they save what people send."""

    media_dir: Path

    async def save(
        self, bot: Bot, file_id: str, file_unique_id: str, ext: str, *, owner: int | None = None
    ) -> str | None:
        return await save_attachment(bot, self.media_dir, file_id, file_unique_id, ext, owner=owner)

    async def save_kept(
        self, bot: Bot, attachments: Sequence[Sequence[str | None]], owner: int
    ) -> tuple[list[tuple[str, str, str, str | None]], list[str]]:
        return await save_kept(bot, self.media_dir, attachments, owner)

    def discard(self, paths: Sequence[str]) -> None:
        discard(self.media_dir, paths)
