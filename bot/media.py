"""Photos and voice notes: kept as Telegram file ids and downloaded into the media folder."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from models.db import private_dir

log = logging.getLogger("civic_dispatch.media")


async def save_attachment(
    bot: Bot, media_dir: Path, file_id: str, file_unique_id: str, ext: str
) -> str | None:
    """Download a file for the archive; returns its path relative to `media_dir`, or None
    when the download failed (the file id is kept either way, so nothing is lost)."""
    relative = Path("inbox") / f"{file_unique_id}.{ext}"
    target = media_dir / relative
    if target.exists():
        return str(relative)
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

    async def save(self, bot: Bot, file_id: str, file_unique_id: str, ext: str) -> str | None:
        return await save_attachment(bot, self.media_dir, file_id, file_unique_id, ext)
