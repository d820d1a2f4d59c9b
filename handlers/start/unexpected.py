"""Registration: an answer that is not one (a sticker, a photo, text where the phone button
was asked) is told so; the step stays."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from handlers.start.states import Registration


async def wrong_input(message: Message, state: FSMContext) -> None:
    if await state.get_state() == Registration.phone.state:
        text = _("Please use the button below to share your number, or tap «Skip».")
    else:
        text = _("Please answer with text, or tap one of the buttons.")
    await message.answer(text)


def router() -> Router:
    r = Router(name="start.unexpected")
    r.message.register(wrong_input, StateFilter(Registration))
    return r
