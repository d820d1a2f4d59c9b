"""Which service of the chosen area."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.ordering import heard
from handlers.ordering.flow import advance, asks
from handlers.ordering.states import OrderForm
from models import ServiceCategory, User
from services.org import categories_in_area
from views.format import by_name
from views.menu import BTN_BACK, choices_keyboard


async def _categories(state: FSMContext, session: AsyncSession) -> dict[str, ServiceCategory]:
    area_id = (await state.get_data())["area_id"]
    return by_name(await categories_in_area(session, area_id))


@asks(OrderForm.category)
async def ask_category(message: Message, state: FSMContext, session: AsyncSession) -> None:
    cats = await _categories(state, session)
    await message.answer(_("Which of these?"), reply_markup=choices_keyboard(cats))


async def category_chosen(
    message: Message, state: FSMContext, session: AsyncSession, user: User
) -> None:
    cat = (await _categories(state, session)).get(message.text or "")
    if cat is None:  # not one of the buttons: the need in their own words
        await heard.not_a_choice(message, state, session, user)
        return
    await state.update_data(category_id=cat.id)
    await advance(message, state, session, OrderForm.category)


def router() -> Router:
    r = Router(name="ordering.category")
    r.message.register(category_chosen, OrderForm.category, F.text, F.text != BTN_BACK)
    return r
