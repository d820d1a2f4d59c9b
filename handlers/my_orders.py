"""The resident's side: my orders (with cancel), and rating a finished service."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers import order_cancel
from handlers.common import finished, reply, too_long
from models import User
from services import orders, screens
from services.org import Policy
from services.people import Roles
from services.points import PointsRules
from views.menu import BTN_CANCEL, BTN_MY_ORDERS, BTN_SKIP, choices_keyboard, main_menu
from views.my_orders import my_order_keyboard
from views.orders import RateOrder, order_lines

COMMENT_MAX = 500


class RatingForm(StatesGroup):
    comment = State()


async def my_orders(message: Message, session: AsyncSession, user: User) -> None:
    found = await orders.resident_orders(session, user.id, limit=10)
    if not found:
        await message.answer(_("You have no orders yet. Tap «Request a service» to make one."))
        return
    for order in found:
        lines = order_lines(await screens.order_facts(session, order), with_phone=False, own=True)
        await message.answer("\n".join(lines), reply_markup=my_order_keyboard(order))


async def rate(
    query: CallbackQuery,
    callback_data: RateOrder,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    policy: Policy,
) -> None:
    if not 1 <= callback_data.score <= 5:
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    rules = PointsRules.from_policy(policy.points)
    order = await orders.rate(
        session, callback_data.order_id, user, callback_data.score, rules=rules
    )
    await query.answer(_("Thank you for your rating!"))
    await state.set_state(RatingForm.comment)
    await state.update_data(order_id=order.id)
    await reply(
        query,
        _("Would you like to add a comment? Write it, or tap «Skip»."),
        choices_keyboard([str(BTN_SKIP)], back=False),
        spent=True,
    )


async def comment(
    message: Message, state: FSMContext, session: AsyncSession, user: User, roles: Roles
) -> None:
    text = (message.text or "").strip()
    if text in (BTN_SKIP, BTN_CANCEL):
        await state.clear()
        await message.answer(_("Thank you!"), reply_markup=main_menu(roles))
        return
    if await too_long(message, text, COMMENT_MAX):
        return
    data = await finished(state)
    await orders.add_rating_comment(session, data["order_id"], user, text)
    await message.answer(_("Thank you! Your comment was saved."), reply_markup=main_menu(roles))


async def comment_not_text(message: Message) -> None:
    await message.answer(_("Please write your comment as text, or tap «Skip»."))


def router() -> Router:
    r = Router(name="my_orders")
    r.include_router(order_cancel.router())
    r.message.register(my_orders, Command("orders"))
    r.message.register(my_orders, F.text == BTN_MY_ORDERS)
    r.callback_query.register(rate, RateOrder.filter())
    r.message.register(comment, RatingForm.comment, F.text)
    r.message.register(comment_not_text, RatingForm.comment)
    return r
