"""Cancelling one's own order from «My orders»: the first tap asks «are you sure?» on the
card itself; «yes» cancels and the card shows the new status, «no» puts the card back."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import show_order
from models import User
from services import orders
from services.people import Roles
from views.my_orders import (
    CancelNot,
    CancelSure,
    cancel_question,
    cancel_sure_keyboard,
    my_order_keyboard,
)
from views.orders import OrderAction


async def _show(query: CallbackQuery, session: AsyncSession, order_id: int, roles: Roles) -> None:
    """The card as it is now, with the buttons its status allows."""
    order = await orders.viewable_order(session, order_id, roles)
    await show_order(query, session, order, my_order_keyboard(order), with_phone=False, own=True)


async def ask(
    query: CallbackQuery,
    callback_data: OrderAction,
    session: AsyncSession,
    user: User,
    roles: Roles,
) -> None:
    order = await orders.cancellable(session, callback_data.order_id, user, roles)
    sure = cancel_sure_keyboard(order.id)
    await query.answer()
    below = ["", cancel_question()]
    await show_order(query, session, order, sure, below=below, with_phone=False, own=True)


async def sure(
    query: CallbackQuery,
    callback_data: CancelSure,
    session: AsyncSession,
    user: User,
    roles: Roles,
) -> None:
    order = await orders.cancel(session, callback_data.order_id, user, roles)
    await query.answer(_("Your order {number} was cancelled.").format(number=order.number))
    await _show(query, session, order.id, roles)


async def keep(
    query: CallbackQuery, callback_data: CancelNot, session: AsyncSession, roles: Roles
) -> None:
    await orders.viewable_order(session, callback_data.order_id, roles)  # before answering
    await query.answer(_("Nothing changed: the order stands."))
    await _show(query, session, callback_data.order_id, roles)


def router() -> Router:
    r = Router(name="my_orders.cancel")
    r.callback_query.register(ask, OrderAction.filter(F.action == "cancel"))
    r.callback_query.register(sure, CancelSure.filter())
    r.callback_query.register(keep, CancelNot.filter())
    return r
