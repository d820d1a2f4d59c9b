"""📊 Reports → a period (this week, month, year, or two dates typed) → the figures and a
chart, with buttons for the scorecard and the archives."""

from __future__ import annotations

import asyncio

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Message, ReplyKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.reports.access import place, readable
from services import charts, reports
from services.context import Ctx
from services.people import Roles
from services.reports import Period, Scope
from views.format import locale
from views.menu import BTN_CANCEL, BTN_REPORTS, choices_keyboard, main_menu
from views.reports import (
    PeriodKind,
    ReportFor,
    periods_keyboard,
    report_keyboard,
    report_text,
)


class ReportForm(StatesGroup):
    dates = State()


async def menu(message: Message, session: AsyncSession, roles: Roles) -> None:
    scope = await readable(message, roles)
    if scope is None:
        return
    await message.answer(
        _("Reports for {place}. Which period?").format(place=await place(session, scope)),
        reply_markup=periods_keyboard(),
    )


async def period_chosen(
    query: CallbackQuery,
    callback_data: ReportFor,
    state: FSMContext,
    session: AsyncSession,
    roles: Roles,
    ctx: Ctx,
) -> None:
    scope = await readable(query, roles)
    if scope is None:
        return
    await query.answer()
    if not isinstance(query.message, Message):
        return
    if callback_data.kind == PeriodKind.CUSTOM:
        await state.set_state(ReportForm.dates)
        await query.message.answer(
            _(
                "Send the first and the last day, for example:\n2026-01-01 2026-03-31\n"
                "(or tap “✖ Cancel”)"
            ),
            reply_markup=choices_keyboard([], back=False),
        )
        return
    period = reports.current_period(callback_data.kind.value, ctx.tz)
    await send_report(query.message, session, scope, period)


async def dates_given(
    message: Message, state: FSMContext, session: AsyncSession, roles: Roles, ctx: Ctx
) -> None:
    scope = await readable(message, roles)
    if scope is None:
        await state.clear()
        return
    try:
        first, last = reports.parse_date_range(message.text or "")
        period = reports.custom_period(first, last, ctx.tz)
    except ValueError:
        await message.answer(
            _(
                "I could not read two dates (at most three years apart). Please write "
                "them like 2026-01-01 2026-03-31."
            )
        )
        return
    await state.clear()
    await send_report(message, session, scope, period, menu=main_menu(roles))


async def send_report(
    message: Message,
    session: AsyncSession,
    scope: Scope,
    period: Period,
    *,
    menu: ReplyKeyboardMarkup | None = None,
) -> None:
    """The report's text (with `menu`: the menu back after the dates were asked), then its
    chart with the buttons of its files."""
    report = await reports.build_report(session, scope, period)
    where = await place(session, scope)
    await message.answer(report_text(report, where), reply_markup=menu)
    title = _("{place}: service report").format(place=where)
    png = await asyncio.to_thread(charts.report_chart, report, locale(), title)
    await message.answer_photo(
        BufferedInputFile(png, filename=f"report-{period.code}.png"),
        caption=f"{where} · {period.label(locale())}",
        reply_markup=report_keyboard(period, units=scope.whole_town),
    )


def router() -> Router:
    r = Router(name="reports.periods")
    r.message.register(menu, Command("reports"))
    r.message.register(menu, F.text == BTN_REPORTS)
    r.callback_query.register(period_chosen, ReportFor.filter())
    r.message.register(dates_given, ReportForm.dates, F.text, F.text != BTN_CANCEL)
    return r
