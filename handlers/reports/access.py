"""Who may read reports, and the period a button names."""

from __future__ import annotations

from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import Settings
from services import reports
from services.i18n import local_name
from services.reports import Period, Scope
from views.format import locale
from views.reports import Archive, Scorecard


async def refuse(target: Message | CallbackQuery) -> None:
    text = _("Reports are for office staff and station heads.")
    if isinstance(target, CallbackQuery):
        await target.answer(text, show_alert=True)
    else:
        await target.answer(text)


def period_of(button: Scorecard | Archive, settings: Settings) -> Period | None:
    """The period a report's button names; None for one no longer possible (too long)."""
    try:
        return reports.make_period(button.kind.value, button.first, button.last, settings.tz)
    except ValueError:
        return None


async def place(session: AsyncSession, scope: Scope) -> str:
    """What the report covers, in the reader's language: the town(s) or the village(s)."""
    if scope.station_ids is not None:
        regions = await reports.stations_in(session, scope)
    else:
        regions = await reports.towns_of(session, scope)
    return "、".join(local_name(r, locale()) for r in regions) or "—"


def slug(period: Period) -> str:
    return f"{period.first:%Y%m%d}-{period.last:%Y%m%d}"
