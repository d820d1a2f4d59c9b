"""Publishing an activity, when and how many: the day, the start, how long, the places and
whether it repeats weekly."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.activities.ask import ask_next, repeats
from handlers.activities.parsing import parse_hours, parse_time
from handlers.activities.states import PublishActivity
from handlers.common import Settings, picked, typed_answers
from models import utcnow
from services import activities
from views.menu import BTN_CANCEL


async def got_day(
    message: Message, state: FSMContext, session: AsyncSession, settings: Settings
) -> None:
    days = (await state.get_data())["days"]
    text = (message.text or "").strip()
    picked = days.get(text) or text
    try:
        day = date.fromisoformat(picked)
    except ValueError:
        await message.answer(_("Please tap a day, or write a date like 2026-12-31."))
        return
    if day < utcnow().astimezone(settings.tz).date():
        await message.answer(_("That day has passed. Please choose another."))
        return
    await ask_next(message, state, PublishActivity.day, session, settings, day=day.isoformat())


async def got_start(
    message: Message, state: FSMContext, session: AsyncSession, settings: Settings
) -> None:
    at = parse_time(message.text)
    data = await state.get_data()
    if at is None:
        await message.answer(_("Please write a time like 09:30."))
        return
    start = datetime.combine(date.fromisoformat(data["day"]), at, tzinfo=settings.tz)
    if start <= utcnow():
        await message.answer(_("That time has passed. Please choose a later one."))
        return
    await ask_next(
        message, state, PublishActivity.start, session, settings, start=start.isoformat()
    )


async def got_length(
    message: Message, state: FSMContext, session: AsyncSession, settings: Settings
) -> None:
    hours = parse_hours(message.text, most=Decimal(12))
    if hours is None:
        await message.answer(_("Please give a number of hours between 0.5 and 12."))
        return
    await ask_next(message, state, PublishActivity.length, session, settings, hours=str(hours))


async def got_capacity(
    message: Message, state: FSMContext, session: AsyncSession, settings: Settings
) -> None:
    text = (message.text or "").strip()
    if text == _("No limit"):
        capacity = None
    elif text.isdigit() and 1 <= int(text) <= activities.MAX_CAPACITY:
        capacity = int(text)
    else:
        await message.answer(
            _("Please write a number from 1 to {max}, or tap «No limit».").format(
                max=activities.MAX_CAPACITY
            )
        )
        return
    await ask_next(message, state, PublishActivity.capacity, session, settings, capacity=capacity)


async def got_repeat(
    message: Message, state: FSMContext, session: AsyncSession, settings: Settings
) -> None:
    if weeks := await picked(message, repeats()):
        await ask_next(message, state, PublishActivity.repeat, session, settings, weeks=weeks)


def router() -> Router:
    answers = {
        PublishActivity.day: got_day,
        PublishActivity.start: got_start,
        PublishActivity.length: got_length,
        PublishActivity.capacity: got_capacity,
        PublishActivity.repeat: got_repeat,
    }
    return typed_answers("activities.schedule", answers, BTN_CANCEL)
