"""/language: switch between Chinese and English, and large print (大字大按钮) on or off; both
choices are kept in the database."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import reply
from models import User
from services import profile
from services.i18n import LOCALES
from services.people import Roles
from views.menu import BTN_LANGUAGE, Lang, LargePrint, language_keyboard, large_print, main_menu


async def ask(message: Message, user: User) -> None:
    await message.answer(
        _("Choose your language, or large print with big buttons:"),
        reply_markup=language_keyboard(user.large_print),
    )


async def chosen(
    query: CallbackQuery, callback_data: Lang, session: AsyncSession, user: User, roles: Roles
) -> None:
    if callback_data.code not in LOCALES:
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    await profile.set_language(session, user, callback_data.code)
    await query.answer()
    with get_i18n().use_locale(callback_data.code):
        await reply(query, _("Language changed."), main_menu(roles))


async def large_print_chosen(
    query: CallbackQuery,
    callback_data: LargePrint,
    session: AsyncSession,
    user: User,
    roles: Roles,
) -> None:
    await profile.set_large_print(session, user, callback_data.on)
    await query.answer()
    said = (
        _("Large print is on: one big button to a row.")
        if callback_data.on
        else _("Normal buttons again.")
    )
    with large_print(callback_data.on):
        await reply(query, said, main_menu(roles), spent=True)


def router() -> Router:
    r = Router(name="language")
    r.message.register(ask, Command("language"))
    r.message.register(ask, F.text == BTN_LANGUAGE)
    r.callback_query.register(chosen, Lang.filter())
    r.callback_query.register(large_print_chosen, LargePrint.filter())
    return r
