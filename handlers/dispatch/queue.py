"""站所的订单: a dispatcher opens the orders their unit received, one card each."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from services import screens
from services.people import Roles
from views.menu import BTN_UNIT_ORDERS
from views.unit_queue import queue_card


async def unit_orders(message: Message, session: AsyncSession, roles: Roles) -> None:
    if not roles.dispatches_for:
        await message.answer(_("This is for the dispatchers of the town's units."))
        return
    found = await screens.unit_orders(session, roles)
    if not found:
        await message.answer(_("Your unit has no open orders."))
        return
    await message.answer(_("Open orders your unit received: {n}").format(n=len(found)))
    for one in found:
        text, keyboard = queue_card(one)
        await message.answer(text, reply_markup=keyboard)


def router() -> Router:
    r = Router(name="dispatch.queue")
    r.message.register(unit_orders, F.text == BTN_UNIT_ORDERS)
    return r
