"""Small helpers shared by handlers."""

from __future__ import annotations

from aiogram.fsm.state import State
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


def step_after(steps: tuple[State, ...], step: State) -> State:
    """The step that follows `step` in a form's list of steps."""
    return steps[steps.index(step) + 1]
