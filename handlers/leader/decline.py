"""Decline the order card with a reason: a button or a few words."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import finished, reply
from handlers.leader.states import Decline, answers_for, begin, in_hand, reason_of
from models import Order, User
from services import orders, screens
from services.context import Ctx
from services.people import Roles
from views.menu import BTN_CANCEL
from views.orders import (
    DECLINE_REASONS,
    DeclineReason,
    OrderAction,
    decline_reasons_keyboard,
    team_name,
)


async def decline(query: CallbackQuery, state: FSMContext, order: Order) -> None:
    await begin(query, state, Decline.reason, order)
    await reply(
        query,
        _("Why can't your team take it? Tap a reason or write one."),
        decline_reasons_keyboard(order.id),
    )


async def _decline(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    roles: Roles,
    reason: str,
    ctx: Ctx,
) -> None:
    data = await finished(state)
    chosen = await orders.decline(session, ctx, data["order_id"], user, roles, reason)
    team = await screens.team(session, chosen.team_id if chosen else None)  # none: the office
    await message.answer(_("Declined. The order goes to {team}.").format(team=team_name(team)))


async def reason_button(
    query: CallbackQuery,
    callback_data: DeclineReason,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    roles: Roles,
    ctx: Ctx,
) -> None:
    if await answers_for(query, state, callback_data.order_id) is None:
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        reason = _(DECLINE_REASONS[callback_data.why])  # in the leader's words, as if written
        await _decline(query.message, state, session, user, roles, reason, ctx)


async def reason_text(
    message: Message, state: FSMContext, session: AsyncSession, user: User, roles: Roles, ctx: Ctx
) -> None:
    if (reason := await reason_of(message)) is not None:
        await _decline(message, state, session, user, roles, reason, ctx)


def router() -> Router:
    r = Router(name="leader.decline")
    r.callback_query.register(decline, OrderAction.filter(F.action == "decline"), in_hand)
    r.callback_query.register(reason_button, Decline.reason, DeclineReason.filter())
    r.message.register(reason_text, Decline.reason, F.text, F.text != BTN_CANCEL)
    return r
