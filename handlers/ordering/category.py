"""Which service of the chosen area."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import picked
from handlers.ordering.flow import advance, asks
from handlers.ordering.states import OrderForm
from models import ServiceCategory
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


async def category_chosen(message: Message, state: FSMContext, session: AsyncSession) -> None:
    if cat := await picked(message, await _categories(state, session)):
        await state.update_data(category_id=cat.id)
        await advance(message, state, session, OrderForm.category)


def router() -> Router:
    r = Router(name="ordering.category")
    r.message.register(category_chosen, OrderForm.category, F.text, F.text != BTN_BACK)
    return r
