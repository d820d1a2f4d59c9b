"""A resident applies to join a team: team → name → phone → skills → party member."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import finished, own_phone, picked, too_long, written
from handlers.enrol.ask import ask, ask_next
from handlers.enrol.states import STEPS, Enrolment
from models import User
from services import screens, volunteers
from services.errors import DomainError
from services.i18n import local_name
from services.people import Roles
from views.enrol import party_choices
from views.format import by_name, locale
from views.menu import BTN_CANCEL, BTN_JOIN, BTN_SKIP, contact_keyboard, main_menu


async def begin(message: Message, state: FSMContext, session: AsyncSession, user: User) -> None:
    if not user.registered or user.town_id is None:
        await message.answer(_("Please send /start first, so we know your village."))
        return
    teams = await volunteers.joinable_teams(session, user)
    if not teams:
        await message.answer(_("You are already in every team you can join."))
        return
    await state.clear()
    await state.update_data(teams={name: t.id for name, t in by_name(teams).items()})
    await ask(message, state, Enrolment.team, user)


async def got_team(message: Message, state: FSMContext, user: User) -> None:
    team_id = await picked(message, (await state.get_data())["teams"])
    if team_id is not None:
        await state.update_data(team_id=team_id)
        await ask_next(message, state, Enrolment.team, user)


async def got_name(message: Message, state: FSMContext, user: User) -> None:
    hint = _("Please write your name in at most {n} characters.")
    if name := await written(message, volunteers.MAX_NAME, hint):
        await state.update_data(name=name)
        await ask_next(message, state, Enrolment.name, user)


async def got_phone(message: Message, state: FSMContext, user: User) -> None:
    if phone := await own_phone(message):
        await state.update_data(phone=phone)
        await ask_next(message, state, Enrolment.phone, user)


async def skip_phone(message: Message, state: FSMContext, user: User) -> None:
    if not user.phone:
        await message.answer(
            _("A phone number is needed so the leader can reach you."),
            reply_markup=contact_keyboard(),
        )
        return
    await ask_next(message, state, Enrolment.phone, user)


async def got_skills(message: Message, state: FSMContext, user: User) -> None:
    skills = "" if message.text == BTN_SKIP else (message.text or "").strip()
    if await too_long(message, skills, volunteers.MAX_SKILLS):
        return
    await state.update_data(skills=skills)
    await ask_next(message, state, Enrolment.skills, user)


async def got_party(
    message: Message, state: FSMContext, session: AsyncSession, user: User, roles: Roles
) -> None:
    party = await picked(message, party_choices())
    if party is None:
        return
    data = await finished(state)
    try:
        member = await volunteers.apply(
            session,
            user,
            data["team_id"],
            name=data["name"],
            phone=data.get("phone"),
            skills=data.get("skills"),
            party_member=party,
        )
    except DomainError as exc:  # the form is over: the refusal comes with the menu back
        await message.answer(_(exc.message).format(**exc.params), reply_markup=main_menu(roles))
        return
    team = await screens.team(session, member.team_id)
    await message.answer(
        _(
            "Sent! The leader of {team} will look at your application; we will tell you here."
        ).format(team=local_name(team, locale()) if team else ""),
        reply_markup=main_menu(roles),
    )


async def unexpected(message: Message, state: FSMContext) -> None:
    if await state.get_state() == Enrolment.phone.state:
        await message.answer(_("Please use the button below to share your number, or tap «Skip»."))
        return
    await message.answer(_("Please answer with text, or tap one of the buttons."))


def router() -> Router:
    r = Router(name="enrol.apply")
    r.message.register(begin, Command("join"))
    r.message.register(begin, F.text == BTN_JOIN)
    typed = (F.text, F.text != BTN_CANCEL)
    r.message.register(got_team, Enrolment.team, *typed)
    r.message.register(got_name, Enrolment.name, *typed)
    r.message.register(got_phone, Enrolment.phone, F.contact)
    r.message.register(skip_phone, Enrolment.phone, F.text == BTN_SKIP)
    r.message.register(got_skills, Enrolment.skills, *typed)
    r.message.register(got_party, Enrolment.party, *typed)
    r.message.register(unexpected, StateFilter(*STEPS))  # last: what no step above took
    return r
