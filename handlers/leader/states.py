"""The leader's short conversations: a reason for a decline or a transfer, and assigning
volunteers (who, then when)."""

from __future__ import annotations

from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import too_long
from models import Order
from services import orders
from services.people import Roles
from views.orders import OrderAction

REASON_MAX = 200


class Decline(StatesGroup):
    reason = State()


class Transfer(StatesGroup):
    reason = State()


class Assign(StatesGroup):
    volunteers = State()
    day = State()


async def reason_of(message: Message) -> str | None:
    """The reason written for a decline or a transfer; None, having said so, when it is
    longer than REASON_MAX."""
    reason = (message.text or "").strip()
    return None if await too_long(message, reason, REASON_MAX) else reason


async def in_hand(
    query: CallbackQuery, callback_data: OrderAction, session: AsyncSession, roles: Roles
) -> dict[str, Order]:
    """A filter that hands the handler the order of the tapped card, when it is in the
    leader's hands (a refusal otherwise, answered by handlers/errors.py)."""
    return {"order": await orders.order_in_hand(session, callback_data.order_id, roles)}


async def begin(
    query: CallbackQuery, state: FSMContext, step: State, order: Order, **answers: Any
) -> None:
    """A button of the order's card starts one of these conversations at `step`."""
    await query.answer()
    await state.set_state(step)
    await state.update_data(order_id=order.id, number=order.number, **answers)


async def answers_for(
    query: CallbackQuery, state: FSMContext, order_id: int
) -> dict[str, Any] | None:
    """The conversation's answers so far, when the tapped button is about the order it is
    about; None, the tap answered as no longer valid, when it is not (an older card)."""
    data = await state.get_data()
    if order_id != data.get("order_id"):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return None
    return data
