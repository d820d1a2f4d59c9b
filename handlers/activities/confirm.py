"""Publishing an activity, the last step: Publish (every week of a series) or stop."""

from __future__ import annotations

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.activities.ask import draft
from handlers.activities.states import PublishActivity
from handlers.common import Settings
from models import User
from services import activities
from services.org import Policy
from services.people import Roles
from views.activities import PublishChoice
from views.menu import main_menu


async def confirm_publish(
    query: CallbackQuery,
    callback_data: PublishChoice,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    roles: Roles,
    settings: Settings,
    policy: Policy,
) -> None:
    data = await state.get_data()
    await state.clear()
    message = query.message if isinstance(query.message, Message) else None
    if not callback_data.publish:
        await query.answer(_("Stopped. Nothing was saved."))
        if message is not None:
            await message.edit_reply_markup(reply_markup=None)
            await message.answer(_("Stopped. Nothing was saved."), reply_markup=main_menu(roles))
        return
    created = await activities.publish(
        session,
        user,
        roles,
        draft(data),
        tz=settings.tz,
        evening_at=policy.volunteer_reminders.evening_before,
    )
    await query.answer(_("Published."))
    if message is not None:
        await message.edit_reply_markup(reply_markup=None)
        first = created[0]
        await message.answer(
            _(
                "Published: {number}. Its audience is being told. The check-in code "
                "is {code}; you find it again under «Activities»."
            ).format(number=first.number, code=first.checkin_code),
            reply_markup=main_menu(roles),
        )


def router() -> Router:
    r = Router(name="activities.confirm")
    r.callback_query.register(confirm_publish, PublishActivity.confirm, PublishChoice.filter())
    return r
