"""«Order this again» under a finished order in «My orders»: the same service, need and
place, straight to the question of when; then the summary to confirm."""

from __future__ import annotations

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.ordering.flow import enter, new_form
from handlers.ordering.states import OrderForm
from models import User
from services import order_form, orders
from services.people import Roles
from views.my_orders import OrderAgain


async def order_again(
    query: CallbackQuery,
    callback_data: OrderAgain,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    roles: Roles,
) -> None:
    old = await orders.repeatable(session, callback_data.order_id, user, roles)
    category = await order_form.category(session, old.category_id) if old.category_id else None
    await query.answer()
    if category is None or not isinstance(query.message, Message):
        return  # a «其他需求» order has no service to repeat: the button is not shown
    resident = await order_form.resident(session, old.resident_id)
    await new_form(
        state,
        resident_id=old.resident_id,
        station_id=old.station_id,
        town_id=old.town_id,
        area_id=category.area_id,
        category_id=category.id,
        description=old.description,
        address=old.address,
        latitude=old.latitude,
        longitude=old.longitude,
        proxy=old.is_proxy,
        proxy_name=resident.name if old.is_proxy else None,
        editing=True,  # after the time, the summary
    )
    await enter(query.message, state, session, OrderForm.day)


def router() -> Router:
    r = Router(name="ordering.again")
    r.callback_query.register(order_again, OrderAgain.filter())
    return r
