"""The resident's own orders: the buttons under each, the «are you sure?» of a cancel, and
«order again»."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from models import Order, OrderStatus
from views.menu import inline_keyboard
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
    buttons: list[tuple[str, CallbackData]] = []
    if order.status in CANCELLABLE:
        buttons.append((_("✖ Cancel this order"), OrderAction(action="cancel", order_id=order.id)))
    if order.status == OrderStatus.DONE:
        buttons += [("⭐" * n, RateOrder(order_id=order.id, score=n)) for n in range(1, 6)]
    if order.status in REPEATABLE and order.category_id is not None:
        buttons.append((_("🔁 Order this again"), OrderAgain(order_id=order.id)))
    return inline_keyboard(buttons) if buttons else None


def cancel_sure_keyboard(order_id: int) -> InlineKeyboardMarkup:
    return inline_keyboard(
        [
            (_("✖ Yes, cancel it"), CancelSure(order_id=order_id)),
            (_("↩ No, keep it"), CancelNot(order_id=order_id)),
        ],
        columns=2,
    )


def cancel_question() -> str:
    return _("Are you sure you want to cancel this order?")
