"""The kind of help (service area), in the resident's own words."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.ordering import heard
from handlers.ordering.flow import advance, asks
from handlers.ordering.states import OrderForm
from models import User
from services.i18n import local_name
from services.org import service_areas
from views.format import locale
from views.menu import BTN_BACK, choices_keyboard


@asks(OrderForm.area)
async def ask_area(message: Message, state: FSMContext, session: AsyncSession) -> None:
    data = await state.get_data()
    areas = await service_areas(session, data["town_id"])  # set when the form begins
    await message.answer(
        _("What kind of help do you need?"),
        reply_markup=choices_keyboard([local_name(a, locale()) for a in areas], back=False),
    )


async def area_chosen(
    message: Message, state: FSMContext, session: AsyncSession, user: User
) -> None:
    data = await state.get_data()
    areas = {local_name(a, locale()): a for a in await service_areas(session, data["town_id"])}
    area = areas.get(message.text or "")
    if area is None:  # not one of the buttons: the need in their own words
        await heard.not_a_choice(message, state, session, user)
        return
    await state.update_data(area_id=area.id)
    await advance(message, state, session, OrderForm.area)


def router() -> Router:
    r = Router(name="ordering.area")
    r.message.register(area_chosen, OrderForm.area, F.text, F.text != BTN_BACK)
    return r
