"""👤 Me: hours and points this year, the latest ledger lines; 📜 the certificate of hours."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from models import User, utcnow
from services import points, volunteers
from services.certificate import certificate_data, render_certificate
from services.context import Ctx
from services.people import Roles
from views.format import locale
from views.me import MeItem, MeMenu, MyYear, entry_line, me_keyboard, me_text
from views.menu import BTN_ME

RECENT = 5


async def me(message: Message, session: AsyncSession, user: User, roles: Roles, ctx: Ctx) -> None:
    year = utcnow().astimezone(ctx.tz).year
    hours, pts = await points.totals(session, user.id, year, ctx.tz)
    figures = MyYear(
        year=year,
        hours=hours,
        points=pts,
        lifetime=await points.lifetime_points(session, user.id),
        target=Decimal(str(ctx.policy.kpi.hours_per_year)),
    )
    mine = await volunteers.memberships(session, user.id)
    recent = [entry_line(e, ctx.tz) for e in await points.recent(session, user.id, RECENT)]
    led = await volunteers.teams(session, sorted(roles.leads_teams))
    await message.answer(
        me_text(user.name or "", mine, figures, recent),
        reply_markup=me_keyboard(mine, led, office=roles.is_office),
    )


async def certificate(query: CallbackQuery, session: AsyncSession, user: User, ctx: Ctx) -> None:
    await volunteers.ever_volunteered(session, user)
    await query.answer(_("Preparing your certificate…"))
    year = utcnow().astimezone(ctx.tz).year
    data = await certificate_data(
        session,
        user,
        year,
        tz=ctx.tz,
        target_hours=Decimal(str(ctx.policy.kpi.hours_per_year)),
        locale=locale(),
    )
    png = await asyncio.to_thread(render_certificate, data)
    if isinstance(query.message, Message):
        await query.message.answer_document(
            BufferedInputFile(png, filename=f"certificate-{year}.png"),
            caption=_("Your certificate of volunteer hours for {year}.").format(year=year),
        )


def router() -> Router:
    r = Router(name="me.card")
    r.message.register(me, Command("me"))
    r.message.register(me, F.text == BTN_ME)
    r.callback_query.register(certificate, MeMenu.filter(F.item == MeItem.CERTIFICATE))
    return r
