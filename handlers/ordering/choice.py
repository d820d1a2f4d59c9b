"""The area, then the service: a tap on one of the offered buttons answers the step; any
other words are the need in the resident's own words."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.ordering import area, category, heard
from handlers.ordering.flow import advance
from handlers.ordering.states import OrderForm
from models import User
from views.menu import BTN_BACK

Offered = Callable[[FSMContext, AsyncSession], Awaitable[Mapping[str, Any]]]

# Each choosing step: what its buttons offer (label → choice), and where the answer is kept.
CHOICES: dict[str, tuple[State, Offered, str]] = {
    str(step.state): (step, offered, key)
    for step, offered, key in (
        (OrderForm.area, area.areas, "area_id"),
        (OrderForm.category, category.categories, "category_id"),
    )
}


async def chosen(message: Message, state: FSMContext, session: AsyncSession, user: User) -> None:
    step, offered, key = CHOICES[str(await state.get_state())]
    choice = (await offered(state, session)).get(message.text or "")
    if choice is None:  # not one of the buttons: the need in their own words
        await heard.not_a_choice(message, state, session, user)
        return
    await state.update_data({key: choice.id})
    await advance(message, state, session, step)


def router() -> Router:
    r = Router(name="ordering.choice")
    steps = StateFilter(*(step for step, _, _ in CHOICES.values()))
    r.message.register(chosen, steps, F.text, F.text != BTN_BACK)
    return r
