"""Find a person: part of the name or phone number, then a button per match."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.people.states import PeopleForm
from services import residents
from services.people import Roles
from views.menu import BTN_PEOPLE, choices_keyboard, is_menu_button, main_menu
from views.people import found_keyboard


async def ask(message: Message, state: FSMContext, roles: Roles) -> None:
    residents.check_asker(roles)
    await state.set_state(PeopleForm.find)
    await message.answer(
        _("Write part of the person's name or phone number."),
        reply_markup=choices_keyboard([], back=False),
    )


async def found(message: Message, state: FSMContext, session: AsyncSession, roles: Roles) -> None:
    if not message.text:
        await message.answer(_("Write part of the person's name or phone number."))
        return
    people = await residents.find(session, roles, message.text)
    if not people:
        await message.answer(_("Nobody of your villages matches. Try other words."))
        return
    await state.clear()
    await message.answer(_("Tap the person:"), reply_markup=found_keyboard(people))
    await message.answer(_("Or go on with the menu."), reply_markup=main_menu(roles))


def router() -> Router:
    r = Router(name="people.find")
    r.message.register(ask, F.text == BTN_PEOPLE)
    # A menu button tapped instead goes to its own screen.
    r.message.register(found, PeopleForm.find, ~F.text.func(is_menu_button))
    return r
