"""⬅ Back in the compose form: the step before, on the way the answers took (STEPS)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.broadcast.states import NoticeForm, Turn, ask, previous_step, step_of
from handlers.common import Settings
from services.people import Roles
from views.menu import BTN_BACK, main_menu


async def back(
    message: Message, state: FSMContext, session: AsyncSession, roles: Roles, settings: Settings
) -> None:
    step = step_of(await state.get_state())
    previous = previous_step(step.state, await state.get_data()) if step else None
    if previous is None:  # before the first question: the notice is given up
        await state.clear()
        await message.answer(_("Stopped. Nothing was saved."), reply_markup=main_menu(roles))
        return
    await ask(previous, Turn(message, state, session, roles, settings))


def router() -> Router:
    r = Router(name="broadcast.back")
    r.message.register(back, StateFilter(NoticeForm), F.text == BTN_BACK)
    return r
