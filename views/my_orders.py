"""The resident's own orders: the buttons under each, the «are you sure?» of a cancel, and
«order again»."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from models import Order, OrderStatus
from views.orders import OrderAction, RateOrder

CANCELLABLE = frozenset({OrderStatus.NEW, OrderStatus.ROUTED, OrderStatus.ACCEPTED})
REPEATABLE = frozenset({OrderStatus.DONE, OrderStatus.RATED, OrderStatus.CANCELLED})


class CancelSure(CallbackData, prefix="mcy"):
    """Yes, cancel it (the second tap of «Cancel this order»)."""

    order_id: int


class CancelNot(CallbackData, prefix="mcn"):
    order_id: int


class OrderAgain(CallbackData, prefix="mra"):
    """A new order like this one: the same service, need and place; a new time."""

    order_id: int


def my_order_keyboard(order: Order) -> InlineKeyboardMarkup | None:
    kb = InlineKeyboardBuilder()
    if order.status in CANCELLABLE:
        kb.button(
            text=_("✖ Cancel this order"),
            callback_data=OrderAction(action="cancel", order_id=order.id),
        )
    if order.status == OrderStatus.DONE:
        for score in range(1, 6):
            kb.button(text="⭐" * score, callback_data=RateOrder(order_id=order.id, score=score))
    if order.status in REPEATABLE and order.category_id is not None:
        kb.button(text=_("🔁 Order this again"), callback_data=OrderAgain(order_id=order.id))
    kb.adjust(1)
    markup = kb.as_markup()
    return markup if markup.inline_keyboard else None


def cancel_sure_keyboard(order_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✖ Yes, cancel it"), callback_data=CancelSure(order_id=order_id))
    kb.button(text=_("↩ No, keep it"), callback_data=CancelNot(order_id=order_id))
    kb.adjust(2)
    return kb.as_markup()


def cancel_question() -> str:
    return _("Are you sure you want to cancel this order?")
