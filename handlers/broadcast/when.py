"""When the notice goes out: ▶ now, 📅 on a day (of the next week) at a time, or 🔁 repeating
(repeat.py); the time is tapped or written like 09:30."""

from __future__ import annotations

from dataclasses import replace

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.broadcast.states import NoticeForm, Turn, asks, local_at, with_turn
from models import utcnow
from services import broadcasts
from views.broadcasts import PickDay, PickTime, PickWhen, When, days_keyboard
from views.menu import BTN_BACK, BTN_CANCEL


async def when_chosen(query: CallbackQuery, callback_data: PickWhen, turn: Turn) -> None:
    await query.answer()
    if callback_data.mode == When.NOW:
        await turn.message.edit_reply_markup(reply_markup=None)
        await turn.go_on(NoticeForm.when, mode="now", day=None, rule=None)
    elif callback_data.mode == When.AT:
        await turn.go_on(NoticeForm.when, mode="at", rule=None)
    else:
        await turn.go_on(NoticeForm.when, mode="repeat", day=None)


@asks(NoticeForm.day)
async def ask_day(turn: Turn) -> None:
    today = utcnow().astimezone(turn.settings.tz).date()
    await turn.show(_("Which day?"), days_keyboard(today))


async def day_chosen(query: CallbackQuery, callback_data: PickDay, turn: Turn) -> None:
    await query.answer()
    await turn.go_on(NoticeForm.day, day=callback_data.day.isoformat())


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
    await turn.go_on(NoticeForm.time)


async def time_button(query: CallbackQuery, callback_data: PickTime, turn: Turn) -> None:
    await query.answer()
    await turn.message.edit_reply_markup(reply_markup=None)
    clock = f"{callback_data.hour:02d}:{callback_data.minute:02d}"
    await time_chosen(replace(turn, edit=False), clock)  # the next question below, not in place


async def time_text(message: Message, turn: Turn) -> None:
    await time_chosen(turn, (message.text or "").strip())


def router() -> Router:
    r = Router(name="broadcast.when")
    r.callback_query.register(when_chosen, NoticeForm.when, PickWhen.filter(), with_turn)
    r.callback_query.register(day_chosen, NoticeForm.day, PickDay.filter(), with_turn)
    r.callback_query.register(time_button, NoticeForm.time, PickTime.filter(), with_turn)
    r.message.register(
        time_text, NoticeForm.time, F.text, F.text != BTN_CANCEL, F.text != BTN_BACK, with_turn
    )
    return r
