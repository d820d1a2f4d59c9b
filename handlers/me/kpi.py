"""🎯 KPIs (/kpi): the plan's targets per town, village and team, for the office and heads."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from models import User, utcnow
from services import kpi
from services.context import Ctx
from services.people import Roles
from views.me import chunks, kpi_lines
from views.menu import BTN_KPI


async def kpi_table(
    message: Message, session: AsyncSession, user: User, roles: Roles, ctx: Ctx
) -> None:
    if not (roles.is_office or roles.head_of_stations):
        await message.answer(_("Only the office and station heads can see the KPIs."))
        return
    now = utcnow()
    year = now.astimezone(ctx.tz).year
    for town_id in await kpi.towns_for(session, roles, user):
        report = await kpi.kpi_report(
            session, town_id, year=year, now=now, tz=ctx.tz, targets=ctx.policy.kpi
        )
        office = roles.admin or town_id in roles.office_towns
        stations = [g for g in report.stations if office or g.id in roles.head_of_stations]
        for chunk in chunks(kpi_lines(report, year, stations, office=office)):
            await message.answer(chunk)


def router() -> Router:
    r = Router(name="me.kpi")
    r.message.register(kpi_table, Command("kpi"))
    r.message.register(kpi_table, F.text == BTN_KPI)
    return r
