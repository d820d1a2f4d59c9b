"""The lists: 🗓 scheduled notices (with ✖ Cancel), and 📊 my notices with their delivery."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import Settings, reply
from models import BroadcastStatus, User
from services import broadcasts, screens
from services.people import Roles
from views.broadcasts import (
    BroadcastAction,
    NoticeAction,
    NoticesItem,
    NoticesMenu,
    report_lines,
    scheduled_keyboard,
    summary,
)


async def _may_compose(query: CallbackQuery, roles: Roles) -> bool:
    """Answer the press: a pop-up for someone who may not send notices (nothing is shown)."""
    if not broadcasts.may_compose(roles):
        await query.answer(
            _("Only the office and station heads can send notices."), show_alert=True
        )
        return False
    await query.answer()
    return True


async def scheduled_list(
    query: CallbackQuery, session: AsyncSession, roles: Roles, settings: Settings
) -> None:
    if not await _may_compose(query, roles):
        return
    if not isinstance(query.message, Message):
        return
    found = await broadcasts.scheduled(session, roles)
    if not found:
        await query.message.answer(_("No notices are scheduled."))
        return
    listed = await screens.notices_listed(session, found)
    lines = [_("Scheduled notices:"), *(summary(f, settings.tz) for f in listed)]
    await query.message.answer("\n\n".join(lines)[:4096], reply_markup=scheduled_keyboard(found))


async def cancel_broadcast(
    query: CallbackQuery,
    callback_data: BroadcastAction,
    session: AsyncSession,
    user: User,
    roles: Roles,
) -> None:
    bc = await broadcasts.cancel(session, callback_data.broadcast_id, user, roles)
    await query.answer(_("Cancelled."))
    await reply(query, _("Notice #{id} was cancelled.").format(id=bc.id))


async def my_notices(
    query: CallbackQuery, session: AsyncSession, user: User, roles: Roles, settings: Settings
) -> None:
    if not await _may_compose(query, roles):
        return
    if not isinstance(query.message, Message):
        return
    found = await broadcasts.authored(session, user.id)
    if not found:
        await query.message.answer(_("You have not sent any notices yet."))
        return
    blocks = [_("Your notices:")]
    for facts in await screens.notices_listed(session, found, with_reports=True):
        block = [summary(facts, settings.tz)]
        if facts.report is not None:
            block.append(" · ".join(report_lines(facts.report)))
        bc = facts.broadcast
        if bc.status == BroadcastStatus.REJECTED and bc.reject_reason:
            block.append(_("Reason: {reason}").format(reason=bc.reject_reason))
        blocks.append("\n".join(block))
    await query.message.answer("\n\n".join(blocks)[:4096])


def router() -> Router:
    r = Router(name="broadcast.scheduled")
    r.callback_query.register(scheduled_list, NoticesMenu.filter(F.item == NoticesItem.SCHEDULED))
    r.callback_query.register(
        cancel_broadcast, BroadcastAction.filter(F.action == NoticeAction.CANCEL)
    )
    r.callback_query.register(my_notices, NoticesMenu.filter(F.item == NoticesItem.MINE))
    return r
