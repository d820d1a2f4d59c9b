"""My tasks: the orders I am assigned to, with their buttons."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from models import OrderStatus, User
from services import orders, screens
from services.context import Ctx
from views.menu import BTN_MY_TASKS
from views.orders import order_lines, task_keyboard

SHOWN = 10


async def my_tasks(message: Message, session: AsyncSession, user: User, ctx: Ctx) -> None:
    tasks = await orders.volunteer_tasks(session, user.id)
    if not tasks:
        await message.answer(_("You have no open tasks."))
        return
    for _assignment, order in tasks[:SHOWN]:
        lines = order_lines(await screens.order_facts(session, order), with_phone=True, tz=ctx.tz)
        started = order.status == OrderStatus.IN_PROGRESS
        await message.answer(
            "\n".join(lines), reply_markup=task_keyboard(order.id, started=started)
        )
        if order.latitude is not None and order.longitude is not None:
            await message.answer_location(order.latitude, order.longitude)  # where to go


def router() -> Router:
    r = Router(name="volunteer.tasks")
    r.message.register(my_tasks, F.text == BTN_MY_TASKS)
    return r
