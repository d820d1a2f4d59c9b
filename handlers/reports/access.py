"""Who may read reports, and the period a button names."""

from __future__ import annotations

from datetime import tzinfo

from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from services import reports
from services.i18n import local_name
from services.people import Roles
from services.reports import Period, Scope
from views.format import locale
from views.reports import Archive, Scorecard


async def refuse(target: Message | CallbackQuery) -> None:
    text = _("Reports are for office staff and station heads.")
    if isinstance(target, CallbackQuery):
        await target.answer(text, show_alert=True)
    else:
        await target.answer(text)


async def readable(target: Message | CallbackQuery, roles: Roles) -> Scope | None:
    """What of the reports this person may read; None, having said so, for anyone else."""
    scope = reports.scope_for(roles)
    if scope is None:
        await refuse(target)
    return scope


async def asked_for(
    query: CallbackQuery, button: Scorecard | Archive, roles: Roles, tz: tzinfo
) -> tuple[Scope, Period] | None:
    """What this person may read, over the period a report's button names; None, having
    refused, for someone who may read none or a period no longer possible (too long)."""
    scope = reports.scope_for(roles)
    try:
        period = reports.make_period(button.kind.value, button.first, button.last, tz)
    except ValueError:
        scope = None
    if scope is None:
        await refuse(query)
        return None
    return scope, period


async def place(session: AsyncSession, scope: Scope) -> str:
    """What the report covers, in the reader's language: the town(s) or the village(s)."""
    if scope.station_ids is not None:
        regions = await reports.stations_in(session, scope)
    else:
        regions = await reports.towns_of(session, scope)
    return "、".join(local_name(r, locale()) for r in regions) or "—"


def slug(period: Period) -> str:
    return f"{period.first:%Y%m%d}-{period.last:%Y%m%d}"
