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
from views.menu import (
    BTN_ACTIVITIES,
    BTN_ADD_VOLUNTEER,
    BTN_APPOINT,
    BTN_HELP,
    BTN_JOIN,
    BTN_KPI,
    BTN_LANGUAGE,
    BTN_ME,
    BTN_MY_ORDERS,
    BTN_MY_TASKS,
    BTN_NOTICES,
    BTN_ORDER,
    BTN_PROXY_ORDER,
    BTN_REPORTS,
    BTN_TEAM_ORDERS,
    BTN_UNITS,
    BTN_VILLAGE_ORDERS,
)

MENU = (
    BTN_ORDER,
    BTN_MY_ORDERS,
    BTN_TEAM_ORDERS,
    BTN_MY_TASKS,
    BTN_VILLAGE_ORDERS,
    BTN_PROXY_ORDER,
    BTN_APPOINT,
    BTN_ADD_VOLUNTEER,
    BTN_NOTICES,
    BTN_JOIN,
    BTN_ACTIVITIES,
    BTN_ME,
    BTN_KPI,
    BTN_REPORTS,
    BTN_UNITS,
    BTN_LANGUAGE,
    BTN_HELP,
)


def off_script(message: Message) -> bool:
    """Neither a command nor a main-menu button (in the reader's language)."""
    text = message.text or ""
    return not text.startswith("/") and text not in {str(b) for b in MENU}


async def unexpected(message: Message, state: FSMContext) -> None:
    step = step_of(await state.get_state())
    if step is not None:
        await message.answer(_(step.hint))


def router() -> Router:
    r = Router(name="broadcast.unexpected")
    r.message.register(unexpected, StateFilter(NoticeForm), off_script)
    return r
