"""The office decides on a station head's notice: ✅ Approve, or ❌ Reject with a reason
the head is told."""

from __future__ import annotations

import contextlib

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.broadcast.states import RejectForm
from handlers.common import Settings, reply
from models import User
from scheduler import Scheduler
from services import broadcasts
from services.errors import Conflict, DomainError, NotAllowed, NotFound
from services.people import Roles
from views.broadcasts import BroadcastAction, NoticeAction, when_label
from views.menu import BTN_CANCEL, choices_keyboard, main_menu


async def approve(
    query: CallbackQuery,
    callback_data: BroadcastAction,
    session: AsyncSession,
    user: User,
    roles: Roles,
    settings: Settings,
    scheduler: Scheduler | None = None,
) -> None:
    bc = await broadcasts.approve(session, callback_data.broadcast_id, user, roles, tz=settings.tz)
    await query.answer(_("Approved."))
    await reply(
        query,
        _("Approved: notice #{id} goes out {when}.").format(
            id=bc.id, when=when_label(bc, settings.tz)
        ),
        spent=True,
    )
    if scheduler is not None:
        scheduler.poke()


async def reject(
    query: CallbackQuery,
    callback_data: BroadcastAction,
    state: FSMContext,
    session: AsyncSession,
    roles: Roles,
) -> None:
    bc = await broadcasts.to_decide(session, callback_data.broadcast_id, roles)
    await query.answer()
    msg = query.message if isinstance(query.message, Message) else None
    await state.set_state(RejectForm.reason)
    await state.update_data(
        broadcast_id=bc.id,
        card_chat=msg.chat.id if msg else None,
        card_id=msg.message_id if msg else None,
    )
    if msg:
        await msg.answer(
            _("Why not? Write the reason for the station head."),
            reply_markup=choices_keyboard([], back=False),
        )


async def reject_reason(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    roles: Roles,
    bot: Bot,
) -> None:
    data = await state.get_data()
    # Caught here, not by the one refusal handler: a reason too long or empty keeps the
    # question open, a notice decided meanwhile ends it.
    try:
        bc = await broadcasts.reject(session, data["broadcast_id"], user, roles, message.text or "")
    except DomainError as exc:
        await message.answer(_(exc.message).format(**exc.params))
        if isinstance(exc, Conflict | NotAllowed | NotFound):
            await state.clear()
        return
    await state.clear()
    if data.get("card_chat") and data.get("card_id"):
        with contextlib.suppress(TelegramBadRequest):  # deleted or too old: no matter
            await bot.edit_message_reply_markup(
                chat_id=data["card_chat"], message_id=data["card_id"], reply_markup=None
            )
    await message.answer(
        _("Rejected. The author of notice #{id} has been told why.").format(id=bc.id),
        reply_markup=main_menu(roles),
    )


def router() -> Router:
    r = Router(name="broadcast.approval")
    r.callback_query.register(approve, BroadcastAction.filter(F.action == NoticeAction.APPROVE))
    r.callback_query.register(reject, BroadcastAction.filter(F.action == NoticeAction.REJECT))
    r.message.register(reject_reason, RejectForm.reason, F.text, F.text != BTN_CANCEL)
    return r
