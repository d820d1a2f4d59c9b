"""Joining a team: a resident applies (team → name → phone → skills → party member) and the
team's leader approves or rejects in the chat."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import too_long
from models import Team, TeamMember, User
from services import volunteers
from services.errors import DomainError
from services.i18n import local_name
from services.people import Roles
from views.enrol import EnrolDecision, application_lines
from views.format import locale
from views.menu import BTN_CANCEL, BTN_JOIN, BTN_SKIP, choices_keyboard, contact_keyboard, main_menu


class Enrolment(StatesGroup):
    team = State()
    name = State()
    phone = State()
    skills = State()
    party = State()


def _party_choices() -> dict[str, bool]:
    return {_("Yes, I am a party member"): True, _("No"): False}


def router() -> Router:
    r = Router(name="enrol")

    @r.message(Command("join"))
    @r.message(F.text == BTN_JOIN)
    async def begin(message: Message, state: FSMContext, session: AsyncSession, user: User) -> None:
        if not user.registered or user.town_id is None:
            await message.answer(_("Please send /start first, so we know your village."))
            return
        teams = await volunteers.joinable_teams(session, user)
        if not teams:
            await message.answer(_("You are already in every team you can join."))
            return
        await state.clear()
        choices = {local_name(t, locale()): t.id for t in teams}
        await state.update_data(teams=choices)
        await state.set_state(Enrolment.team)
        await message.answer(
            _(
                "Thank you for wanting to help! Which team would you like to join? Your "
                "village's squad helps neighbours; the town's teams serve everywhere."
            ),
            reply_markup=choices_keyboard(list(choices), columns=1, back=False),
        )

    @r.message(Enrolment.team, F.text, F.text != BTN_CANCEL)
    async def got_team(message: Message, state: FSMContext, user: User) -> None:
        teams = (await state.get_data())["teams"]
        if message.text not in teams:
            await message.answer(_("Please tap one of the buttons below."))
            return
        await state.update_data(team_id=teams[message.text])
        await state.set_state(Enrolment.name)
        await message.answer(
            _("Your full name, as the team should know you?"),
            reply_markup=choices_keyboard([user.name] if user.name else [], back=False),
        )

    @r.message(Enrolment.name, F.text, F.text != BTN_CANCEL)
    async def got_name(message: Message, state: FSMContext, user: User) -> None:
        name = (message.text or "").strip()
        if not name or len(name) > volunteers.MAX_NAME or name.startswith("/"):
            await message.answer(
                _("Please write your name in at most {n} characters.").format(n=volunteers.MAX_NAME)
            )
            return
        await state.update_data(name=name)
        await state.set_state(Enrolment.phone)
        text = _("The leader will call you: share your phone number with the button below.")
        if user.phone:
            text += "\n" + _("Or tap «Skip» to keep {phone}.").format(phone=user.phone)
        await message.answer(text, reply_markup=contact_keyboard())

    async def _ask_skills(message: Message, state: FSMContext) -> None:
        await state.set_state(Enrolment.skills)
        await message.answer(
            _("What can you do well? (e.g. nursing, farming, teaching) Or tap «Skip»."),
            reply_markup=choices_keyboard([str(BTN_SKIP)], back=False),
        )

    @r.message(Enrolment.phone, F.contact)
    async def got_phone(message: Message, state: FSMContext) -> None:
        contact = message.contact
        if contact is None or message.from_user is None or contact.user_id != message.from_user.id:
            # A forwarded card may be someone else's: only the sender's own number is taken.
            await message.answer(
                _("That is not your own number. Please use the button below."),
                reply_markup=contact_keyboard(),
            )
            return
        await state.update_data(phone=contact.phone_number)
        await _ask_skills(message, state)

    @r.message(Enrolment.phone, F.text == BTN_SKIP)
    async def skip_phone(message: Message, state: FSMContext, user: User) -> None:
        if not user.phone:
            await message.answer(
                _("A phone number is needed so the leader can reach you."),
                reply_markup=contact_keyboard(),
            )
            return
        await _ask_skills(message, state)

    @r.message(Enrolment.skills, F.text, F.text != BTN_CANCEL)
    async def got_skills(message: Message, state: FSMContext) -> None:
        skills = "" if message.text == BTN_SKIP else (message.text or "").strip()
        if await too_long(message, skills, volunteers.MAX_SKILLS):
            return
        await state.update_data(skills=skills)
        await state.set_state(Enrolment.party)
        await message.answer(
            _("Are you a member of the Communist Party?"),
            reply_markup=choices_keyboard(list(_party_choices()), columns=1, back=False),
        )

    @r.message(Enrolment.party, F.text, F.text != BTN_CANCEL)
    async def got_party(
        message: Message, state: FSMContext, session: AsyncSession, user: User, roles: Roles
    ) -> None:
        party = _party_choices().get(message.text or "")
        if party is None:
            await message.answer(_("Please tap one of the buttons below."))
            return
        data = await state.get_data()
        await state.clear()
        try:
            await volunteers.apply(
                session,
                user,
                data["team_id"],
                name=data["name"],
                phone=data.get("phone"),
                skills=data.get("skills"),
                party_member=party,
            )
        except DomainError as exc:
            await message.answer(_(exc.message).format(**exc.params), reply_markup=main_menu(roles))
            return
        team = await session.get(Team, data["team_id"])
        await message.answer(
            _(
                "Sent! The leader of {team} will look at your application; we will tell you here."
            ).format(team=local_name(team, locale()) if team else ""),
            reply_markup=main_menu(roles),
        )

    @r.message(Enrolment.phone)
    async def wrong_phone(message: Message) -> None:
        await message.answer(_("Please use the button below to share your number, or tap «Skip»."))

    @r.message(Enrolment.team)
    @r.message(Enrolment.name)
    @r.message(Enrolment.skills)
    @r.message(Enrolment.party)
    async def wrong_input(message: Message) -> None:
        await message.answer(_("Please answer with text, or tap one of the buttons."))

    # --- the leader decides ---------------------------------------------------------------
    @r.callback_query(EnrolDecision.filter())
    async def decide(
        query: CallbackQuery,
        callback_data: EnrolDecision,
        session: AsyncSession,
        user: User,
        roles: Roles,
    ) -> None:
        approve = callback_data.action == "approve"
        member = await volunteers.decide(
            session, callback_data.member_id, user, roles, approve=approve
        )
        await query.answer(_("Approved. Welcome them!") if approve else _("Rejected."))
        await _mark_card(query, session, member, approve)

    async def _mark_card(
        query: CallbackQuery, session: AsyncSession, member: TeamMember, approve: bool
    ) -> None:
        if not isinstance(query.message, Message):
            return
        applicant = await session.get(User, member.user_id)
        team = await session.get(Team, member.team_id)
        if applicant is None or team is None:
            return
        verdict = _("✅ Approved by you.") if approve else _("❌ Rejected by you.")
        await query.message.edit_text(
            "\n".join([*application_lines(applicant, team), verdict]), reply_markup=None
        )

    return r
