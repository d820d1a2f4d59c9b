"""🔁 A repeating notice: every day, every week on some days, or every month on a day."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.broadcast.states import NoticeForm, Turn, asks, with_turn
from views.broadcasts import PickRepeat, ToggleWeekday, WeekdaysChosen, weekdays_keyboard
from views.menu import BTN_BACK, BTN_CANCEL


async def repeat_chosen(query: CallbackQuery, callback_data: PickRepeat, turn: Turn) -> None:
    await query.answer()
    await turn.go_on(NoticeForm.repeat, rule={"kind": callback_data.kind.value, "days": []})


@asks(NoticeForm.weekdays)
async def ask_weekdays(turn: Turn) -> None:
    chosen = set((await turn.state.get_data())["rule"]["days"])
    await turn.show(
        _("On which days of the week? Tap one or more, then «Next»."), weekdays_keyboard(chosen)
    )


async def weekday_toggled(query: CallbackQuery, callback_data: ToggleWeekday, turn: Turn) -> None:
    if not 0 <= callback_data.weekday <= 6:
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    await query.answer()
    rule = (await turn.state.get_data())["rule"]
    days = set(rule["days"]) ^ {callback_data.weekday}
    await turn.state.update_data(rule={**rule, "days": sorted(days)})
    await turn.message.edit_reply_markup(reply_markup=weekdays_keyboard(days))


async def weekdays_done(query: CallbackQuery, turn: Turn) -> None:
    if not (await turn.state.get_data())["rule"]["days"]:
        await query.answer(_("Please choose at least one day of the week."), show_alert=True)
        return
    await query.answer()
    await turn.go_on(NoticeForm.weekdays)


async def got_monthday(message: Message, turn: Turn) -> None:
    text = (message.text or "").strip()
    if not text.isdigit() or not 1 <= int(text) <= 31:
        await message.answer(_("Please give a day of the month from 1 to 31."))
        return
    rule = (await turn.state.get_data())["rule"]
    await turn.go_on(NoticeForm.monthday, rule={**rule, "days": [int(text)]})


def router() -> Router:
    r = Router(name="broadcast.repeat")
    r.callback_query.register(repeat_chosen, NoticeForm.repeat, PickRepeat.filter(), with_turn)
    r.callback_query.register(
        weekday_toggled, NoticeForm.weekdays, ToggleWeekday.filter(), with_turn
    )
    r.callback_query.register(
        weekdays_done, NoticeForm.weekdays, WeekdaysChosen.filter(), with_turn
    )
    r.message.register(
        got_monthday,
        NoticeForm.monthday,
        F.text,
        F.text != BTN_CANCEL,
        F.text != BTN_BACK,
        with_turn,
    )
    return r
