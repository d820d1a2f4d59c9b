"""/start: greet, register a new resident (village → name → phone), or open an invite."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import CommandObject, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.settings import Settings
from models import User
from services import people
from services.errors import DomainError
from services.i18n import local_name
from services.org import station_choices
from services.people import Roles
from views.format import ROLE_LABELS, locale
from views.menu import BTN_SKIP, choices_keyboard, contact_keyboard, main_menu

NAME_MAX = 32


class Registration(StatesGroup):
    village = State()
    name = State()
    phone = State()


async def show_menu(message: Message, roles: Roles, text: str | None = None) -> None:
    await message.answer(text or _("What would you like to do?"), reply_markup=main_menu(roles))


async def _ask_village(message: Message, state: FSMContext, session: AsyncSession) -> None:
    stations = await station_choices(session)
    await state.set_state(Registration.village)
    await message.answer(
        _("Which village or community do you live in?"),
        reply_markup=choices_keyboard([local_name(s, locale()) for s in stations], back=False),
    )


async def _welcome(message: Message, user: User, roles: Roles) -> None:
    await show_menu(
        message,
        roles,
        _("Welcome, {name}! Tap «Request a service» whenever you need help.").format(
            name=user.name or ""
        ),
    )


def router() -> Router:
    r = Router(name="start")

    @r.message(CommandStart(deep_link=True))
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
            invite = await people.redeem_invite(session, command.args or "", user)
            await session.commit()
        except DomainError as exc:
            await message.answer(_(exc.message).format(**exc.params))
        else:
            await message.answer(
                _("You have been appointed: {role}.").format(role=_(ROLE_LABELS[invite.role]))
            )
            roles = await people.roles_of(session, user, frozenset(settings.admin_ids))
        await _after_start(message, state, session, user, roles)

    @r.message(CommandStart())
    async def start(
        message: Message, state: FSMContext, session: AsyncSession, user: User, roles: Roles
    ) -> None:
        await _after_start(message, state, session, user, roles)

    async def _after_start(
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
        await _ask_village(message, state, session)

    @r.message(Registration.village, F.text)
    async def got_village(
        message: Message, state: FSMContext, session: AsyncSession, user: User
    ) -> None:
        stations = {local_name(s, locale()): s for s in await station_choices(session)}
        station = stations.get(message.text or "")
        if station is None:
            await message.answer(_("Please tap one of the buttons below."))
            return
        user.station_id, user.town_id = station.id, station.parent_id
        await session.commit()
        await state.set_state(Registration.name)
        first = message.from_user.first_name if message.from_user else ""
        await message.answer(
            _("What is your name?"),
            reply_markup=choices_keyboard([first] if first else [], back=False),
        )

    @r.message(Registration.name, F.text)
    async def got_name(
        message: Message, state: FSMContext, session: AsyncSession, user: User
    ) -> None:
        name = (message.text or "").strip()
        if not name or len(name) > NAME_MAX or name.startswith("/"):
            await message.answer(
                _("Please write your name in at most {n} characters.").format(n=NAME_MAX)
            )
            return
        user.name = name
        await session.commit()
        await state.set_state(Registration.phone)
        await message.answer(
            _(
                "So that volunteers can reach you, share your phone number with the button below. "
                "You can also skip this."
            ),
            reply_markup=contact_keyboard(),
        )

    @r.message(Registration.phone, F.contact)
    async def got_phone(
        message: Message, state: FSMContext, session: AsyncSession, user: User, roles: Roles
    ) -> None:
        contact = message.contact
        if contact is None or message.from_user is None or contact.user_id != message.from_user.id:
            # A forwarded card may be someone else's: only the sender's own number is taken.
            await message.answer(
                _("That is not your own number. Please use the button below."),
                reply_markup=contact_keyboard(),
            )
            return
        user.phone = contact.phone_number
        await _finish(message, state, session, user, roles)

    @r.message(Registration.phone, F.text == BTN_SKIP)
    async def skip_phone(
        message: Message, state: FSMContext, session: AsyncSession, user: User, roles: Roles
    ) -> None:
        await _finish(message, state, session, user, roles)

    async def _finish(
        message: Message, state: FSMContext, session: AsyncSession, user: User, roles: Roles
    ) -> None:
        user.registered = True
        await session.commit()
        await state.clear()
        await _welcome(message, user, roles)

    @r.message(StateFilter(Registration))
    async def wrong_input(message: Message, state: FSMContext) -> None:
        current = await state.get_state()
        if current == Registration.phone.state:
            text = _("Please use the button below to share your number, or tap «Skip».")
        else:
            text = _("Please answer with text, or tap one of the buttons.")
        await message.answer(text)

    return r
