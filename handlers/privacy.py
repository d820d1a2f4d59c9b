"""/forget: a person deletes their personal data (with a confirmation first)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import Settings
from models import User
from services.people import Roles
from services.privacy import forget_user
from views.privacy import Forget, forget_keyboard


async def ask(message: Message) -> None:
    await message.answer(
        _(
            "This deletes your name, phone number and comments. Your open requests are "
            "cancelled; finished ones are kept without your name, for the town's figures. "
            "Delete your data?"
        ),
        reply_markup=forget_keyboard(),
    )


async def decided(
    query: CallbackQuery,
    callback_data: Forget,
    session: AsyncSession,
    user: User,
    roles: Roles,
    settings: Settings,
) -> None:
    await query.answer()
    if not isinstance(query.message, Message):
        return
    await query.message.edit_reply_markup(reply_markup=None)
    if not callback_data.delete:
        await query.message.answer(_("Nothing was deleted."))
        return
    cancelled = await forget_user(session, user, roles, settings.media_dir)
    await query.message.answer(
        _(
            "Your personal data has been deleted ({n} open requests cancelled). "
            "Send /start if you want to use the service again."
        ).format(n=cancelled),
        reply_markup=ReplyKeyboardRemove(),
    )


def router() -> Router:
    r = Router(name="privacy")
    r.message.register(ask, Command("forget"))
    r.callback_query.register(decided, Forget.filter())
    return r
