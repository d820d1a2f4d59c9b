"""Registration, last step: the resident's own phone number (or skip), then the menu."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import own_phone
from handlers.start.states import Registration
from models import User
from services import profile
from services.people import Roles
from views.menu import BTN_SKIP, contact_keyboard, main_menu


async def ask_phone(message: Message, state: FSMContext) -> None:
    await state.set_state(Registration.phone)
    await message.answer(
        _(
            "So that volunteers can reach you, share your phone number with the button below. "
            "You can also skip this."
        ),
        reply_markup=contact_keyboard(),
    )


async def phone_shared(
    message: Message, state: FSMContext, session: AsyncSession, user: User, roles: Roles
) -> None:
    if phone := await own_phone(message):
        await _finish(message, state, session, user, roles, phone)


async def phone_skipped(
    message: Message, state: FSMContext, session: AsyncSession, user: User, roles: Roles
) -> None:
    await _finish(message, state, session, user, roles, None)


async def _finish(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    roles: Roles,
    phone: str | None,
) -> None:
    await profile.finish_registration(session, user, phone)
    await state.clear()
    await message.answer(
        _("Welcome, {name}! Tap «Request a service» whenever you need help.").format(
            name=user.name or ""
        ),
        reply_markup=main_menu(roles),
    )


def router() -> Router:
    r = Router(name="start.phone")
    r.message.register(phone_shared, Registration.phone, F.contact)
    r.message.register(phone_skipped, Registration.phone, F.text == BTN_SKIP)
    return r
