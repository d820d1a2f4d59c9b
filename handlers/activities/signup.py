"""Signing up for an activity (a place, or the waitlist) and cancelling the sign-up."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from models import SignupStatus, User
from services import activities
from views.activities import Act, ActivityAction, signup_keyboard


async def sign_up(
    query: CallbackQuery, callback_data: ActivityAction, session: AsyncSession, user: User
) -> None:
    result = await activities.sign_up(session, callback_data.activity_id, user)
    if result.status == SignupStatus.WAITLIST:
        text = _(
            "All places are taken. You are number {n} on the waitlist; we will tell you "
            "if a place frees up."
        ).format(n=result.position)
        await query.answer(text, show_alert=True)
    else:
        await query.answer(_("✅ You are signed up. We will remind you before it starts."))
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(
            reply_markup=signup_keyboard(callback_data.activity_id, signed=True)
        )


async def cancel_signup(
    query: CallbackQuery, callback_data: ActivityAction, session: AsyncSession, user: User
) -> None:
    await activities.cancel_signup(session, callback_data.activity_id, user)
    await query.answer(_("Your sign-up is cancelled."))
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(
            reply_markup=signup_keyboard(callback_data.activity_id, signed=False)
        )


def router() -> Router:
    r = Router(name="activities.signup")
    r.callback_query.register(sign_up, ActivityAction.filter(F.action == Act.SIGNUP))
    r.callback_query.register(cancel_signup, ActivityAction.filter(F.action == Act.CANCEL))
    return r
