"""Publishing an activity, the last step: Publish (every week of a series) or stop."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.activities.ask import draft
from handlers.activities.states import PublishActivity
from handlers.common import finished
from models import User
from services import activities
from services.context import Ctx
from services.people import Roles
from views.activities import PublishChoice
from views.menu import main_menu


async def stop(query: CallbackQuery, state: FSMContext, roles: Roles) -> None:
    await state.clear()
    await query.answer(_("Stopped. Nothing was saved."))
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(_("Stopped. Nothing was saved."), reply_markup=main_menu(roles))


async def confirm_publish(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    roles: Roles,
    ctx: Ctx,
) -> None:
    data = await finished(state)
    created = await activities.publish(
        session,
        user,
        roles,
        draft(data),
        tz=ctx.tz,
        evening_at=ctx.policy.volunteer_reminders.evening_before,
    )
    await query.answer(_("Published."))
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        first = created[0]
        await query.message.answer(
            _(
                "Published: {number}. Its audience is being told. The check-in code "
                "is {code}; you find it again under «Activities»."
            ).format(number=first.number, code=first.checkin_code),
            reply_markup=main_menu(roles),
        )


def router() -> Router:
    r = Router(name="activities.confirm")
    r.callback_query.register(
        confirm_publish, PublishActivity.confirm, PublishChoice.filter(F.publish)
    )
    r.callback_query.register(stop, PublishActivity.confirm, PublishChoice.filter(~F.publish))
    return r
