"""Transfer an order to another team of the town, with a reason."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import finished, reply
from handlers.leader.states import Transfer, reason_of
from models import User
from services import orders, screens
from services.context import Ctx
from services.people import Roles
from views.menu import BTN_CANCEL
from views.orders import OrderAction, TransferTo, team_name, transfer_keyboard


async def transfer(
    query: CallbackQuery, callback_data: OrderAction, session: AsyncSession, roles: Roles
) -> None:
    order = await orders.order_in_hand(session, callback_data.order_id, roles, office_may=True)
    await query.answer()
    teams = await orders.transfer_teams(session, order)
    await reply(
        query,
        _("Transfer this order to which team?"),
        transfer_keyboard(order.id, teams),
    )


async def team_chosen(
    query: CallbackQuery,
    callback_data: TransferTo,
    state: FSMContext,
    session: AsyncSession,
    roles: Roles,
) -> None:
    await orders.transfer_target(session, callback_data.order_id, roles, callback_data.team_id)
    await query.answer()
    await state.set_state(Transfer.reason)
    await state.update_data(order_id=callback_data.order_id, team_id=callback_data.team_id)
    await reply(query, _("In a few words: why this team?"), spent=True)


async def reason(
    message: Message, state: FSMContext, session: AsyncSession, user: User, roles: Roles, ctx: Ctx
) -> None:
    why = await reason_of(message)
    if why is None:
        return
    data = await finished(state)
    order = await orders.transfer(session, ctx, data["order_id"], user, roles, data["team_id"], why)
    await message.answer(
        _("Transferred to {team}.").format(
            team=team_name(await screens.team(session, order.team_id))
        )
    )


def router() -> Router:
    r = Router(name="leader.transfer")
    r.callback_query.register(transfer, OrderAction.filter(F.action == "transfer"))
    r.callback_query.register(team_chosen, TransferTo.filter())
    r.message.register(reason, Transfer.reason, F.text, F.text != BTN_CANCEL)
    return r
