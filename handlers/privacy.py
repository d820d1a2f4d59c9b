"""/forget: a person deletes their personal data (with a confirmation first)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from models import User
from services.people import Roles
from services.privacy import forget_user
from views.menu import Pick


async def ask(message: Message) -> None:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("🗑 Yes, delete my data"), callback_data=Pick(what="forget", value="yes"))
    kb.button(text=_("Keep it"), callback_data=Pick(what="forget", value="no"))
    kb.adjust(1)
    await message.answer(
        _(
            "This deletes your name, phone number and comments. Your open requests are "
            "cancelled; finished ones are kept without your name, for the town's figures. "
            "Delete your data?"
        ),
        reply_markup=kb.as_markup(),
    )


async def decided(
    query: CallbackQuery, callback_data: Pick, session: AsyncSession, user: User, roles: Roles
) -> None:
    await query.answer()
    if not isinstance(query.message, Message):
        return
    await query.message.edit_reply_markup(reply_markup=None)
    if callback_data.value != "yes":
        await query.message.answer(_("Nothing was deleted."))
        return
    cancelled = await forget_user(session, user, roles)
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
    r.callback_query.register(decided, Pick.filter(F.what == "forget"))
    return r
