"""An order's history: who did what, when."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import Settings, reply
from models import User
from services import orders
from services.people import Roles
from views.orders import OrderAction, history_line


async def history(
    query: CallbackQuery,
    callback_data: OrderAction,
    session: AsyncSession,
    user: User,
    roles: Roles,
    settings: Settings,
) -> None:
    events = await orders.history(session, callback_data.order_id, user, roles)
    await query.answer()
    lines = [_("History of the order:"), *(history_line(ev, settings.tz) for ev in events)]
    await reply(query, "\n".join(lines)[:4096])


def router() -> Router:
    r = Router(name="leader.history")
    r.callback_query.register(history, OrderAction.filter(F.action == "history"))
    return r
