"""The list of activities coming up: each with the buttons its reader may use (sign up or
cancel, check in, or the organiser's), and the way to publish one."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import Settings
from models import ActivityStatus, SignupStatus, User, utcnow
from services import activities, screens
from services.people import Roles
from views.activities import (
    activity_lines,
    checkin_keyboard,
    organiser_keyboard,
    publish_button,
    signup_keyboard,
)
from views.menu import BTN_ACTIVITIES


async def show_list(
    message: Message, session: AsyncSession, user: User, roles: Roles, settings: Settings
) -> None:
    if not user.registered:
        await message.answer(_("Please send /start first, so we know your village."))
        return
    found = await activities.upcoming_for(session, user, roles)
    teams, stations = await activities.publishable_targets(session, roles)
    if not found:
        await message.answer(_("No activities coming up."))
    now = utcnow()
    for activity in found:
        lines = activity_lines(await screens.activity_facts(session, activity), settings.tz)
        published = activity.status == ActivityStatus.PUBLISHED
        markup: InlineKeyboardMarkup | None
        if activities.may_manage(roles, activity):
            markup = organiser_keyboard(
                activity, may_call_off=published and activity.starts_at > now
            )
        else:
            mine = await activities.my_signup(session, activity.id, user.id)
            signed = mine is not None and mine.status != SignupStatus.CANCELLED
            if published and activities.in_checkin_window(activity, now):
                markup = checkin_keyboard(activity.id)
            elif published and activity.starts_at > now:
                markup = signup_keyboard(activity.id, signed=signed)
            else:
                markup = None
            if mine is not None and mine.status == SignupStatus.WAITLIST:
                lines.append(_("You are on the waitlist."))
            elif signed:
                lines.append(_("You are signed up."))
        await message.answer("\n".join(lines), reply_markup=markup)
    if teams or stations:
        await message.answer(
            _("Organisers can publish an activity for their team or village."),
            reply_markup=publish_button(),
        )


def router() -> Router:
    r = Router(name="activities.browse")
    r.message.register(show_list, Command("activities"))
    r.message.register(show_list, F.text == BTN_ACTIVITIES)
    return r
