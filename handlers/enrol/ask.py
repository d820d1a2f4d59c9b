"""The questions of the application form, one per step, asked in the order of STEPS."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from handlers.common import ask_choice, step_after
from handlers.enrol.states import STEPS, Enrolment
from models import User
from views.enrol import party_choices
from views.menu import BTN_SKIP, contact_keyboard

Question = Callable[[Message, FSMContext, User], Awaitable[None]]


async def _team(message: Message, state: FSMContext, _user: User) -> None:
    teams = (await state.get_data())["teams"]
    await ask_choice(
        message,
        _(
            "Thank you for wanting to help! Which team would you like to join? Your "
            "village's squad helps neighbours; the town's teams serve everywhere."
        ),
        list(teams),
        columns=1,
    )


async def _name(message: Message, _state: FSMContext, user: User) -> None:
    await ask_choice(
        message, _("Your full name, as the team should know you?"), [user.name] if user.name else []
    )


async def _phone(message: Message, _state: FSMContext, user: User) -> None:
    text = _("The leader will call you: share your phone number with the button below.")
    if user.phone:
        text += "\n" + _("Or tap «Skip» to keep {phone}.").format(phone=user.phone)
    await message.answer(text, reply_markup=contact_keyboard())


async def _skills(message: Message, *_args: object) -> None:
    await ask_choice(
        message,
        _("What can you do well? (e.g. nursing, farming, teaching) Or tap «Skip»."),
        [str(BTN_SKIP)],
    )


async def _party(message: Message, *_args: object) -> None:
    await ask_choice(
        message, _("Are you a member of the Communist Party?"), list(party_choices()), columns=1
    )


QUESTIONS: dict[State, Question] = {
    Enrolment.team: _team,
    Enrolment.name: _name,
    Enrolment.phone: _phone,
    Enrolment.skills: _skills,
    Enrolment.party: _party,
}
assert set(QUESTIONS) == set(STEPS), "every step of the form asks its question"


async def ask(message: Message, state: FSMContext, step: State, user: User) -> None:
    await state.set_state(step)
    await QUESTIONS[step](message, state, user)


async def ask_next(message: Message, state: FSMContext, answered: State, user: User) -> None:
    if (step := step_after(STEPS, answered)) is not None:
        await ask(message, state, step, user)
