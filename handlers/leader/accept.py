"""The order card: accept it, or listen to the resident's voice message."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import show_order
from models import AttachmentKind, User
from services import orders, screens
from services.people import Roles
from views.orders import OrderAction, accepted_keyboard


async def accept(
    query: CallbackQuery,
    callback_data: OrderAction,
    session: AsyncSession,
    user: User,
    roles: Roles,
) -> None:
    version = callback_data.version or None
    order = await orders.accept(session, callback_data.order_id, user, roles, version=version)
    await query.answer(_("Accepted. Now assign volunteers."))
    above = [_("✅ You accepted this order.")]
    await show_order(query, session, order, accepted_keyboard(order), above=above)


async def listen(
    query: CallbackQuery,
    callback_data: OrderAction,
    session: AsyncSession,
    roles: Roles,
    bot: Bot,
) -> None:
    order = await orders.viewable_order(session, callback_data.order_id, roles)
    await query.answer()
    for media in await screens.request_media(session, order.id):
        if media.kind == AttachmentKind.VOICE:
            await bot.send_voice(query.from_user.id, media.file_id)


def router() -> Router:
    r = Router(name="leader.accept")
    r.callback_query.register(accept, OrderAction.filter(F.action == "accept"))
    r.callback_query.register(listen, OrderAction.filter(F.action == "voice"))
    return r
