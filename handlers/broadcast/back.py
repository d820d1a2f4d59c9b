"""⬅ Back in the compose form: the step before, on the way the answers took (STEPS)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from handlers.broadcast.states import NoticeForm, Turn, ask, previous_step, step_of, with_turn
from views.menu import BTN_BACK, main_menu


async def back(message: Message, turn: Turn) -> None:
    step = step_of(await turn.state.get_state())
    previous = previous_step(step.state, await turn.state.get_data()) if step else None
    if previous is None:  # before the first question: the notice is given up
        await turn.state.clear()
        await message.answer(_("Stopped. Nothing was saved."), reply_markup=main_menu(turn.roles))
        return
    await ask(previous, turn)


def router() -> Router:
    r = Router(name="broadcast.back")
    r.message.register(back, StateFilter(NoticeForm), F.text == BTN_BACK, with_turn)
    return r
