"""Reports in the chat for office staff (the whole town) and station heads (their village):
pick a period, read the figures and a chart, the station scorecard, the XLSX and photo
archives as documents, and a one-time sign-in link to the web dashboard."""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    FSInputFile,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
)
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.settings import Settings
from models import OrderStatus, User
from services import archive, charts, reports, weblogin
from services.errors import DomainError
from services.i18n import local_name
from services.org import Policy
from services.people import Roles
from services.reports import Count, Period, Report, Scope
from services.scorecard import COMPONENTS, StationScore, build_scorecard
from views.format import locale
from views.menu import BTN_CANCEL, BTN_REPORTS, main_menu
from views.reports import ReportAct

log = logging.getLogger("civic_dispatch.reports")
TELEGRAM_UPLOAD_LIMIT = 50 * 1024 * 1024  # what a bot may send as one document
TOP = 6  # lines per breakdown in the chat


class ReportForm(StatesGroup):
    dates = State()


# --- texts ------------------------------------------------------------------------------


async def _place(session: AsyncSession, scope: Scope) -> str:
    """What the report covers, in the reader's language: the town(s) or the village(s)."""
    if scope.station_ids is not None:
        regions = await reports.stations_in(session, scope)
    else:
        regions = await reports.towns_of(session, scope)
    return "、".join(local_name(r, locale()) for r in regions) or "—"


def _counts(items: Sequence[Count], limit: int = TOP) -> str:
    shown = [c for c in items if c.count][:limit]
    text = " · ".join(f"{c.name(locale())} {c.count}" for c in shown)
    rest = sum(c.count for c in items[limit:] if c.count) if len(items) > limit else 0
    return (text + (f" · … {rest}" if rest else "")) or "—"


def report_text(report: Report, place: str) -> str:
    loc = locale()
    cancelled = report.count_of(OrderStatus.CANCELLED)
    stars = " · ".join(f"{s}★ {report.ratings.get(s, 0)}" for s in range(5, 0, -1))
    avg = "—" if report.rating_avg is None else f"{report.rating_avg:.2f}"
    lines = [
        f"📊 {place} · {report.period.label(loc)}",
        "",
        _("Orders: {total} (cancelled {cancelled})").format(
            total=report.total, cancelled=cancelled
        ),
        _("Completion rate: {rate} ({done} of {considered})").format(
            rate=reports.format_rate(report.completion_rate),
            done=report.finished,
            considered=report.considered,
        ),
        _("Time to accept: median {median}, 90% within {p90}").format(
            median=reports.format_duration(report.accept_median, loc),
            p90=reports.format_duration(report.accept_p90, loc),
        ),
        _("Time to complete: median {median}, 90% within {p90}").format(
            median=reports.format_duration(report.complete_median, loc),
            p90=reports.format_duration(report.complete_p90, loc),
        ),
        _("Overdue: {overdue} · escalated: {escalated}").format(
            overdue=report.overdue, escalated=report.escalated
        ),
        _("Satisfaction: {avg} from {n} ratings ({stars})").format(
            avg=avg, n=report.rating_count, stars=stars
        ),
        _("Volunteer hours: {hours} h by {people} volunteers").format(
            hours=reports.format_number(report.hours), people=report.volunteers
        ),
        "",
        _("By status: {items}").format(
            items=_counts(report.by_status, limit=len(report.by_status))
        ),
        _("By village: {items}").format(items=_counts(report.by_station, limit=10)),
        _("By team: {items}").format(items=_counts(report.by_team)),
        _("By platform: {items}").format(items=_counts(report.by_platform)),
        _("By service: {items}").format(items=_counts(report.by_category)),
    ]
    return "\n".join(lines)


def _score(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def scorecard_text(table: Sequence[StationScore], period: Period, scope: Scope) -> str:
    loc = locale()
    mine = [s for s in table if scope.station_ids is None or s.station_id in scope.station_ids]
    lines = [_("🏆 Station scorecard · {period}").format(period=period.label(loc)), ""]
    for s in mine:
        total = "—" if s.total is None else f"{s.total:.1f}"
        lines.append(
            _("{rank}. {name}: {total} points").format(rank=s.rank, name=s.name(loc), total=total)
        )
        parts = [f"{_(label)} {_score(s.scores[key])}" for key, label in COMPONENTS]
        lines.append("   " + " · ".join(parts))
        if scope.station_ids is not None:
            lines.append(_("   Rank {rank} of {n} stations").format(rank=s.rank, n=len(table)))
    lines += [
        "",
        _("Each part is scored 0–100 and weighted as the office set; «—» means no data yet."),
    ]
    return "\n".join(lines)


# --- keyboards --------------------------------------------------------------------------


def periods_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("This week"), callback_data=ReportAct(action="period", period="w"))
    kb.button(text=_("This month"), callback_data=ReportAct(action="period", period="m"))
    kb.button(text=_("This year"), callback_data=ReportAct(action="period", period="y"))
    kb.button(text=_("📅 Custom dates"), callback_data=ReportAct(action="period", period="c"))
    kb.button(text=_("🖥 Dashboard"), callback_data=ReportAct(action="dash"))
    kb.adjust(3, 1, 1)
    return kb.as_markup()


def report_keyboard(period: Period) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("🏆 Scorecard"), callback_data=ReportAct(action="score", period=period.code))
    kb.button(text=_("📦 XLSX archive"), callback_data=ReportAct(action="xlsx", period=period.code))
    kb.button(
        text=_("🖼 Photo archive"), callback_data=ReportAct(action="photos", period=period.code)
    )
    kb.adjust(1)
    return kb.as_markup()


# --- the conversation -------------------------------------------------------------------


def _scope(roles: Roles) -> Scope | None:
    return reports.scope_for(roles)


async def _refuse(target: Message | CallbackQuery) -> None:
    text = _("Reports are for office staff and station heads.")
    if isinstance(target, CallbackQuery):
        await target.answer(text, show_alert=True)
    else:
        await target.answer(text)


def _period(code: str, settings: Settings) -> Period | None:
    try:
        return reports.parse_period_code(code, settings.tz)
    except ValueError:
        return None


async def send_report(
    message: Message, session: AsyncSession, scope: Scope, period: Period
) -> None:
    report = await reports.build_report(session, scope, period)
    place = await _place(session, scope)
    await message.answer(report_text(report, place))
    title = _("{place}: service report").format(place=place)
    png = await asyncio.to_thread(charts.report_chart, report, locale(), title)
    await message.answer_photo(
        BufferedInputFile(png, filename=f"report-{period.code}.png"),
        caption=f"{place} · {period.label(locale())}",
        reply_markup=report_keyboard(period),
    )


def _slug(period: Period) -> str:
    return f"{period.first:%Y%m%d}-{period.last:%Y%m%d}"


async def dashboard_link(
    session: AsyncSession, user: User, roles: Roles, base_url: str
) -> str | None:
    """The reply with a fresh sign-in link, or None for someone who may not have one."""
    try:
        token = await weblogin.issue_link_token(session, user, roles)
    except DomainError:
        return None
    minutes = int(weblogin.LINK_TTL.total_seconds() // 60)
    return _(
        "Open the dashboard with this link. It works once, for {minutes} minutes, and only "
        "for you: do not forward it.\n{link}"
    ).format(minutes=minutes, link=f"{base_url}/login/{token}")


def dashboard_base(settings: Settings, dashboard_url: str | None) -> str:
    """Where staff reach the dashboard: the public URL, else the address it listens on."""
    if settings.dashboard_public_url:
        return settings.dashboard_public_url
    if dashboard_url:
        return dashboard_url.rstrip("/")
    return f"http://{settings.dashboard_host}:{settings.dashboard_port}"


def router() -> Router:
    r = Router(name="reports")

    @r.message(Command("reports"))
    @r.message(F.text == BTN_REPORTS)
    async def menu(message: Message, session: AsyncSession, roles: Roles) -> None:
        scope = _scope(roles)
        if scope is None:
            await _refuse(message)
            return
        place = await _place(session, scope)
        await message.answer(
            _("Reports for {place}. Which period?").format(place=place),
            reply_markup=periods_keyboard(),
        )

    @r.callback_query(ReportAct.filter(F.action == "period"))
    async def period_chosen(
        query: CallbackQuery,
        callback_data: ReportAct,
        state: FSMContext,
        session: AsyncSession,
        roles: Roles,
        settings: Settings,
    ) -> None:
        scope = _scope(roles)
        if scope is None:
            await _refuse(query)
            return
        await query.answer()
        if not isinstance(query.message, Message):
            return
        if callback_data.period == "c":
            await state.set_state(ReportForm.dates)
            await query.message.answer(
                _(
                    "Send the first and the last day, for example:\n2026-01-01 2026-03-31\n"
                    "(or /cancel)"
                )
            )
            return
        try:
            period = reports.current_period(callback_data.period, settings.tz)
        except ValueError:
            return
        await send_report(query.message, session, scope, period)

    @r.message(ReportForm.dates, F.text, F.text != BTN_CANCEL)
    async def dates_given(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        roles: Roles,
        settings: Settings,
    ) -> None:
        scope = _scope(roles)
        if scope is None:
            await state.clear()
            await _refuse(message)
            return
        try:
            first, last = reports.parse_date_range(message.text or "")
            period = reports.custom_period(first, last, settings.tz)
        except ValueError:
            await message.answer(
                _(
                    "I could not read two dates (at most three years apart). Please write "
                    "them like 2026-01-01 2026-03-31."
                )
            )
            return
        await state.clear()
        await send_report(message, session, scope, period)

    @r.callback_query(ReportAct.filter(F.action == "score"))
    async def scorecard(
        query: CallbackQuery,
        callback_data: ReportAct,
        session: AsyncSession,
        roles: Roles,
        settings: Settings,
        policy: Policy,
    ) -> None:
        scope = _scope(roles)
        period = _period(callback_data.period, settings)
        if scope is None or period is None:
            await _refuse(query)
            return
        await query.answer()
        if not isinstance(query.message, Message):
            return
        for town in await reports.towns_of(session, scope):
            table = await build_scorecard(session, town.id, period, policy)
            await query.message.answer(scorecard_text(table, period, scope))
            if scope.station_ids is None and table:
                title = _("{place}: station scorecard").format(place=local_name(town, locale()))
                png = await asyncio.to_thread(charts.scorecard_chart, table, locale(), title)
                await query.message.answer_photo(
                    BufferedInputFile(png, filename=f"scorecard-{_slug(period)}.png")
                )

    @r.callback_query(ReportAct.filter(F.action.in_({"xlsx", "photos"})))
    async def export(
        query: CallbackQuery,
        callback_data: ReportAct,
        session: AsyncSession,
        roles: Roles,
        settings: Settings,
        bot: Bot,
    ) -> None:
        scope = _scope(roles)
        period = _period(callback_data.period, settings)
        if scope is None or period is None:
            await _refuse(query)
            return
        await query.answer(_("Preparing the file…"))
        if not isinstance(query.message, Message):
            return
        chat_id = query.message.chat.id
        photos = callback_data.action == "photos"
        await bot.send_chat_action(chat_id, "upload_document")
        folder = Path(tempfile.mkdtemp(prefix="archive-"))
        try:
            name = f"{'photos' if photos else 'archive'}-{_slug(period)}"
            path = folder / f"{name}.{'zip' if photos else 'xlsx'}"
            if photos:
                summary = await archive.write_photo_zip(
                    session, path, scope, period, settings.media_dir, tz=settings.tz
                )
                caption = _("Photos {period}: {n} photos, {missing} missing").format(
                    period=period.label(locale()), n=summary.photos, missing=len(summary.missing)
                )
            else:
                rows = await archive.write_xlsx(session, path, scope, period, tz=settings.tz)
                caption = _("Archive {period}: {orders} orders").format(
                    period=period.label(locale()), orders=rows.rows.get("订单", 0)
                )
            if path.stat().st_size > TELEGRAM_UPLOAD_LIMIT:
                await query.message.answer(
                    _(
                        "The file is too big to send in the chat. Download it from the "
                        "dashboard (/dashboard) or choose a shorter period."
                    )
                )
                return
            await query.message.answer_document(
                FSInputFile(path, filename=path.name), caption=caption
            )
        finally:
            await asyncio.to_thread(shutil.rmtree, folder, True)

    @r.message(Command("dashboard"))
    @r.callback_query(ReportAct.filter(F.action == "dash"))
    async def dashboard(
        event: Message | CallbackQuery,
        session: AsyncSession,
        user: User,
        roles: Roles,
        settings: Settings,
        dashboard_url: str | None = None,
    ) -> None:
        text = await dashboard_link(session, user, roles, dashboard_base(settings, dashboard_url))
        if text is None:
            text = _("The dashboard is for office staff and station heads.")
            if isinstance(event, CallbackQuery):
                await event.answer(text, show_alert=True)
            else:
                await event.answer(text, reply_markup=main_menu(roles))
            return
        target = event.message if isinstance(event, CallbackQuery) else event
        if isinstance(event, CallbackQuery):
            await event.answer()
        if isinstance(target, Message):
            # No preview: a preview robot opening the link would spend it.
            await target.answer(text, link_preview_options=LinkPreviewOptions(is_disabled=True))

    return r
