"""Calling an activity off: asked once more, then everyone signed up is told."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.activities.access import managed
from handlers.common import reply, spend
from models import Activity, User
from services import activities
from services.people import Roles
from views.activities import Act, ActivityAction, call_off_keyboard


async def call_off(query: CallbackQuery, activity: Activity) -> None:
    await query.answer()
    await reply(
        query,
        _("Call off «{title}»? Everyone signed up will be told.").format(title=activity.title),
        call_off_keyboard(activity.id),
    )


async def call_off_yes(
    query: CallbackQuery,
    callback_data: ActivityAction,
    session: AsyncSession,
    user: User,
    roles: Roles,
) -> None:
    await activities.cancel_activity(session, callback_data.activity_id, user, roles)
    await query.answer(_("Called off. Everyone signed up is being told."))
    await spend(query)


def router() -> Router:
    r = Router(name="activities.calloff")
    r.callback_query.register(call_off, ActivityAction.filter(F.action == Act.CALL_OFF), managed)
    r.callback_query.register(call_off_yes, ActivityAction.filter(F.action == Act.CALL_OFF_YES))
    return r
