"""Which service of the chosen area."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.ordering.flow import asks
from handlers.ordering.states import OrderForm
from models import ServiceCategory
from services.org import categories_in_area
from views.format import by_name
from views.menu import choices_keyboard


async def categories(state: FSMContext, session: AsyncSession) -> dict[str, ServiceCategory]:
    area_id = (await state.get_data())["area_id"]
    return by_name(await categories_in_area(session, area_id))


@asks(OrderForm.category)
async def ask_category(message: Message, state: FSMContext, session: AsyncSession) -> None:
    cats = await categories(state, session)
    await message.answer(_("Which of these?"), reply_markup=choices_keyboard(cats))
