"""The kind of help (service area), in the resident's own words."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import ask_choice
from handlers.ordering.flow import asks
from handlers.ordering.states import OrderForm
from models import ServiceArea
from services.org import service_areas
from views.format import by_name


async def areas(state: FSMContext, session: AsyncSession) -> dict[str, ServiceArea]:
    town_id = (await state.get_data())["town_id"]  # set when the form begins
    return by_name(await service_areas(session, town_id))


@asks(OrderForm.area)
async def ask_area(message: Message, state: FSMContext, session: AsyncSession) -> None:
    await ask_choice(message, _("What kind of help do you need?"), await areas(state, session))
