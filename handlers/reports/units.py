"""🏢 The unit scorecard (站所考核): from a report's buttons for the office, and from the menu
for a unit's dispatchers (their own units, this week, month or year)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import Settings
from handlers.reports.access import refuse
from services import reports
from services.org import Policy
from services.people import Roles
from services.reports import Period
from services.unit_scorecard import may_read_units, unit_reports_for
from views.menu import BTN_UNITS
from views.reports import UnitScorecardFor
from views.unit_reports import UnitsNow, unit_messages, unit_periods_keyboard


async def send_units(
    message: Message,
    session: AsyncSession,
    roles: Roles,
    period: Period,
    policy: Policy,
    settings: Settings,
) -> bool:
    """Send the scorecard(s) this person may read; False if they may read none."""
    found = await unit_reports_for(session, roles, period, policy, tz=settings.tz)
    if found is None:
        return False
    for town in found:
        texts = unit_messages(town.card, town.platforms, period, own=town.own)
        for i, text in enumerate(texts):
            last = i == len(texts) - 1 and town.own
            await message.answer(text, reply_markup=unit_periods_keyboard() if last else None)
    return True


async def from_menu(
    message: Message, session: AsyncSession, roles: Roles, settings: Settings, policy: Policy
) -> None:
    period = reports.current_period("m", settings.tz)
    if not await send_units(message, session, roles, period, policy, settings):
        await refuse(message)


async def this_period(
    query: CallbackQuery,
    callback_data: UnitsNow,
    session: AsyncSession,
    roles: Roles,
    settings: Settings,
    policy: Policy,
) -> None:
    period = reports.current_period(callback_data.kind.value, settings.tz)
    await _answer(query, session, roles, period, policy, settings)


async def of_report(
    query: CallbackQuery,
    callback_data: UnitScorecardFor,
    session: AsyncSession,
    roles: Roles,
    settings: Settings,
    policy: Policy,
) -> None:
    try:
        period = reports.make_period(
            callback_data.kind.value, callback_data.first, callback_data.last, settings.tz
        )
    except ValueError:
        await refuse(query)
        return
    await _answer(query, session, roles, period, policy, settings)


async def _answer(
    query: CallbackQuery,
    session: AsyncSession,
    roles: Roles,
    period: Period,
    policy: Policy,
    settings: Settings,
) -> None:
    if not may_read_units(roles):
        await refuse(query)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await send_units(query.message, session, roles, period, policy, settings)


def router() -> Router:
    r = Router(name="reports.units")
    r.message.register(from_menu, F.text == BTN_UNITS)
    r.callback_query.register(this_period, UnitsNow.filter())
    r.callback_query.register(of_report, UnitScorecardFor.filter())
    return r
