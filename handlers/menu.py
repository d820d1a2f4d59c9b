"""The main menu's fall-backs: help, /cancel anywhere, and anything the bot did not expect."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _

from handlers.common import menu_again
from models import User
from services.people import Roles
from views.menu import BTN_CANCEL, BTN_HELP, BTN_HOME, BTN_MORE, main_menu, more_menu


async def cancel(message: Message, state: FSMContext, roles: Roles, user: User) -> None:
    await state.clear()
    if not user.registered:
        await message.answer(
            _("Stopped. Send /start when you are ready."), reply_markup=ReplyKeyboardRemove()
        )
        return
    await message.answer(_("Stopped. Nothing was saved."), reply_markup=main_menu(roles))


async def help_(message: Message, roles: Roles) -> None:
    lines = [
        _("How to use this bot:"),
        _("• «Request a service»: tell us what help you need; a volunteer team will contact you."),
        _("• «My orders»: see your requests, cancel one, or rate the service."),
        _("• “✖ Cancel” stops what you are doing; the menu buttons come back below."),
        _("• Not sure? Tap “❓ Help” at any time."),
    ]
    if roles.is_volunteer:
        lines.append(_("• «My tasks»: the services you are assigned to."))
    await message.answer("\n".join(lines), reply_markup=main_menu(roles))


async def more(message: Message, roles: Roles) -> None:
    await message.answer(_("More:"), reply_markup=more_menu(roles))


async def home(message: Message, state: FSMContext, roles: Roles) -> None:
    await state.clear()
    await message.answer(_("Main menu:"), reply_markup=main_menu(roles))


async def unknown(message: Message, roles: Roles, user: User) -> None:
    text = _("Sorry, I did not understand. Please use the menu buttons.")
    await menu_again(message, user, roles, text)


async def stale_button(query: CallbackQuery) -> None:
    # Any button nothing else took: an old one, from a finished conversation or an earlier
    # version of the bot, or forged.
    await query.answer(_("This button is no longer valid."), show_alert=True)


def cancel_router() -> Router:
    """/cancel and the Cancel button work in every step of every conversation."""
    r = Router(name="cancel")
    r.message.register(cancel, Command("cancel"))
    r.message.register(cancel, F.text == BTN_CANCEL)
    return r


def router() -> Router:
    r = Router(name="menu")
    r.message.register(help_, Command("help"))
    r.message.register(help_, F.text == BTN_HELP)
    r.message.register(more, F.text == BTN_MORE)
    r.message.register(home, F.text == BTN_HOME)
    r.message.register(unknown)
    r.callback_query.register(stale_button)
    return r
