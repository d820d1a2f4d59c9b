"""Moving through the order form: each step registers how it is asked (`@asks`); entering a
step, the next one, «Back» and "that was not what I asked" all follow states.STEPS."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import step_after
from handlers.ordering.states import (
    FINISHES_PREVIOUS,
    PROXY_STEPS,
    STEPS,
    OrderForm,
    ProxyForm,
    home,
    step_before,
)
from services.people import Roles
from views.menu import BTN_BACK, main_menu

Ask = Callable[[Message, FSMContext, AsyncSession], Awaitable[None]]

_ASK: dict[str, Ask] = {}
_HINT: dict[str, Callable[[], str]] = {}


def asks(step: State, *, hint: Callable[[], str] | None = None) -> Callable[[Ask], Ask]:
    """Register how `step` is asked, and what to say when the answer is not one (`hint`)."""

    def register(ask: Ask) -> Ask:
        _ASK[str(step.state)] = ask
        if hint is not None:
            _HINT[str(step.state)] = hint
        return ask

    return register


async def new_form(state: FSMContext, **answers: Any) -> None:
    """A fresh order form holding `answers`, with its own token (the summary's buttons and
    the order carry it: a second tap of Confirm finds the order it made)."""
    await state.clear()
    await state.update_data(token=secrets.token_hex(8), **answers)


async def enter(message: Message, state: FSMContext, session: AsyncSession, step: State) -> None:
    await state.set_state(step)
    await _ASK[str(step.state)](message, state, session)


async def advance(message: Message, state: FSMContext, session: AsyncSession, done: State) -> None:
    """`done` was answered: ask the next step. While editing one part from the summary, the
    summary comes next (unless the next step finishes the part, as the slot does the day)."""
    at = home(done.state)
    step = step_after(STEPS, at) or step_after(PROXY_STEPS, at)
    data = await state.get_data()
    if step is None or (data.get("editing") and step not in FINISHES_PREVIOUS):
        await state.update_data(editing=False)
        step = OrderForm.confirm
    await enter(message, state, session, step)


async def back(message: Message, state: FSMContext, session: AsyncSession, roles: Roles) -> None:
    previous = step_before(await state.get_state())
    if previous is None:
        await state.clear()
        await message.answer(_("Cancelled. Nothing was sent."), reply_markup=main_menu(roles))
        return
    await enter(message, state, session, previous)


async def unexpected(message: Message, state: FSMContext) -> None:
    # A sticker, a photo where text was asked, a command out of turn: say so, stay here.
    hint = _HINT.get(await state.get_state() or "")
    await message.answer(
        hint() if hint else _("Please tap one of the buttons below, or write your answer as text.")
    )


def router() -> Router:
    """Included after every step: its handlers catch what no step took."""
    r = Router(name="ordering.flow")
    r.message.register(back, StateFilter(OrderForm, ProxyForm), F.text == BTN_BACK)
    r.message.register(unexpected, StateFilter(OrderForm, ProxyForm))
    return r
