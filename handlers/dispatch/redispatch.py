"""Re-dispatch before accept: a dispatcher of the order's lead unit hands a routed order to
another team of the platform (or the village squad), with a reason. Whether they may is
asked of the service at every step, before anything is shown."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import edit_card, finished
from handlers.dispatch.states import RedispatchForm
from models import User
from services import orders, screens
from services.context import Ctx
from services.people import Roles
from views.dispatch import dispatch_lines
from views.menu import choices_keyboard, main_menu
from views.unit_queue import Redispatch, RedispatchTo, ask_reason, redispatch_keyboard, redispatched


async def teams_opened(
    query: CallbackQuery, callback_data: Redispatch, session: AsyncSession, user: User, roles: Roles
) -> None:
    order = await orders.need_to_redispatch(session, callback_data.order_id, user, roles)
    found = await screens.dispatch_facts(session, order.id)
    await query.answer()
    if found is not None:
        await edit_card(query, dispatch_lines(found), redispatch_keyboard(found))


async def team_chosen(
    query: CallbackQuery,
    callback_data: RedispatchTo,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    roles: Roles,
) -> None:
    order = await orders.need_to_redispatch(session, callback_data.order_id, user, roles)
    await state.set_state(RedispatchForm.reason)
    await state.update_data(order_id=order.id, team_id=callback_data.team_id)
    await query.answer()
    if isinstance(query.message, Message):
        team = await screens.team(session, callback_data.team_id)
        await query.message.answer(ask_reason(team), reply_markup=choices_keyboard([], back=False))


async def reason_written(
    message: Message, state: FSMContext, session: AsyncSession, user: User, roles: Roles, ctx: Ctx
) -> None:
    data = await finished(state)
    team_id = int(data["team_id"])
    await orders.redispatch(
        session, ctx, int(data["order_id"]), user, roles, team_id, message.text or ""
    )
    await message.answer(
        redispatched(await screens.team(session, team_id)), reply_markup=main_menu(roles)
    )


def router() -> Router:
    r = Router(name="dispatch.redispatch")
    r.callback_query.register(teams_opened, Redispatch.filter())
    r.callback_query.register(team_chosen, RedispatchTo.filter())
    r.message.register(reason_written, RedispatchForm.reason, F.text)
    return r
