"""Starting an order: a resident for themselves, or station staff for a resident."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.ordering.flow import enter, new_form
from handlers.ordering.states import OrderForm, ProxyForm
from models import User
from services.order_form import proxy_stations
from services.people import Roles
from views.menu import BTN_ORDER, BTN_PROXY_ORDER, choices_keyboard


async def begin(message: Message, state: FSMContext, session: AsyncSession, user: User) -> None:
    if not user.registered or user.station_id is None:
        await message.answer(_("Please send /start first, so we know your village."))
        return
    await new_form(state, resident_id=user.id, station_id=user.station_id, town_id=user.town_id)
    await enter(message, state, session, OrderForm.area)


async def begin_proxy(
    message: Message, state: FSMContext, session: AsyncSession, roles: Roles
) -> None:
    if not await proxy_stations(session, roles):
        await message.answer(_("Only station staff can order for a resident."))
        return
    await new_form(state)
    await state.set_state(ProxyForm.name)
    await message.answer(
        _("Ordering for a resident. What is the resident's name?"),
        reply_markup=choices_keyboard([], back=False),
    )


def router() -> Router:
    r = Router(name="ordering.begin")
    r.message.register(begin, Command("order"))
    r.message.register(begin, F.text == BTN_ORDER)
    r.message.register(begin_proxy, F.text == BTN_PROXY_ORDER)
    return r
