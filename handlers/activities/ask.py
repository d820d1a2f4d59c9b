"""The questions of the publishing form, one per step: `ask(step)` sets the step and asks
it, and `ask_next` asks the step after the one just answered (the order is STEPS)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.activities.states import STEPS, PublishActivity
from handlers.common import Settings, ask_choice, step_after
from models import utcnow
from services import screens
from services.activities import ActivityDraft
from views.activities import (
    activity_lines,
    location_keyboard,
    publish_confirm_keyboard,
)
from views.format import day_label
from views.menu import BTN_SKIP

DAYS_AHEAD = 14
START_TIMES = ["08:00", "09:00", "10:00", "14:00", "15:00", "19:00"]
LENGTHS = ["1", "1.5", "2", "3", "4"]
CAPACITIES = ["10", "20", "30", "50"]


def repeats() -> dict[str, int]:
    return {_("Once"): 1, _("Every week, 4 times"): 4, _("Every week, 8 times"): 8}


def draft(data: dict[str, Any]) -> ActivityDraft:
    """The activity as the form has it so far (all steps answered)."""
    start = datetime.fromisoformat(data["start"])
    target = data["target"]
    return ActivityDraft(
        title=data["title"],
        content=data.get("content", ""),
        place=data["place"],
        starts_at=start,
        ends_at=start + timedelta(hours=float(data["hours"])),
        capacity=data.get("capacity"),
        team_id=int(target[1:]) if target.startswith("t") else None,
        station_id=int(target[1:]) if target.startswith("s") else None,
        weeks=int(data.get("weeks", 1)),
        latitude=data.get("latitude"),
        longitude=data.get("longitude"),
    )


Question = Callable[[Message, FSMContext, AsyncSession, Settings], Awaitable[None]]


async def _audience(message: Message, state: FSMContext, *_args: object) -> None:
    targets = (await state.get_data())["targets"]
    await ask_choice(message, _("Who is the activity for?"), list(targets), columns=1)


async def _title(message: Message, *_args: object) -> None:
    await ask_choice(message, _("The title of the activity? (e.g. Free clinic in the village)"))


async def _content(message: Message, *_args: object) -> None:
    await ask_choice(
        message, _("What will happen? A few words on the content (or tap «Skip»)."), [str(BTN_SKIP)]
    )


async def _place(message: Message, *_args: object) -> None:
    await ask_choice(message, _("Where does it take place?"))


async def _location(message: Message, *_args: object) -> None:
    await message.answer(
        _(
            "If you are at the place now, send its location: volunteers can then check "
            "in by sending theirs. Otherwise tap «Skip»."
        ),
        reply_markup=location_keyboard(skip=True),
    )


async def _day(
    message: Message, state: FSMContext, _session: AsyncSession, settings: Settings
) -> None:
    today = utcnow().astimezone(settings.tz).date()
    days = {
        day_label(d): d.isoformat() for d in (today + timedelta(days=i) for i in range(DAYS_AHEAD))
    }
    await state.update_data(days=days)
    await ask_choice(
        message, _("Which day? Tap one, or write a date like 2026-12-31."), days, columns=3
    )


async def _start(message: Message, *_args: object) -> None:
    await ask_choice(
        message,
        _("What time does it start? Tap one, or write a time like 09:30."),
        START_TIMES,
        columns=3,
    )


async def _length(message: Message, *_args: object) -> None:
    await ask_choice(message, _("How many hours does it last?"), LENGTHS, columns=5)


async def _capacity(message: Message, *_args: object) -> None:
    await ask_choice(
        message,
        _("How many places? Tap one, write a number, or tap «No limit»."),
        [*CAPACITIES, _("No limit")],
        columns=5,
    )


async def _repeat(message: Message, *_args: object) -> None:
    await ask_choice(message, _("Once, or every week?"), list(repeats()), columns=1)


async def _confirm(
    message: Message, state: FSMContext, session: AsyncSession, settings: Settings
) -> None:
    planned = draft(await state.get_data())
    lines = [
        _("Please check the activity:"),
        *activity_lines(await screens.draft_facts(session, planned), settings.tz),
    ]
    if planned.latitude is not None:
        lines.append(_("📍 Check-in by location is on."))
    await message.answer("\n".join(lines), reply_markup=publish_confirm_keyboard())


QUESTIONS: dict[State, Question] = {
    PublishActivity.audience: _audience,
    PublishActivity.title: _title,
    PublishActivity.content: _content,
    PublishActivity.place: _place,
    PublishActivity.location: _location,
    PublishActivity.day: _day,
    PublishActivity.start: _start,
    PublishActivity.length: _length,
    PublishActivity.capacity: _capacity,
    PublishActivity.repeat: _repeat,
    PublishActivity.confirm: _confirm,
}
assert set(QUESTIONS) == set(STEPS), "every step of the form asks its question"


async def ask(
    message: Message, state: FSMContext, step: State, session: AsyncSession, settings: Settings
) -> None:
    await state.set_state(step)
    await QUESTIONS[step](message, state, session, settings)


async def ask_next(
    message: Message,
    state: FSMContext,
    answered: State,
    session: AsyncSession,
    settings: Settings,
    **answers: Any,
) -> None:
    """`answered` is answered (keep its `answers`): ask the step after it."""
    if answers:
        await state.update_data(**answers)
    if (step := step_after(STEPS, answered)) is not None:
        await ask(message, state, step, session, settings)
