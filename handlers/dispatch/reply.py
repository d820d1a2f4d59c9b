"""«回复群众»: the institute office answers a «其他需求» order in its own words, and keeps it
open (a question back) or closes it («回复并结束»: answered, no service needed)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import finished, reply
from handlers.dispatch.states import DeskForm
from models import User
from services import orders
from services.people import Roles
from views.dispatch import ReplyAndClose, ReplyToResident
from views.menu import choices_keyboard, main_menu


async def ask_reply(
    query: CallbackQuery,
    callback_data: ReplyToResident | ReplyAndClose,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    roles: Roles,
) -> None:
    order = await orders.need_to_triage(session, callback_data.order_id, user, roles)
    await state.set_state(DeskForm.reply)
    close = isinstance(callback_data, ReplyAndClose)
    await state.update_data(order_id=order.id, close=close)
    await query.answer()
    await reply(
        query,
        _(
            "Write your answer to the resident in one message (or tap “✖ Cancel”); "
            "the order is then closed."
        )
        if close
        else _("Write your reply to the resident in one message (or tap “✖ Cancel”)."),
        choices_keyboard([], back=False),
    )


async def reply_written(
    message: Message, state: FSMContext, session: AsyncSession, user: User, roles: Roles
) -> None:
    data = await finished(state)
    close = bool(data.get("close"))
    await orders.reply_to_resident(
        session, int(data["order_id"]), user, roles, message.text or "", close=close
    )
    await message.answer(
        _("Sent to the resident; the order is closed.") if close else _("Sent to the resident."),
        reply_markup=main_menu(roles),
    )


async def not_text(message: Message) -> None:
    await message.answer(_("Please write the reply as text."))


def router() -> Router:
    r = Router(name="dispatch.reply")
    r.callback_query.register(ask_reply, ReplyToResident.filter())
    r.callback_query.register(ask_reply, ReplyAndClose.filter())
    r.message.register(reply_written, DeskForm.reply, F.text)
    r.message.register(not_text, DeskForm.reply)
    return r
