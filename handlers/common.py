"""Small helpers shared by handlers."""

from __future__ import annotations

from aiogram.types import Message
from aiogram.utils.i18n import gettext as _


async def too_long(message: Message, text: str, limit: int) -> bool:
    """Say so when `text` is over `limit`; the conversation stays where it was."""
    if len(text) <= limit:
        return False
    await message.answer(
        _("That is too long ({n} characters). Please keep it under {max}.").format(
            n=len(text), max=limit
        )
    )
    return True
