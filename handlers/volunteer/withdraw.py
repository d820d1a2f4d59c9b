"""Can't make it: the volunteer gives the task up and the leader is told."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import spend
from models import User
from services import orders
from views.orders import OrderAction


async def withdraw(
    query: CallbackQuery, callback_data: OrderAction, session: AsyncSession, user: User
) -> None:
    await orders.withdraw_from(session, callback_data.order_id, user)
    await query.answer(_("Understood. Your team leader has been told."))
    await spend(query)


def router() -> Router:
    r = Router(name="volunteer.withdraw")
    r.callback_query.register(withdraw, OrderAction.filter(F.action == "withdraw"))
    return r
