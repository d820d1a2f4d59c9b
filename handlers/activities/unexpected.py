"""Input a step of the publishing form did not ask for: the step's hint, and the form stays
where it was. Registered after every step's own handlers (see __init__.py)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from handlers.activities.states import STEPS, PublishActivity


def _hint(step: str | None) -> str:
    if step == PublishActivity.location.state:
        return _("Please send the location with the button below, or tap «Skip».")
    if step == PublishActivity.confirm.state:
        return _("Please use the buttons above: «Publish» or «Cancel».")
    return _("Please answer with text, or tap one of the buttons.")


async def unexpected(message: Message, state: FSMContext) -> None:
    await message.answer(_hint(await state.get_state()))


def router() -> Router:
    r = Router(name="activities.unexpected")
    r.message.register(unexpected, StateFilter(*STEPS))
    return r
