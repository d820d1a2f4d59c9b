"""The compose form, written once: its steps in order, when each applies (the answers so far
decide: a station head skips the audience, «Now» skips the day and the time …), and the
question each asks. Next, back and "that was not what I asked" all read STEPS.

    text → audience → villages | team → when → day | repeat → weekdays | monthday → time
         → preview
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import Settings
from services import broadcasts
from services.i18n import N_
from services.people import Roles
from services.reminders import at_local
from views.broadcasts import audience_keyboard, repeat_keyboard, times_keyboard, when_keyboard


class NoticeForm(StatesGroup):
    text = State()
    audience = State()
    villages = State()
    team = State()
    when = State()
    day = State()
    time = State()
    repeat = State()
    weekdays = State()
    monthday = State()
    preview = State()


class RejectForm(StatesGroup):
    reason = State()


Answers = dict[str, Any]  # the form's data so far


def _rule(data: Answers) -> str | None:
    return (data.get("rule") or {}).get("kind") if data.get("mode") == "repeat" else None


@dataclass(frozen=True)
class Step:
    state: State
    applies: Callable[[Answers], bool]
    hint: str  # msgid: what to say when the answer is not what was asked


TAP = N_("Please tap one of the buttons above.")
STEPS: tuple[Step, ...] = (
    Step(
        NoticeForm.text,
        lambda d: True,
        N_("Write the notice. You can also send a photo with the text as its caption."),
    ),
    Step(NoticeForm.audience, lambda d: not d.get("approval"), TAP),  # a head: own villages
    Step(NoticeForm.villages, lambda d: d.get("kind") == "stations", TAP),
    Step(NoticeForm.team, lambda d: d.get("kind") == "team", TAP),
    Step(NoticeForm.when, lambda d: True, TAP),
    Step(NoticeForm.day, lambda d: d.get("mode") == "at", TAP),
    Step(NoticeForm.repeat, lambda d: d.get("mode") == "repeat", TAP),
    Step(NoticeForm.weekdays, lambda d: _rule(d) == "weekly", TAP),
    Step(
        NoticeForm.monthday,
        lambda d: _rule(d) == "monthly",
        N_("Please give a day of the month from 1 to 31."),
    ),
    Step(
        NoticeForm.time,
        lambda d: d.get("mode") in ("at", "repeat"),
        N_("Please write the time like 09:30."),
    ),
    Step(NoticeForm.preview, lambda d: True, TAP),
)


def step_of(state_name: str | None) -> Step | None:
    return next((s for s in STEPS if s.state.state == state_name), None)


def next_step(current: State, data: Answers) -> State:
    """The first step after `current` that the answers so far call for."""
    at = [s.state for s in STEPS].index(current)
    return next(s.state for s in STEPS[at + 1 :] if s.applies(data))


def previous_step(current: State, data: Answers) -> State | None:
    """The step before `current` on the way the answers took; None before the first."""
    at = [s.state for s in STEPS].index(current)
    return next((s.state for s in reversed(STEPS[:at]) if s.applies(data)), None)


@dataclass(frozen=True)
class Turn:
    """What a step's question needs: where to ask, the form, and who is asking."""

    message: Message
    state: FSMContext
    session: AsyncSession
    roles: Roles
    settings: Settings
    edit: bool = False  # in place of the message that asked before (a button was tapped)

    async def show(self, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
        if self.edit:
            await self.message.edit_text(text, reply_markup=markup)
        else:
            await self.message.answer(text, reply_markup=markup)

    async def go_on(self, done: State, **answers: Any) -> None:
        """`done` is answered: keep `answers` and ask the next question the answers call for."""
        if answers:
            await self.state.update_data(**answers)
        await advance(done, self)


async def with_turn(
    event: Message | CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    roles: Roles,
    settings: Settings,
) -> dict[str, Turn] | bool:
    """A filter that hands a step's handler its `turn`: after a message the next question
    comes below it, after a tapped button in its place. A button on a message too old to
    reach is not taken (the catch-all answers it)."""
    message = event.message if isinstance(event, CallbackQuery) else event
    if not isinstance(message, Message):
        return False
    edit = isinstance(event, CallbackQuery)
    return {"turn": Turn(message, state, session, roles, settings, edit=edit)}


Ask = Callable[[Turn], Awaitable[None]]
_ASKS: dict[str, Ask] = {}


def asks(step: State) -> Callable[[Ask], Ask]:
    """Register the function that asks this step's question (each step's own module)."""

    def register(fn: Ask) -> Ask:
        _ASKS[step.state or ""] = fn
        return fn

    return register


@dataclass(frozen=True)
class Always:
    """A question that is always the same words (a msgid) and buttons."""

    words: str
    buttons: Callable[[], InlineKeyboardMarkup] | None = None

    async def __call__(self, turn: Turn) -> None:
        await turn.show(_(self.words), self.buttons() if self.buttons else None)


# The questions that never change; the others are asked by their step's module (@asks).
_ASKS.update(
    (step.state or "", Always(words, buttons))
    for step, words, buttons in (
        (NoticeForm.audience, N_("Who should get it?"), audience_keyboard),
        (NoticeForm.when, N_("When should it go out?"), when_keyboard),
        (NoticeForm.repeat, N_("How often?"), repeat_keyboard),
        (NoticeForm.monthday, N_("On which day of the month? Write a number from 1 to 31."), None),
        (NoticeForm.time, N_("At what time? Tap one, or write it like 09:30."), times_keyboard),
    )
)


async def ask(step: State, turn: Turn) -> None:
    await turn.state.set_state(step)
    await _ASKS[step.state or ""](turn)


async def advance(current: State, turn: Turn) -> None:
    """On to the next step the answers call for."""
    await ask(next_step(current, await turn.state.get_data()), turn)


def due_at(data: Answers, tz: tzinfo) -> datetime | None:
    """The date and time chosen for a one-off notice (None: now, or a repeating one)."""
    if data.get("mode") != "at":
        return None
    return local_at(data["day"], data["clock"], tz)


def local_at(day: str, clock: str, tz: tzinfo) -> datetime:
    parsed = broadcasts.parse_clock(clock)
    assert parsed is not None
    return at_local(date.fromisoformat(day), parsed, tz)
