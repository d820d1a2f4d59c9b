"""The organiser at the activity: the check-in code to show, and the attendance list where
tapping a name ticks who came."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.activities.access import managed
from handlers.common import reply
from models import Activity, User
from services import activities
from services.people import Roles
from views.activities import Act, ActivityAction, Attend, attendance_keyboard, attendance_text


async def show_code(query: CallbackQuery, activity: Activity) -> None:
    await query.answer()
    await reply(
        query,
        _(
            "Check-in code for «{title}»: {code}\nShow it at the activity: volunteers "
            "tap «✅ Check in» (or send /checkin) and type it."
        ).format(title=activity.title, code=activity.checkin_code),
    )


async def show_attendance(
    query: CallbackQuery, activity: Activity, session: AsyncSession, user: User, roles: Roles
) -> None:
    sheet = await activities.attendance_sheet(session, activity.id, user, roles)
    await query.answer()
    await reply(
        query,
        attendance_text(sheet.title, sheet.lines),
        attendance_keyboard(sheet.activity_id, sheet.lines),
    )


async def toggle(
    query: CallbackQuery, callback_data: Attend, session: AsyncSession, user: User, roles: Roles
) -> None:
    sheet = await activities.toggle_attended(
        session, callback_data.activity_id, user, roles, callback_data.user_id
    )
    await query.answer()
    await reply(
        query,
        attendance_text(sheet.title, sheet.lines),
        attendance_keyboard(sheet.activity_id, sheet.lines),
        edit=True,
    )


def router() -> Router:
    r = Router(name="activities.attendance")
    r.callback_query.register(show_code, ActivityAction.filter(F.action == Act.CODE), managed)
    r.callback_query.register(
        show_attendance, ActivityAction.filter(F.action == Act.ATTENDANCE), managed
    )
    r.callback_query.register(toggle, Attend.filter())
    return r
