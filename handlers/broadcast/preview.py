"""The notice as it will look, to whom and when → ✅ Send (a station head: 📨 Send for
approval) or ✖ Cancel."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.broadcast.states import NoticeForm, Turn, asks, due_at
from handlers.common import Settings, reply
from models import BroadcastStatus, User, utcnow
from scheduler import Scheduler
from services import broadcasts, screens
from services.people import Roles
from services.quiet import QuietHours
from views.broadcasts import (
    PreviewChoice,
    audience_label,
    notice_text,
    preview_keyboard,
    preview_text,
    rule_label,
    when_label,
)
from views.format import local_time
from views.menu import main_menu


@asks(NoticeForm.preview)
async def ask_preview(turn: Turn) -> None:
    data = await turn.state.get_data()
    tz = turn.settings.tz
    body = notice_text(data.get("text") or "")
    if data.get("photo"):
        await turn.message.answer_photo(data["photo"], caption=body[:1024])
    else:
        await turn.message.answer(body)
    audience = data["audience"]
    count = await broadcasts.count_audience(turn.session, data["town_id"], audience)
    places = await screens.audience_places(turn.session, audience)
    at = due_at(data, tz)
    rule = data["rule"] if data.get("mode") == "repeat" else None
    if rule is not None:
        when = rule_label(rule)
    elif at is not None:
        when = local_time(at, tz)
    else:
        when = _("now")
    first = broadcasts.first_run(utcnow(), tz, at, rule)
    quiet = QuietHours(turn.settings.quiet_hours_start, turn.settings.quiet_hours_end, tz)
    approval = broadcasts.needs_approval(turn.roles, data["town_id"])
    await turn.message.answer(
        preview_text(
            audience_label(audience, places),
            count,
            when,
            approval=approval,
            quiet_until=local_time(quiet.next_allowed(first), tz)
            if quiet.is_quiet(first)
            else None,
        ),
        reply_markup=preview_keyboard(approval=approval),
    )


async def send(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    roles: Roles,
    settings: Settings,
    scheduler: Scheduler | None = None,
) -> None:
    data = await state.get_data()
    bc = await broadcasts.create(
        session,
        user,
        roles,
        town_id=data["town_id"],
        text=data.get("text") or "",
        photo_file_id=data.get("photo"),
        audience=data["audience"],
        at=due_at(data, settings.tz),
        recurrence=data.get("rule") if data.get("mode") == "repeat" else None,
        tz=settings.tz,
    )
    await query.answer()
    await state.clear()
    if bc.status == BroadcastStatus.PENDING_APPROVAL:
        text = _("Notice #{id} was sent to the institute office for approval.").format(id=bc.id)
    elif data.get("mode") == "now":
        text = _("Notice #{id} is going out now. You will get a delivery report.").format(id=bc.id)
    else:
        text = _("Notice #{id} is scheduled: {when}.").format(
            id=bc.id, when=when_label(bc, settings.tz)
        )
    await reply(query, text, main_menu(roles), spent=True)
    if scheduler is not None and bc.status == BroadcastStatus.SCHEDULED:
        scheduler.poke()


async def drop(query: CallbackQuery, state: FSMContext, roles: Roles) -> None:
    await query.answer()
    await state.clear()
    await reply(query, _("Stopped. Nothing was saved."), main_menu(roles), spent=True)


def router() -> Router:
    r = Router(name="broadcast.preview")
    r.callback_query.register(send, NoticeForm.preview, PreviewChoice.filter(F.send))
    r.callback_query.register(drop, NoticeForm.preview, PreviewChoice.filter(~F.send))
    return r
