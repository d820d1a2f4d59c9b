"""/start: greet a registered person with the menu, a new one with the first registration
step; /start with a code opens an invite."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import Settings
from handlers.start.village import ask_village
from models import User
from services import people, profile
from services.errors import DomainError
from services.people import Roles
from views.format import ROLE_LABELS
from views.menu import main_menu


async def show_menu(message: Message, roles: Roles, text: str | None = None) -> None:
    await message.answer(text or _("What would you like to do?"), reply_markup=main_menu(roles))


async def start_with_code(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    roles: Roles,
    settings: Settings,
) -> None:
    try:
        invite = await profile.open_invite(session, command.args or "", user)
    except DomainError as exc:
        # Not left to handlers/errors.py: after the refusal the greeting still follows.
        await message.answer(_(exc.message).format(**exc.params))
    else:
        await message.answer(
            _("You have been appointed: {role}.").format(role=_(ROLE_LABELS[invite.role]))
        )
        roles = await people.roles_of(session, user, frozenset(settings.admin_ids))
    await start(message, state, session, user, roles)


async def start(
    message: Message, state: FSMContext, session: AsyncSession, user: User, roles: Roles
) -> None:
    await state.clear()
    if user.registered:
        await show_menu(message, roles, _("Hello, {name}!").format(name=user.name or ""))
        return
    await message.answer(
        _(
            "Hello! This is the volunteer service of your town. Residents ask for help here, "
            "and volunteers come to help."
        )
    )
    await ask_village(message, state, session)


def router() -> Router:
    r = Router(name="start.greet")
    r.message.register(start_with_code, CommandStart(deep_link=True))
    r.message.register(start, CommandStart())
    return r
