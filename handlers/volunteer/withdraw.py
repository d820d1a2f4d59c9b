"""Can't make it: the volunteer gives the task up and the leader is told."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Assignment, User
from services import orders
from views.orders import OrderAction


async def withdraw(
    query: CallbackQuery, callback_data: OrderAction, session: AsyncSession, user: User
) -> None:
    assignment = await session.scalar(
        select(Assignment).where(
            Assignment.order_id == callback_data.order_id, Assignment.volunteer_id == user.id
        )
    )
    if assignment is None:
        await query.answer(_("This is not your task."), show_alert=True)
        return
    await orders.withdraw(session, assignment.id, user)
    await query.answer(_("Understood. Your team leader has been told."))
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)


def router() -> Router:
    r = Router(name="volunteer.withdraw")
    r.callback_query.register(withdraw, OrderAction.filter(F.action == "withdraw"))
    return r
