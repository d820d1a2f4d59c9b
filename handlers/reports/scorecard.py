"""A report's 🏆 Scorecard: the stations ranked for the period, with a chart for the office."""

from __future__ import annotations

import asyncio

from aiogram import Router
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.reports.access import asked_for, slug
from services import charts, reports
from services.context import Ctx
from services.i18n import local_name
from services.people import Roles
from services.scorecard import build_scorecard
from views.format import locale
from views.reports import Scorecard, scorecard_text


async def scorecard(
    query: CallbackQuery, callback_data: Scorecard, session: AsyncSession, roles: Roles, ctx: Ctx
) -> None:
    asked = await asked_for(query, callback_data, roles, ctx.tz)
    if asked is None:
        return
    scope, period = asked
    await query.answer()
    if not isinstance(query.message, Message):
        return
    for town in await reports.towns_of(session, scope):
        table = await build_scorecard(session, town.id, period, ctx.policy)
        await query.message.answer(scorecard_text(table, period, scope))
        if scope.station_ids is None and table:
            title = _("{place}: station scorecard").format(place=local_name(town, locale()))
            png = await asyncio.to_thread(charts.scorecard_chart, table, locale(), title)
            await query.message.answer_photo(
                BufferedInputFile(png, filename=f"scorecard-{slug(period)}.png")
            )


def router() -> Router:
    r = Router(name="reports.scorecard")
    r.callback_query.register(scorecard, Scorecard.filter())
    return r
