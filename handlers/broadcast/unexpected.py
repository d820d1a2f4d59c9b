"""Anything else said in the middle of the compose form (a sticker, words where a button was
asked): say what the step wants and stay there. Commands and the main menu's buttons still
work (their own handlers come later)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from handlers.broadcast.states import NoticeForm, step_of
from views.menu import MENU_BUTTONS


def off_script(message: Message) -> bool:
    """Neither a command nor a main-menu button (in the reader's language)."""
    text = message.text or ""
    return not text.startswith("/") and text not in {str(b) for b in MENU_BUTTONS}


async def unexpected(message: Message, state: FSMContext) -> None:
    step = step_of(await state.get_state())
    if step is not None:
        await message.answer(_(step.hint))


def router() -> Router:
    r = Router(name="broadcast.unexpected")
    r.message.register(unexpected, StateFilter(NoticeForm), off_script)
    return r
