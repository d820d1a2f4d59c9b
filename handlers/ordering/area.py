"""The kind of help (service area), in the resident's own words."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import ask_choice
from handlers.ordering import heard
from handlers.ordering.flow import advance, asks
from handlers.ordering.states import OrderForm
from models import ServiceArea, User
from services.org import service_areas
from views.format import by_name
from views.menu import BTN_BACK


async def _areas(state: FSMContext, session: AsyncSession) -> dict[str, ServiceArea]:
    town_id = (await state.get_data())["town_id"]  # set when the form begins
    return by_name(await service_areas(session, town_id))


@asks(OrderForm.area)
async def ask_area(message: Message, state: FSMContext, session: AsyncSession) -> None:
    areas = await _areas(state, session)
    await ask_choice(message, _("What kind of help do you need?"), areas)


async def area_chosen(
    message: Message, state: FSMContext, session: AsyncSession, user: User
) -> None:
    area = (await _areas(state, session)).get(message.text or "")
    if area is None:  # not one of the buttons: the need in their own words
        await heard.not_a_choice(message, state, session, user)
        return
    await state.update_data(area_id=area.id)
    await advance(message, state, session, OrderForm.area)


def router() -> Router:
    r = Router(name="ordering.area")
    r.message.register(area_chosen, OrderForm.area, F.text, F.text != BTN_BACK)
    return r
