"""Start a task: the order is in progress."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import show_order
from models import User
from services import orders
from services.context import Ctx
from services.people import Roles
from views.orders import OrderAction, task_keyboard


async def start(
    query: CallbackQuery,
    callback_data: OrderAction,
    session: AsyncSession,
    user: User,
    roles: Roles,
    ctx: Ctx,
) -> None:
    order = await orders.start(session, callback_data.order_id, user, roles)
    await query.answer(_("Started. Tap «Done» when the service is finished."))
    markup = task_keyboard(order.id, started=True)
    await show_order(query, session, order, markup, above=[_("▶ In progress")], tz=ctx.tz)


def router() -> Router:
    r = Router(name="volunteer.start")
    r.callback_query.register(start, OrderAction.filter(F.action == "start"))
    return r
