"""What a notice builder returns: the Bot API method and its parameters, ready to send.

Shared by bot/notices.py and bot/notices_activities.py (which the former imports)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models import OutboxMessage

Rendered = tuple[str, dict[str, Any]]
Build = Callable[[AsyncSession, OutboxMessage, dict[str, Any]], Awaitable[Rendered | None]]


def message(
    chat_id: int, lines: list[str], markup: Any = None, photo: str | None = None
) -> Rendered:
    """A text message, or a photo with the lines as its caption (Telegram's limits: 4096
    characters of text, 1024 of caption)."""
    params: dict[str, Any] = {"chat_id": chat_id}
    if photo:
        method = "sendPhoto"
        params.update(photo=photo, caption="\n".join(lines)[:1024])
    else:
        method = "sendMessage"
        params["text"] = "\n".join(lines)[:4096]
    if markup is not None:
        params["reply_markup"] = markup
    return method, params
