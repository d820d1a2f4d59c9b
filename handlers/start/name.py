"""Registration, step two: the resident's name (their Telegram first name offered)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import ask_choice, written
from handlers.start.phone import ask_phone
from handlers.start.states import Registration
from models import User
from services import profile

NAME_MAX = 32


async def ask_name(message: Message, state: FSMContext) -> None:
    await state.set_state(Registration.name)
    first = message.from_user.first_name if message.from_user else ""
    await ask_choice(message, _("What is your name?"), [first] if first else [])


async def name_given(
    message: Message, state: FSMContext, session: AsyncSession, user: User
) -> None:
    hint = _("Please write your name in at most {n} characters.")
    if name := await written(message, NAME_MAX, hint):
        await profile.set_name(session, user, name)
        await ask_phone(message, state)


def router() -> Router:
    r = Router(name="start.name")
    r.message.register(name_given, Registration.name, F.text)
    return r
