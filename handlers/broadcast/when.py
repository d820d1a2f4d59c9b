"""When the notice goes out: ▶ now, 📅 on a day (of the next week) at a time, or 🔁 repeating
(repeat.py); the time is tapped or written like 09:30."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.broadcast.states import NoticeForm, Turn, advance, asks, local_at
from handlers.common import Settings
from models import utcnow
from services import broadcasts
from services.people import Roles
from views.broadcasts import (
    PickDay,
    PickTime,
    PickWhen,
    When,
    days_keyboard,
    times_keyboard,
    when_keyboard,
)
from views.menu import BTN_BACK, BTN_CANCEL


@asks(NoticeForm.when)
async def ask_when(turn: Turn) -> None:
    await turn.show(_("When should it go out?"), when_keyboard())


async def when_chosen(
    query: CallbackQuery,
    callback_data: PickWhen,
    state: FSMContext,
    session: AsyncSession,
    roles: Roles,
    settings: Settings,
) -> None:
    await query.answer()
    if not isinstance(query.message, Message):
        return
    if callback_data.mode == When.NOW:
        await state.update_data(mode="now", day=None, rule=None)
        await query.message.edit_reply_markup(reply_markup=None)
    elif callback_data.mode == When.AT:
        await state.update_data(mode="at", rule=None)
    else:
        await state.update_data(mode="repeat", day=None)
    turn = Turn(query.message, state, session, roles, settings, edit=True)
    await advance(NoticeForm.when, turn)


@asks(NoticeForm.day)
async def ask_day(turn: Turn) -> None:
    today = utcnow().astimezone(turn.settings.tz).date()
    await turn.show(_("Which day?"), days_keyboard(today))


async def day_chosen(
    query: CallbackQuery,
    callback_data: PickDay,
    state: FSMContext,
    session: AsyncSession,
    roles: Roles,
    settings: Settings,
) -> None:
    await query.answer()
    await state.update_data(day=callback_data.day.isoformat())
    if isinstance(query.message, Message):
        turn = Turn(query.message, state, session, roles, settings, edit=True)
        await advance(NoticeForm.day, turn)


@asks(NoticeForm.time)
async def ask_time(turn: Turn) -> None:
    await turn.show(_("At what time? Tap one, or write it like 09:30."), times_keyboard())


async def time_chosen(turn: Turn, clock: str) -> None:
    if broadcasts.parse_clock(clock) is None:
        await turn.message.answer(_("Please write the time like 09:30."))
        return
    data = await turn.state.get_data()
    if data.get("mode") == "repeat":
        await turn.state.update_data(rule={**data["rule"], "time": clock})
    else:
        if local_at(data["day"], clock, turn.settings.tz) <= utcnow():
            await turn.message.answer(_("That time has already passed. Please choose a later one."))
            return
        await turn.state.update_data(clock=clock)
    await advance(NoticeForm.time, turn)


async def time_button(
    query: CallbackQuery,
    callback_data: PickTime,
    state: FSMContext,
    session: AsyncSession,
    roles: Roles,
    settings: Settings,
) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        turn = Turn(query.message, state, session, roles, settings)
        await time_chosen(turn, f"{callback_data.hour:02d}:{callback_data.minute:02d}")


async def time_text(
    message: Message, state: FSMContext, session: AsyncSession, roles: Roles, settings: Settings
) -> None:
    turn = Turn(message, state, session, roles, settings)
    await time_chosen(turn, (message.text or "").strip())


def router() -> Router:
    r = Router(name="broadcast.when")
    r.callback_query.register(when_chosen, NoticeForm.when, PickWhen.filter())
    r.callback_query.register(day_chosen, NoticeForm.day, PickDay.filter())
    r.callback_query.register(time_button, NoticeForm.time, PickTime.filter())
    r.message.register(time_text, NoticeForm.time, F.text, F.text != BTN_CANCEL, F.text != BTN_BACK)
    return r
