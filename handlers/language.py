"""/language: switch between Chinese and English; the choice is kept in the database."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from models import User
from services import profile
from services.i18n import LOCALES
from services.people import Roles
from views.menu import BTN_LANGUAGE, Lang, language_keyboard, main_menu


async def ask(message: Message) -> None:
    await message.answer(_("Choose your language:"), reply_markup=language_keyboard())


async def chosen(
    query: CallbackQuery, callback_data: Lang, session: AsyncSession, user: User, roles: Roles
) -> None:
    if callback_data.code not in LOCALES:
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    await profile.set_language(session, user, callback_data.code)
    await query.answer()
    with get_i18n().use_locale(callback_data.code):
        if isinstance(query.message, Message):
            await query.message.answer(_("Language changed."), reply_markup=main_menu(roles))


def router() -> Router:
    r = Router(name="language")
    r.message.register(ask, Command("language"))
    r.message.register(ask, F.text == BTN_LANGUAGE)
    r.callback_query.register(chosen, Lang.filter())
    return r
